/**
 * What goes on the wire for a final Conn: status, headers (with the defaults every adapter
 * adds) and body. One function, so that every adapter and `inject` answer alike.
 *
 * @since 0.1.0
 */
import type { Conn } from '../context/conn.js'
import type { FileBody, StreamBody } from '../context/response-body.js'

/**
 * A response ready to write: headers as a flat `[name, value, name, value, ...]` list.
 *
 * @category adapters
 * @since 0.1.0
 */
export interface WireResponse {
  readonly status: number
  readonly headers: readonly string[]
  /** What to write after the head: nothing for HEAD, 1xx, 204, 304 and empty bodies. */
  readonly body: string | Uint8Array | StreamBody | FileBody | null
}

const encoder = new TextEncoder()

// Node's Buffer.byteLength is native and allocation-free; fetch runtimes may lack Buffer.
const utf8Length: (s: string) => number =
  typeof Buffer === 'function' ? (s) => Buffer.byteLength(s) : (s) => encoder.encode(s).byteLength

/** Statuses that never carry a body. */
const bodiless = (status: number): boolean => status < 200 || status === 204 || status === 304

/**
 * @internal Lays out the response of a final Conn, for the adapters and `inject`. `head` drops
 * the body but keeps its `content-length`. A string body gets `text/plain; charset=utf-8`, bytes
 * and streams `application/octet-stream`, unless a `content-type` was set. The framing is the
 * adapter's: a `content-length` or `transfer-encoding` drafted by the app is dropped, and
 * `content-length` is always the length of the body (none for 1xx, 204 and 304, nor for a
 * stream of unknown length, which the adapter chunks). An upgrade body that reaches an
 * exchange which is not upgraded is sent as nothing.
 *
 * @category adapters
 * @since 0.1.0
 */
export const toWire = (c: Conn, head: boolean): WireResponse => {
  const headers: string[] = []
  const h = c.respHeaders
  let typed = false
  for (const name in h) {
    // A drafted length may be wrong, and a drafted transfer-encoding next to the length sent
    // would let a client and a proxy frame the answer differently: the body alone decides.
    if (name === 'content-length' || name === 'transfer-encoding') continue
    if (name === 'content-type') typed = true
    const value = h[name]!
    if (typeof value === 'string') headers.push(name, value)
    else for (const v of value) headers.push(name, v)
  }
  const status = c.status
  if (bodiless(status)) return { status, headers, body: null }
  const body = c.respBody
  let length: number | undefined = 0
  let sent: WireResponse['body'] = null
  if (typeof body === 'string') {
    length = body.length === 0 ? 0 : utf8Length(body)
    if (!typed && length > 0) headers.push('content-type', 'text/plain; charset=utf-8')
    sent = body
  } else if (body instanceof Uint8Array) {
    length = body.byteLength
    if (!typed && length > 0) headers.push('content-type', 'application/octet-stream')
    sent = body
  } else if (body !== null && body._tag !== 'Upgrade') {
    length = body.length
    if (!typed && length !== 0) headers.push('content-type', 'application/octet-stream')
    sent = body
  }
  if (length !== undefined) headers.push('content-length', String(length))
  return { status, headers, body: head || length === 0 ? null : sent }
}

/** The bytes of a body, for adapters that need them. @internal */
export const bodyBytes = (body: string | Uint8Array | null | undefined): Uint8Array =>
  body == null ? new Uint8Array(0) : typeof body === 'string' ? encoder.encode(body) : body
