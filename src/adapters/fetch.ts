/**
 * The fetch adapter: an app as a `(request: Request) => Promise<Response>` function, the shape
 * that Cloudflare Workers, Deno, Bun and edge functions call. It imports no `node:` module.
 *
 * @since 0.3.0
 */
import {
  BodyAbortedError,
  BodyConsumedError,
  type ChunkSink,
  ChunkedBody,
  type Flow,
  ServerClosingError,
} from '../context/body-source.js'
import { type Conn, type RequestHeaders, makeConn, update } from '../context/conn.js'
import { type Part, isThenable } from '../context/context.js'
import { problem, rejectionResponse } from '../context/rejection.js'
import { type StreamSource, type UpgradeBody, chunksOf } from '../context/response-body.js'
import { type WebSocketSession, sessionOf } from '../combinators/websocket.js'
import { type Report, type ServerState, defaultReport, failedWire, outgoing, unmanaged } from './outgoing.js'
import { type Handler, type RespondOptions, explainRefusal, respond } from './respond.js'
import { invalidHost, isBadHost } from '../internal/host.js'
import { runtime } from '../internal/runtime.js'
import { workerUpgrade } from './web-socket.js'
import { type WireResponse, toWire } from './wire.js'

/** The flow of a body with nothing to deliver. */
const NO_FLOW: Flow = Object.freeze({ pause: () => undefined, resume: () => undefined })

/** Deno's request body stream errors when the client leaves (measured: BadResource). */
const BODY_ERRORS_WHEN_GONE = runtime() === 'deno'

/**
 * The body of a `Request`, read from its `ReadableStream` only when a Part asks for it. A
 * reader pulls, so pausing is not reading: a Part that stops at its limit leaves the rest
 * unread, and once the answer is out the reader is cancelled. The request's own `signal`
 * (which runtimes fire when the client goes away) is the client-gone signal.
 */
class RequestBody extends ChunkedBody {
  /** Set once the answer is all sent: the request's signal firing then is no client leaving. */
  private answered = false
  private reader: ReadableStreamDefaultReader<Uint8Array> | undefined = undefined
  private stops: (() => void)[] | undefined = undefined
  /** The declared length, read from the headers on first use (a GET never asks). */
  private declared: number | undefined | null = null
  constructor(private readonly request: Request) {
    super()
  }

  override get length(): number | undefined {
    if (this.declared === null) this.declared = declaredLength(this.request.headers)
    return this.declared
  }

  /** Calls `then` when the request's signal fires before the answer is sent (at once if it has). */
  private onGone(then: () => void): void {
    const signal = this.request.signal
    if (signal.aborted) {
      then()
      return
    }
    const gone = (): void => {
      if (!this.answered) then()
    }
    signal.addEventListener('abort', gone, { once: true })
    ;(this.stops ??= []).push(() => signal.removeEventListener('abort', gone))
  }

  protected override watch(): void {
    // Deno fires a request's signal once its answer is complete, too: that is no client leaving
    if (!this.answered) this.onGone(() => this.abort())
  }

  protected open(sink: ChunkSink): Flow {
    const body = this.request.body
    if (body === null) {
      sink.end()
      return NO_FLOW
    }
    if (this.request.bodyUsed || body.locked) {
      sink.fail(new BodyConsumedError('read before sapwood saw the request (by code in front of the handler?)'))
      return NO_FLOW
    }
    const reader: ReadableStreamDefaultReader<Uint8Array> = body.getReader()
    this.reader = reader
    // a runtime whose body stream does not error when the client leaves still fires the signal
    // (Deno's errors: its signal is left alone, since reading it prints Deno's legacy-abort notice)
    if (!BODY_ERRORS_WHEN_GONE) {
      this.onGone(() => {
        sink.fail(new BodyAbortedError())
        reader.cancel().catch(() => undefined)
      })
    }
    let paused = false
    let reading = false
    const pump = async (): Promise<void> => {
      reading = true
      try {
        while (!paused) {
          const { done, value } = await reader.read()
          if (done) {
            sink.end()
            return
          }
          if (value.byteLength > 0) sink.chunk(value)
        }
      } catch (error) {
        sink.fail(new BodyAbortedError({ cause: error }))
      } finally {
        reading = false
      }
    }
    void pump()
    return {
      pause: () => {
        paused = true
      },
      resume: () => {
        paused = false
        if (!reading) void pump()
      },
    }
  }

  /** After the answer: cleanups run, the signal is no longer watched, and no more is read. */
  override release(): void {
    this.answered = true
    const stops = this.stops
    this.stops = undefined
    if (stops !== undefined) for (const stop of stops) stop()
    super.release()
    if (this.unfinished) this.reader?.cancel().catch(() => undefined)
  }
}

/** The declared length of a request's body, when it is a plain count of bytes. */
const declaredLength = (headers: Headers): number | undefined => {
  const value = headers.get('content-length')
  if (value === null || !/^\d+$/.test(value)) return undefined
  const n = Number(value)
  return Number.isSafeInteger(n) ? n : undefined
}

/** `cookie-pair`s joined with ', ' (a `cookie` field sent in pieces, as HTTP/2 clients do). */
const COOKIE_COMMA = /, (?=[^\s;,=]+=)/g

/**
 * A request's headers as a whole record: lower-case names (a `Headers` has them so), one string
 * each, nothing inherited. `Headers` joins a repeated field with ', '. A `cookie` field sent in
 * pieces (HTTP/2 clients split it) is joined with '; ' as RFC 9113 §8.2.3 says: some runtimes
 * join it with ', ' and the cookie parser would read the pieces as one value. A runtime's request
 * has no pseudo-header (a `Headers` cannot hold one), and `host` is the URL's when the runtime
 * left it out (an HTTP/2 request's `:authority`).
 */
const wholeHeaders = (request: Request): Record<string, string> => {
  const out = Object.create(null) as Record<string, string>
  for (const [name, value] of request.headers) {
    const had = out[name]
    out[name] = had === undefined ? value : `${had}, ${value}`
  }
  const cookie = out['cookie']
  if (cookie?.includes(', ')) out['cookie'] = cookie.replace(COOKIE_COMMA, '; ')
  if (out['host'] === undefined) {
    const host = authorityOf(request.url)
    if (host !== '') out['host'] = host
  }
  return out
}

const UPPER = /[A-Z]/

/** What node's `util.inspect` calls: it shows a proxy's target, here the whole record. */
const INSPECT = Symbol.for('nodejs.util.inspect.custom')

/**
 * The Conn's record of a request's headers, made whole only when a Part lists them (keys, `in`,
 * a spread): reading one header asks the `Headers` for it, so an app that reads none, or one,
 * pays nothing for the rest (copying every header cost more than the whole routing of a
 * request on Bun and Deno). It answers as `wholeHeaders` would: a name with an upper-case
 * letter names nothing, `cookie` and `host` are read from the whole record.
 */
class LazyHeaders implements ProxyHandler<Record<string, string>> {
  private whole: Record<string, string> | undefined = undefined
  constructor(private readonly request: Request) {}
  private all(): Record<string, string> {
    return (this.whole ??= wholeHeaders(this.request))
  }
  get(_target: Record<string, string>, key: string | symbol): unknown {
    if (typeof key !== 'string') return key === INSPECT ? () => this.all() : undefined
    if (this.whole !== undefined || key === 'cookie' || key === 'host') return this.all()[key]
    if (UPPER.test(key)) return undefined
    try {
      return this.request.headers.get(key) ?? undefined
    } catch {
      // not a header name at all (a space, a colon): no such header
      return undefined
    }
  }
  has(_target: Record<string, string>, key: string | symbol): boolean {
    return typeof key === 'string' && this.all()[key] !== undefined
  }
  ownKeys(): string[] {
    return Object.keys(this.all())
  }
  getOwnPropertyDescriptor(_target: Record<string, string>, key: string | symbol): PropertyDescriptor | undefined {
    const value = typeof key === 'string' ? this.all()[key] : undefined
    return value === undefined ? undefined : { value, writable: false, enumerable: true, configurable: true }
  }
  set(): boolean {
    return false
  }
  defineProperty(): boolean {
    return false
  }
  deleteProperty(): boolean {
    return false
  }
}

/**
 * What makes a request's headers as the Conn's record (see `LazyHeaders`), on the first read of
 * `c.headers`, once: a request whose app reads no header makes no proxy (on Bun, making one cost
 * 12 % of a hello world's JavaScript).
 */
const requestHeaders = (request: Request): (() => RequestHeaders) => {
  let made: RequestHeaders | undefined
  return () => (made ??= new Proxy(Object.create(null) as Record<string, string>, new LazyHeaders(request)))
}

/** The `host[:port]` of an absolute URL, or '' when it has none. */
const authorityOf = (url: string): string => {
  const scheme = url.indexOf('://')
  if (scheme === -1) return ''
  const end = url.slice(scheme + 3).search(/[/?#]/)
  const authority = end === -1 ? url.slice(scheme + 3) : url.slice(scheme + 3, scheme + 3 + end)
  return authority.slice(authority.lastIndexOf('@') + 1)
}

/**
 * The request target in origin form (path and query) of a `Request`'s URL, still encoded. A
 * runtime gives the URL serialized (`Request` parses it: dot segments are gone, and the path
 * starts at the first '/' after the authority), so slicing it is exact, and no URL is built
 * per request; the fragment is dropped, as a client never sends one.
 */
const targetOf = (url: string): string => {
  const scheme = url.indexOf('://')
  const slash = scheme === -1 ? -1 : url.indexOf('/', scheme + 3)
  // not a serialized http(s) URL: makeConn parses it
  if (slash === -1) return url
  const hash = url.indexOf('#', slash)
  return hash === -1 ? url.slice(slash) : url.slice(slash, hash)
}

/** An answer that a `Response` cannot carry (`websocket`): the reason, for the client. */
const upgradeRefused = rejectionResponse(
  problem({
    status: 501,
    title: 'Not Implemented',
    detail: 'This server cannot upgrade a connection to a WebSocket here',
  }),
)

/** Statuses whose `Response` may not have a body (Fetch's "null body status"). */
const nullBody = (status: number): boolean => status === 204 || status === 205 || status === 304 || status < 200

/**
 * A streamed body that sends more or fewer bytes than the `content-length` it declared: its
 * answer is cut, so that the client sees it incomplete.
 */
class LengthMismatch extends Error {
  constructor(length: number, what: 'more' | 'fewer') {
    super(`sapwood: a streamed body declared ${length} bytes and gave ${what}`)
    this.name = 'LengthMismatch'
  }
}

/**
 * A stream or a file as the `ReadableStream` of a `Response`: one chunk from the producer per
 * `pull`, so the producer runs only as fast as the runtime takes what it sends (the runtime pulls
 * once the client has taken the chunk before). `cancel` (the client went away) fires the Conn's
 * signal and stops the producer; a producer's error is reported and errors the stream, so the
 * client sees an incomplete answer. `done` runs once, when the body ended, failed or was cancelled.
 */
const readable = (
  from: StreamSource,
  length: number | undefined,
  source: ChunkedBody,
  failed: (error: unknown) => void,
  done: () => void,
): ReadableStream<Uint8Array> => {
  const signal = source.signal
  const chunks = chunksOf(from, signal)
  let sent = 0
  let over = false
  let cancelled = false
  const finish = (): void => {
    if (over) return
    over = true
    signal.removeEventListener('abort', onAbort)
    done()
  }
  /**
   * The client left (cancel), or the runtime fired the request's signal without cancelling the
   * body (workerd finds the client gone on a write and never calls `cancel`), or the server
   * closes: the producer is stopped at its next step, and only then is the source released.
   */
  function stop(): void {
    if (cancelled || over) return
    cancelled = true
    chunks.return(undefined).then(finish, finish)
  }
  // a server that closes asks its producers to end (the stream then ends cleanly): no stop then
  const onAbort = (): void => {
    if (!(signal.reason instanceof ServerClosingError)) stop()
  }
  signal.addEventListener('abort', onAbort, { once: true })
  return new ReadableStream<Uint8Array>(
    {
      pull: async (controller) => {
        try {
          // a pull that enqueues nothing is not called again: empty chunks are skipped here
          for (;;) {
            const next = await chunks.next()
            // cancelled while the producer worked: what it gave has no one to go to
            if (cancelled) return
            if (next.done) {
              if (length !== undefined && sent < length && !source.signal.aborted) {
                throw new LengthMismatch(length, 'fewer')
              }
              controller.close()
              finish()
              return
            }
            const chunk = next.value
            if (chunk.byteLength === 0) continue
            sent += chunk.byteLength
            if (length !== undefined && sent > length) throw new LengthMismatch(length, 'more')
            controller.enqueue(chunk)
            return
          }
        } catch (error) {
          if (cancelled) return
          // the answer is cut: as on a connection that closes, the Conn's signal fires (and stops the producer)
          source.abort()
          stop()
          failed(error)
          controller.error(error)
        }
      },
      cancel: () => {
        // fires the Conn's signal, whose listener above stops the producer
        source.abort()
        stop()
      },
    },
    // no chunk is asked for before the runtime wants one: the producer is never ahead
    { highWaterMark: 0 },
  )
}

/** Whether this runtime's server frames a Response's text or bytes itself (not node: bridges). */
const SELF_FRAMING = runtime() !== 'node'

/** Builds the `Response` of a laid-out answer; `body` replaces the wire's for a stream. */
const responseOf = (wire: WireResponse, body: string | Uint8Array | ReadableStream<Uint8Array> | null): Response => {
  const status = wire.status
  // a `Response` of a null-body status refuses a body, and its length would frame nothing
  const bodiless = nullBody(status)
  // Bun, Deno and workerd frame a body of text or bytes by themselves, with the length toWire
  // wrote: a `content-length` of our own would only be checked again, and costs ~4 µs on Deno
  // (its header op), 20% of a hello world. A HEAD's length, a file's and an empty body's stay,
  // and on node every one stays: a bridge there (a Lambda adapter, a test) may frame by it.
  const framed = SELF_FRAMING && (typeof body === 'string' || body instanceof Uint8Array)
  // headers set on the Response made with its body: cheaper on Bun and Deno than a Headers
  // filled first and given in the init (measured: 227 vs 321 ns on Bun, 208 vs 492 on Deno)
  const response = new Response(bodiless ? null : body, { status })
  const headers = response.headers
  const list = wire.headers
  for (let i = 0; i < list.length; i += 2) {
    const name = list[i]!
    if (name === 'content-length' && (bodiless || framed)) continue
    // `set` replaces the runtime's default text/plain for a string; the values of one header
    // come in a row (toWire lays out an array in order), so each one after the first appends
    if (i > 0 && list[i - 2] === name) headers.append(name, list[i + 1]!)
    else headers.set(name, list[i + 1]!)
  }
  return response
}

/**
 * @internal How a fetch runtime turns a handshake that `websocket` accepted into an open socket:
 * the 101 `Response` (or undefined where the runtime answers the handshake itself, as Bun does),
 * given the request, the final Conn, its session and the head the app drafted (a cookie, CORS).
 * Null when this runtime cannot: the client is answered 501.
 */
export type Upgrader = (
  request: Request,
  c: Conn,
  session: WebSocketSession,
  headers: Headers,
  report: Report,
) => Response | undefined | null

/** The head the app drafted for a handshake, without what the runtime writes itself. */
const handshakeHeaders = (answer: Conn): Headers => {
  const headers = new Headers()
  const list = toWire(answer, true).headers
  for (let i = 0; i < list.length; i += 2) {
    const name = list[i]!
    if (name === 'content-length' || name === 'content-type' || name === 'connection' || name === 'upgrade') continue
    headers.append(name, list[i + 1]!)
  }
  return headers
}

/** The answer to a handshake: the runtime's 101 when it can upgrade, else a 501 that says why. */
const upgrade = (
  request: Request,
  answer: Conn,
  body: UpgradeBody,
  head: boolean,
  source: RequestBody,
  report: Report,
  upgrader: Upgrader,
): Response | undefined => {
  source.release()
  const session = sessionOf(body)
  const done = session === undefined ? null : upgrader(request, answer, session, handshakeHeaders(answer), report)
  if (done !== null) return done
  const { status, headers, body: text } = upgradeRefused
  return responseOf(toWire(update(answer, { status, respHeaders: headers, respBody: text }), head), text)
}

/**
 * The third argument a Cloudflare Worker's `fetch` gets (its `ExecutionContext`): `waitUntil`
 * keeps the work of a request alive after its client left. Other runtimes pass something else
 * or nothing (Bun its server, Deno the connection's info): only a `waitUntil` function is used.
 */
interface WorkerContext {
  readonly waitUntil?: (work: Promise<unknown>) => void
}

/** Lays out a final Conn as a `Response`; a stream is sent as its chunks come. */
const send = (
  request: Request,
  answer: Conn,
  head: boolean,
  source: RequestBody,
  report: Report,
  server: ServerState,
  upgrader: Upgrader,
  context: WorkerContext | undefined,
): Response | undefined => {
  const body = answer.respBody
  if (body !== null && typeof body === 'object' && !(body instanceof Uint8Array) && body._tag === 'Upgrade') {
    return upgrade(request, answer, body, head, source, report, upgrader)
  }
  const out = outgoing(answer, head, source, report)
  if (out.from === undefined) {
    source.release()
    return responseOf(out.wire, out.wire.body)
  }
  server.streaming.add(source)
  // a Worker cancels what a request still runs once its client leaves: told to wait for the
  // producer, it lets the producer see its signal and end (its `finally` runs)
  let ended: (() => void) | undefined
  if (typeof context?.waitUntil === 'function') context.waitUntil(new Promise<void>((resolve) => (ended = resolve)))
  const stream = readable(
    out.from,
    out.length,
    source,
    (error) => report(error, answer),
    () => {
      server.streaming.delete(source)
      source.release()
      ended?.()
    },
  )
  try {
    return responseOf(out.wire, stream)
  } catch (error) {
    stream.cancel().catch(() => undefined)
    throw error
  }
}

// Where a runtime builds `request.url` from the Host header as sent, a Host such as `a/b` moves
// into the path (Deno: `Host: x/admin` and `GET /public` give `http://x/admin/public`), and a
// proxy in front would route a path other than the one the app sees: the Host is checked, as
// node's adapter checks it. Bun gives no absolute URL for a malformed or empty Host (a cheap
// sign, and no header read on its fast path); it joins two Host headers (`a, b`), which no
// `host()` filter matches.
const HOST_IN_URL = runtime() !== 'bun'

/** True when the request's Host is malformed or empty, and is refused with 400. */
const hostRefused = (request: Request, url: string): boolean => {
  if (HOST_IN_URL) {
    const host = request.headers.get('host')
    return host !== null && isBadHost(host)
  }
  // Bun: the URL's authority is the Host it parsed, or there is none
  const scheme = url.indexOf('://')
  if (scheme === -1) return true
  const slash = url.indexOf('/', scheme + 3)
  return isBadHost(url, scheme + 3, slash === -1 ? url.length : slash)
}

/** The answer to a request whose Host is refused, laid out once (a Response is made per request). */
const hostRefusal = rejectionResponse(invalidHost)

/** The 500 for an answer that could not be made or laid out; the error goes to `report`. */
const failure = (c: Conn, head: boolean, source: RequestBody, report: Report, error: unknown): Response => {
  source.release()
  report(error, c)
  const wire = failedWire(c, error, head)
  return responseOf(wire, wire.body)
}

/**
 * @internal The fetch listener of a Handler, for the adapters that serve it (`toFetchHandler`,
 * Bun's and Deno's `serve`): `server` is the state `close()` drains, `upgrader` opens WebSockets.
 */
export const fetchListener = (
  handler: Handler,
  server: ServerState = unmanaged(),
  upgrader: Upgrader = workerUpgrade,
): FetchListener => {
  const report: Report = handler.report ?? defaultReport
  return (request: Request, _env?: unknown, context?: unknown): Answer => {
    const url = request.url
    if (hostRefused(request, url)) {
      const { status, headers, body } = hostRefusal
      return new Response(body, { status, headers })
    }
    const source = new RequestBody(request)
    let c: Conn
    try {
      c = makeConn({ method: request.method, url: targetOf(url), headers: requestHeaders(request), source })
    } catch (error) {
      source.release()
      console.error('sapwood: could not read the request:', error)
      const wire = failedWire(makeConn({ method: 'GET', url: '/', headers: {} }), error, false)
      return responseOf(wire, wire.body)
    }
    const head = c.method === 'HEAD'
    const settle = (answer: Conn): Response | undefined => {
      try {
        return send(request, answer, head, source, report, server, upgrader, context as WorkerContext | undefined)
      } catch (error) {
        return failure(c, head, source, report, explainRefusal(error))
      }
    }
    let out: Conn | PromiseLike<Conn>
    try {
      out = handler(c)
    } catch (error) {
      return failure(c, head, source, report, explainRefusal(error))
    }
    // an app that answered at once is sent at once: no promise made (Bun and Deno take either)
    if (!isThenable(out)) return settle(out)
    return Promise.resolve(out).then(settle, (error: unknown) =>
      failure(c, head, source, report, explainRefusal(error)),
    )
  }
}

/** What the fetch listener gives: a Response now, or later (undefined: the runtime upgraded). */
type Answer = Response | undefined | Promise<Response | undefined>

/** @internal The fetch listener's type: a Worker's `(request, env, ctx)`; Bun and Deno pass other things. */
export type FetchListener = (request: Request, env?: unknown, context?: unknown) => Answer

/**
 * Makes the app a fetch handler, `(request: Request) => Promise<Response>`: what Cloudflare
 * Workers, Deno (`Deno.serve`), Bun (`Bun.serve`) and edge functions call. The answer is the one
 * `inject` and the node adapter give (HEAD, OPTIONS, 405 with `Allow`, problem bodies, default
 * headers, `set-cookie` kept apart). The request body is read from `request.body` only when a
 * Part asks for it, under each reader's limit; a streamed answer (`stream`, `sse`) is a
 * `ReadableStream` that asks the producer for one chunk each time the runtime wants one, and
 * `c.signal` fires when the runtime fires the request's signal or cancels the answer (the client
 * went away). A handler that throws, even outside the tree, is a 500 and reaches `onError`: the
 * promise never rejects. A `websocket` answer opens a `WebSocketPair` where the runtime has one
 * (Cloudflare Workers), and is a 501 elsewhere (`serve` upgrades on Bun and Deno).
 *
 * The app is compiled when `toFetchHandler` is called: on Cloudflare Workers, which refuse to
 * compile code during a request, call it at the top level of the module. The handler takes a
 * Worker's `(request, env, ctx)`: while an answer streams it holds `ctx.waitUntil`, so that a
 * producer whose client left still sees its signal and ends.
 *
 * @example
 * import { pipe, get, path, ok } from 'sapwood'
 * import { toFetchHandler } from 'sapwood/fetch'
 * const fetch = toFetchHandler(pipe(get, path('/'), ok('hello')))
 * const res = await fetch(new Request('http://localhost/'))
 * await res.text() // 'hello'
 * // Workers: export default { fetch }; Deno: Deno.serve(fetch); Bun: Bun.serve({ fetch })
 *
 * @category adapters
 * @since 0.3.0
 */
export const toFetchHandler = (
  app: Part<Conn, Conn>,
  options: RespondOptions = {},
): ((request: Request, env?: unknown, context?: unknown) => Promise<Response>) => {
  const listener = fetchListener(respond(app, options))
  // the default upgrader always answers (a 101 or a 501): a Response, never undefined
  return (request, env, context) => Promise.resolve(listener(request, env, context) as Response | Promise<Response>)
}
