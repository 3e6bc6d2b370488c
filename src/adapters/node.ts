/**
 * The node:http adapter: `toNodeHandler` for any `http.createServer` (and `nodeUpgradeListener`
 * for its WebSockets), and `nodeAdapter` for `serve`.
 *
 * @since 0.1.0
 */
import * as http from 'node:http'
import * as http2 from 'node:http2'
import * as https from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import type { Duplex } from 'node:stream'
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
import { type Rejection, badRequest, problem, rejectionResponse } from '../context/rejection.js'
import type { Adapter, Listening, ListenOptions } from './adapter.js'
import { type Handler, type RespondOptions, respond } from './respond.js'
import type { Body, UpgradeBody } from '../context/response-body.js'
import { type Opened, stream } from './node-stream.js'
import { type Report, type ServerState, defaultReport, unmanaged } from './outgoing.js'
import { toWire } from './wire.js'
import { invalidHost, isBadHost } from '../internal/host.js'
import { sessionOf } from '../combinators/websocket.js'
import { WebSockets, handshakeLines } from './node-upgrade.js'

/**
 * Whether a response that closed was cut short (the client left). Over HTTP/2 node's compat
 * response says it finished even when the client cancelled its stream: the stream's reset code
 * says it (0 is NO_ERROR, a normal end).
 */
const cutShort = (res: http.ServerResponse): boolean => {
  if (!res.writableFinished) return true
  const rstCode = (res as unknown as { stream?: { rstCode?: number } }).stream?.rstCode
  return rstCode !== undefined && rstCode !== 0
}

// One object per request, nothing else made unless a Part reads the body. Reading starts node's
// flowing mode; `ChunkedBody` pauses the request when no reader wants more, so a reader that
// stops at its limit leaves the rest unread (and unbuffered) on the socket.
/** @internal node's request as a body source (also read by the mounts) */
export class RequestBody extends ChunkedBody implements Flow {
  private onData: ((chunk: Buffer) => void) | undefined = undefined
  constructor(
    private readonly req: http.IncomingMessage,
    private readonly res: http.ServerResponse,
    /** The client sent `Expect: 100-continue` and no `100 Continue` went out yet (node's 'checkContinue'). */
    private readonly continues = false,
  ) {
    super()
  }
  /** The client is gone when the response closes before it was all written. */
  protected override watch(): void {
    const res = this.res
    if (res.closed) {
      if (cutShort(res)) this.abort()
      return
    }
    res.on('close', () => {
      if (cutShort(res)) this.abort()
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
    // The client waits for this before it sends the body: a reader refused by the declared
    // length (413) never opens, so its answer goes out without the body ever being sent, and
    // node then closes the connection (the unsent body cannot be told from the next request).
    if (this.continues && !this.res.headersSent) this.res.writeContinue()
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

/**
 * The body of a request that asked for an upgrade. node hands such a request over with its
 * socket and stops parsing: a declared body is `head` and what follows on the socket (a chunked
 * one is refused before the app runs). The signal fires when the socket closes before the HTTP
 * answer was written, or, once upgraded, when the WebSocket closes.
 */
class UpgradeRequestBody extends ChunkedBody implements Flow {
  /** Set once an HTTP answer is all written: the socket closing then is no client leaving. */
  answered = false
  private stop: (() => void) | undefined = undefined
  constructor(
    private readonly req: http.IncomingMessage,
    private readonly socket: Duplex,
    private readonly head: Buffer,
    private readonly server: ServerState,
  ) {
    super()
  }
  protected override watch(): void {
    const gone = (): void => {
      if (!this.answered) this.abort(this.server.closing ? new ServerClosingError() : undefined)
    }
    if (this.socket.destroyed) gone()
    else this.socket.on('close', gone)
  }
  override get length(): number {
    const n = Number(this.req.headers['content-length'] ?? 0)
    return Number.isSafeInteger(n) && n >= 0 ? n : 0
  }
  protected open(sink: ChunkSink): Flow {
    const length = this.length
    let got = 0
    const socket = this.socket
    const take = (chunk: Buffer): void => {
      const part = got + chunk.byteLength > length ? chunk.subarray(0, length - got) : chunk
      got += part.byteLength
      if (part.byteLength > 0) sink.chunk(part)
      if (got === length) {
        this.stop?.()
        sink.end()
      }
    }
    const cut = (): void => {
      this.stop?.()
      sink.fail(new BodyAbortedError())
    }
    if (this.head.byteLength > 0) take(this.head)
    else if (length === 0) sink.end()
    if (got < length) {
      if (socket.destroyed) {
        sink.fail(new BodyAbortedError())
        return this
      }
      this.stop = () => {
        this.stop = undefined
        socket.off('data', take)
        socket.off('end', cut)
        socket.off('close', cut)
      }
      socket.on('data', take)
      socket.on('end', cut)
      socket.on('close', cut)
    }
    return this
  }
  pause(): void {
    this.socket.pause()
  }
  resume(): void {
    this.socket.resume()
  }
  override release(): void {
    super.release()
    this.stop?.()
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
 * An HTTP/2 request (node's compatibility API) has pseudo-headers instead of a request line and
 * `Host`: they are left out, and `:authority` is the `host` (RFC 9113 §8.3.1), so that `host()`
 * and every other Part read an HTTP/2 request as they read an HTTP/1.1 one.
 */
export const requestHeaders = (req: http.IncomingMessage): RequestHeaders => {
  const h = req.headers
  const out = new HeaderRecord()
  for (const name in h) {
    const value = h[name]!
    if (name.charCodeAt(0) === 58 /* : */) {
      if (name === ':authority' && h['host'] === undefined) out['host'] = value as string
      continue
    }
    out[name] = typeof value === 'string' ? value : value.join(', ')
  }
  return out
}

/** The first Conn of a node request. */
const connOf = (req: http.IncomingMessage, body: ChunkedBody): Conn =>
  makeConn({ method: req.method ?? 'GET', url: req.url ?? '/', headers: requestHeaders(req), source: body })

const isUpgrade = (body: Body): body is UpgradeBody =>
  typeof body === 'object' && body !== null && !(body instanceof Uint8Array) && body._tag === 'Upgrade'

/** On an HTTP/1.1 connection: the last request it carried, and whether an answer ends it. */
const LAST = Symbol('sapwood.last')
const ENDING = Symbol('sapwood.ending')
type Carrier = { [LAST]?: http.IncomingMessage; [ENDING]?: true }

/**
 * While the server closes: true when `res` answers the last request its connection
 * carried (the connection is then marked to end with it), false when requests were pipelined
 * after it. Ending the connection with an earlier answer would cut those requests, which the
 * app has accepted already; the answer to the last one closes it instead.
 */
const endsConnection = (res: http.ServerResponse): boolean => {
  const req = res.req as http.IncomingMessage | undefined
  // an HTTP/2 stream has no connection of its own; a mount's request was not seen by `listener`
  if (req === undefined || req.httpVersionMajor !== 1) return true
  const socket = req.socket as (Socket & Carrier) | null
  if (socket === null) return true
  const last = socket[LAST]
  if (last !== undefined && last !== req) return false
  socket[ENDING] = true
  return true
}

/** @internal answers a failure to write: a 500, or a cut connection once the head is out */
export const fail = (res: http.ServerResponse, error: unknown, server: ServerState): void => {
  console.error('sapwood: could not write the response:', error)
  answerFailure(res, error, server)
}

/** A 500 when the head is not out yet; else the connection is cut, so the client sees an incomplete answer. */
const answerFailure = (res: http.ServerResponse, error: unknown, server: ServerState): void => {
  if (res.headersSent) {
    res.destroy()
    return
  }
  if (server.closing && endsConnection(res)) res.shouldKeepAlive = false
  writeRejection(res, { _tag: 'HandlerFailed', error })
}

/** Writes the problem answer of a rejection, framed by its length. */
const writeRejection = (res: http.ServerResponse, r: Rejection): void => {
  const { status, headers, body } = rejectionResponse(r)
  res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

/** @internal writes a final Conn on a node response */
export const write = (
  res: http.ServerResponse,
  c: Conn,
  head: boolean,
  server: ServerState,
  body: ChunkedBody,
  report: Report,
): void => {
  try {
    if (isUpgrade(c.respBody)) {
      // node gives a request that asks for an upgrade to 'request' only when the server has
      // no 'upgrade' listener: the upgrade cannot happen here
      body.release()
      const error = new Error(
        "sapwood: the answer is an upgrade that this server cannot perform: a websocket branch needs the server's 'upgrade' listener, server.on('upgrade', nodeUpgradeListener(handler))",
      )
      report(error, c)
      answerFailure(res, error, server)
      return
    }
    const wire = toWire(c, head)
    // While the server closes, an answer ends its connection (node then sends `Connection:
    // close`): kept alive, the idle socket would hold close() open until its keep-alive timeout.
    if (server.closing && endsConnection(res)) res.shouldKeepAlive = false
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
      stream(res, c, opened, body, server, report, endsConnection)
    }
  } catch (error) {
    body.release()
    fail(res, error, server)
  }
}

/**
 * True for an HTTP/1 request whose `Host` is empty, malformed or repeated, which RFC 9112 §3.2
 * answers with 400. node's parser takes them all (and keeps the first of two), so a proxy in
 * front that read the other one would route the request elsewhere than the app thinks. node
 * itself refuses an HTTP/1.1 request without `Host`.
 */
const badHost = (req: http.IncomingMessage): boolean => {
  const host = req.headers.host
  if (host === undefined || req.httpVersionMajor !== 1) return false
  if (isBadHost(host)) return true
  // A second Host is seen only in the raw list. Compared by char code, not toLowerCase(): the
  // whole check measured (node 20, in-process, a loop of 10^6) 50-55 ns a request with 2 or 15
  // headers, against 100-150 ns with toLowerCase().
  const raw = req.rawHeaders
  let seen = 0
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!
    if (
      name.length === 4 &&
      (name.charCodeAt(0) | 32) === 104 /* h */ &&
      (name.charCodeAt(1) | 32) === 111 /* o */ &&
      (name.charCodeAt(2) | 32) === 115 /* s */ &&
      (name.charCodeAt(3) | 32) === 116 /* t */ &&
      ++seen > 1
    ) {
      return true
    }
  }
  return false
}

/** Answers a request whose head cannot be trusted, and closes its connection. */
const refuseHead = (res: http.ServerResponse, r: Rejection): void => {
  res.shouldKeepAlive = false
  writeRejection(res, r)
}

/**
 * The 'request' listener; with `continues`, the 'checkContinue' one: its requests sent `Expect:
 * 100-continue`, and get their `100 Continue` only once a Part reads the body.
 */
const listener = (handler: Handler, server: ServerState, continues = false) => {
  const report = handler.report ?? defaultReport
  return (req: http.IncomingMessage, res: http.ServerResponse): void => {
    if (req.httpVersionMajor === 1) {
      const socket = req.socket as Socket & Carrier
      // Pipelined behind an answer that closes the connection: node cuts it once that answer
      // is written, so the request is left unanswered, and the app never sees it.
      if (socket[ENDING] === true) return
      socket[LAST] = req
      if (badHost(req)) {
        refuseHead(res, invalidHost)
        return
      }
    }
    const head = req.method === 'HEAD'
    let out: Conn | PromiseLike<Conn>
    const body = new RequestBody(req, res, continues)
    try {
      out = handler(connOf(req, body))
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

/** The HTTP answer to a request that asked for an upgrade: written on its socket, which then closes. */
const responseOn = (req: http.IncomingMessage, socket: Duplex, body: UpgradeRequestBody): http.ServerResponse => {
  const res = new http.ServerResponse(req)
  res.assignSocket(socket as Socket)
  // node stopped parsing this connection: it ends with the answer
  res.shouldKeepAlive = false
  res.on('finish', () => {
    body.answered = true
    // what the client still sends is dropped, so that closing does not reset the connection
    socket.resume()
    ;(socket as Socket).destroySoon()
  })
  return res
}

const refuse = (req: http.IncomingMessage, socket: Duplex, body: UpgradeRequestBody, r: Rejection): void => {
  body.release()
  writeRejection(responseOn(req, socket, body), r)
}

const chunkedUpgrade = badRequest('A request that asks for an upgrade cannot send its body in chunks')
const closingNow = problem({ status: 503, title: 'Service Unavailable', detail: 'The server is closing' })

/**
 * The 'upgrade' listener: runs the app on the request, as the 'request' listener does. When the
 * answer is a `websocket` session, the connection becomes a WebSocket; any other answer (a
 * filter's 404 or 401, a 426) is written as HTTP on the socket, which then closes.
 */
const upgradeListener = (handler: Handler, server: ServerState, sockets: WebSockets) => {
  const report = handler.report ?? defaultReport
  const listen = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    // node hands the socket over without an error listener: a reset must not be an uncaught error
    socket.on('error', () => socket.destroy())
    // Pipelined behind a request whose answer is still being made, this one waits its turn:
    // node hands it over at once, and an answer (or a 101) written now would cut into that one
    const before = (socket as Socket & { _httpMessage?: http.ServerResponse | null })._httpMessage
    // (`writableFinished` is no sign: it holds before 'finish', when node lets go of the socket)
    if (before != null) {
      const go = (): void => {
        socket.off('close', drop)
        // once node's own 'finish' handler has let go of the socket
        setImmediate(() => (socket.destroyed ? req.destroy() : listen(req, socket, head)))
      }
      const drop = (): void => {
        before.off('finish', go)
        req.destroy()
      }
      before.once('finish', go)
      socket.once('close', drop)
      return
    }
    const body = new UpgradeRequestBody(req, socket, head, server)
    if (req.headers['transfer-encoding'] !== undefined) {
      refuse(req, socket, body, chunkedUpgrade)
      return
    }
    if (badHost(req)) {
      refuse(req, socket, body, invalidHost)
      return
    }
    const decide = (c: Conn): void => {
      // the client left while the app ran: there is no one to answer
      if (socket.destroyed) {
        body.release()
        return
      }
      const sent = c.respBody
      if (!isUpgrade(sent)) {
        write(responseOn(req, socket, body), c, req.method === 'HEAD', server, body, report)
        return
      }
      const session = sessionOf(sent)
      if (session === undefined) {
        // not an upgrade this adapter can perform: the 'request' path says why
        write(responseOn(req, socket, body), c, false, server, body, report)
        return
      }
      if (server.closing) {
        refuse(req, socket, body, closingNow)
        return
      }
      let lines: string[]
      try {
        lines = handshakeLines(c)
      } catch (error) {
        body.release()
        fail(responseOn(req, socket, body), error, server)
        return
      }
      socket.once('close', () => body.release())
      sockets.accept(req, socket, head, c, session, lines, report)
    }
    let out: Conn | PromiseLike<Conn>
    try {
      out = handler(connOf(req, body))
    } catch (error) {
      body.release()
      fail(responseOn(req, socket, body), error, server)
      return
    }
    if (isThenable(out)) {
      out.then(decide, (error: unknown) => {
        body.release()
        fail(responseOn(req, socket, body), error, server)
      })
    } else decide(out)
  }
  return listen
}

/**
 * Ends the WebSockets of a server that is closing: 1001 to each, then, after `timeout` ms, the
 * connections still open are cut. Resolves once none is open.
 */
const closeSockets = (sockets: WebSockets, timeout: number): Promise<void> => {
  const timer = setTimeout(() => sockets.terminate(), timeout)
  timer.unref()
  return sockets.close().then(() => clearTimeout(timer))
}

/**
 * The 'upgrade' listener for a node server made with `http.createServer` (`serve` and
 * `nodeAdapter` add one themselves): requests that ask for an upgrade run through the same
 * Handler, and the `websocket` branches upgrade theirs; any other answer is written as HTTP and
 * the connection closes. Its `close()` ends the WebSockets it opened with 1001 (going away) and
 * resolves once they are closed, cutting those still open after `timeout` ms (default 10 000);
 * call it when the server closes, as `server.close()` waits for them.
 *
 * @example
 * import { createServer } from 'node:http'
 * import { respond, pipe, path, websocket } from 'sapwood'
 * import { nodeListener, nodeUpgradeListener } from 'sapwood/node'
 * const handler = respond(pipe(path('/echo'), websocket({ message: (ws, data) => ws.send(data) })))
 * const upgrades = nodeUpgradeListener(handler)
 * const server = createServer(nodeListener(handler)).on('upgrade', upgrades)
 * // on shutdown: await upgrades.close(); server.close()
 *
 * @category adapters
 * @since 0.3.0
 */
export const nodeUpgradeListener = (handler: Handler): NodeUpgradeListener => {
  const state = unmanaged()
  const sockets = new WebSockets()
  return Object.assign(upgradeListener(handler, state, sockets), {
    close: (timeout = 10_000): Promise<void> => {
      state.closing = true
      for (const source of state.streaming) source.abort(new ServerClosingError())
      return closeSockets(sockets, timeout)
    },
  })
}

/**
 * What `nodeUpgradeListener` makes: a listener for a server's 'upgrade' event, and `close()`.
 *
 * @category adapters
 * @since 0.3.0
 */
export interface NodeUpgradeListener {
  (req: http.IncomingMessage, socket: Duplex, head: Buffer): void
  /** Ends the WebSockets opened with 1001; after `timeout` ms (default 10 000) cuts those still open. */
  close(timeout?: number): Promise<void>
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
 * import { respond, pipe, get, ok } from 'sapwood'
 * import { nodeListener } from 'sapwood/node'
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
 * import { pipe, get, path, ok } from 'sapwood'
 * import { toNodeHandler } from 'sapwood/node'
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
  /** Time to receive the request headers (ms); a client too slow gets 408 and is closed. Default 10 000. */
  readonly headersTimeout?: number
  /** Idle time before a keep-alive connection is closed (ms). Default 5 000. */
  readonly keepAliveTimeout?: number
  /** Largest request head in bytes. Default 16 KiB. */
  readonly maxHeaderSize?: number
  /**
   * Requests served on one keep-alive connection before it closes (the last answer says
   * `Connection: close`; pipelined requests past it get 503); `0` for no limit. Default 1 000,
   * nginx's `keepalive_requests`: a client reconnects now and then, so that one connection
   * does not stay pinned to a worker (node:cluster, a load balancer) for its whole life.
   */
  readonly maxRequestsPerSocket?: number
  /**
   * Time `close()` waits for requests in flight, and for WebSockets to finish their closing
   * handshake, before cutting connections (ms). Default 10 000.
   */
  readonly closeTimeout?: number
  /**
   * Serve HTTPS: the TLS options of node's `https.createServer` (`key` and `cert`, or `pfx`, and
   * any other), e.g. `{ key: readFileSync('key.pem'), cert: readFileSync('cert.pem') }`.
   */
  readonly https?: https.ServerOptions
  /**
   * Serve HTTP/2 (with `https`, which browsers require for it), and HTTP/1.1 to the clients that
   * do not offer h2 through ALPN. Over HTTP/2 the request and header timeouts above do not apply
   * (node's http2 sessions have their own); `keepAliveTimeout` is the idle time of a session.
   */
  readonly http2?: boolean
}

const formatUrl = (address: AddressInfo, secure: boolean): string =>
  `${secure ? 'https' : 'http'}://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`

/**
 * The node:http adapter (the default of `serve`), WebSockets included (see `websocket`). A
 * request that sends `Expect: 100-continue` gets its `100 Continue` only when a Part reads the
 * body: one refused by its declared length (413) is never sent. Its `close()` stops accepting
 * connections, closes the idle ones, answers the requests in flight (pipelined ones included)
 * with `Connection: close`, closes WebSockets with 1001 (going away) and resolves once they are
 * written and closed; after `closeTimeout` it cuts the connections still open.
 *
 * @example
 * import { serve, pipe, get, ok } from 'sapwood'
 * import { nodeAdapter } from 'sapwood/node'
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
      const sockets = new WebSockets()
      const headersTimeout = options.headersTimeout ?? 10_000
      const settings: http.ServerOptions = {
        requestTimeout: options.requestTimeout ?? 30_000,
        headersTimeout,
        keepAliveTimeout: options.keepAliveTimeout ?? 5_000,
        maxHeaderSize: options.maxHeaderSize ?? 16_384,
        // node checks the two timeouts above every 30 s by default: a client that sends its
        // head a byte at a time would hold its connection up to 40 s, not 10. Each check walks
        // only the connections with a request under way.
        connectionsCheckingInterval: Math.max(100, Math.min(1_000, headersTimeout || 1_000)),
      }
      const secure = options.https !== undefined
      if (options.http2 === true && !secure) {
        throw new TypeError('sapwood: nodeAdapter: http2 needs https ({ https: { key, cert }, http2: true })')
      }
      const onRequest = listener(handler, state)
      // https.Server is an http.Server over TLS: the same listener, timeouts and close() serve both;
      // node's HTTP/2 compatibility API gives the same listener request and response objects
      const server = (
        options.http2 === true
          ? http2
              .createSecureServer({ ...options.https, allowHTTP1: true }, onRequest as never)
              .setTimeout(options.keepAliveTimeout ?? 5_000)
          : secure
            ? https.createServer({ ...options.https, ...settings }, onRequest)
            : http.createServer(settings, onRequest)
      ) as http.Server
      // node.ServerOptions has no such field: it is a property of the server
      server.maxRequestsPerSocket = options.maxRequestsPerSocket ?? 1_000
      // Without this listener node answers `Expect: 100-continue` at once; with it, the 100
      // goes out only when a Part reads the body, so a body refused by its declared length
      // (413) is never sent.
      server.on('checkContinue', listener(handler, state, true))
      // HTTP/2 sessions: close() asks each to finish its streams (GOAWAY), and cuts them at the timeout
      const sessions = new Set<http2.ServerHttp2Session>()
      if (options.http2 === true) {
        server.on('session', (session: http2.ServerHttp2Session) => {
          sessions.add(session)
          session.once('close', () => sessions.delete(session))
        })
      }
      const upgrades = upgradeListener(handler, state, sockets)
      server.on('upgrade', upgrades)
      // node gives CONNECT (a proxy's tunnel request) to this listener only, and without one
      // closes the connection unanswered: the app answers it as any request (405, 404), once,
      // and the connection closes, as after a refused upgrade
      server.on('connect', upgrades)
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
      // Connections that have not sent a byte yet: node's closeIdleConnections() leaves them
      // open (a client such as undici opens one ahead, spare), and they would hold close() until
      // its timeout. Tracked per connection, never per request.
      const connections = new Set<Socket>()
      server.on('connection', (socket: Socket) => {
        connections.add(socket)
        socket.once('close', () => connections.delete(socket))
      })
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
            const closeTimeout = options.closeTimeout ?? 10_000
            const timer = setTimeout(() => {
              for (const session of sessions) session.destroy()
              // an HTTP/2 server has no closeAllConnections(): its connections are cut one by one
              if (typeof server.closeAllConnections === 'function') server.closeAllConnections()
              else for (const socket of connections) socket.destroy()
            }, closeTimeout)
            timer.unref()
            // WebSockets are told that the server goes away (1001), and cut after the same wait
            const upgraded = closeSockets(sockets, closeTimeout)
            server.close((error) => {
              clearTimeout(timer)
              if (error && (error as NodeJS.ErrnoException).code !== 'ERR_SERVER_NOT_RUNNING') failed(error)
              else upgraded.then(done, failed)
            })
            // Idle keep-alive sockets would hold close() open; busy ones finish their request first.
            server.closeIdleConnections()
            for (const socket of connections) if (socket.bytesRead === 0) socket.destroy()
            for (const session of sessions) session.close()
          })
        resolve({ url: formatUrl(server.address() as AddressInfo, secure), native: server, close })
      })
    }),
})
