/**
 * WebSocket sessions on node, on the `ws` package: the handshake of a request that the app
 * answered with `websocket`, the handlers run on the socket, keep-alive, and closing them all.
 *
 * @since 0.3.0
 */
import { type IncomingMessage, validateHeaderName, validateHeaderValue } from 'node:http'
import type { Duplex } from 'node:stream'
import { type RawData, type WebSocket, WebSocketServer } from 'ws'
import type { Conn } from '../context/conn.js'
import { type WebSocketPeer, type WebSocketSession, runSession } from '../combinators/websocket.js'
import { toWire } from './wire.js'

/** The close code of a server that is going away (RFC 6455 7.4.1). */
const GOING_AWAY = 1001

/** Headers of the handshake that `ws` writes itself, and the framing a 101 has none of. */
const OWN = new Set([
  'upgrade',
  'connection',
  'sec-websocket-accept',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
  'content-length',
])

/** A `ws` socket as the handlers see it: nothing of `ws` leaks into the app. */
class NodePeer implements WebSocketPeer {
  constructor(private readonly ws: WebSocket) {}
  get readyState(): number {
    return this.ws.readyState
  }
  get protocol(): string {
    return this.ws.protocol
  }
  get bufferedAmount(): number {
    return this.ws.bufferedAmount
  }
  send(data: string | Uint8Array): void {
    this.ws.send(data)
  }
  close(code?: number, reason?: string): void {
    this.ws.close(code, reason)
  }
}

const bytesOf = (data: RawData): Buffer =>
  Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)

/**
 * The headers the app drafted for a handshake (a cookie, CORS) as lines of the 101 answer,
 * except those `ws` writes itself. Throws when one cannot be sent (a CR or LF in a value).
 */
export const handshakeLines = (c: Conn): string[] => {
  const lines: string[] = []
  const headers = toWire(c, true).headers
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!
    const value = headers[i + 1]!
    if (OWN.has(name)) continue
    validateHeaderName(name)
    validateHeaderValue(name, value)
    lines.push(`${name}: ${value}`)
  }
  return lines
}

/** What the handshake of one request adds to what `ws` writes. */
interface Handshake {
  readonly protocol: string
  readonly lines: readonly string[]
}

/**
 * The WebSocket sessions of one server: `accept` performs a handshake and runs the session's
 * handlers; `close` sends 1001 to every open socket; `terminate` cuts those still open.
 */
export class WebSockets {
  /** One `ws` server per message limit (its limit is a server option); most apps have one. */
  private readonly servers = new Map<number, WebSocketServer>()
  private readonly open = new Set<WebSocket>()
  private readonly handshakes = new WeakMap<IncomingMessage, Handshake>()
  private waiting: (() => void)[] = []
  private closing = false

  private serverFor(maxPayload: number): WebSocketServer {
    let wss = this.servers.get(maxPayload)
    if (wss !== undefined) return wss
    wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload,
      // the app agreed the subprotocol already (`websocket`'s `protocols`): never one it did not
      handleProtocols: (_offered, req) => this.handshakes.get(req)?.protocol || false,
    })
    wss.on('headers', (lines: string[], req: IncomingMessage) => {
      const handshake = this.handshakes.get(req)
      if (handshake !== undefined) lines.push(...handshake.lines)
    })
    this.servers.set(maxPayload, wss)
    return wss
  }

  /**
   * Answers the handshake with 101, with `lines` added (see `handshakeLines`), and runs the
   * session on the socket. `ws` answers a handshake it finds malformed with 400 itself.
   */
  accept(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    c: Conn,
    session: WebSocketSession,
    lines: readonly string[],
    report: (error: unknown, c: Conn) => void,
  ): void {
    this.handshakes.set(req, { protocol: session.protocol, lines })
    try {
      this.serverFor(session.maxPayload).handleUpgrade(req, socket, head, (ws) => this.run(ws, c, session, report))
    } finally {
      this.handshakes.delete(req)
    }
  }

  private run(ws: WebSocket, c: Conn, session: WebSocketSession, report: (error: unknown, c: Conn) => void): void {
    this.open.add(ws)
    const events = runSession(session, new NodePeer(ws), c, report, {
      pause: () => ws.pause(),
      resume: () => ws.resume(),
    })
    ws.on('message', (data, binary) => events.message(binary ? bytesOf(data) : bytesOf(data).toString()))
    // a peer that breaks the protocol: `ws` closes the socket with the right code, `close` follows
    ws.on('error', (error) => events.error(error))
    let timer: NodeJS.Timeout | undefined
    if (session.heartbeat > 0) {
      let alive = true
      ws.on('pong', () => (alive = true))
      timer = setInterval(() => {
        if (!alive) {
          ws.terminate()
          return
        }
        alive = false
        ws.ping()
      }, session.heartbeat)
      timer.unref()
    }
    ws.on('close', (code, reason) => {
      clearInterval(timer)
      this.open.delete(ws)
      events.close(code, reason.toString())
      if (this.open.size === 0) this.notify()
    })
    if (this.closing) ws.close(GOING_AWAY)
  }

  private notify(): void {
    const waiting = this.waiting
    this.waiting = []
    for (const done of waiting) done()
  }

  /** Sends 1001 to every open socket (each closes once its peer answers); resolves when none is open. */
  close(): Promise<void> {
    this.closing = true
    for (const ws of this.open) ws.close(GOING_AWAY)
    return this.closed()
  }

  /** Resolves once no socket is open. */
  closed(): Promise<void> {
    if (this.open.size === 0) return Promise.resolve()
    return new Promise((resolve) => this.waiting.push(resolve))
  }

  /** Cuts every socket still open, without a closing handshake. */
  terminate(): void {
    for (const ws of this.open) ws.terminate()
  }
}
