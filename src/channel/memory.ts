/**
 * `memoryHub`: channels within one process.
 *
 * @since 0.3.0
 */
import { type Hub, type HubListener, type HubSubscription, HubClosedError } from './hub.js'

const READY: Promise<void> = Promise.resolve()

/**
 * A hub that carries messages within this process: a registry of listeners by channel name.
 * A publish hands its message to every subscription of that name, synchronously, in the order
 * they subscribed (one that unsubscribes meanwhile gets it no more). `channel(name)` uses
 * one shared for the whole process; make your own to keep a test or a subsystem apart.
 *
 * @example
 * import { channel, memoryHub } from 'sapwood'
 * const hub = memoryHub()
 * const room = channel<{ text: string }>('room', { hub })
 * await room.publish({ text: 'nobody listens yet' })
 * await hub.close()
 *
 * @category channel
 * @since 0.3.0
 */
export const memoryHub = (): Hub => {
  const rooms = new Map<string, Set<HubListener>>()
  let closed = false
  return {
    publish: (name, text) => {
      if (closed) return Promise.reject(new HubClosedError('memory'))
      const listeners = rooms.get(name)
      if (listeners !== undefined) for (const l of listeners) l.message(text)
      return READY
    },
    subscribe: (name, listener): HubSubscription => {
      if (closed) throw new HubClosedError('memory')
      let listeners = rooms.get(name)
      if (listeners === undefined) rooms.set(name, (listeners = new Set()))
      // One registration per subscription, even when the same listener object comes twice.
      const own: HubListener = { message: (text) => listener.message(text), end: (e) => listener.end(e) }
      listeners.add(own)
      return {
        ready: READY,
        unsubscribe: () => {
          const current = rooms.get(name)
          if (current?.delete(own) === true && current.size === 0) rooms.delete(name)
        },
      }
    },
    close: () => {
      if (!closed) {
        closed = true
        const all = [...rooms.values()].flatMap((s) => [...s])
        rooms.clear()
        for (const l of all) l.end()
      }
      return READY
    },
  }
}
