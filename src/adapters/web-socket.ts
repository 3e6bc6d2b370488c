/**
 * WebSockets on the fetch runtimes: a session of `websocket` run on the standard `WebSocket`
 * object that Deno (`Deno.upgradeWebSocket`) and Cloudflare Workers (`WebSocketPair`) hand the
 * server. It imports no `node:` module.
 *
 * @since 0.3.0
 */
import type { Conn } from '../context/conn.js'
import { type SessionEvents, type WebSocketPeer, type WebSocketSession, runSession } from '../combinators/websocket.js'
import type { Report } from './outgoing.js'

/** The close code of a message over the session's `maxPayload` (RFC 6455 7.4.1). */
const TOO_BIG = 1009

/** The byte length of a message, counted only as far as it decides against `max`. */
const over = (data: string | Uint8Array, max: number): boolean => {
  if (typeof data !== 'string') return data.byteLength > max
  // a UTF-16 unit is 1 to 3 bytes in UTF-8: count the bytes only when the length cannot decide
  if (data.length > max) return true
  if (data.length * 3 <= max) return false
  return new TextEncoder().encode(data).byteLength > max
}

/**
 * @internal Delivers a message to a session, or closes the socket with 1009 (and tells the
 * session's `error` handler) when it is over the session's `maxPayload`: these runtimes have no
 * limit of their own for one socket.
 */
export const deliver = (
  events: SessionEvents,
  peer: WebSocketPeer,
  session: WebSocketSession,
  data: string | Uint8Array,
): void => {
  if (!over(data, session.maxPayload)) {
    events.message(data)
    return
  }
  events.error(new RangeError(`sapwood: a WebSocket message is over the limit of ${session.maxPayload} bytes`))
  peer.close(TOO_BIG)
}

/** The standard `WebSocket` as the handlers see it. */
class StandardPeer implements WebSocketPeer {
  constructor(private readonly socket: WebSocket) {}
  get readyState(): number {
    return this.socket.readyState
  }
  get protocol(): string {
    return this.socket.protocol ?? ''
  }
  get bufferedAmount(): number {
    return this.socket.bufferedAmount ?? 0
  }
  send(data: string | Uint8Array): void {
    if (this.socket.readyState === 1) this.socket.send(data)
  }
  close(code?: number, reason?: string): void {
    if (this.socket.readyState <= 1) this.socket.close(code, reason)
  }
}

/**
 * @internal Runs a session on a standard `WebSocket` of the server side, open or about to open:
 * `open` runs once the socket is open, then each message in order, and `close` last. `sockets`,
 * when given, holds the open ones (a server's `close()` says 1001 to each).
 */
export const runStandard = (
  socket: WebSocket,
  session: WebSocketSession,
  c: Conn,
  report: Report,
  sockets?: Set<WebSocket>,
): void => {
  socket.binaryType = 'arraybuffer'
  const peer = new StandardPeer(socket)
  let events: SessionEvents | undefined
  const start = (): void => {
    if (events !== undefined) return
    sockets?.add(socket)
    events = runSession(session, peer, c, report)
  }
  socket.addEventListener('open', start)
  socket.addEventListener('message', (event: MessageEvent) => {
    start()
    const data: unknown = event.data
    deliver(events!, peer, session, typeof data === 'string' ? data : new Uint8Array(data as ArrayBuffer))
  })
  socket.addEventListener('close', (event: Event) => {
    const { code, reason } = event as Event & { readonly code: number; readonly reason: string }
    sockets?.delete(socket)
    // closed before it opened: no handler ran, and none is owed a close
    events?.close(code, reason)
  })
  // an accepted WebSocketPair socket is open at once
  if (socket.readyState === 1) start()
}

/** What Cloudflare Workers give for a WebSocket: a pair of connected sockets. */
type Pair = new () => { 0: WebSocket; 1: WebSocket & { accept(): void } }

/**
 * @internal The upgrade of a Worker: a `WebSocketPair`, the server side accepted and run, the
 * client side in the 101. Null where the runtime has no `WebSocketPair`.
 */
export const workerUpgrade = (
  _request: Request,
  c: Conn,
  session: WebSocketSession,
  headers: Headers,
  report: Report,
): Response | null => {
  const WebSocketPair = (globalThis as { WebSocketPair?: Pair }).WebSocketPair
  if (WebSocketPair === undefined) return null
  const pair = new WebSocketPair()
  const server = pair[1]
  server.accept()
  runStandard(server, session, c, report)
  if (session.protocol !== '') headers.set('sec-websocket-protocol', session.protocol)
  return new Response(null, { status: 101, headers, webSocket: pair[0] } as ResponseInit)
}
