// Bounded waits for tests: every wait ends, with a message that says what never happened.
import assert from 'node:assert/strict'

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Settles with `promise`, or fails after `ms`. */
export const within = async <T>(promise: Promise<T>, ms: number, what: string): Promise<T> => {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)
  })
  try {
    return await Promise.race([promise, late])
  } finally {
    clearTimeout(timer)
  }
}

/** Resolves once `ready()` holds (checked every 5 ms); fails after `ms`. */
export const waitFor = async (ready: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> => {
  const until = Date.now() + ms
  while (!(await ready())) {
    if (Date.now() > until) assert.fail(`timed out after ${ms} ms waiting for ${what}`)
    await sleep(5)
  }
}
