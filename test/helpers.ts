// Assertions on Contexts, shared by the unit tests.
import assert from 'node:assert/strict'
import type { Conn, Context, RejectionTag, Rejection, Result } from 'sapwood'

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
