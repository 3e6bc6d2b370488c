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
  /** Fires when the client goes away before its answer is complete; made on first access. */
  readonly signal: AbortSignal
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
 * Where an adapter delivers the request's chunks, as they arrive (see `ChunkedBody.open`).
 *
 * @category adapters
 * @since 0.2.0
 */
export interface ChunkSink {
  /** A chunk of the body arrived. */
  chunk(chunk: Uint8Array): void
  /** The body is complete. */
  end(): void
  /** The body cannot be had: the client went away (`BodyAbortedError`), or it was read elsewhere. */
  fail(error: unknown): void
}

/**
 * How `ChunkedBody` slows an adapter's delivery down: `pause` when no reader wants more (the rest
 * of the body then stays unread on the connection), `resume` when one does.
 *
 * @category adapters
 * @since 0.2.0
 */
export interface Flow {
  pause(): void
  resume(): void
}

const NOTHING = new Uint8Array(0)

/** @internal the chunks as one array of `size` bytes (the one chunk itself when there is one) */
export const concat = (chunks: readonly Uint8Array[], size: number): Uint8Array => {
  if (chunks.length === 0) return NOTHING
  if (chunks.length === 1) return chunks[0]!
  const out = new Uint8Array(size)
  let at = 0
  for (const chunk of chunks) {
    out.set(chunk, at)
    at += chunk.byteLength
  }
  return out
}

/** A `read` waiting for the end of the body. */
interface Waiting {
  readonly limit: number
  readonly resolve: (bytes: Uint8Array) => void
  readonly reject: (error: unknown) => void
}

/** The stream reader that takes the chunks as they come, none kept. */
interface Streamer {
  push(chunk: Uint8Array): void
  end(): void
  fail(error: unknown): void
}

/** What a `ChunkedBody` knows once a Part reads it. */
class ReadState {
  kept: Uint8Array[] | undefined = undefined
  size = 0
  ended = false
  failure: { readonly error: unknown } | undefined = undefined
  flow: Flow | undefined = undefined
  opened = false
  whole: Uint8Array | undefined = undefined
  waiting: Waiting[] | undefined = undefined
  streamer: Streamer | undefined = undefined
  /** Set once a stream took chunks without keeping them. */
  streamed = false
}

/**
 * The reason a Conn's signal fires with: the client closed the connection before its answer
 * was complete.
 *
 * @example
 * import { ClientGoneError } from 'sapwood'
 * new ClientGoneError().name // 'ClientGoneError'
 *
 * @category errors
 * @since 0.3.0
 */
export class ClientGoneError extends Error {
  constructor() {
    super('The client closed the connection before its answer was complete')
    this.name = 'ClientGoneError'
  }
}

/**
 * The reason a Conn's signal fires with when the server closes while the answer streams: the
 * producer should stop, and the answer then ends cleanly (an EventSource reconnects elsewhere).
 *
 * @example
 * import { ServerClosingError } from 'sapwood'
 * new ServerClosingError().name // 'ServerClosingError'
 *
 * @category errors
 * @since 0.3.0
 */
export class ServerClosingError extends Error {
  constructor() {
    super('The server is closing')
    this.name = 'ServerClosingError'
  }
}

const GONE = Symbol('gone')
// made on first use: a Worker refuses to make one while its module loads
let aborted: AbortSignal | undefined
const ABORTED = (): AbortSignal => (aborted ??= AbortSignal.abort(new ClientGoneError()))

/** How many chunks a stream reader lets pile up before the adapter is paused. */
const STREAM_AHEAD = 4

/**
 * The one implementation of `BodySource`, shared by every adapter: an adapter says how to start
 * the delivery of the request's chunks (`open`) and what length was declared; reading, keeping,
 * limits, and what a second reader gets are decided here, the same for node, memory and fetch
 * sources. Nothing is allocated until a Part reads the body, and a whole-body `read` costs one
 * promise, however many chunks the body comes in (a small JSON body is one).
 *
 * @example
 * import { ChunkedBody, type ChunkSink, type Flow } from 'sapwood'
 * class OneChunk extends ChunkedBody {
 *   constructor(private readonly bytes: Uint8Array) { super() }
 *   override get length() { return this.bytes.byteLength }
 *   protected override open(sink: ChunkSink): Flow {
 *     sink.chunk(this.bytes)
 *     sink.end()
 *     return { pause: () => {}, resume: () => {} }
 *   }
 * }
 * await new OneChunk(new Uint8Array([1, 2])).read(10) // Uint8Array [1, 2]
 *
 * @category adapters
 * @since 0.2.0
 */
export abstract class ChunkedBody implements BodySource {
  // Three fields, all empty until used: a body source is made for every request, read or not.
  private reading: ReadState | undefined = undefined
  private cleanups: (() => unknown)[] | undefined = undefined
  /** The client-gone signal's controller (made on first access), or `GONE` once gone without one. */
  private gone: AbortController | typeof GONE | undefined = undefined

  /** The reading state, made on first use. */
  private get s(): ReadState {
    return (this.reading ??= new ReadState())
  }

  /** The declared length; `undefined` unless a subclass knows it. */
  get length(): number | undefined {
    return undefined
  }

  /** A value an earlier parser made of the body; `undefined` unless a subclass knows one. */
  get parsed(): unknown {
    return undefined
  }

  /**
   * Starts delivering the request's chunks to `sink` (at once, or as they arrive), and returns
   * how to pause and resume that delivery. Called once, on the first read.
   */
  protected abstract open(sink: ChunkSink): Flow

  whenDone(cleanup: () => unknown): void {
    ;(this.cleanups ??= []).push(cleanup)
  }

  /**
   * Called by the adapter once the answer is written: runs the cleanups (a failing one is
   * logged); a subclass also drops the part of the body no reader took.
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

  /**
   * Fires when the client goes away before its answer is complete. Made on first access (an
   * AbortController per request would cost a hello world 15-25 %): a subclass then `watch`es
   * its connection, and calls `abort` when the client leaves.
   */
  get signal(): AbortSignal {
    const gone = this.gone
    if (gone === GONE) return ABORTED()
    if (gone !== undefined) return gone.signal
    const controller = (this.gone = new AbortController())
    this.watch()
    return controller.signal
  }

  /**
   * Called once, when the signal is first asked for: a subclass starts watching its connection
   * here and calls `abort` when the client leaves (at once if it has left already).
   */
  protected watch(): void {}

  /**
   * The exchange is over before its answer was complete: the signal fires (now, or as made
   * later) with `reason`, a `ClientGoneError` unless given (an adapter whose server closes gives
   * its own). Called by adapters and `watch`; the first call wins.
   */
  abort(reason?: unknown): void {
    const gone = this.gone
    if (gone === GONE || gone?.signal.aborted === true) return
    if (gone !== undefined) gone.abort(reason ?? new ClientGoneError())
    else if (reason === undefined) this.gone = GONE
    else (this.gone = new AbortController()).abort(reason)
  }

  /** True once the body has been opened and not all of it delivered. */
  protected get unfinished(): boolean {
    const s = this.reading
    return s !== undefined && s.opened && !s.ended && s.failure === undefined
  }

  private start(): void {
    if (this.s.opened) {
      this.s.flow?.resume()
      return
    }
    this.s.opened = true
    // the sink: three closures over this body, made once, on the first read only
    this.s.flow = this.open({
      chunk: (c) => this.onChunk(c),
      end: () => this.onEnd(),
      fail: (e) => this.onFail(e),
    })
  }

  private onChunk(chunk: Uint8Array): void {
    if (this.s.ended || this.s.failure !== undefined) return
    const streamer = this.s.streamer
    if (streamer !== undefined) {
      streamer.push(chunk)
      return
    }
    ;(this.s.kept ??= []).push(chunk)
    this.s.size += chunk.byteLength
    const waiting = this.s.waiting
    if (waiting === undefined) return
    let left = 0
    for (const w of waiting) {
      // past its limit a reader is refused at once; the bytes stay kept for a larger one
      if (this.s.size > w.limit) w.reject(new PayloadTooLargeError(w.limit))
      else waiting[left++] = w
    }
    waiting.length = left
    // Nobody wants more: the rest stays unread on the connection (a small limit never reads a
    // large body), until a reader with a larger limit resumes it.
    if (left === 0) this.s.flow?.pause()
  }

  private onEnd(): void {
    if (this.s.ended || this.s.failure !== undefined) return
    this.s.ended = true
    if (this.s.streamer !== undefined) {
      this.s.streamer.end()
      return
    }
    const whole = (this.s.whole = concat(this.s.kept ?? [], this.s.size))
    const waiting = this.s.waiting
    this.s.waiting = undefined
    if (waiting !== undefined) for (const w of waiting) w.resolve(whole)
  }

  private onFail(error: unknown): void {
    if (this.s.ended || this.s.failure !== undefined) return
    this.s.failure = { error }
    this.s.streamer?.fail(error)
    const waiting = this.s.waiting
    this.s.waiting = undefined
    if (waiting !== undefined) for (const w of waiting) w.reject(error)
  }

  read(limit: number): Promise<Uint8Array> {
    const declared = this.length
    if (declared !== undefined && declared > limit) return Promise.reject(new PayloadTooLargeError(limit))
    if (this.s.streamed) return Promise.reject(new BodyConsumedError('streamed by an earlier reader'))
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the body's own failure, passed on as it is
    if (this.s.failure !== undefined) return Promise.reject(this.s.failure.error)
    if (this.s.size > limit) return Promise.reject(new PayloadTooLargeError(limit))
    if (this.s.ended) return Promise.resolve((this.s.whole ??= concat(this.s.kept ?? [], this.s.size)))
    return new Promise((resolve, reject) => {
      ;(this.s.waiting ??= []).push({ limit, resolve, reject })
      this.start()
    })
  }

  async *stream(limit = Infinity): AsyncIterable<Uint8Array> {
    const declared = this.length
    if (declared !== undefined && declared > limit) throw new PayloadTooLargeError(limit)
    if (this.s.streamed) throw new BodyConsumedError('streamed by an earlier reader')
    let seen = 0
    const kept = this.s.kept
    const replay = kept === undefined ? 0 : kept.length
    for (let i = 0; i < replay; i++) {
      const chunk = kept![i]!
      seen += chunk.byteLength
      if (seen > limit) throw new PayloadTooLargeError(limit)
      yield chunk
    }
    if (this.s.ended) return
    if (this.s.failure !== undefined) throw this.s.failure.error
    if (this.s.waiting !== undefined && this.s.waiting.length > 0) {
      throw new BodyConsumedError('being read whole by another reader')
    }
    // From here on the chunks go to this reader only, and are not kept.
    this.s.streamed = true
    const queue: Uint8Array[] = []
    let done = false
    let failed: { readonly error: unknown } | undefined
    let wake: (() => void) | undefined
    const poke = (): void => {
      const w = wake
      wake = undefined
      w?.()
    }
    this.s.streamer = {
      push: (chunk) => {
        queue.push(chunk)
        if (queue.length >= STREAM_AHEAD) this.s.flow?.pause()
        poke()
      },
      end: () => {
        done = true
        poke()
      },
      fail: (error) => {
        failed = { error }
        poke()
      },
    }
    this.start()
    for (;;) {
      const chunk = queue.shift()
      if (chunk !== undefined) {
        if (queue.length === 0 && !done) this.s.flow?.resume()
        seen += chunk.byteLength
        if (seen > limit) {
          this.s.flow?.pause()
          throw new PayloadTooLargeError(limit)
        }
        yield chunk
        continue
      }
      if (failed !== undefined) throw failed.error
      if (done) return
      await new Promise<void>((resolve) => (wake = resolve))
    }
  }
}

class BytesBody extends ChunkedBody {
  constructor(private readonly bytes: Uint8Array) {
    super()
  }
  override get length(): number {
    return this.bytes.byteLength
  }
  protected open(sink: ChunkSink): Flow {
    if (this.bytes.byteLength > 0) sink.chunk(this.bytes)
    sink.end()
    return NO_FLOW
  }
}

/** The flow of a body that is all in memory: nothing to pause. */
const NO_FLOW: Flow = Object.freeze({ pause: () => undefined, resume: () => undefined })

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

class IterableBody extends ChunkedBody {
  constructor(
    private readonly source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    private readonly declared: number | undefined,
  ) {
    super()
  }
  override get length(): number | undefined {
    return this.declared
  }
  protected open(sink: ChunkSink): Flow {
    let paused: Promise<void> | undefined
    let go: (() => void) | undefined
    const flow: Flow = {
      pause: () => {
        paused ??= new Promise((resolve) => (go = resolve))
      },
      resume: () => {
        const g = go
        paused = undefined
        go = undefined
        g?.()
      },
    }
    const from = this.source
    void (async () => {
      try {
        for await (const chunk of from) {
          sink.chunk(chunk)
          while (paused !== undefined) await paused
        }
        sink.end()
      } catch (error) {
        sink.fail(error)
      }
    })()
    return flow
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
