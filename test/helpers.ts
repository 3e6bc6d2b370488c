// Assertions on Contexts, shared by the unit tests.
import assert from 'node:assert/strict'
import type { Body, Conn, Context, RejectionTag, Rejection, Result } from 'sapwood'

/** Awaits a Result (sync or async) and asserts it is Right; returns the Conn. */
export const expectRight = async (result: Result<Conn>): Promise<Conn> => {
  const ctx: Context<Conn> = await result
  if (ctx._tag === 'Left') assert.fail(`expected Right, got Left ${JSON.stringify(ctx.left)}`)
  return ctx.right
}

/** Awaits a Result and asserts it is Left with the given tag; returns the rejection. */
export const expectLeft = async (result: Result<Conn>, tag: RejectionTag): Promise<Rejection> => {
  const ctx: Context<Conn> = await result
  if (ctx._tag === 'Right') assert.fail(`expected Left ${tag}, got Right (status ${ctx.right.status})`)
  assert.equal(ctx.left._tag, tag, `expected ${tag}, got ${JSON.stringify(ctx.left)}`)
  return ctx.left
}

/** Asserts a Result is synchronous (no Promise was made) and returns it. */
export const sync = <C>(result: Result<C>): Context<C> => {
  assert.ok(!('then' in result), 'expected a synchronous Result')
  return result
}

/**
 * Everything a run of a Part decides, for comparing two runs (compiled and interpreted): on a
 * Right the response drafted and the Conn's routing (params, rest), assigns and method; on a
 * Left the rejection's tag and fields, a failed handler's error by its message (each run makes
 * its own error object); and what it threw, since a Part that throws is a bug to show, not to hide.
 */
export type Answer =
  | {
      readonly right: true
      readonly status: number
      readonly headers: Record<string, unknown>
      readonly body: unknown
      readonly params: Record<string, unknown>
      readonly rest: string
      readonly assigns: Record<string, unknown>
      readonly method: string
    }
  | { readonly right: false; readonly rejection: Record<string, unknown> }
  | { readonly threw: string }

/** A body as plain data: a stream by its tag, length and what it yields once opened (each run opens its own). */
export const describeBody = async (body: Body): Promise<unknown> => {
  if (body === null || typeof body === 'string' || body instanceof Uint8Array || body._tag !== 'Stream') return body
  let text = ''
  const decoder = new TextDecoder()
  const source = body.open(new AbortController().signal) as AsyncIterable<Uint8Array | string>
  for await (const chunk of source) text += typeof chunk === 'string' ? chunk : decoder.decode(chunk)
  return { _tag: body._tag, length: body.length, text }
}

const messageOf = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e))

/** Runs a Part (sync or async, throwing or not) and says what it decided, as plain data. */
export const answerOf = async (run: () => Result<Conn>): Promise<Answer> => {
  try {
    const ctx: Context<Conn> = await run()
    if (ctx._tag === 'Left') {
      const r = ctx.left
      return {
        right: false,
        rejection: r._tag === 'HandlerFailed' ? { _tag: r._tag, error: messageOf(r.error) } : { ...r },
      }
    }
    const c = ctx.right
    return {
      right: true,
      status: c.status,
      headers: { ...c.respHeaders },
      body: await describeBody(c.respBody),
      params: { ...c.params },
      rest: c.rest,
      assigns: { ...c.assigns },
      method: c.method,
    }
  } catch (e) {
    return { threw: messageOf(e) }
  }
}
