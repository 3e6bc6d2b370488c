/**
 * The request body as a source: read once, kept, and given to every reader under its own limit.
 *
 * @since 0.1.0
 */

/**
 * Where the request body comes from. The bytes are read once, lazily, and kept: every reader
 * gets the same bytes, each under its own limit, so a branch that rejects leaves nothing behind
 * for the next one. A streamed reader (`stream`) serves uploads of any size without keeping them.
 *
 * @category model
 * @since 0.1.0
 */
export interface BodySource {
  /** The length the client declared (`Content-Length`), or `undefined` (chunked, unknown). */
  readonly length: number | undefined
  /**
   * A value that a body parser in front of sapwood already made of the body (Express's
   * `req.body` after `express.json()`), or `undefined`.
   */
  readonly parsed: unknown
  /**
   * The whole body. Rejects with `PayloadTooLargeError` past `limit` bytes (at once when the
   * declared length is over it, without reading), with `BodyAbortedError` when the client went
   * away, and with `BodyConsumedError` when the body was streamed or read elsewhere.
   */
  read(limit: number): Promise<Uint8Array>
  /**
   * The body chunk by chunk as it arrives, none kept (bytes an earlier `read` kept are given
   * first); at most `limit` bytes (default: no limit), `PayloadTooLargeError` past it. Once a
   * stream has taken chunks that were not kept, `read` and `stream` reject with `BodyConsumedError`.
   */
  stream(limit?: number): AsyncIterable<Uint8Array>
  /**
   * Runs `cleanup` once the request is answered (temporary upload files are removed so). An
   * adapter calls the source's `release` after writing the answer; a Conn that no adapter
   * answers (a unit test calling a Part) runs nothing.
   */
  whenDone(cleanup: () => unknown): void
}

/**
 * The error a body read rejects with past its limit; `handle` answers it with 413.
 *
 * @example
 * import { PayloadTooLargeError } from 'sapwood'
 * new PayloadTooLargeError(1024).limit // 1024
 *
 * @category errors
 * @since 0.1.0
 */
export class PayloadTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`The request body is larger than ${limit} bytes`)
    this.name = 'PayloadTooLargeError'
  }
}

/**
 * The error a body read rejects with when the client closed the connection before its body was
 * all received; `handle` answers it with 400 (which nobody reads) and does not log it.
 *
 * @example
 * import { BodyAbortedError } from 'sapwood'
 * new BodyAbortedError().name // 'BodyAbortedError'
 *
 * @category errors
 * @since 0.2.0
 */
export class BodyAbortedError extends Error {
  constructor(options?: ErrorOptions) {
    super('The client closed the connection before the request body was received', options)
    this.name = 'BodyAbortedError'
  }
}

/**
 * The error a body read rejects with when the body is gone: streamed by an earlier reader, or
 * read by something in front of sapwood (a body parser mounted before it). A server bug: 500.
 *
 * @example
 * import { BodyConsumedError } from 'sapwood'
 * new BodyConsumedError('streamed by an earlier reader').message
 *
 * @category errors
 * @since 0.2.0
 */
export class BodyConsumedError extends Error {
  constructor(why: string) {
    super(`The request body cannot be read: it was ${why}`)
    this.name = 'BodyConsumedError'
  }
}

/**
 * What an adapter gives a `PulledBody`: the request's chunks, one at a time.
 *
 * @category adapters
 * @since 0.2.0
 */
export interface Chunks {
  /** The next chunk, or `null` at the end; rejects (`BodyAbortedError`) when the client went away. */
  next(): Promise<Uint8Array | null>
}

const NOTHING = new Uint8Array(0)

const concat = (chunks: readonly Uint8Array[], size: number): Uint8Array => {
  if (chunks.length === 1) return chunks[0]!
  const out = new Uint8Array(size)
  let at = 0
  for (const chunk of chunks) {
    out.set(chunk, at)
    at += chunk.byteLength
  }
  return out
}

/**
 * The one implementation of `BodySource`, shared by every adapter: an adapter says how to open
 * the request's chunks (`open`) and what length was declared; reading, keeping, limits, and
 * what a second reader gets are decided here, the same for node, memory and fetch sources.
 * Nothing is allocated until a Part reads the body.
 *
 * @example
 * import { PulledBody, type Chunks } from 'sapwood'
 * class OneChunk extends PulledBody {
 *   constructor(private readonly bytes: Uint8Array) { super() }
 *   override get length() { return this.bytes.byteLength }
 *   protected override open(): Chunks {
 *     let given = false
 *     return { next: async () => (given ? null : ((given = true), this.bytes)) }
 *   }
 * }
 * await new OneChunk(new Uint8Array([1, 2])).read(10) // Uint8Array [1, 2]
 *
 * @category adapters
 * @since 0.2.0
 */
export abstract class PulledBody implements BodySource {
  private kept: Uint8Array[] | undefined = undefined
  private size = 0
  private ended = false
  private failure: { readonly error: unknown } | undefined = undefined
  private pending: Promise<void> | undefined = undefined
  private chunks: Chunks | undefined = undefined
  private whole: Uint8Array | undefined = undefined
  /** Set once a stream took chunks without keeping them. */
  private streamed = false
  private cleanups: (() => unknown)[] | undefined = undefined

  whenDone(cleanup: () => unknown): void {
    ;(this.cleanups ??= []).push(cleanup)
  }

  /**
   * Called by the adapter once the answer is written: runs the cleanups (a failing one is
   * logged) and lets a subclass drop the part of the body no reader took.
   */
  release(): void {
    const cleanups = this.cleanups
    if (cleanups === undefined) return
    this.cleanups = undefined
    for (const cleanup of cleanups) {
      Promise.resolve()
        .then(cleanup)
        .catch((error: unknown) => console.error('sapwood: a cleanup after the response failed:', error))
    }
  }

  /** The declared length; `undefined` unless a subclass knows it. */
  get length(): number | undefined {
    return undefined
  }

  /** A value an earlier parser made of the body; `undefined` unless a subclass knows one. */
  get parsed(): unknown {
    return undefined
  }

  /** Opens the request's chunks; called once, on the first read. */
  protected abstract open(): Chunks

  /** Takes the next chunk from the request; concurrent readers share one pull. */
  private pull(keep: boolean): Promise<Uint8Array | null> {
    const chunks = (this.chunks ??= this.open())
    return chunks.next().then(
      (chunk) => {
        if (chunk === null) this.ended = true
        else if (keep) {
          ;(this.kept ??= []).push(chunk)
          this.size += chunk.byteLength
        }
        return chunk
      },
      (error: unknown) => {
        this.failure = { error }
        throw error
      },
    )
  }

  private pullKept(): Promise<void> {
    return (this.pending ??= this.pull(true).then(
      () => {
        this.pending = undefined
      },
      () => {
        this.pending = undefined
      },
    ))
  }

  async read(limit: number): Promise<Uint8Array> {
    const declared = this.length
    if (declared !== undefined && declared > limit) throw new PayloadTooLargeError(limit)
    if (this.streamed) throw new BodyConsumedError('streamed by an earlier reader')
    // Bytes past a reader's limit stay kept (the stream is paused, not drained): a later reader
    // with a larger limit gets the whole body, and a small limit never reads a large body.
    while (!this.ended) {
      if (this.failure !== undefined) throw this.failure.error
      if (this.size > limit) throw new PayloadTooLargeError(limit)
      await this.pullKept()
      if (this.streamed) throw new BodyConsumedError('streamed by an earlier reader')
    }
    if (this.size > limit) throw new PayloadTooLargeError(limit)
    return (this.whole ??= this.kept === undefined ? NOTHING : concat(this.kept, this.size))
  }

  async *stream(limit = Infinity): AsyncIterable<Uint8Array> {
    const declared = this.length
    if (declared !== undefined && declared > limit) throw new PayloadTooLargeError(limit)
    if (this.streamed) throw new BodyConsumedError('streamed by an earlier reader')
    let seen = 0
    let i = 0
    for (;;) {
      const kept = this.kept
      let chunk: Uint8Array | null
      if (kept !== undefined && i < kept.length) chunk = kept[i++]!
      else if (this.ended) return
      else if (this.failure !== undefined) throw this.failure.error
      else if (this.pending !== undefined) {
        await this.pending
        continue
      } else {
        this.streamed = true
        chunk = await this.pull(false)
        if (chunk === null) return
      }
      seen += chunk.byteLength
      if (seen > limit) throw new PayloadTooLargeError(limit)
      yield chunk
    }
  }
}

class BytesBody extends PulledBody {
  constructor(private readonly bytes: Uint8Array) {
    super()
  }
  override get length(): number {
    return this.bytes.byteLength
  }
  protected open(): Chunks {
    let given = this.bytes.byteLength === 0
    return {
      next: () => {
        if (given) return Promise.resolve(null)
        given = true
        return Promise.resolve(this.bytes)
      },
    }
  }
}

/**
 * A body source over bytes already in memory (tests, fetch runtimes that buffered the body).
 *
 * @example
 * import { bytesSource, makeConn } from 'sapwood'
 * makeConn({ method: 'POST', url: '/', headers: {}, source: bytesSource(new TextEncoder().encode('hi')) })
 *
 * @category constructors
 * @since 0.1.0
 */
export const bytesSource = (bytes: Uint8Array): BodySource => new BytesBody(bytes)

class IterableBody extends PulledBody {
  constructor(
    private readonly source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    private readonly declared: number | undefined,
  ) {
    super()
  }
  override get length(): number | undefined {
    return this.declared
  }
  protected open(): Chunks {
    const from = this.source
    const it = Symbol.asyncIterator in from ? from[Symbol.asyncIterator]() : from[Symbol.iterator]()
    return {
      next: async () => {
        const r = await it.next()
        return r.done === true ? null : r.value
      },
    }
  }
}

/**
 * A body source over chunks that arrive over time (an async iterable of bytes), with the length
 * the client declared if any: a chunked upload in a test, or a runtime's streamed body.
 *
 * @example
 * import { iterableSource } from 'sapwood'
 * const enc = new TextEncoder()
 * const source = iterableSource([enc.encode('he'), enc.encode('llo')])
 * new TextDecoder().decode(await source.read(1024)) // 'hello'
 *
 * @category constructors
 * @since 0.2.0
 */
export const iterableSource = (chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, length?: number): BodySource =>
  new IterableBody(chunks, length)
