/**
 * The Deno adapter: `Deno.serve` answering through the fetch listener, WebSockets through
 * `Deno.upgradeWebSocket`. It imports no `node:` module; `serve` uses it on Deno.
 *
 * @since 0.3.0
 */
import { ServerClosingError } from '../context/body-source.js'
import { type Adapter, type ListenOptions, type Listening, type TlsOptions, urlOf } from './adapter.js'
import { type Upgrader, fetchListener } from './fetch.js'
import type { ServerState } from './outgoing.js'
import type { Handler } from './respond.js'
import { runStandard } from './web-socket.js'

/**
 * The little of Deno's server this adapter uses (Deno's own types are not needed to build it).
 *
 * @category adapters
 * @since 0.3.0
 */
export interface DenoServer {
  readonly addr: { readonly hostname: string; readonly port: number }
  readonly finished: Promise<void>
  shutdown(): Promise<void>
}

interface Deno {
  serve(options: Record<string, unknown>): DenoServer
  upgradeWebSocket(
    request: Request,
    options: { readonly protocol?: string; readonly idleTimeout?: number },
  ): { readonly socket: WebSocket; readonly response: Response }
}

/**
 * Options of the Deno adapter.
 *
 * @category adapters
 * @since 0.3.0
 */
export interface DenoAdapterOptions {
  /** Serve HTTPS with this certificate and key; Deno speaks HTTP/2 to the clients that offer it (ALPN). */
  readonly https?: TlsOptions
  /** Time `close()` waits for requests in flight and WebSockets before cutting connections (ms). Default 10 000. */
  readonly closeTimeout?: number
}

/** The close code of a server that is going away (RFC 6455 7.4.1). */
const GOING_AWAY = 1001

const pem = (value: string | Uint8Array): string =>
  typeof value === 'string' ? value : new TextDecoder().decode(value)

/**
 * The Deno adapter (the default of `serve` on Deno): `Deno.serve` with the app's answers,
 * streams with backpressure, WebSockets through `Deno.upgradeWebSocket` (the session's
 * `heartbeat` is Deno's `idleTimeout`). Its `close()` stops accepting connections, fires the
 * signal of every stream still open, says 1001 to every WebSocket and resolves once the requests
 * in flight are answered; after `closeTimeout` it cuts the connections still open.
 *
 * @example
 * import { serve, denoAdapter, pipe, get, ok } from 'sapwood'
 * // on Deno, serve() picks it by itself; give it to set its options
 * await serve(pipe(get, ok('hi')), { adapter: denoAdapter({ closeTimeout: 5_000 }) })
 *
 * @category adapters
 * @since 0.3.0
 */
export const denoAdapter = (options: DenoAdapterOptions = {}): Adapter<DenoServer> => ({
  name: 'deno',
  listen: (handler: Handler, listen: ListenOptions): Promise<Listening<DenoServer>> => {
    const deno = (globalThis as { Deno?: Deno }).Deno
    if (deno === undefined) throw new TypeError('sapwood: denoAdapter runs on Deno only')
    const state: ServerState = { closing: false, streaming: new Set() }
    const sockets = new Set<WebSocket>()
    const upgrader: Upgrader = (request, c, session, headers, report) => {
      const { socket, response } = deno.upgradeWebSocket(request, {
        ...(session.protocol === '' ? {} : { protocol: session.protocol }),
        idleTimeout: Math.ceil(session.heartbeat / 1000),
      })
      runStandard(socket, session, c, report, sockets)
      headers.forEach((value, name) => {
        if (name !== 'sec-websocket-protocol') response.headers.append(name, value)
      })
      return response
    }
    const listener = fetchListener(handler, state, upgrader)
    const stop = new AbortController()
    const tls = options.https
    return new Promise((resolve, reject) => {
      let server: DenoServer
      try {
        server = deno.serve({
          port: listen.port,
          hostname: listen.host,
          signal: stop.signal,
          ...(tls === undefined ? {} : { cert: pem(tls.cert), key: pem(tls.key) }),
          onListen: () => undefined,
          onError: (error: unknown) => {
            console.error('sapwood: the answer failed:', error)
            return new Response('Internal Server Error', { status: 500 })
          },
          handler: listener,
        })
      } catch (error) {
        reject(
          new Error(`sapwood: cannot listen on ${listen.host}:${listen.port}: ${(error as Error).message}`, {
            cause: error,
          }),
        )
        return
      }
      const close = async (): Promise<void> => {
        state.closing = true
        for (const source of state.streaming) source.abort(new ServerClosingError())
        for (const socket of sockets) socket.close(GOING_AWAY)
        const timer = setTimeout(() => stop.abort(), options.closeTimeout ?? 10_000)
        try {
          await server.shutdown()
          await server.finished
        } finally {
          clearTimeout(timer)
        }
      }
      resolve({ url: urlOf(tls !== undefined, listen.host, server.addr.port), native: server, close })
    })
  },
})
