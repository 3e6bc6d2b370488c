/**
 * `websocket`: a leaf of the tree that turns the request into a WebSocket session, so that the
 * filters in front of it (path, headers, auth) decide whether the upgrade happens.
 *
 * @since 0.3.0
 */
import { type Conn, update } from '../context/conn.js'
import { type Context, type Part, isThenable, left, part } from '../context/context.js'
import { badRequest, problem } from '../context/rejection.js'
import type { UpgradeBody } from '../context/response-body.js'
import { withHeaders } from '../internal/headers.js'
import { pipe } from './compose.js'
import { get } from './filters.js'

/**
 * The socket the handlers of a `websocket` talk to: the part of a WebSocket that every runtime
 * has, so that the same handlers run on any adapter. `readyState` counts as the browser's
 * WebSocket does: 0 connecting, 1 open, 2 closing, 3 closed.
 *
 * @example
 * import type { WebSocketPeer } from 'sapwood'
 * const shout = (ws: WebSocketPeer, text: string) => {
 *   if (ws.readyState === 1) ws.send(text.toUpperCase())
 * }
 *
 * @category streaming
 * @since 0.3.0
 */
export interface WebSocketPeer {
  /** Sends a text frame (a string) or a binary frame (bytes); does nothing once the socket is closing. */
  send(data: string | Uint8Array): void
  /** Starts the closing handshake, with a close code (default 1000 or none) and a reason of at most 123 bytes. */
  close(code?: number, reason?: string): void
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number
  /** The subprotocol agreed in the handshake, `''` for none. */
  readonly protocol: string
  /** Bytes sent but not yet written to the network: a producer waits while it grows. */
  readonly bufferedAmount: number
}

/**
 * What a `websocket` does with its socket. Each handler gets the socket and the Conn of the
 * handshake (params, assigns, headers); a handler may be async. The handlers of one socket run
 * one at a time, in order: `open` first, each `message` after the one before has settled, and
 * `close` last; a handler that throws (or rejects) is reported to `onError` and the socket is
 * closed with 1011.
 *
 * @category streaming
 * @since 0.3.0
 */
export interface WebSocketHandlers<C extends Conn = Conn> {
  /** The socket is open. */
  readonly open?: (ws: WebSocketPeer, c: C) => unknown
  /** A message arrived: a text frame as a string, a binary frame as bytes. */
  readonly message?: (ws: WebSocketPeer, data: string | Uint8Array, c: C) => unknown
  /**
   * The socket is closed: the code the peer sent (1005 when none, 1006 when the connection was
   * cut without a closing handshake) and its reason. Called once, after every other handler.
   */
  readonly close?: (ws: WebSocketPeer, code: number, reason: string, c: C) => unknown
  /**
   * The peer broke the protocol (an invalid frame, a message over `maxPayload`): the socket is
   * being closed (1002, 1007, 1009) and `close` follows. Client errors are not reported to `onError`.
   */
  readonly error?: (ws: WebSocketPeer, error: Error, c: C) => unknown
}

/**
 * Options of `websocket`.
 *
 * @category streaming
 * @since 0.3.0
 */
export interface WebSocketOptions {
  /** The largest message in bytes (default 1 MiB); a bigger one closes the socket with 1009. */
  readonly maxPayload?: number
  /**
   * Keep-alive (ms, default 30 000; 0 turns it off): the server pings the peer at this interval
   * and cuts the connection of a peer that did not answer the previous ping.
   */
  readonly heartbeat?: number
  /**
   * The subprotocols this endpoint speaks. The first of the client's `Sec-WebSocket-Protocol`
   * that is listed here is agreed; a client that offers only others is answered 400. Without
   * it, no subprotocol is ever agreed.
   */
  readonly protocols?: readonly string[]
}

/** The default of `maxPayload`: 1 MiB. */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024

/** The default of `heartbeat`: 30 s. */
const DEFAULT_HEARTBEAT = 30_000

/**
 * @internal What an adapter needs to run a session: it is the `session` of the upgrade body
 * that `websocket` drafts (read it with `sessionOf`).
 */
export class WebSocketSession {
  constructor(
    readonly handlers: WebSocketHandlers<never>,
    /** The largest message in bytes. */
    readonly maxPayload: number,
    /** The ping interval in ms, 0 for none. */
    readonly heartbeat: number,
    /** The agreed subprotocol, `''` for none. */
    readonly protocol: string,
  ) {}
}

/** @internal The session of an upgrade body that `websocket` drafted, or undefined. */
export const sessionOf = (body: UpgradeBody): WebSocketSession | undefined =>
  body.protocol === 'websocket' && body.session instanceof WebSocketSession ? body.session : undefined

/** @internal The events an adapter delivers to a running session, as its socket reports them. */
export interface SessionEvents {
  message(data: string | Uint8Array): void
  error(error: Error): void
  close(code: number, reason: string): void
}

/** @internal How a session slows the peer down while its handlers are busy (stop reading the socket). */
export interface SessionFlow {
  pause(): void
  resume(): void
}

/** How many messages may wait for a busy handler before the adapter stops reading the socket. */
const QUEUE_HIGH = 16

/** The close code for a server error (RFC 6455 7.4.1). */
const INTERNAL_ERROR = 1011

/**
 * @internal Runs a session's handlers on a socket that has just opened: `open` now, then each
 * event as the adapter delivers it. Handlers run one at a time, in order; one that throws or
 * rejects is reported and the socket closed with 1011 (messages still waiting are dropped;
 * `error` and `close` still run). Reading stops while more than a few messages wait (bounded memory).
 */
export const runSession = (
  session: WebSocketSession,
  peer: WebSocketPeer,
  c: Conn,
  report: (error: unknown, c: Conn) => void,
  flow?: SessionFlow,
): SessionEvents => {
  const handlers = session.handlers as WebSocketHandlers
  const queue: (() => unknown)[] = []
  let busy = false
  let paused = false
  let failed = false

  const fail = (error: unknown): void => {
    report(error, c)
    if (failed) return
    failed = true
    if (peer.readyState <= 1) {
      try {
        peer.close(INTERNAL_ERROR)
      } catch (e) {
        report(e, c)
      }
    }
  }
  const settled = (): void => {
    busy = false
    drain()
  }
  const rejected = (error: unknown): void => {
    busy = false
    fail(error)
    drain()
  }
  const drain = (): void => {
    while (!busy && queue.length > 0) {
      const step = queue.shift()!
      // busy while the step runs, too: an event it causes at once waits its turn
      busy = true
      let out: unknown
      try {
        out = step()
      } catch (error) {
        busy = false
        fail(error)
        continue
      }
      if (isThenable(out)) out.then(settled, rejected)
      else busy = false
    }
    if (paused && !busy && queue.length === 0) {
      paused = false
      flow?.resume()
    }
  }
  const enqueue = (step: () => unknown): void => {
    queue.push(step)
    if (!busy) drain()
    else if (!paused && queue.length >= QUEUE_HIGH && flow !== undefined) {
      paused = true
      flow.pause()
    }
  }

  const { open, message, error, close } = handlers
  if (open !== undefined) enqueue(() => open(peer, c))
  return {
    message: (data) => {
      if (message !== undefined && !failed) enqueue(() => (failed ? undefined : message(peer, data, c)))
    },
    error: (e) => {
      if (error !== undefined) enqueue(() => error(peer, e, c))
    },
    close: (code, reason) => {
      // the last event: whatever waits runs first, then `close`, whatever happened before
      const last = close === undefined ? undefined : () => close(peer, code, reason, c)
      if (last !== undefined) {
        queue.push(last)
        if (!busy) drain()
      }
    },
  }
}

/** An HTTP token (RFC 9110 5.6.2): what a subprotocol name must be. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/** A `Sec-WebSocket-Key`: 16 random bytes in base64 (RFC 6455 4.1). */
const KEY = /^[+/0-9A-Za-z]{22}==$/

const hasToken = (value: string | undefined, token: string): boolean => {
  if (value === undefined) return false
  for (const part of value.split(',')) if (part.trim().toLowerCase() === token) return true
  return false
}

/** The subprotocols a client offers, in its order; undefined when the header is malformed. */
const offered = (value: string | undefined): string[] | undefined => {
  if (value === undefined) return []
  const out: string[] = []
  for (const raw of value.split(',')) {
    const name = raw.trim()
    if (!TOKEN.test(name) || out.includes(name)) return undefined
    out.push(name)
  }
  return out
}

const checkOptions = (handlers: unknown, options: WebSocketOptions): void => {
  if (typeof handlers !== 'object' || handlers === null) {
    throw new TypeError('sapwood: websocket(handlers): give an object of handlers ({ open, message, close, error })')
  }
  for (const name of ['open', 'message', 'close', 'error'] as const) {
    const h = (handlers as Record<string, unknown>)[name]
    if (h !== undefined && typeof h !== 'function') {
      throw new TypeError(`sapwood: websocket: the ${name} handler must be a function`)
    }
  }
  const { maxPayload, heartbeat, protocols } = options
  if (maxPayload !== undefined && !(Number.isSafeInteger(maxPayload) && maxPayload > 0)) {
    throw new RangeError(`sapwood: websocket: maxPayload must be a positive whole number of bytes, not ${maxPayload}`)
  }
  if (heartbeat !== undefined && !(Number.isSafeInteger(heartbeat) && heartbeat >= 0 && heartbeat <= 2 ** 31 - 1)) {
    throw new RangeError(
      `sapwood: websocket: heartbeat must be a whole number of ms (0 to turn it off), not ${heartbeat}`,
    )
  }
  if (protocols !== undefined) {
    for (const p of protocols) {
      if (typeof p !== 'string' || !TOKEN.test(p)) {
        throw new TypeError(`sapwood: websocket: ${JSON.stringify(p)} is not a valid subprotocol name`)
      }
    }
  }
}

/**
 * A WebSocket endpoint as a leaf of the tree: a GET that asks for a WebSocket upgrade is
 * answered `101 Switching Protocols` and its socket runs `handlers`, which see the Conn of the
 * handshake (params, assigns). The filters in front of it decide whether the upgrade happens: a
 * request they refuse gets their HTTP answer (404, 401, ...). A plain GET is refused with
 * `426 Upgrade Required` (a later branch on the same path may still answer it, a page for
 * browsers), another method with 405, a malformed handshake with 400.
 *
 * On node, `serve` and `nodeAdapter` upgrade by themselves; a server made with
 * `http.createServer` needs `server.on('upgrade', nodeUpgradeListener(handler))`. In `inject`
 * the upgrade is drafted, not performed: the answer is the 101 with no body.
 *
 * @example
 * import { pipe, choose, path, header, websocket } from 'sapwood'
 * const app = choose([
 *   pipe(
 *     path('/rooms/:room'),
 *     header('x-token', 'secret'),
 *     websocket({
 *       open: (ws, c) => ws.send(`welcome to ${c.params.room}`),
 *       message: (ws, data) => ws.send(data),
 *     }),
 *   ),
 * ])
 *
 * @category streaming
 * @since 0.3.0
 */
export const websocket = <C extends Conn = Conn>(
  handlers: WebSocketHandlers<C>,
  options: WebSocketOptions = {},
): Part<C, C> => {
  checkOptions(handlers, options)
  const maxPayload = options.maxPayload ?? DEFAULT_MAX_PAYLOAD
  const heartbeat = options.heartbeat ?? DEFAULT_HEARTBEAT
  const protocols = options.protocols
  const stored = handlers as WebSocketHandlers<never>
  const upgradeRequired: Context<never> = left(
    problem({
      status: 426,
      title: 'Upgrade Required',
      detail: 'This endpoint speaks WebSocket: send a WebSocket handshake',
      headers: { upgrade: 'websocket' },
    }),
  )
  const versionRequired: Context<never> = left(
    problem({
      status: 426,
      title: 'Upgrade Required',
      detail: 'Only version 13 of the WebSocket protocol is spoken here',
      headers: { upgrade: 'websocket', 'sec-websocket-version': '13' },
    }),
  )
  const badKey: Context<never> = left(badRequest('Missing or invalid Sec-WebSocket-Key header'))
  const withBody: Context<never> = left(badRequest('A WebSocket handshake carries no body'))
  const badProtocols: Context<never> = left(badRequest('Invalid Sec-WebSocket-Protocol header'))
  const noProtocol: Context<never> = left(
    badRequest(`None of the offered subprotocols is spoken here (spoken: ${(protocols ?? []).join(', ')})`),
  )

  const leaf = part(
    (c: Conn): Context => {
      const h = c.headers
      if (h['upgrade']?.trim().toLowerCase() !== 'websocket' || !hasToken(h['connection'], 'upgrade')) {
        return upgradeRequired
      }
      if (h['sec-websocket-version']?.trim() !== '13') return versionRequired
      if (!KEY.test(h['sec-websocket-key'] ?? '')) return badKey
      const length = c.source.length
      if ((length !== undefined && length > 0) || h['transfer-encoding'] !== undefined) return withBody
      const asked = offered(h['sec-websocket-protocol'])
      if (asked === undefined) return badProtocols
      let protocol = ''
      if (protocols !== undefined && asked.length > 0) {
        const agreed = asked.find((p) => protocols.includes(p))
        if (agreed === undefined) return noProtocol
        protocol = agreed
      }
      const body: UpgradeBody = {
        _tag: 'Upgrade',
        protocol: 'websocket',
        session: new WebSocketSession(stored, maxPayload, heartbeat, protocol),
      }
      return {
        _tag: 'Right',
        right: update(c, {
          status: 101,
          respHeaders: withHeaders(c.respHeaders, {
            upgrade: 'websocket',
            connection: 'Upgrade',
            'sec-websocket-protocol': protocol === '' ? undefined : protocol,
          }),
          respBody: body,
        }),
      }
    },
    { _tag: 'Opaque' },
    'websocket',
  )
  // the handshake is a GET: the method filter lets the trie, 405 and OPTIONS know it
  return pipe(get, leaf) as unknown as Part<C, C>
}
