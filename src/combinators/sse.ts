/**
 * `sse`: Server-Sent Events, a `text/event-stream` answer fed by a producer.
 *
 * @since 0.3.0
 */
import { type Conn, update } from '../context/conn.js'
import { type Part, isThenable, makeBuilder } from '../context/context.js'
import { streamBody } from '../context/response-body.js'
import { withHeaders } from '../internal/headers.js'

/**
 * The fields of one event besides its data.
 *
 * @category streaming
 * @since 0.3.0
 */
export interface SseFields {
  /** The event's type: the client's listener of that name receives it (`message` when absent). */
  readonly event?: string
  /** The event's id: the client sends the last one back as `Last-Event-ID` when it reconnects. */
  readonly id?: string
  /** How long the client waits before it reconnects, in milliseconds. */
  readonly retry?: number
}

/**
 * What an `sse` producer writes with. `send` and `comment` are plain functions (they may be
 * passed around, kept by a room, destructured).
 *
 * @category streaming
 * @since 0.3.0
 */
export interface SseStream {
  /**
   * Queues one event (text as it is, anything else as JSON). Throws a `TypeError` for an `event`
   * or `id` with a line break (or an `id` with NUL), a `RangeError` for a `retry` that is not a
   * whole number of milliseconds. The promise resolves once fewer than `highWaterMark` bytes
   * wait to be written: at once while the client keeps up; await it and a slow client makes the
   * producer wait. After the stream ended the event is dropped and the promise resolves.
   */
  readonly send: (data: unknown, fields?: SseFields) => Promise<void>
  /** Queues a comment line (clients ignore it; proxies see traffic). Resolves as `send` does. */
  readonly comment: (text?: string) => Promise<void>
  /** Ends the stream once what was sent is written (the way to end it from outside the producer). */
  readonly close: () => void
  /** The id of the last event the client saw, from its `Last-Event-ID` header, when it reconnects. */
  readonly lastEventId: string | undefined
  /**
   * Fires when the stream ends before the producer did: the client left (within a second on a
   * socket: node sees the connection close), the server closes (the reason is then a
   * `ServerClosingError`), or `close()` was called.
   */
  readonly signal: AbortSignal
}

/**
 * An `sse` producer. The stream ends when the promise it returns settles (after the events it
 * sent are written); one that returns nothing keeps the stream open until `close()` or the client
 * leaves (the producer keeps `send` somewhere, a room or a channel).
 *
 * @category streaming
 * @since 0.3.0
 */
export type SseProducer<C extends Conn = Conn> = (stream: SseStream, c: C) => void | PromiseLike<void>

/**
 * Options of `sse`.
 *
 * @category streaming
 * @since 0.3.0
 */
export interface SseOptions {
  /**
   * A comment is sent every `heartbeat` ms while nothing waits to be written, so that proxies
   * keep the connection open. Default 15 000; 0 sends none.
   */
  readonly heartbeat?: number
  /** A `retry:` (ms) sent first, before any event: how long the client waits before it reconnects. */
  readonly retry?: number
  /** Bytes queued before `send` makes the producer wait. Default 16 384. */
  readonly highWaterMark?: number
}

const LINE_BREAK = /\r\n|\r|\n/
const CR_OR_LF = /[\r\n]/

const field = (name: string, value: string): string => (value === '' ? `${name}:\n` : `${name}: ${value}\n`)

const oneLine = (name: 'event' | 'id', value: unknown): string => {
  if (typeof value !== 'string') throw new TypeError(`sapwood: sse: an event's ${name} must be a string`)
  if (CR_OR_LF.test(value)) {
    throw new TypeError(`sapwood: sse: an event's ${name} cannot hold a line break: ${JSON.stringify(value)}`)
  }
  // a client ignores an id that holds NUL: the reconnection would silently resume from an older one
  if (name === 'id' && value.includes('\0')) throw new TypeError(`sapwood: sse: an event's id cannot hold NUL`)
  return field(name, value)
}

const checkMs = (what: string, ms: unknown, max = Number.MAX_SAFE_INTEGER): void => {
  if (!(typeof ms === 'number' && Number.isSafeInteger(ms) && ms >= 0 && ms <= max)) {
    throw new RangeError(
      `sapwood: sse: ${what} must be a whole number of milliseconds from 0 to ${max}, not ${String(ms)}`,
    )
  }
}

/**
 * One Server-Sent Event as the text that goes on the wire: the fields, one `data:` line per
 * line of the data (split at `\n`, `\r\n` and `\r`), and the blank line that ends it. Text is
 * sent as it is, anything else as JSON; `undefined` sends the fields alone (an `id` or a
 * `retry` without an event). Throws as `send` does.
 *
 * @example
 * import { formatEvent } from 'sapwood'
 * formatEvent({ n: 1 }, { event: 'tick', id: '7' }) // 'event: tick\nid: 7\ndata: {"n":1}\n\n'
 * formatEvent('two\nlines') // 'data: two\ndata: lines\n\n'
 *
 * @category streaming
 * @since 0.3.0
 */
export const formatEvent = (data: unknown, fields: SseFields = {}): string => {
  let out = ''
  if (fields.event !== undefined) out += oneLine('event', fields.event)
  if (fields.id !== undefined) out += oneLine('id', fields.id)
  if (fields.retry !== undefined) {
    checkMs('retry', fields.retry)
    out += field('retry', String(fields.retry))
  }
  if (data !== undefined) {
    const text = typeof data === 'string' ? data : (JSON.stringify(data) as string | undefined)
    if (text === undefined) throw new TypeError(`sapwood: sse: a ${typeof data} cannot be sent as JSON`)
    for (const line of text.split(LINE_BREAK)) out += field('data', line)
  }
  return out + '\n'
}

const formatComment = (text: string): string => {
  let out = ''
  for (const line of String(text).split(LINE_BREAK)) out += field('', line)
  return out + '\n'
}

const encoder = new TextEncoder()
const RESOLVED: Promise<void> = Promise.resolve()
/** The empty comment: sent first when nothing else is ready (so the head goes out), and as the heartbeat. */
const EMPTY_COMMENT = encoder.encode(':\n\n')
// setInterval refuses longer delays (node sets them to 1 ms, with a warning)
const MAX_TIMER = 2_147_483_647

interface Settings {
  readonly heartbeat: number
  readonly highWaterMark: number
  readonly first: Uint8Array | undefined
}

/**
 * The heartbeats of every open stream with the same interval: one timer for all of them (a timer
 * per stream would cost each idle connection its own), unref'd, cleared once no stream is left.
 */
const beats = new Map<number, { readonly timer: ReturnType<typeof setInterval>; readonly streams: Set<Events> }>()

const beatFor = (ms: number, events: Events): void => {
  let beat = beats.get(ms)
  if (beat === undefined) {
    const streams = new Set<Events>()
    const timer = setInterval(() => {
      for (const e of streams) e.heartbeat()
    }, ms)
    if (typeof timer === 'object') timer.unref()
    beats.set(ms, (beat = { timer, streams }))
  }
  beat.streams.add(events)
}

const unbeat = (ms: number, events: Events): void => {
  const beat = beats.get(ms)
  if (beat === undefined || !beat.streams.delete(events) || beat.streams.size > 0) return
  clearInterval(beat.timer)
  beats.delete(ms)
}

const DONE: IteratorResult<Uint8Array, undefined> = Object.freeze({ done: true, value: undefined })

/**
 * The events of one stream, as the adapter pulls them: a queue the producer fills (`send`), read
 * one chunk per `next()`. The adapter pulls the next chunk only once the previous one is written
 * and the socket drained, so the queue holds at most `highWaterMark` bytes plus one event per
 * `send` not awaited. A class rather than an async generator over closures: an idle stream keeps
 * one object and a pending promise, not a suspended generator and its frames.
 */
class Events implements AsyncIterableIterator<Uint8Array, undefined> {
  private readonly queue: Uint8Array[] = []
  private queued = 0
  /** No more events are taken: the producer settled, `close()` was called, or the stream is over. */
  private ended = false
  private settled = false
  private started = false
  private over = false
  private failure: { readonly error: unknown } | undefined = undefined
  private wake: (() => void) | undefined = undefined
  private room: { readonly promise: Promise<void>; readonly resolve: () => void } | undefined = undefined
  /** The producer's signal: the adapter's, or this stream's end. */
  readonly own = new AbortController()

  constructor(
    private readonly settings: Settings,
    private readonly signal: AbortSignal,
  ) {
    if (signal.aborted) this.own.abort(signal.reason)
    else signal.addEventListener('abort', this)
    if (settings.heartbeat > 0) beatFor(settings.heartbeat, this)
  }

  /** The adapter's signal fired: the client left, or the server closes. */
  handleEvent(): void {
    this.own.abort(this.signal.reason)
    this.notify()
  }

  heartbeat(): void {
    if (this.queue.length === 0) void this.push(EMPTY_COMMENT)
  }

  push(bytes: Uint8Array): Promise<void> {
    if (this.ended || this.own.signal.aborted) return RESOLVED
    this.queue.push(bytes)
    this.queued += bytes.byteLength
    this.notify()
    if (this.queued <= this.settings.highWaterMark) return RESOLVED
    if (this.room === undefined) {
      let resolve!: () => void
      const promise = new Promise<void>((r) => (resolve = r))
      this.room = { promise, resolve }
    }
    return this.room.promise
  }

  /** No more events: what was queued is still written. */
  end(failure?: { readonly error: unknown }): void {
    if (failure !== undefined) this.failure = failure
    this.ended = true
    this.notify()
  }

  /** The producer's promise settled. */
  producerSettled(failure?: { readonly error: unknown }): void {
    this.settled = true
    this.end(failure)
  }

  private notify(): void {
    const w = this.wake
    this.wake = undefined
    w?.()
  }

  private freeRoom(): void {
    const r = this.room
    this.room = undefined
    r?.resolve()
  }

  next(): Promise<IteratorResult<Uint8Array, undefined>> {
    if (this.over) return Promise.resolve(DONE)
    if (this.own.signal.aborted) return Promise.resolve(this.finish())
    if (!this.started) {
      this.started = true
      // something at once, so that the head goes out and the client's `onopen` fires
      const first = this.settings.first
      if (first !== undefined) return Promise.resolve({ done: false, value: first })
      if (this.queue.length === 0 && !this.ended) return Promise.resolve({ done: false, value: EMPTY_COMMENT })
    }
    const chunk = this.queue.shift()
    if (chunk !== undefined) {
      this.queued -= chunk.byteLength
      if (this.queued <= this.settings.highWaterMark) this.freeRoom()
      return Promise.resolve({ done: false, value: chunk })
    }
    if (this.ended) {
      const failure = this.failure
      this.finish()
      if (failure === undefined) return Promise.resolve(DONE)
      // the producer's own rejection, whatever it is, goes on to the adapter and onError
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      return Promise.reject(failure.error)
    }
    return new Promise((resolve) => (this.wake = () => resolve(this.next())))
  }

  return(): Promise<IteratorResult<Uint8Array, undefined>> {
    return Promise.resolve(this.finish())
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  /** The stream is over: nothing more is queued or sent, and the producer's signal fires. */
  private finish(): IteratorResult<Uint8Array, undefined> {
    if (this.over) return DONE
    this.over = this.ended = true
    if (this.settings.heartbeat > 0) unbeat(this.settings.heartbeat, this)
    this.signal.removeEventListener('abort', this)
    this.queue.length = 0
    this.freeRoom()
    if (!this.settled && !this.own.signal.aborted) this.own.abort(this.signal.aborted ? this.signal.reason : undefined)
    return DONE
  }
}

/** Starts the producer and returns the events as the adapter pulls them. */
const start = <C extends Conn>(
  producer: SseProducer<C>,
  c: C,
  settings: Settings,
  signal: AbortSignal,
): AsyncIterable<Uint8Array> => {
  const events = new Events(settings, signal)
  const raw = c.headers['last-event-id']
  const stream: SseStream = {
    send: (data, fields) => events.push(encoder.encode(formatEvent(data, fields))),
    comment: (text = '') => events.push(encoder.encode(formatComment(text))),
    close: () => events.end(),
    lastEventId: raw === '' ? undefined : raw,
    signal: events.own.signal,
  }
  let result: void | PromiseLike<void>
  try {
    result = producer(stream, c)
  } catch (error) {
    // thrown before the head is written: the adapter answers 500 and reports it
    void events.return()
    throw error
  }
  if (isThenable(result)) {
    result.then(
      () => events.producerSettled(),
      // after the events it sent, the stream is cut and the error reaches onError
      (error: unknown) => events.producerSettled({ error }),
    )
  }
  return events
}

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  // nginx and the proxies that follow it would otherwise hold events back to fill a buffer
  'x-accel-buffering': 'no',
}

/**
 * Drafts a Server-Sent Events answer: status 200 (an `EventSource` accepts no other),
 * `text/event-stream`, `cache-control: no-cache` and `x-accel-buffering: no` (no proxy buffering).
 * The producer runs when the adapter starts writing (never for HEAD) and gets `send`, `comment`,
 * `close`, the client's `lastEventId` and a `signal`, with the Conn. The stream ends when the
 * producer's promise settles, once its events are written; a producer that returns nothing keeps
 * it open until `close()` or the client leaves (register `send` in a room and return). A producer
 * that throws ends the stream (the client reconnects) and its error reaches `onError`.
 *
 * The head goes out at once, with the first event or an empty comment, so the client's `onopen`
 * fires without waiting for news. A comment is sent every `heartbeat` ms (15 s) while nothing
 * waits to be written. `send` resolves while the client keeps up; await it and a client that
 * reads slowly makes the producer wait, with at most `highWaterMark` bytes queued.
 *
 * Pastelli's handshake: send an event first thing, so the client learns at once where it
 * resumes from (`lastEventId`) and that the connection is live.
 *
 * @example
 * import { pipe, get, path, sse } from 'sapwood'
 * const clock = pipe(
 *   get,
 *   path('/clock'),
 *   sse(
 *     async ({ send, lastEventId, signal }) => {
 *       await send({ resumedFrom: lastEventId ?? null }, { event: 'handshake' })
 *       for (let n = Number(lastEventId ?? 0) + 1; n <= 10 && !signal.aborted; n++) {
 *         await send({ now: Date.now() }, { event: 'tick', id: String(n) })
 *         await new Promise((resolve) => setTimeout(resolve, 1000))
 *       }
 *     },
 *     { retry: 3000 },
 *   ),
 * )
 *
 * @category streaming
 * @since 0.3.0
 */
export const sse = <C extends Conn = Conn>(producer: SseProducer<C>, options: SseOptions = {}): Part<C, C> => {
  if (typeof producer !== 'function') {
    throw new TypeError('sapwood: sse: give a producer, `(stream, c) => ...`, that sends the events')
  }
  const { heartbeat = 15_000, retry, highWaterMark = 16_384 } = options
  checkMs('heartbeat', heartbeat, MAX_TIMER)
  if (!(Number.isSafeInteger(highWaterMark) && highWaterMark >= 0)) {
    throw new RangeError(`sapwood: sse: highWaterMark must be a whole number of bytes, not ${String(highWaterMark)}`)
  }
  if (retry !== undefined) checkMs('retry', retry)
  const settings: Settings = {
    heartbeat,
    highWaterMark,
    first: retry === undefined ? undefined : encoder.encode(formatEvent(undefined, { retry })),
  }
  return makeBuilder(
    (c) =>
      update(c, {
        status: 200,
        respHeaders: withHeaders(c.respHeaders, SSE_HEADERS),
        respBody: streamBody((signal) => start(producer, c as C, settings, signal)),
      }),
    'sse',
    'any',
    false,
  ) as unknown as Part<C, C>
}
