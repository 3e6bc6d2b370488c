/**
 * The node:http adapter: `toNodeHandler` for any `http.createServer`, and `nodeAdapter` for `serve`.
 *
 * @since 0.1.0
 */
import { createReadStream } from 'node:fs'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Readable } from 'node:stream'
import {
  BodyAbortedError,
  BodyConsumedError,
  ServerClosingError,
  type ChunkSink,
  ChunkedBody,
  type Flow,
} from '../context/body-source.js'
import { type Conn, type RequestHeaders, makeConn } from '../context/conn.js'
import type { Part } from '../context/context.js'
import { isThenable } from '../context/context.js'
import { rejectionResponse } from '../context/rejection.js'
import type { Adapter, Listening, ListenOptions } from './adapter.js'
import { type Handler, type RespondOptions, respond } from './respond.js'
import { type FileBody, type StreamSource, chunksOf, isReadableStream } from '../context/response-body.js'
import { toWire } from './wire.js'

// One object per request, nothing else made unless a Part reads the body. Reading starts node's
// flowing mode; `ChunkedBody` pauses the request when no reader wants more, so a reader that
// stops at its limit leaves the rest unread (and unbuffered) on the socket.
class RequestBody extends ChunkedBody implements Flow {
  private onData: ((chunk: Buffer) => void) | undefined = undefined
  constructor(
    private readonly req: http.IncomingMessage,
    private readonly res: http.ServerResponse,
  ) {
    super()
  }
  /** The client is gone when the response closes before it was all written. */
  protected override watch(): void {
    const res = this.res
    if (res.closed) {
      if (!res.writableFinished) this.abort()
      return
    }
    res.on('close', () => {
      if (!res.writableFinished) this.abort()
    })
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

/** What a listener knows of its server: whether `close()` has begun, and the streams being sent. */
interface ServerState {
  closing: boolean
  /** The bodies of the answers still streaming: `close()` fires their signals. */
  readonly streaming: Set<RequestBody>
}

/** The state of a server that sapwood does not close (`nodeListener` in the user's server). */
const unmanaged = (): ServerState => ({ closing: false, streaming: new Set() })

type Report = (error: unknown, conn: Conn) => void

const defaultReport: Report = (error, c) => console.error(`sapwood: the answer to ${c.method} ${c.path} failed:`, error)

/** Resolves once the response can take more, or has closed. */
const drained = (res: http.ServerResponse): Promise<void> =>
  new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done)
      res.off('close', done)
      resolve()
    }
    res.on('drain', done)
    res.on('close', done)
  })

const isNodeReadable = (u: unknown): u is Readable =>
  typeof (u as Readable).pipe === 'function' && typeof (u as Readable).on === 'function'

/** Writes chunks as they come, waiting while the client is slow; stops when it is gone. */
const pump = async (
  res: http.ServerResponse,
  chunks: AsyncIterable<Uint8Array | string>,
  length: number | undefined,
): Promise<void> => {
  let sent = 0
  for await (const chunk of chunks) {
    // a client gone ends the loop; a producer told to stop by close() may still say goodbye
    if (res.destroyed) return
    if (chunk.length === 0) continue
    if (length !== undefined) {
      sent += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength
      if (sent > length) throw new LengthMismatch(length, 'more')
    }
    if (!res.write(chunk)) await drained(res)
  }
  if (length !== undefined && sent < length && !res.destroyed) throw new LengthMismatch(length, 'fewer')
}

/**
 * A stream that sends more or fewer bytes than the `content-length` it declared: its answer is
 * cut, since the extra bytes would be read as the next answer on the connection.
 */
class LengthMismatch extends Error {
  constructor(length: number, what: 'more' | 'fewer') {
    super(`sapwood: a streamed body declared ${length} bytes and gave ${what}`)
    this.name = 'LengthMismatch'
  }
}

/** Pipes a node stream (a file) into the response; settles when it ends, fails or the client leaves. */
const pipeTo = (res: http.ServerResponse, from: Readable, length: number | undefined): Promise<void> =>
  new Promise((resolve, reject) => {
    let sent = 0
    const closed = (): void => {
      from.destroy()
      resolve()
    }
    from.on('error', (error) => {
      res.off('close', closed)
      reject(error)
    })
    if (length !== undefined) {
      from.on('data', (chunk: Buffer | string) => {
        sent += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength
        if (sent > length) from.destroy(new LengthMismatch(length, 'more'))
      })
    }
    from.on('end', () => {
      res.off('close', closed)
      if (length !== undefined && sent < length && !res.destroyed) reject(new LengthMismatch(length, 'fewer'))
      else resolve()
    })
    res.on('close', closed)
    from.pipe(res, { end: false })
  })

/** What to send after the head: a file, or a stream's source once opened. */
type Opened = { readonly file: FileBody } | { readonly from: StreamSource; readonly length: number | undefined }

/**
 * Sends a stream or a file after the head: backpressure honoured, the producer told (its
 * signal) when the client leaves or the server closes. A producer's error cuts the response (the
 * client sees it incomplete, not as a whole one) and is reported.
 */
const stream = (
  res: http.ServerResponse,
  c: Conn,
  opened: Opened,
  source: RequestBody,
  server: ServerState,
  report: Report,
): void => {
  const done = (): void => {
    server.streaming.delete(source)
    source.release()
    if (res.destroyed) return
    // A stream that began before close() was kept alive: once it ends, its connection must
    // close too, or close() would wait for the keep-alive timeout.
    if (server.closing) {
      const socket = res.socket // node detaches it from the response on 'finish'
      res.once('finish', () => socket?.destroySoon())
    }
    res.end()
  }
  const failed = (error: unknown): void => {
    server.streaming.delete(source)
    source.release()
    res.destroy()
    report(error, c)
  }
  server.streaming.add(source)
  let sending: Promise<void>
  try {
    if ('file' in opened) {
      // a file that shrank since it was measured gives fewer bytes: the answer is cut, not left hanging
      const { path, offset, length } = opened.file
      sending = pipeTo(res, createReadStream(path, { start: offset, end: offset + length - 1 }), length)
    } else {
      const { from, length } = opened
      sending = isReadableStream(from)
        ? pump(res, chunksOf(from), length)
        : isNodeReadable(from)
          ? pipeTo(res, from, length)
          : pump(res, from, length)
    }
  } catch (error) {
    failed(error)
    return
  }
  sending.then(done, failed)
}

const fail = (res: http.ServerResponse, error: unknown, server: ServerState): void => {
  console.error('sapwood: could not write the response:', error)
  answerFailure(res, error, server)
}

/** A 500 when the head is not out yet; else the connection is cut, so the client sees an incomplete answer. */
const answerFailure = (res: http.ServerResponse, error: unknown, server: ServerState): void => {
  if (res.headersSent) {
    res.destroy()
    return
  }
  if (server.closing) res.shouldKeepAlive = false
  const { status, headers, body } = rejectionResponse({ _tag: 'HandlerFailed', error })
  res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

const write = (
  res: http.ServerResponse,
  c: Conn,
  head: boolean,
  server: ServerState,
  body: RequestBody,
  report: Report,
): void => {
  try {
    const wire = toWire(c, head)
    // While the server closes, an answer ends its connection (node then sends `Connection:
    // close`): kept alive, the idle socket would hold close() open until its keep-alive timeout.
    if (server.closing) res.shouldKeepAlive = false
    // A flat [name, value, ...] list goes to writeHead as it is: no header object is built.
    const sent = wire.body
    if (sent === null) {
      body.release()
      res.writeHead(wire.status, wire.headers as string[])
      res.end()
    } else if (typeof sent === 'string' || sent instanceof Uint8Array) {
      body.release()
      res.writeHead(wire.status, wire.headers as string[])
      res.end(sent)
    } else {
      // opened before the head is written: a producer that throws at once is still a 500
      let opened: Opened
      try {
        opened = sent._tag === 'File' ? { file: sent } : { from: sent.open(body.signal), length: sent.length }
      } catch (error) {
        body.release()
        report(error, c)
        answerFailure(res, error, server)
        return
      }
      res.writeHead(wire.status, wire.headers as string[])
      stream(res, c, opened, body, server, report)
    }
  } catch (error) {
    body.release()
    fail(res, error, server)
  }
}

const listener = (handler: Handler, server: ServerState) => {
  const report = handler.report ?? defaultReport
  return (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const head = req.method === 'HEAD'
    let out: Conn | PromiseLike<Conn>
    const body = new RequestBody(req, res)
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
        (c) => write(res, c, head, server, body, report),
        (error: unknown) => {
          body.release()
          fail(res, error, server)
        },
      )
    } else write(res, out, head, server, body, report)
  }
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
  listener(handler, unmanaged())

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
      const state: ServerState = { closing: false, streaming: new Set() }
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
            // Streams never end by themselves (SSE): their producers are told to stop, and each
            // answer then ends cleanly, so that a client reconnects elsewhere.
            for (const source of state.streaming) source.abort(new ServerClosingError())
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
