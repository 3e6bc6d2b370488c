/**
 * What an adapter that reads streams and files as bytes sends for a final Conn (`inject`, the
 * fetch handler): the answer laid out, and the source of its stream or file, opened.
 *
 * @since 0.3.0
 */
import type { BodySource, ChunkedBody } from '../context/body-source.js'
import { type Conn, update } from '../context/conn.js'
import type { StreamSource } from '../context/response-body.js'
import { rejectionResponse } from '../context/rejection.js'
import { type WireResponse, toWire } from './wire.js'

/** Tells the app's `onError` of an error met while the answer is sent (a Handler's `report`). */
export type Report = (error: unknown, conn: Conn) => void

/** What a Handler reports with when it has no `report` of its own (it was not made by `respond`). */
export const defaultReport: Report = (error, c) =>
  console.error(`sapwood: the answer to ${c.method} ${c.path} failed:`, error)

/** What a server's listener knows of it: whether `close()` has begun, and the streams being sent. */
export interface ServerState {
  closing: boolean
  /** The bodies of the answers still streaming: `close()` fires their signals. */
  readonly streaming: Set<ChunkedBody>
}

/** The state of a server that sapwood does not close (a listener in the user's own server). */
export const unmanaged = (): ServerState => ({ closing: false, streaming: new Set() })

/**
 * An answer ready to send: the head, and either a body held whole (`from` undefined) or the
 * source of a stream or a file, opened, with the length its head declares.
 */
export type Outgoing =
  | {
      readonly wire: WireResponse & { readonly body: string | Uint8Array | null }
      readonly from: undefined
    }
  | { readonly wire: WireResponse; readonly from: StreamSource; readonly length: number | undefined }

/**
 * The 500 that replaces an answer which cannot be sent (its headers too): the error is reported
 * by the caller and never reaches the body.
 */
export const failedWire = (c: Conn, error: unknown, head: boolean): WireResponse & { readonly body: string | null } => {
  const failed = rejectionResponse({ _tag: 'HandlerFailed', error })
  const wire = toWire(update(c, { status: failed.status, respHeaders: failed.headers, respBody: failed.body }), head)
  return wire as WireResponse & { readonly body: string | null }
}

/**
 * Lays out a final Conn (see `toWire`) and opens its stream or file with the client-gone signal
 * of `source` (read only then: the signal is made on first access). The source is opened before
 * the head goes out, as the node adapter does: a producer that throws at once is reported and
 * answered with a 500.
 */
export const outgoing = (
  answer: Conn,
  head: boolean,
  source: Pick<BodySource, 'signal'>,
  report: Report | undefined,
): Outgoing => {
  const wire = toWire(answer, head)
  const sent = wire.body
  if (sent === null || typeof sent === 'string' || sent instanceof Uint8Array) {
    return { wire: wire as WireResponse & { readonly body: typeof sent }, from: undefined }
  }
  try {
    return { wire, from: sent.open(source.signal), length: sent.length }
  } catch (error) {
    report?.(error, answer)
    return { wire: failedWire(answer, error, false), from: undefined }
  }
}
