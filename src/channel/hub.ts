/**
 * `Hub`: what carries a channel's messages, in this process (`memoryHub`) or between processes
 * (`redisHub`).
 *
 * @since 0.3.0
 */

/**
 * What a hub tells one subscription: each message as the text that was published, in order,
 * and the end (an `error` when the hub failed it, none when the hub closed).
 *
 * @example
 * import type { HubListener } from 'sapwood'
 * const seen: string[] = []
 * const listener: HubListener = { message: (text) => seen.push(text), end: () => {} }
 *
 * @category channel
 * @since 0.3.0
 */
export interface HubListener {
  message(text: string): void
  end(error?: unknown): void
}

/**
 * One subscription of a listener to a hub's channel: `ready` resolves once messages published
 * from then on reach it (at once in memory; once Redis acknowledged the SUBSCRIBE); `unsubscribe`
 * stops it, and may be called more than once.
 *
 * @example
 * import { memoryHub } from 'sapwood'
 * const hub = memoryHub()
 * const sub = hub.subscribe('room', { message: (text) => console.log(text), end: () => {} })
 * await sub.ready
 * await hub.publish('room', '"hello"')
 * sub.unsubscribe()
 *
 * @category channel
 * @since 0.3.0
 */
export interface HubSubscription {
  readonly ready: Promise<void>
  unsubscribe(): void
}

/**
 * The transport under `channel`: it carries text by channel name and knows nothing of JSON.
 * Write one to put channels over another broker (NATS, Postgres `LISTEN`); `memoryHub` and
 * `redisHub` are the two sapwood has. `close` ends every subscription (their iterators finish)
 * and frees what the hub holds; `publish` and `subscribe` throw after it.
 *
 * @example
 * import { type Hub, channel, memoryHub } from 'sapwood'
 * const hub: Hub = memoryHub()
 * const news = channel<string>('news', { hub })
 * await news.publish('hello')
 * await hub.close()
 *
 * @category channel
 * @since 0.3.0
 */
export interface Hub {
  /** Sends `text` to every subscription to `name`, here or (for a shared hub) in other processes. */
  publish(name: string, text: string): Promise<void>
  subscribe(name: string, listener: HubListener): HubSubscription
  close(): Promise<void>
}

/**
 * The error of a hub used after its `close`.
 *
 * @example
 * import { HubClosedError } from 'sapwood'
 * new HubClosedError('redis').message // 'sapwood: the redis hub is closed'
 *
 * @category channel
 * @since 0.3.0
 */
export class HubClosedError extends Error {
  constructor(kind: string) {
    super(`sapwood: the ${kind} hub is closed`)
    this.name = 'HubClosedError'
  }
}
