/**
 * The answer of a whole app: the winning branch's response, or the response for its rejection,
 * with HEAD and OPTIONS answered as HTTP says.
 *
 * @since 0.1.0
 */
import { ChunkedBody } from '../context/body-source.js'
import { type Conn, emptyRecord, makeConn, update } from '../context/conn.js'
import { type Context, type Part, type Result, type Shape, isThenable } from '../context/context.js'
import { type Rejection, handlerFailed, problem, rejectionResponse, uriTooLong } from '../context/rejection.js'
import { type Reach, walk } from '../context/ranking.js'
import { compile } from '../compile/trie.js'

/**
 * Turns a request Conn into the Conn that holds the final response: what adapters call. A
 * Handler made by `respond` also has `report`, which an adapter calls with an error that happens
 * after the answer began (a stream's producer that throws), so that it reaches `onError`.
 *
 * @category model
 * @since 0.1.0
 */
export type Handler = ((conn: Conn) => Conn | PromiseLike<Conn>) & {
  readonly report?: (error: unknown, conn: Conn) => void
}

/**
 * How `respond` reports a failed handler (default: `console.error`, without the request body).
 *
 * @category model
 * @since 0.1.0
 */
export interface RespondOptions {
  /** Told of every failed handler; may be async (a throw or a rejected promise is logged, never fatal). */
  readonly onError?: (error: unknown, conn: Conn) => unknown
  /** Set to false to run the tree as written instead of compiling it (the same answers, slower). */
  readonly compile?: boolean
  /**
   * How long (ms) an asynchronous answer may take to be decided before the request is answered
   * 503 and `onError` is told (a `HandlerTimeoutError`); the late answer is then dropped. It
   * bounds the decision only: a stream, once its head is decided, is not limited by it. `0`: no
   * bound. Default 30 000.
   */
  readonly handlerTimeout?: number
}

/**
 * What `onError` is told when an answer took longer than `handlerTimeout` to be decided: the
 * request was answered 503, and the handler's late answer is dropped.
 *
 * @example
 * import { respond, pipe, get, ok } from 'sapwood'
 * respond(pipe(get, ok('hi')), {
 *   handlerTimeout: 5_000,
 *   onError: (error) => console.error((error as Error).name), // 'HandlerTimeoutError' after 5 s
 * })
 *
 * @category errors
 * @since 0.3.0
 */
export class HandlerTimeoutError extends Error {
  constructor(readonly timeout: number) {
    super(`The handler did not answer within ${timeout} ms (handlerTimeout): the request was answered 503`)
    this.name = 'HandlerTimeoutError'
  }
}

/** The answer to a request whose handler did not decide in time. */
const timedOut = problem({
  status: 503,
  title: 'Service Unavailable',
  detail: 'The server did not answer in time',
})

const DEFAULT_HANDLER_TIMEOUT = 30_000

const checkTimeout = (ms: number | undefined): number => {
  if (ms === undefined) return DEFAULT_HANDLER_TIMEOUT
  // setTimeout's largest delay; above it node fires at once
  if (!Number.isInteger(ms) || ms < 0 || ms > 2_147_483_647) {
    throw new RangeError(`sapwood: respond: handlerTimeout ${ms} is not a whole number of ms (0 for none)`)
  }
  return ms
}

const defaultOnError = (error: unknown, c: Conn): void => {
  console.error(`sapwood: handler failed on ${c.method} ${c.path}:`, error)
}

/**
 * @internal An error that says how to fix a refused code generation: Cloudflare Workers refuse
 * `new Function` (which find-my-way, fast-json-stringify and Ajv compile with) during a request,
 * and allow it while the Worker starts. Any other error is given back as it is.
 */
export const explainRefusal = (error: unknown): unknown =>
  error instanceof EvalError
    ? new Error(
        'sapwood: this runtime refuses to compile code during a request (Cloudflare Workers do): ' +
          'call toFetchHandler(app) at the top level of the module, and build every path(), schema ' +
          'and serializer there too, not inside a handler',
        { cause: error },
      )
    : error

/** Calls a user's error logger: neither its throw nor its rejected promise may take the process down. */
const report = (onError: NonNullable<RespondOptions['onError']>, error: unknown, c: Conn): void => {
  try {
    const out: unknown = onError(explainRefusal(error), c)
    if (isThenable(out)) out.then(undefined, (e: unknown) => logFailure(e))
  } catch (e) {
    logFailure(e)
  }
}

const logFailure = (e: unknown): void => {
  try {
    console.error('sapwood: onError failed:', e)
  } catch {
    // nothing left to tell
  }
}

/** The Allow list of an answer: each method once, HEAD right after GET, and OPTIONS. */
const allowList = (allow: readonly string[]): string[] => {
  const out: string[] = []
  for (const m of allow) {
    if (!out.includes(m)) out.push(m)
    if (m === 'GET' && !allow.includes('HEAD') && !out.includes('HEAD')) out.push('HEAD')
  }
  if (!out.includes('OPTIONS')) out.push('OPTIONS')
  return out
}

/** True when a method filter somewhere in the tree names `method` (an explicit HEAD or OPTIONS branch). */
const mentions = (p: Part<never, unknown>, method: string): boolean => {
  const shape = p.shape
  switch (shape._tag) {
    case 'Method':
      return shape.methods.includes(method)
    case 'Seq':
      return shape.parts.some((x) => mentions(x, method))
    case 'Choose':
      return shape.options.some((x) => mentions(x, method))
    case 'Recover':
    case 'Decorate':
      return mentions(shape.part, method)
    default:
      return false
  }
}

/**
 * The methods the tree takes on this path, read from its shape (no user code runs): null when
 * no branch can match it, or when one that can takes any method (it may answer OPTIONS itself).
 */
const staticAllow = (app: Part<never, unknown>, rest: string): readonly string[] | null => {
  const reaches: Reach[] = []
  walk([app], 0, { rest, methods: null }, reaches)
  if (reaches.length === 0) return null
  const allow: string[] = []
  for (const r of reaches) {
    if (r.methods === null) return null
    for (const m of r.methods) if (!allow.includes(m)) allow.push(m)
  }
  return allow
}

/** find-my-way's longest param, decoded: a longer one does not match. */
const MAX_PARAM = 100

const decodedLength = (segment: string): number => {
  if (!segment.includes('%')) return segment.length
  try {
    return decodeURIComponent(segment).length
  } catch {
    return segment.length
  }
}

/**
 * True when no branch matched only because a param was longer than allowed: with every such
 * segment made short, some branch's path filters would match (read from the tree's shape, so
 * both modes agree). A long static segment that simply does not match stays a 404.
 */
const refusedForLength = (app: Part<never, unknown>, path: string): boolean => {
  if (path.length <= MAX_PARAM) return false
  const segments = path.split('/')
  let long = false
  for (let i = 0; i < segments.length; i++) {
    if (decodedLength(segments[i]!) > MAX_PARAM) {
      // a short segment no static one equals: a control character (NUL would make the path malformed)
      segments[i] = '%01'
      long = true
    }
  }
  if (!long) return false
  const reaches: Reach[] = []
  walk([app], 0, { rest: segments.join('/'), methods: null }, reaches)
  return reaches.length > 0
}

type Layer = Shape & { readonly _tag: 'Decorate' }

/**
 * Makes the Handler of an app, compiled (see `compile`). HEAD requests are routed to the GET
 * branches up front (adapters drop the body) unless the tree has a HEAD branch of its own;
 * OPTIONS gets 204 with the `Allow` set the tree's method filters give for the path, unless the
 * tree has an OPTIONS branch; any rejection becomes its `application/problem+json` response (404,
 * 405 with `Allow`, 406, 415, 400, 414, 500, ...). A `decorate` at the root shapes every answer.
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
export const respond = (app: Part<Conn, Conn>, options: RespondOptions = {}): Handler => responder(app, options, false)

/** The one implementation of `respond` and `respondOrPass`: `pass` says whether a miss is passed on. */
const responder = (
  app: Part<Conn, Conn>,
  options: RespondOptions,
  pass: boolean,
): Handler & { readonly report: (error: unknown, conn: Conn) => void } => {
  const onError = options.onError ?? defaultOnError
  const timeout = checkTimeout(options.handlerTimeout)
  // decorations at the root see every answer: peel them off, run the tree inside, apply them last
  const layers: Layer[] = []
  let core = app as unknown as Part<never, unknown>
  while (core.shape._tag === 'Decorate') {
    layers.push(core.shape)
    core = core.shape.part
  }
  const tree = core as unknown as Part<Conn, Conn>
  const run = options.compile === false ? tree : compile(tree)
  // the look-ahead over a compiled tree asks its trie (one lookup) instead of every branch
  const shape = run as unknown as Part<never, unknown>
  const ownHead = mentions(core, 'HEAD')
  const ownOptions = mentions(core, 'OPTIONS')

  const fromRejection = (r: Rejection, c: Conn): Conn => {
    if (r._tag === 'NoMatch') {
      if (refusedForLength(shape, c.path)) r = uriTooLong
      else if (pass) return PASSED
    }
    if (r._tag === 'HandlerFailed') report(onError, r.error, c)
    const { status, headers, body } = rejectionResponse(
      r._tag === 'MethodNotAllowed' ? { _tag: 'MethodNotAllowed', allow: allowList(r.allow) } : r,
    )
    return update(c, { status, respHeaders: headers, respBody: body })
  }

  const optionsAnswer = (c: Conn, allow: readonly string[]): Conn =>
    update(c, { status: 204, respHeaders: { allow: allowList(allow).join(', ') }, respBody: null })

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
      // a tree with HEAD branches of its own: where none takes it, GET's branches answer
      if (!retried && c.method === 'HEAD' && r.allow.includes('GET')) return answer(update(c, { method: 'GET' }), true)
      if (c.method === 'OPTIONS') return optionsAnswer(c, r.allow)
    }
    return fromRejection(r, c)
  }

  const start = (c: Conn): Conn | PromiseLike<Conn> => {
    if (c.method === 'HEAD' && !ownHead) return answer(update(c, { method: 'GET' }), true)
    if (c.method === 'OPTIONS' && !ownOptions) {
      const allow = staticAllow(shape, c.rest)
      if (allow !== null) return optionsAnswer(c, allow)
    }
    return answer(c, false)
  }
  // Only an answer still pending gets a timer: a synchronous one costs nothing more.
  const bounded = (c: Conn): Conn | PromiseLike<Conn> => {
    const out = start(c)
    return timeout > 0 && isThenable(out) ? within(out, c) : out
  }
  // (a promise settles once: whichever of the answer and the timer comes second is ignored)
  const within = (out: PromiseLike<Conn>, c: Conn): Promise<Conn> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const error = new HandlerTimeoutError(timeout)
        report(onError, error, c)
        // the handler may still be working: its signal tells it to stop
        if (c.source instanceof ChunkedBody) c.source.abort(error)
        resolve(fromRejection(timedOut, c))
      }, timeout)
      out.then(
        (answer) => {
          clearTimeout(timer)
          resolve(answer)
        },
        (error: unknown) => {
          clearTimeout(timer)
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the handler's own failure, passed on as it is
          reject(error)
        },
      )
    })
  const reported = (error: unknown, c: Conn): void => report(onError, error, c)
  if (layers.length === 0) return Object.assign(bounded, { report: reported })

  // every answer goes out through the decorations, innermost first; a throw there is a 500
  const finish = (out: Conn, c: Conn, from: number): Conn => {
    // a miss passed on is answered by the host, not by this app's decorations
    if (out === PASSED) return out
    for (let i = from; i >= 0; i--) {
      try {
        out = layers[i]!.finish(out, c)
      } catch (error) {
        out = fromRejection(handlerFailed(error), c)
      }
    }
    return out
  }
  const decorated = (c: Conn): Conn | PromiseLike<Conn> => {
    for (let i = 0; i < layers.length; i++) {
      const early = layers[i]!.early
      if (early === undefined) continue
      let answered: Conn | undefined
      try {
        answered = early(c)
      } catch (error) {
        answered = fromRejection(handlerFailed(error), c)
      }
      if (answered !== undefined) return finish(answered, c, i)
    }
    const out = bounded(c)
    return isThenable(out) ? out.then((o) => finish(o, c, layers.length - 1)) : finish(out, c, layers.length - 1)
  }
  return Object.assign(decorated, { report: reported })
}

/** @internal what a `respondOrPass` responder settles on where no branch matched */
const PASSED: Conn = makeConn({ method: 'GET', url: '/', headers: emptyRecord })

/**
 * A Handler for an app mounted inside another framework: it resolves to the final Conn as
 * `respond`'s does, or to `undefined` where no branch of the app matched the request (its path
 * is not the app's), so that the host passes the request on (Express's `next()`, Fastify's own
 * 404). Every other rejection (405, 401, 413, 500, ...) is answered, as by `respond`.
 *
 * @example
 * import { respondOrPass, pipe, get, path, ok } from 'sapwood'
 * import { conn } from 'sapwood/testing'
 * const handler = respondOrPass(pipe(get, path('/hello'), ok('hi')))
 * await handler(conn('GET', '/elsewhere')) // undefined: the host answers it
 *
 * @category adapters
 * @since 0.3.0
 */
export const respondOrPass = (
  app: Part<Conn, Conn>,
  options: RespondOptions = {},
): ((conn: Conn) => Conn | undefined | PromiseLike<Conn | undefined>) & {
  readonly report: (error: unknown, conn: Conn) => void
} => {
  const handler = responder(app, options, true)
  const passed = (out: Conn): Conn | undefined => (out === PASSED ? undefined : out)
  return Object.assign(
    (c: Conn) => {
      const out = handler(c)
      return isThenable(out) ? out.then(passed) : passed(out)
    },
    { report: handler.report },
  )
}
