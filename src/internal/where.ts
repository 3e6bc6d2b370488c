// Where a combinator was called from, for `routes` and the warnings. The stack is captured when
// the combinator is made (building the tree, not serving it) and formatted only when asked.
import { fileURLToPath } from 'node:url'

const here = fileURLToPath(new URL('..', import.meta.url))

/** Captures the caller's location now; the returned function formats it on demand. */
export const callSite = (): (() => string) => {
  const holder: { stack?: string } = {}
  Error.captureStackTrace(holder, callSite)
  let cached: string | undefined
  return () => {
    if (cached !== undefined) return cached
    const lines = (holder.stack ?? '').split('\n').slice(1)
    const line = lines.find((l) => !l.includes(here) && !l.includes('node:internal')) ?? lines[0] ?? ''
    const m = /\(?((?:file:\/\/)?[^()\s]+:\d+:\d+)\)?\s*$/.exec(line)
    cached = m === null ? 'unknown' : m[1]!.replace(/^file:\/\//, '')
    return cached
  }
}
