/**
 * `Subscription`: a channel's messages for one reader, as an async iterator with a bounded buffer.
 *
 * @since 0.3.0
 */
import type { Hub, HubListener, HubSubscription } from './hub.js'

/**
 * The messages of a channel for one reader, in the order they were published, from the moment
 * `subscribe` was called. It ends (`done`) when the subscriber's signal fires, when the reader
 * stops (`break` out of `for await`, or `return()`), and when the hub closes; it ends with an
 * error when the reader falls `buffer` messages behind (`ChannelOverflowError`). Each message is
 * a fresh copy (parsed from its JSON), so readers never share an object. One reader per
 * subscription: subscribe once for each.
 *
 * @example
 * import { channel } from 'sapwood'
 * const room = channel<string>('room')
 * const controller = new AbortController()
 * const messages = room.subscribe(controller.signal)
 * await messages.ready
 * await room.publish('hello')
 * for await (const message of messages) {
 *   console.log(message) // 'hello'
 *   controller.abort() // the loop ends, and the subscription with it
 * }
 *
 * @category channel
 * @since 0.3.0
 */
export interface Subscription<T> extends AsyncIterable<T> {
  /**
   * Resolves once messages published from now on reach this subscription: at once in memory,
   * when Redis acknowledged the SUBSCRIBE for `redisHub`. Messages are buffered from the call of
   * `subscribe` anyway; await `ready` before telling a client "you are in" (the first-event
   * handshake), or a publisher in another process that waits for listeners.
   */
  readonly ready: Promise<void>
  /** The messages received and not read yet (at most the channel's `buffer`). */
  readonly pending: number
  next(): Promise<IteratorResult<T, undefined>>
  /** Ends the subscription now; the messages not read yet are dropped. */
  return(): Promise<IteratorResult<T, undefined>>
  [Symbol.asyncIterator](): Subscription<T>
}

/**
 * The error a subscription ends with when its reader fell behind: `limit` messages were waiting
 * to be read when one more came. The messages before it are read first; those after it are lost
 * to this reader, whose subscription is over (an SSE client reconnects and resumes with its
 * `Last-Event-ID`). Redis treats its own slow subscribers the same way.
 *
 * @example
 * import { ChannelOverflowError } from 'sapwood'
 * const e = new ChannelOverflowError('room', 1000)
 * e.channel // 'room'
 *
 * @category channel
 * @since 0.3.0
 */
export class ChannelOverflowError extends Error {
  constructor(
    readonly channel: string,
    readonly limit: number,
  ) {
    super(`sapwood: a subscriber of channel '${channel}' fell ${limit} messages behind; its subscription ended`)
    this.name = 'ChannelOverflowError'
  }
}

const DONE: IteratorResult<never, undefined> = { done: true, value: undefined }

interface Waiter<T> {
  resolve(result: IteratorResult<T, undefined>): void
  reject(error: unknown): void
}

/** How a subscription stands: reading; draining its buffer before it ends (with `error`, if any); over. */
type State =
  { readonly _tag: 'Open' } | { readonly _tag: 'Ending'; readonly error: unknown } | { readonly _tag: 'Done' }

const OPEN: State = { _tag: 'Open' }
const OVER: State = { _tag: 'Done' }

class Inbox<T> implements Subscription<T>, HubListener {
  ready: Promise<void>
  private state: State = OPEN
  // a queue as an array and the index of its head: shift() would copy the whole buffer per read
  private texts: string[] = []
  private head = 0
  private waiters: Waiter<T>[] = []
  private hubSub: HubSubscription | undefined

  constructor(
    private readonly name: string,
    private readonly limit: number,
    hub: Hub,
    private readonly signal: AbortSignal | undefined,
  ) {
    if (signal?.aborted === true) {
      this.state = OVER
      this.ready = Promise.resolve()
      return
    }
    this.hubSub = hub.subscribe(name, this)
    this.ready = this.hubSub.ready
    // `ready` may reject (the hub failed or closed before the SUBSCRIBE was acknowledged): the
    // reader learns it from `next()`, and a `ready` nobody awaits is no unhandled rejection.
    this.ready.then(undefined, (e: unknown) => this.end(e))
    signal?.addEventListener('abort', this.stop)
  }

  get pending(): number {
    return this.texts.length - this.head
  }

  message(text: string): void {
    if (this.state._tag !== 'Open') return
    const waiter = this.waiters.shift()
    if (waiter !== undefined) return this.settle(waiter, text)
    if (this.pending >= this.limit) return this.end(new ChannelOverflowError(this.name, this.limit))
    this.texts.push(text)
  }

  /** No more messages will come: the buffered ones are read first, then `done` (or `error`). */
  end(error?: unknown): void {
    if (this.state._tag !== 'Open') return
    this.state = { _tag: 'Ending', error }
    this.release()
    // waiters exist only while the buffer is empty: they see the end at once
    for (const w of this.waiters.splice(0)) this.finish(w)
  }

  next(): Promise<IteratorResult<T, undefined>> {
    return new Promise((resolve, reject) => {
      const waiter = { resolve, reject }
      if (this.head < this.texts.length) {
        const text = this.texts[this.head]!
        this.head++
        if (this.head === this.texts.length) {
          this.texts = []
          this.head = 0
        } else if (this.head >= 1024 && this.head * 2 >= this.texts.length) {
          this.texts = this.texts.slice(this.head)
          this.head = 0
        }
        this.settle(waiter, text)
      } else if (this.state._tag === 'Open') this.waiters.push(waiter)
      else this.finish(waiter)
    })
  }

  return(): Promise<IteratorResult<T, undefined>> {
    this.stop()
    return Promise.resolve(DONE)
  }

  [Symbol.asyncIterator](): Subscription<T> {
    return this
  }

  /** Ends now, buffered messages dropped: the reader left. */
  private readonly stop = (): void => {
    if (this.state._tag === 'Done') return
    this.state = OVER
    this.texts = []
    this.head = 0
    this.release()
    for (const w of this.waiters.splice(0)) w.resolve(DONE)
  }

  private release(): void {
    this.hubSub?.unsubscribe()
    this.hubSub = undefined
    this.signal?.removeEventListener('abort', this.stop)
  }

  /** The end as the reader sees it, once: the error (if any) to the first read, `done` after. */
  private finish(waiter: Waiter<T>): void {
    const state = this.state
    this.state = OVER
    if (state._tag === 'Ending' && state.error !== undefined) waiter.reject(state.error)
    else waiter.resolve(DONE)
  }

  private settle(waiter: Waiter<T>, text: string): void {
    let value: T
    try {
      value = JSON.parse(text) as T
    } catch (e) {
      // only another program publishing on the same Redis channel can send this
      this.stop()
      waiter.reject(new Error(`sapwood: channel '${this.name}' received a message that is not JSON`, { cause: e }))
      return
    }
    waiter.resolve({ done: false, value })
  }
}

/** Subscribes to `name` on `hub` for one reader, with at most `limit` messages waiting. */
export const subscription = <T>(name: string, hub: Hub, limit: number, signal?: AbortSignal): Subscription<T> =>
  new Inbox<T>(name, limit, hub, signal)
