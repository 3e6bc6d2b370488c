/**
 * `stream`: a chunked response from an async iterable, a web ReadableStream or a node Readable.
 *
 * @since 0.3.0
 */
import { type Conn, update } from '../context/conn.js'
import { type Part, makeBuilder } from '../context/context.js'
import { type StreamSource, isReadableStream, streamBody } from '../context/response-body.js'
import { withHeader } from '../internal/headers.js'

/**
 * Options of `stream`.
 *
 * @category streaming
 * @since 0.3.0
 */
export interface StreamOptions {
  /** The `content-type` (default: one drafted already, else `application/octet-stream`). */
  readonly type?: string
  /** The length in bytes when known ahead: sent as `content-length` instead of chunked. */
  readonly length?: number
}

const isSource = (u: unknown): u is StreamSource =>
  typeof u === 'object' && u !== null && (isReadableStream(u) || Symbol.asyncIterator in u)

/** A live source can be sent once: a second answer with it is a server error that says why. */
const once = (source: StreamSource): (() => StreamSource) => {
  let taken = false
  return () => {
    if (taken) {
      throw new Error(
        'sapwood: stream(source) was given a live stream, which one answer consumed already; pass a function, `stream((c) => source)`, to make one per answer',
      )
    }
    taken = true
    return source
  }
}

/**
 * Drafts a streamed body (Raxx's head, body and tail): the adapter sends the head, then each
 * chunk as the source yields it, chunked unless `length` is given, waiting while the client
 * reads slowly. Give a function, `(c) => source`, to make a source per answer: it is called when
 * the adapter starts writing (never for HEAD), and `c.signal` tells it when the client leaves.
 * A live source (made in a `handle` for this request) is accepted too. A source that throws
 * ends the answer early (the client sees it incomplete) and reaches `onError`.
 *
 * @example
 * import { pipe, get, path, stream } from 'sapwood'
 * const ticks = pipe(
 *   get,
 *   path('/ticks'),
 *   stream(
 *     async function* (c) {
 *       for (let i = 0; i < 3 && !c.signal.aborted; i++) yield `tick ${i}\n`
 *     },
 *     { type: 'text/plain; charset=utf-8' },
 *   ),
 * )
 *
 * @category streaming
 * @since 0.3.0
 */
export const stream = (
  source: StreamSource | ((c: Conn) => StreamSource),
  options: StreamOptions = {},
): Part<Conn, Conn> => {
  const { type, length } = options
  if (length !== undefined && !(Number.isSafeInteger(length) && length >= 0)) {
    throw new RangeError(`sapwood: stream: length must be a whole number of bytes, not ${String(length)}`)
  }
  if (!isSource(source) && typeof source !== 'function') {
    throw new TypeError(
      'sapwood: stream: give an async iterable, a ReadableStream, a node Readable, or a function making one',
    )
  }
  const live = isSource(source) ? once(source) : undefined
  const make = source as (c: Conn) => StreamSource
  return makeBuilder(
    (c) =>
      update(c, {
        respBody: streamBody(live ?? (() => make(c)), length),
        respHeaders: type !== undefined ? withHeader(c.respHeaders, 'content-type', type) : c.respHeaders,
      }),
    'stream',
    'any',
    false,
  )
}
