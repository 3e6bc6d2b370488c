// `Accept-Encoding` (RFC 9110 §12.5.3), read one way for every Part that picks a content coding:
// `compress` for the coding it applies, `sendFile`/`serveDir` for a precompressed sibling.

const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/

/**
 * The client's weights: coding → q, lower-case names, `x-gzip` read as `gzip`, the first mention
 * of a coding counting. An entry that does not follow the grammar (a bad name or q-value) is
 * skipped, so a bogus header weighs nothing.
 */
const weights = (accept: string): Map<string, number> => {
  const out = new Map<string, number>()
  for (const entry of accept.split(',')) {
    const [name = '', ...params] = entry.split(';')
    const coding = name.trim().toLowerCase()
    if (!TOKEN.test(coding)) continue
    let q = 1
    for (const param of params) {
      const eq = param.indexOf('=')
      if (eq === -1 || param.slice(0, eq).trim().toLowerCase() !== 'q') continue
      const value = param.slice(eq + 1).trim()
      q = QVALUE.test(value) ? Number(value) : Number.NaN
      if (Number.isNaN(q)) break // one bad q-value spoils the entry
    }
    if (Number.isNaN(q)) continue
    const key = coding === 'x-gzip' ? 'gzip' : coding
    if (!out.has(key)) out.set(key, q)
  }
  return out
}

/**
 * The offered codings that an `Accept-Encoding` takes, best first: by q-value, ties in the order
 * offered. A coding the header does not name is taken through `*` only; one with q=0 is not, nor
 * one the client weighs below identity (named, or given by `*`). No header, or an empty one,
 * takes none.
 */
export const acceptedEncodings = <E extends string>(header: string | undefined, offered: readonly E[]): E[] => {
  if (header === undefined || header === '' || offered.length === 0) return []
  const w = weights(header)
  const any = w.get('*')
  const identity = w.get('identity') ?? any
  const out: { e: E; q: number }[] = []
  for (const e of offered) {
    const q = w.get(e) ?? any ?? 0
    if (q > 0 && (identity === undefined || q >= identity)) out.push({ e, q })
  }
  // Array.prototype.sort is stable: equal q-values keep the order offered
  return out.sort((a, b) => b.q - a.q).map((x) => x.e)
}

/**
 * The `acceptedEncodings` of one Part, for the header of the last request (a client sends the same
 * header on every request, and the function is pure, so this is never stale).
 */
export const encodingNegotiator = <E extends string>(offered: readonly E[]): ((header: string | undefined) => E[]) => {
  let lastHeader: string | undefined
  let lastPick: E[] = []
  return (header) => {
    if (header === undefined) return []
    if (header !== lastHeader) {
      lastPick = acceptedEncodings(header, offered)
      lastHeader = header
    }
    return lastPick
  }
}
