// Backpressure on a node writable (a response, a zlib transform): wait for 'drain', or for the
// end of the stream, whichever comes first.
import type { EventEmitter } from 'node:events'

/** Resolves once `stream` takes more ('drain'), or has closed. */
export const drained = (stream: EventEmitter): Promise<void> =>
  new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done)
      stream.off('close', done)
      resolve()
    }
    stream.on('drain', done)
    stream.on('close', done)
  })
