/**
 * The answer of a whole app: the winning branch's response, or the response for its rejection,
 * with HEAD and OPTIONS answered as HTTP says.
 *
 * @since 0.1.0
 */
import { type Conn, update } from '../context/conn.js'
import { type Context, type Part, type Result, isThenable } from '../context/context.js'
import { type Rejection, handlerFailed, rejectionResponse, uriTooLong } from '../context/rejection.js'
import { compile } from '../compile/trie.js'

/**
 * Turns a request Conn into the Conn that holds the final response: what adapters call.
 *
 * @category model
 * @since 0.1.0
 */
export type Handler = (conn: Conn) => Conn | PromiseLike<Conn>

/**
 * How `respond` reports a failed handler (default: `console.error`, without the request body).
 *
 * @category model
 * @since 0.1.0
 */
export interface RespondOptions {
  readonly onError?: (error: unknown, conn: Conn) => void
  /** Set to false to run the tree as written instead of compiling it (the same answers, slower). */
  readonly compile?: boolean
}

const defaultOnError = (error: unknown, c: Conn): void => {
  console.error(`sapwood: handler failed on ${c.method} ${c.path}:`, error)
}

// GET branches answer HEAD, so wherever GET is allowed HEAD is too; listed right after it.
/** find-my-way's longest param: a path with a longer segment cannot have matched a param. */
const MAX_SEGMENT = 100

const hasLongSegment = (path: string): boolean => {
  let start = 0
  for (let i = 1; i <= path.length; i++) {
    if (i === path.length || path.charCodeAt(i) === 47 /* / */) {
      if (i - start - 1 > MAX_SEGMENT) return true
      start = i
    }
  }
  return false
}

const withHead = (allow: readonly string[]): readonly string[] => {
  const i = allow.indexOf('GET')
  return i === -1 || allow.includes('HEAD') ? allow : [...allow.slice(0, i + 1), 'HEAD', ...allow.slice(i + 1)]
}

/**
 * Makes the Handler of an app, compiled (see `compile`). When the app rejects: `HEAD` is retried as `GET` (adapters then
 * drop the body), `OPTIONS` gets 204 with `Allow`, and any other rejection becomes its
 * `application/problem+json` response (404, 405 with `Allow`, 406, 415, 400, 500, ...); a
 * request that matched nothing and has a path segment over 100 characters (find-my-way's longest
 * param) gets 414 instead of 404.
 *
 * @example
 * import { respond, pipe, get, path, ok } from 'sapwood'
 * import { conn } from 'sapwood/testing'
 * const handler = respond(pipe(get, path('/'), ok('home')))
 * // (handler(conn('DELETE', '/')) as Conn).status === 405
 *
 * @category adapters
 * @since 0.1.0
 */
export const respond = (app: Part<Conn, Conn>, options: RespondOptions = {}): Handler => {
  const onError = options.onError ?? defaultOnError
  const run = options.compile === false ? app : compile(app)

  const fromRejection = (r: Rejection, c: Conn): Conn => {
    // No branch matched and a segment is longer than any param may be: say so (414), not 404.
    if (r._tag === 'NoMatch' && c.path.length > MAX_SEGMENT && hasLongSegment(c.path)) r = uriTooLong
    if (r._tag === 'HandlerFailed') {
      try {
        onError(r.error, c)
      } catch {
        // a failing logger must not take the response down with it
      }
    }
    const rr = r._tag === 'MethodNotAllowed' ? { ...r, allow: withHead(r.allow) } : r
    const { status, headers, body } = rejectionResponse(rr)
    return update(c, { status, respHeaders: headers, respBody: body })
  }

  const failed = (error: unknown): Context => ({ _tag: 'Left', left: handlerFailed(error) })

  // Runs the app and settles its answer: synchronously when the app was, else in one promise hop
  // (a throw or a rejected promise outside `handle` is a failed handler too).
  const answer = (c: Conn, retried: boolean): Conn | PromiseLike<Conn> => {
    let r: Result
    try {
      r = run(c)
    } catch (error) {
      return settle(failed(error), c, retried)
    }
    return isThenable(r)
      ? r.then(
          (ctx) => settle(ctx, c, retried),
          (error: unknown) => settle(failed(error), c, retried),
        )
      : settle(r, c, retried)
  }

  const settle = (ctx: Context, c: Conn, retried: boolean): Conn | PromiseLike<Conn> => {
    if (ctx._tag === 'Right') return ctx.right
    const r = ctx.left
    if (r._tag === 'MethodNotAllowed') {
      if (!retried && c.method === 'HEAD' && r.allow.includes('GET')) {
        return answer(update(c, { method: 'GET' }), true)
      }
      if (c.method === 'OPTIONS') {
        const allow = withHead(r.allow)
        return update(c, {
          status: 204,
          respHeaders: { allow: (allow.includes('OPTIONS') ? allow : [...allow, 'OPTIONS']).join(', ') },
          respBody: null,
        })
      }
    }
    return fromRejection(r, c)
  }

  return (c) => answer(c, false)
}
