/**
 * `channel`: publish and subscribe by name, in this process or across processes over Redis.
 *
 * @since 0.3.0
 */
import type { Hub } from './hub.js'
import { memoryHub } from './memory.js'
import { type Subscription, subscription } from './subscription.js'

/**
 * Options of `channel`.
 *
 * @category channel
 * @since 0.3.0
 */
export interface ChannelOptions {
  /** What carries the messages (default: one `memoryHub` for the whole process); `redisHub(url)` to share them. */
  readonly hub?: Hub
  /**
   * How many messages a subscriber may leave unread before its subscription ends with
   * `ChannelOverflowError` (default 1000).
   */
  readonly buffer?: number
}

/**
 * A named channel of messages of type `T`: what one part of an app publishes, every subscriber
 * gets, in order.
 *
 * @example
 * import { type Channel, channel } from 'sapwood'
 * const room: Channel<{ from: string; text: string }> = channel('room')
 * await room.publish({ from: 'ada', text: 'hello' })
 *
 * @category channel
 * @since 0.3.0
 */
export interface Channel<T> {
  readonly name: string
  /**
   * Sends a message to every subscription, those of other processes too over a shared hub. It
   * travels as JSON, in memory as over Redis: readers get `JSON.parse(JSON.stringify(message))`
   * (a `Date` arrives as its ISO string, `undefined` fields are left out). Rejects with a
   * `TypeError` when the message has no JSON form (`undefined`, a function, a `bigint`, a cycle).
   * Resolves once the message is handed to the hub: in memory, every subscriber has it by then.
   */
  publish(message: T): Promise<void>
  /**
   * The messages published from now on, until `signal` fires (pass `c.signal` in a stream so
   * that a client who leaves unsubscribes). See `Subscription`.
   */
  subscribe(signal?: AbortSignal): Subscription<T>
}

const DEFAULT_BUFFER = 1000

let processHub: Hub | undefined

const jsonOf = (name: string, message: unknown): string => {
  let text: string | undefined
  try {
    text = JSON.stringify(message)
  } catch (e) {
    throw new TypeError(`sapwood: channel '${name}': the message has no JSON form`, { cause: e })
  }
  if (text === undefined) {
    throw new TypeError(`sapwood: channel '${name}': the message has no JSON form (${typeof message})`)
  }
  return text
}

/**
 * Makes a channel: `publish` sends a message to every `subscribe`r of the same name on the same
 * hub. By default the hub is this process's memory; give `hub: await redisHub(url)` to reach the
 * subscribers of every process that uses the same Redis (`serve`'s workers, machines behind a
 * load balancer). A channel is a light handle: make one where it is needed, as often as needed.
 * Each subscription buffers up to `buffer` unread messages; a subscriber that falls further
 * behind is cut off with `ChannelOverflowError` rather than let the server's memory grow.
 *
 * @example
 * import { channel, choose, get, handle, ok, path, pipe, post, stream, textBody } from 'sapwood'
 * const room = channel<string>('room')
 * const app = choose([
 *   pipe(
 *     post,
 *     path('/say'),
 *     textBody(),
 *     handle(async (c) => {
 *       await room.publish(c.body)
 *       return ok('sent')
 *     }),
 *   ),
 *   pipe(
 *     get,
 *     path('/listen'),
 *     stream(
 *       async function* (c) {
 *         for await (const line of room.subscribe(c.signal)) yield `${line}\n`
 *       },
 *       { type: 'text/plain; charset=utf-8' },
 *     ),
 *   ),
 * ])
 *
 * @category channel
 * @since 0.3.0
 */
export const channel = <T = unknown>(name: string, options: ChannelOptions = {}): Channel<T> => {
  if (typeof name !== 'string' || name === '') {
    throw new TypeError('sapwood: channel: the name must be a non-empty string')
  }
  const buffer = options.buffer ?? DEFAULT_BUFFER
  if (!(Number.isSafeInteger(buffer) && buffer > 0)) {
    throw new RangeError(`sapwood: channel: buffer must be a whole number of messages above 0, not ${String(buffer)}`)
  }
  const hub = options.hub ?? (processHub ??= memoryHub())
  return {
    name,
    publish: async (message) => hub.publish(name, jsonOf(name, message)),
    subscribe: (signal) => subscription<T>(name, hub, buffer, signal),
  }
}
