// Where a combinator was called from, for `routes` and the warnings. The stack is captured when
// the combinator is made (building the tree, not serving it) and formatted only when asked.
// No `node:url` and nothing at module scope that could fail: the core loads on every runtime
// (a bundled Worker's `import.meta.url` is no file URL).
let here: readonly string[] | undefined

/** sapwood's own source folder, as a stack line may show it: a path, or a file URL. */
const ownFolder = (): readonly string[] => {
  if (here === undefined) {
    try {
      const url = new URL('..', import.meta.url)
      here = url.protocol === 'file:' ? [decodeURIComponent(url.pathname), url.href] : [url.href]
    } catch {
      here = []
    }
  }
  return here
}

/** Captures the caller's location now; the returned function formats it on demand. */
export const callSite = (): (() => string) => {
  const holder: { stack?: string } = {}
  Error.captureStackTrace(holder, callSite)
  let cached: string | undefined
  return () => {
    if (cached !== undefined) return cached
    const lines = (holder.stack ?? '').split('\n').slice(1)
    const own = ownFolder()
    const line = lines.find((l) => !own.some((h) => l.includes(h)) && !l.includes('node:internal')) ?? lines[0] ?? ''
    const m = /\(?((?:file:\/\/)?[^()\s]+:\d+:\d+)\)?\s*$/.exec(line)
    cached = m === null ? 'unknown' : m[1]!.replace(/^file:\/\//, '')
    return cached
  }
}
