// Hubs for the channel tests: one that counts live subscriptions around another, and one the
// test drives by hand.
import { type Hub, type HubListener, type HubSubscription, memoryHub } from 'sapwood'

/** A memory hub that counts the subscriptions made and not yet given up. */
export const countingHub = (): Hub & { readonly live: number; readonly made: number } => {
  const inner = memoryHub()
  let live = 0
  let made = 0
  return {
    get live() {
      return live
    },
    get made() {
      return made
    },
    publish: (name, text) => inner.publish(name, text),
    subscribe: (name, listener) => {
      const sub = inner.subscribe(name, listener)
      made++
      live++
      let gone = false
      return {
        ready: sub.ready,
        unsubscribe: () => {
          if (!gone) live--
          gone = true
          sub.unsubscribe()
        },
      }
    },
    close: () => inner.close(),
  }
}

/** A hub the test drives: it sees each listener, and decides when (and whether) `ready` settles. */
export const manualHub = (): Hub & {
  readonly listeners: HubListener[]
  settle(error?: unknown): void
} => {
  const listeners: HubListener[] = []
  const settlers: { resolve(): void; reject(e: unknown): void }[] = []
  return {
    listeners,
    settle: (error) => {
      for (const s of settlers.splice(0)) {
        if (error === undefined) s.resolve()
        else s.reject(error)
      }
    },
    publish: (_name, text) => {
      for (const l of listeners) l.message(text)
      return Promise.resolve()
    },
    subscribe: (_name, listener): HubSubscription => {
      listeners.push(listener)
      const ready = new Promise<void>((resolve, reject) => settlers.push({ resolve, reject }))
      return {
        ready,
        unsubscribe: () => {
          const at = listeners.indexOf(listener)
          if (at !== -1) listeners.splice(at, 1)
        },
      }
    },
    close: () => Promise.resolve(),
  }
}
