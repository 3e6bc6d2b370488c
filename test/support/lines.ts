// Reads a streamed HTTP body line by line, each read bounded in time.
import assert from 'node:assert/strict'
import { waitFor } from './wait.js'

export interface Lines {
  /** The next line (without its `\n`); fails after `ms` or when the body ends first. */
  next(ms?: number): Promise<string>
  cancel(): Promise<void>
}

export const lines = (body: ReadableStream<Uint8Array> | null): Lines => {
  assert.ok(body !== null, 'the response has no body')
  const reader = body.pipeThrough(new TextDecoderStream()).getReader()
  let buffered = ''
  return {
    async next(ms = 5000) {
      let timer: ReturnType<typeof setTimeout> | undefined
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no line within ${ms} ms (read so far: ${JSON.stringify(buffered)})`)),
          ms,
        )
      })
      try {
        while (!buffered.includes('\n')) {
          const read = await Promise.race([reader.read(), late])
          if (read.done) assert.fail(`the body ended before a whole line (read so far: ${JSON.stringify(buffered)})`)
          buffered += read.value
        }
      } finally {
        clearTimeout(timer)
      }
      const end = buffered.indexOf('\n')
      const line = buffered.slice(0, end)
      buffered = buffered.slice(end + 1)
      return line
    },
    cancel: () => reader.cancel().catch(() => undefined),
  }
}

/** `waitFor` with the message first, as the channel tests read it. */
export const eventually = (what: string, check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> =>
  waitFor(check, ms, what)
