/**
 * The node:http adapter: `toNodeHandler` for any `http.createServer`, and `nodeAdapter` for `serve`.
 *
 * @since 0.1.0
 */
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import { BodyAbortedError, BodyConsumedError, type ChunkSink, ChunkedBody, type Flow } from '../context/body-source.js'
import { type Conn, type RequestHeaders, makeConn } from '../context/conn.js'
import type { Part } from '../context/context.js'
import { isThenable } from '../context/context.js'
import { rejectionResponse } from '../context/rejection.js'
import type { Adapter, Listening, ListenOptions } from './adapter.js'
import { type Handler, type RespondOptions, respond } from './respond.js'
import { toWire } from './wire.js'

// One object per request, nothing else made unless a Part reads the body. Reading starts node's
// flowing mode; `ChunkedBody` pauses the request when no reader wants more, so a reader that
// stops at its limit leaves the rest unread (and unbuffered) on the socket.
class RequestBody extends ChunkedBody implements Flow {
  private onData: ((chunk: Buffer) => void) | undefined = undefined
  constructor(private readonly req: http.IncomingMessage) {
    super()
  }
  override get length(): number | undefined {
    const declared = this.req.headers['content-length']
    if (declared === undefined) return undefined
    const n = Number(declared)
    return Number.isSafeInteger(n) && n >= 0 ? n : undefined
  }
  override get parsed(): unknown {
    // body-parser 1 marks a body it parsed with `_body`; body-parser 2 (Express 5) only sets
    // `req.body`, after reading the stream to its end
    const req = this.req as http.IncomingMessage & { _body?: unknown; body?: unknown }
    return req._body === true || (req.readableEnded && req.body !== undefined) ? req.body : undefined
  }
  protected open(sink: ChunkSink): Flow {
    const req = this.req
    // Read elsewhere already (a body parser mounted in front): waiting for data would never end.
    if (req.readableEnded) {
      sink.fail(new BodyConsumedError('read before sapwood saw the request (a body parser mounted in front?)'))
      return this
    }
    if (req.destroyed) {
      sink.fail(new BodyAbortedError())
      return this
    }
    const gone = (error?: Error): void => {
      if (!req.complete) sink.fail(new BodyAbortedError(error instanceof Error ? { cause: error } : undefined))
    }
    req.on('data', (this.onData = (chunk: Buffer) => sink.chunk(chunk)))
    // `on`, not `once`: each fires once anyway, and `once` wraps the listener per request
    req.on('end', () => sink.end())
    // node ends a request whose client left with an 'error' (ECONNRESET, "aborted"); one that
    // left before this read began is `destroyed` above
    req.on('error', gone)
    return this
  }
  pause(): void {
    this.req.pause()
  }
  resume(): void {
    this.req.resume()
  }
  /** After the answer: cleanups run, and the part of the body no reader took flows away. */
  override release(): void {
    super.release()
    if (this.unfinished && this.onData !== undefined) {
      this.req.off('data', this.onData)
      this.req.resume()
    }
  }
}

// An instance of a class whose prototype has a null prototype inherits no key (`constructor`,
// `__proto__`, `toString` are missing headers like any other) and, unlike Object.create(null),
// stays a fast-mode object. Measured in-process (bench/request-headers.ts, node 20, fastest
// batch of two runs): on top of node's own work, this copy costs 22-32 ns per request with 2
// headers and 175-270 ns with a browser's 15, against 64-83 / 511-626 ns into
// Object.create(null), 126-140 / 1 300-1 400 ns from req.rawHeaders and 480-520 / 4 000-4 900 ns
// from req.headersDistinct.
const HeaderRecord = function HeaderRecord(this: object) {} as unknown as new () => Record<string, string>
HeaderRecord.prototype = Object.create(null) as object

/**
 * node's request headers as the Conn's record: lower-case names, nothing inherited, one string
 * per name. node has joined a repeated header already (values with ', ', `cookie` with '; ', and
 * kept the first of a field that holds one value, such as `host` or `content-type`), except
 * `set-cookie`, an array, joined here with ', '. node builds `req.headers` for every HTTP/1.1
 * request anyway (for its Host check), so copying it is cheaper than reading `rawHeaders` again.
 */
const requestHeaders = (req: http.IncomingMessage): RequestHeaders => {
  const h = req.headers
  const out = new HeaderRecord()
  for (const name in h) {
    const value = h[name]!
    out[name] = typeof value === 'string' ? value : value.join(', ')
  }
  return out
}

/** What a listener knows of its server: whether `close()` has begun. */
interface ServerState {
  closing: boolean
}

/** The state of a server that sapwood does not close (`nodeListener` in the user's server). */
const UNMANAGED: ServerState = Object.freeze({ closing: false })

const fail = (res: http.ServerResponse, error: unknown, server: ServerState): void => {
  console.error('sapwood: could not write the response:', error)
  if (res.headersSent) {
    res.destroy()
    return
  }
  if (server.closing) res.shouldKeepAlive = false
  const { status, headers, body } = rejectionResponse({ _tag: 'HandlerFailed', error })
  res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

const write = (res: http.ServerResponse, c: Conn, head: boolean, server: ServerState, body: RequestBody): void => {
  body.release()
  try {
    const wire = toWire(c, head)
    // While the server closes, an answer ends its connection (node then sends `Connection:
    // close`): kept alive, the idle socket would hold close() open until its keep-alive timeout.
    if (server.closing) res.shouldKeepAlive = false
    // A flat [name, value, ...] list goes to writeHead as it is: no header object is built.
    res.writeHead(wire.status, wire.headers as string[])
    if (wire.body === null) res.end()
    else res.end(wire.body)
  } catch (error) {
    fail(res, error, server)
  }
}

const listener =
  (handler: Handler, server: ServerState) =>
  (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const head = req.method === 'HEAD'
    let out: Conn | PromiseLike<Conn>
    const body = new RequestBody(req)
    try {
      out = handler(
        makeConn({
          method: req.method ?? 'GET',
          url: req.url ?? '/',
          headers: requestHeaders(req),
          source: body,
        }),
      )
    } catch (error) {
      body.release()
      fail(res, error, server)
      return
    }
    if (isThenable(out)) {
      out.then(
        (c) => write(res, c, head, server, body),
        (error: unknown) => {
          body.release()
          fail(res, error, server)
        },
      )
    } else write(res, out, head, server, body)
  }

/**
 * Serves one request with a Handler: builds the Conn from node's request (headers as a record
 * of lower-case names and one string each, with nothing inherited: a repeated header is joined
 * with ', ', `cookie` with '; ', and node keeps the first of a field that holds one value, such as
 * `host`) and writes the final Conn once.
 *
 *
 * @example
 * import { createServer } from 'node:http'
 * import { nodeListener, respond, pipe, get, ok } from 'sapwood'
 * createServer(nodeListener(respond(pipe(get, ok('hi')))))
 *
 * @category adapters
 * @since 0.1.0
 */
export const nodeListener = (handler: Handler): ((req: http.IncomingMessage, res: http.ServerResponse) => void) =>
  listener(handler, UNMANAGED)

/**
 * A `(req, res)` listener for any node `http.createServer` (or https/http2 compat) that answers
 * every request with the app.
 *
 * @example
 * import { createServer } from 'node:http'
 * import { toNodeHandler, pipe, get, path, ok } from 'sapwood'
 * createServer(toNodeHandler(pipe(get, path('/'), ok('hello'))))
 *
 * @category adapters
 * @since 0.1.0
 */
export const toNodeHandler = (
  app: Part<Conn, Conn>,
  options: RespondOptions = {},
): ((req: http.IncomingMessage, res: http.ServerResponse) => void) => nodeListener(respond(app, options))

/**
 * Server settings of the node adapter; the defaults bound every wait and every header.
 *
 * @category adapters
 * @since 0.1.0
 */
export interface NodeAdapterOptions {
  /** Time to receive a whole request (ms). Default 30 000. */
  readonly requestTimeout?: number
  /** Time to receive the request headers (ms). Default 10 000. */
  readonly headersTimeout?: number
  /** Idle time before a keep-alive connection is closed (ms). Default 5 000. */
  readonly keepAliveTimeout?: number
  /** Largest request head in bytes. Default 16 KiB. */
  readonly maxHeaderSize?: number
  /** Time `close()` waits for requests in flight before cutting connections (ms). Default 10 000. */
  readonly closeTimeout?: number
}

const formatUrl = (address: AddressInfo): string =>
  `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`

/**
 * The node:http adapter (the default of `serve`). Its `close()` stops accepting connections,
 * answers the requests in flight with `Connection: close` and resolves once they are written;
 * after `closeTimeout` it cuts the connections still open.
 *
 * @example
 * import { serve, nodeAdapter, pipe, get, ok } from 'sapwood'
 * await serve(pipe(get, ok('hi')), { adapter: nodeAdapter({ keepAliveTimeout: 10_000 }) })
 *
 * @category adapters
 * @since 0.1.0
 */
export const nodeAdapter = (options: NodeAdapterOptions = {}): Adapter<http.Server> => ({
  name: 'node',
  listen: (handler: Handler, listen: ListenOptions): Promise<Listening<http.Server>> =>
    new Promise((resolve, reject) => {
      const state: ServerState = { closing: false }
      const server = http.createServer(
        {
          requestTimeout: options.requestTimeout ?? 30_000,
          headersTimeout: options.headersTimeout ?? 10_000,
          keepAliveTimeout: options.keepAliveTimeout ?? 5_000,
          maxHeaderSize: options.maxHeaderSize ?? 16_384,
        },
        listener(handler, state),
      )
      const onError = (error: NodeJS.ErrnoException): void => {
        const where = `${listen.host}:${listen.port}`
        if (error.code === 'EADDRINUSE') {
          reject(
            new Error(`sapwood: cannot listen on ${where}: the port is taken (set PORT or pass { port })`, {
              cause: error,
            }),
          )
        } else if (error.code === 'EACCES') {
          reject(new Error(`sapwood: cannot listen on ${where}: permission denied`, { cause: error }))
        } else reject(new Error(`sapwood: cannot listen on ${where}: ${error.message}`, { cause: error }))
      }
      server.once('error', onError)
      server.listen(listen.port, listen.host, () => {
        server.off('error', onError)
        const close = (): Promise<void> =>
          new Promise((done, failed) => {
            // From now on every answer closes its connection, so close() resolves once the
            // requests in flight are answered, not a keep-alive timeout later.
            state.closing = true
            const timer = setTimeout(() => server.closeAllConnections(), options.closeTimeout ?? 10_000)
            timer.unref()
            server.close((error) => {
              clearTimeout(timer)
              if (error && (error as NodeJS.ErrnoException).code !== 'ERR_SERVER_NOT_RUNNING') failed(error)
              else done()
            })
            // Idle keep-alive sockets would hold close() open; busy ones finish their request first.
            server.closeIdleConnections()
          })
        resolve({ url: formatUrl(server.address() as AddressInfo), native: server, close })
      })
    }),
})
