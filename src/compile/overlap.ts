// Could two path patterns match the same path? Decided segment by segment and conservatively:
// a "yes" only costs a re-check at run time, a wrong "no" would skip a branch.

type Seg = { readonly kind: 'static'; readonly text: string } | { readonly kind: 'any' } | { readonly kind: 'rest' }

const segments = (pattern: string): Seg[] => {
  const out: Seg[] = []
  let depth = 0
  let start = 1
  const push = (text: string): void => {
    // find-my-way's `*` spans segments, also where it ends one (`a*` matches `abc/def`)
    if (text.includes('*')) out.push({ kind: 'rest' })
    else if (/[:*%(]/.test(text)) out.push({ kind: 'any' })
    else out.push({ kind: 'static', text })
  }
  for (let i = 1; i <= pattern.length; i++) {
    const ch = pattern[i]
    if (ch === '(') depth++
    else if (ch === ')') depth--
    else if ((ch === '/' && depth === 0) || i === pattern.length) {
      push(pattern.slice(start, i))
      start = i + 1
    }
  }
  return out
}

/**
 * A test of whether a path routed to `route` (a registered find-my-way pattern, possibly ending
 * in a wildcard) may also be matched by a leaf's pattern in its mode; the segments of every
 * pattern are split once (compiling is quadratic in the number of routes).
 */
export const overlapTest = (): ((
  route: string,
  leaf: { readonly guard: { readonly pattern: string | null; readonly mode: 'exact' | 'prefix' } },
) => boolean) => {
  const cache = new Map<string, Seg[]>()
  const split = (p: string): Seg[] => {
    let segs = cache.get(p)
    if (segs === undefined) cache.set(p, (segs = segments(p)))
    return segs
  }
  return (route, leaf) =>
    leaf.guard.pattern !== null && compare(split(route), split(leaf.guard.pattern), leaf.guard.mode)
}

const compare = (a: readonly Seg[], b: readonly Seg[], mode: 'exact' | 'prefix'): boolean => {
  for (let i = 0; ; i++) {
    const x = a[i]
    const y = b[i]
    if (x === undefined && y === undefined) return true
    if (x?.kind === 'rest' || y?.kind === 'rest') return true
    // the leaf's prefix is used up: it matches whatever follows
    if (y === undefined) return mode === 'prefix'
    if (x === undefined) return false
    if (x.kind === 'static' && y.kind === 'static' && x.text !== y.text) return false
  }
}
