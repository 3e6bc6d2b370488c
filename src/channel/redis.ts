/**
 * `redisHub`: channels shared by every process that uses the same Redis, over its pub/sub.
 *
 * @since 0.3.0
 */
import { type Hub, type HubListener, type HubSubscription, HubClosedError } from './hub.js'

/**
 * Options of `redisHub`.
 *
 * @category channel
 * @since 0.3.0
 */
export interface RedisHubOptions {
  /**
   * Told of what goes wrong on a connection once the hub is up (the connection lost, each
   * attempt to get it back); default: logged with `console.error`. The hub reconnects by
   * itself and subscribes again; messages published meanwhile are lost, as Redis pub/sub goes.
   */
  readonly onError?: (error: unknown) => unknown
}

/** The part of an ioredis client this hub uses. */
interface Client {
  connect(): Promise<void>
  publish(channel: string, message: string): Promise<number>
  subscribe(channel: string): Promise<unknown>
  unsubscribe(channel: string): Promise<unknown>
  quit(): Promise<unknown>
  disconnect(): void
  on(event: 'message', listener: (channel: string, message: string) => void): unknown
  on(event: 'error', listener: (error: Error) => void): unknown
}

type ClientClass = new (url: string, options: { readonly lazyConnect: true }) => Client

const QUIT_WAIT_MS = 1000

const load = async (): Promise<ClientClass> => {
  try {
    const { Redis } = await import('ioredis')
    return Redis
  } catch (e) {
    throw new Error('sapwood: redisHub needs the ioredis package, which could not be loaded: npm install ioredis', {
      cause: e,
    })
  }
}

/** The URL as it may be shown: without its password. */
const shown = (url: URL): string => {
  const copy = new URL(url.href)
  if (copy.password !== '') copy.password = '***'
  return copy.href
}

const parse = (url: string): URL => {
  let parsed: URL | undefined
  try {
    parsed = new URL(url)
  } catch {
    // below
  }
  if (parsed === undefined || (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')) {
    throw new TypeError('sapwood: redisHub: give a redis:// or rediss:// URL, such as redis://127.0.0.1:6379')
  }
  return parsed
}

const logError = (error: unknown): void => {
  console.error('sapwood: redis hub:', error)
}

interface Room {
  readonly listeners: Set<HubListener>
  readonly ready: Promise<void>
}

/**
 * A hub over Redis pub/sub (through the `ioredis` package, an optional peer dependency: install
 * it to use this): the channels of every process connected to the same Redis are one. All the
 * channels of a hub share two connections, one that publishes and one that subscribes; a
 * Redis channel is subscribed while this process has a subscriber to it. Resolves once both
 * connections are up, and rejects when Redis cannot be reached (`ECONNREFUSED`, a wrong
 * password) or ioredis is not installed. `close()` ends the hub's subscriptions and quits.
 * Delivery is Redis pub/sub's: at most once, to the subscribers of that moment.
 *
 * @example
 * import { channel } from 'sapwood'
 * import { redisHub } from 'sapwood/node'
 * const hub = await redisHub(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379')
 * const room = channel<{ text: string }>('room', { hub })
 * await room.publish({ text: 'to every process' })
 * await hub.close()
 *
 * @category channel
 * @since 0.3.0
 */
export const redisHub = async (url: string, options: RedisHubOptions = {}): Promise<Hub> => {
  const where = parse(url)
  const onError = options.onError ?? logError
  const Redis = await load()
  const publisher = new Redis(url, { lazyConnect: true })
  const subscriber = new Redis(url, { lazyConnect: true })
  let up = false
  let closed = false
  const report = (error: unknown): void => {
    // while connecting, the failure is the rejection of redisHub itself
    if (!up || closed) return
    try {
      const out: unknown = onError(error)
      if (out instanceof Promise) out.then(undefined, logError)
    } catch (e) {
      logError(e)
    }
  }
  publisher.on('error', report)
  subscriber.on('error', report)
  try {
    await Promise.all([publisher.connect(), subscriber.connect()])
  } catch (e) {
    // stops the retries ioredis would make
    publisher.disconnect()
    subscriber.disconnect()
    throw new Error(`sapwood: redisHub could not connect to ${shown(where)}`, { cause: e })
  }
  up = true

  const rooms = new Map<string, Room>()
  subscriber.on('message', (name, text) => {
    const room = rooms.get(name)
    if (room !== undefined) for (const l of room.listeners) l.message(text)
  })

  const leave = (name: string, room: Room, listener: HubListener): void => {
    if (!room.listeners.delete(listener) || room.listeners.size > 0 || rooms.get(name) !== room) return
    rooms.delete(name)
    // commands on one connection run in order: a SUBSCRIBE sent after this UNSUBSCRIBE wins
    if (!closed) subscriber.unsubscribe(name).then(undefined, report)
  }

  return {
    publish: async (name, text) => {
      if (closed) throw new HubClosedError('redis')
      await publisher.publish(name, text)
    },
    subscribe: (name, listener): HubSubscription => {
      if (closed) throw new HubClosedError('redis')
      let room = rooms.get(name)
      if (room === undefined) {
        const ready = subscriber.subscribe(name).then(() => undefined)
        room = { listeners: new Set(), ready }
        rooms.set(name, room)
        const made = room
        // a failed SUBSCRIBE fails its subscriptions (through `ready`); the next one tries again
        ready.then(undefined, () => {
          if (rooms.get(name) === made) rooms.delete(name)
        })
      }
      const own: HubListener = { message: (text) => listener.message(text), end: (e) => listener.end(e) }
      room.listeners.add(own)
      const joined = room
      return { ready: joined.ready, unsubscribe: () => leave(name, joined, own) }
    },
    close: async () => {
      if (closed) return
      closed = true
      const all = [...rooms.values()].flatMap((r) => [...r.listeners])
      rooms.clear()
      for (const l of all) l.end()
      let timer: ReturnType<typeof setTimeout> | undefined
      const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, QUIT_WAIT_MS)))
      // QUIT lets Redis answer what is in flight; a connection that is down does not answer it
      await Promise.race([Promise.allSettled([publisher.quit(), subscriber.quit()]), waited])
      clearTimeout(timer)
      publisher.disconnect()
      subscriber.disconnect()
    },
  }
}
