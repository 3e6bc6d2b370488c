/**
 * The response body: a sum of text, bytes, nothing, a stream, a file and an upgrade. The
 * builders make them; the adapters own the write (length, framing, backpressure).
 *
 * @since 0.3.0
 */

/**
 * Where a streamed body's chunks come from: any async iterable of bytes or text (an async
 * generator, a node `Readable`) or a web `ReadableStream`. Text is sent as UTF-8.
 *
 * @category model
 * @since 0.3.0
 */
export type StreamSource = AsyncIterable<Uint8Array | string> | ReadableStream<Uint8Array | string>

/**
 * A body sent as it is produced. It is a recipe, not a live stream: the adapter calls `open`
 * once per answer, when it starts writing, with the signal that fires when the client goes away;
 * HEAD and statuses without a body never call it. A known `length` is sent as `content-length`,
 * else the body is chunked (HTTP/1.1) or ends with the connection.
 *
 * @category model
 * @since 0.3.0
 */
export interface StreamBody {
  readonly _tag: 'Stream'
  /** Starts the producer: called at most once per answer. */
  readonly open: (signal: AbortSignal) => StreamSource
  /** The length in bytes, when known ahead. */
  readonly length: number | undefined
}

/**
 * A file, or a range of it, for an adapter to send its fastest way (a file stream piped to the
 * socket on node). `open` reads the same bytes as a stream, for adapters that cannot do better
 * (`inject`, fetch runtimes).
 *
 * @category model
 * @since 0.3.0
 */
export interface FileBody {
  readonly _tag: 'File'
  /** The resolved path of the file. */
  readonly path: string
  /** The first byte sent. */
  readonly offset: number
  /** How many bytes are sent from `offset`. */
  readonly length: number
  /** The same bytes as a stream. */
  readonly open: (signal: AbortSignal) => StreamSource
}

/**
 * A connection handed over to another protocol (WebSocket): the adapter performs the upgrade
 * and gives the socket to `session`. On an exchange that cannot be upgraded it is sent as an
 * empty body.
 *
 * @category model
 * @since 0.3.0
 */
export interface UpgradeBody {
  readonly _tag: 'Upgrade'
  readonly protocol: 'websocket'
  /** What the adapter needs to run the session (see `websocket`). */
  readonly session: unknown
}

/**
 * A response body: text (sent as UTF-8), bytes, nothing (`null`), a stream, a file, or an
 * upgrade. The first three are plain values, so the common case costs no wrapper.
 *
 * @category model
 * @since 0.1.0
 */
export type Body = string | Uint8Array | null | StreamBody | FileBody | UpgradeBody

/**
 * True when the body is the same on every answer that sends it: text, bytes or nothing. A
 * response drafted once at compile time is kept only then.
 *
 * @internal
 */
export const isReplayable = (body: Body): body is string | Uint8Array | null =>
  body === null || typeof body === 'string' || body instanceof Uint8Array

/**
 * A streamed body from a recipe.
 *
 * @example
 * import { streamBody, update } from 'sapwood'
 * import { conn } from 'sapwood/testing'
 * const body = streamBody(async function* () {
 *   yield 'a'
 *   yield 'b'
 * })
 * update(conn('GET', '/'), { respBody: body }).respBody // { _tag: 'Stream', ... }
 *
 * @category constructors
 * @since 0.3.0
 */
export const streamBody = (open: (signal: AbortSignal) => StreamSource, length?: number): StreamBody => ({
  _tag: 'Stream',
  open,
  length,
})

const encoder = new TextEncoder()

/** The chunks of a stream source as bytes, ending early when `signal` fires. @internal */
export async function* chunksOf(source: StreamSource, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  if (isReadableStream(source)) {
    const reader = source.getReader()
    try {
      for (;;) {
        if (signal?.aborted) return
        const { done, value } = await reader.read()
        if (done) return
        yield typeof value === 'string' ? encoder.encode(value) : value
      }
    } finally {
      reader.cancel().catch(() => undefined)
      reader.releaseLock()
    }
  }
  for await (const chunk of source) {
    if (signal?.aborted) return
    yield typeof chunk === 'string' ? encoder.encode(chunk) : chunk
  }
}

/** True for a web ReadableStream (not every runtime's is async iterable). @internal */
export const isReadableStream = (u: unknown): u is ReadableStream<Uint8Array | string> =>
  typeof u === 'object' && u !== null && typeof (u as ReadableStream).getReader === 'function'
