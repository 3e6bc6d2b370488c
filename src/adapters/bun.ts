/**
 * The Bun adapter: `Bun.serve` answering through the fetch listener, WebSockets through Bun's
 * own. It imports no `node:` module; `serve` uses it on Bun.
 *
 * @since 0.3.0
 */
import { ServerClosingError } from '../context/body-source.js'
import type { Conn } from '../context/conn.js'
import { type SessionEvents, type WebSocketPeer, type WebSocketSession, runSession } from '../combinators/websocket.js'
import { type Adapter, type ListenOptions, type Listening, type TlsOptions, urlOf } from './adapter.js'
import { type Upgrader, fetchListener } from './fetch.js'
import type { Report, ServerState } from './outgoing.js'
import type { Handler } from './respond.js'
import { deliver } from './web-socket.js'

/** What a socket carries from its handshake to its events. */
interface SocketData {
  readonly c: Conn
  readonly session: WebSocketSession
  readonly report: Report
  events?: SessionEvents
  peer?: WebSocketPeer
}

/** The little of Bun's `ServerWebSocket` this adapter uses. */
interface BunSocket {
  readonly data: SocketData
  readonly readyState: number
  send(data: string | Uint8Array): number
  close(code?: number, reason?: string): void
  getBufferedAmount?(): number
}

/**
 * The little of Bun's server this adapter uses (Bun's own types are not needed to build it).
 *
 * @category adapters
 * @since 0.3.0
 */
export interface BunServer {
  readonly port: number
  upgrade(request: Request, options: { readonly headers: Headers; readonly data: SocketData }): boolean
  stop(closeActiveConnections?: boolean): Promise<void>
}

interface Bun {
  serve(options: Record<string, unknown>): BunServer
}

/**
 * Options of the Bun adapter.
 *
 * @category adapters
 * @since 0.3.0
 */
export interface BunAdapterOptions {
  /** Serve HTTPS with this certificate and key. */
  readonly https?: TlsOptions
  /** Time `close()` waits for requests in flight and WebSockets before cutting connections (ms). Default 10 000. */
  readonly closeTimeout?: number
  /** Idle time before a connection is closed (s). Default 10 (Bun's). */
  readonly idleTimeout?: number
}

/** The close code of a server that is going away (RFC 6455 7.4.1). */
const GOING_AWAY = 1001

/** Bun's socket as the handlers see it. */
class BunPeer implements WebSocketPeer {
  constructor(
    private readonly socket: BunSocket,
    readonly protocol: string,
  ) {}
  get readyState(): number {
    return this.socket.readyState
  }
  get bufferedAmount(): number {
    return this.socket.getBufferedAmount?.() ?? 0
  }
  send(data: string | Uint8Array): void {
    if (this.socket.readyState === 1) this.socket.send(data)
  }
  close(code?: number, reason?: string): void {
    if (this.socket.readyState <= 1) this.socket.close(code, reason)
  }
}

/**
 * The Bun adapter (the default of `serve` on Bun): `Bun.serve` with the app's answers, streams
 * with backpressure, WebSockets through Bun's own (its `maxPayload` is held per socket). Its
 * `close()` stops accepting connections, fires the signal of every stream still open, says 1001
 * to every WebSocket and resolves once the requests in flight are answered; after
 * `closeTimeout` it cuts the connections still open.
 *
 * @example
 * import { serve, bunAdapter, pipe, get, ok } from 'sapwood'
 * // on Bun, serve() picks it by itself; give it to set its options
 * await serve(pipe(get, ok('hi')), { adapter: bunAdapter({ closeTimeout: 5_000 }) })
 *
 * @category adapters
 * @since 0.3.0
 */
export const bunAdapter = (options: BunAdapterOptions = {}): Adapter<BunServer> => ({
  name: 'bun',
  listen: (handler: Handler, listen: ListenOptions): Promise<Listening<BunServer>> => {
    const bun = (globalThis as { Bun?: Bun }).Bun
    if (bun === undefined) return Promise.reject(new TypeError('sapwood: bunAdapter runs on Bun only'))
    const state: ServerState = { closing: false, streaming: new Set() }
    const sockets = new Set<BunSocket>()
    // Bun's upgrade is a method of the server, which exists once Bun.serve returned
    let server: BunServer | undefined = undefined
    const upgrader: Upgrader = (request, c, session, headers, report) => {
      if (session.protocol !== '') headers.set('sec-websocket-protocol', session.protocol)
      // Bun writes the 101 itself: the fetch handler then answers nothing
      return server?.upgrade(request, { headers, data: { c, session, report } }) === true ? undefined : null
    }
    const listener = fetchListener(handler, state, upgrader)
    const tls = options.https
    try {
      server = bun.serve({
        port: listen.port,
        hostname: listen.host,
        ...(tls === undefined ? {} : { tls: { key: tls.key, cert: tls.cert } }),
        ...(options.idleTimeout === undefined ? {} : { idleTimeout: options.idleTimeout }),
        // Bun's default body limit (128 MiB) stays: each reader holds its own, lower one
        fetch: listener,
        websocket: {
          // each session holds its own `maxPayload` (deliver); Bun's limit is the largest one allowed
          maxPayloadLength: 64 * 1024 * 1024,
          open(socket: BunSocket) {
            const { session, c, report } = socket.data
            sockets.add(socket)
            const peer = new BunPeer(socket, session.protocol)
            socket.data.peer = peer
            socket.data.events = runSession(session, peer, c, report)
            if (state.closing) socket.close(GOING_AWAY)
          },
          message(socket: BunSocket, message: string | Uint8Array) {
            const { events, peer, session } = socket.data
            if (events === undefined || peer === undefined) return
            const data =
              typeof message === 'string'
                ? message
                : new Uint8Array(message.buffer, message.byteOffset, message.byteLength)
            deliver(events, peer, session, data)
          },
          close(socket: BunSocket, code: number, reason: string) {
            sockets.delete(socket)
            socket.data.events?.close(code, reason)
          },
        },
      })
    } catch (error) {
      const where = `${listen.host}:${listen.port}`
      return Promise.reject(
        new Error(`sapwood: cannot listen on ${where}: ${(error as Error).message}`, { cause: error }),
      )
    }
    const running: BunServer = server
    const close = async (): Promise<void> => {
      state.closing = true
      for (const source of state.streaming) source.abort(new ServerClosingError())
      for (const socket of sockets) socket.close(GOING_AWAY)
      const timer = setTimeout(() => void running.stop(true).catch(() => undefined), options.closeTimeout ?? 10_000)
      try {
        await running.stop(false)
      } finally {
        clearTimeout(timer)
      }
    }
    return Promise.resolve({ url: urlOf(tls !== undefined, listen.host, running.port), native: running, close })
  },
})
