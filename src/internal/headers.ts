// Response-header records: copied key by key into a fresh null-prototype record. Object spread
// would give a dictionary-mode object that enumerates 20-100x slower when written.
import type { ResponseHeaders } from '../context/conn.js'

export type HeaderValue = string | readonly string[]

// Object.create(null) makes a dictionary-mode object (slow to enumerate when the adapter writes
// it); an instance of a class whose prototype has no prototype is a fast object with no
// inherited keys, as safe against `__proto__` or `constructor` header names.
const HeaderRecord = function HeaderRecord(this: object) {} as unknown as new () => Record<string, HeaderValue>
HeaderRecord.prototype = Object.create(null) as object

/** The headers with `name` set to `value`, or removed when `value` is undefined. */
export const withHeader = (h: ResponseHeaders, name: string, value: HeaderValue | undefined): ResponseHeaders => {
  const out = new HeaderRecord()
  for (const k in h) if (k !== name) out[k] = h[k]!
  if (value !== undefined) out[name] = value
  return out
}

/** A one-header record, made once (e.g. `content-type: application/json` for `json`). */
export const headerRecord = (name: string, value: HeaderValue): ResponseHeaders => {
  const out = new HeaderRecord()
  out[name] = value
  return Object.freeze(out)
}

/** The headers with several names set at once (`undefined` values are skipped). */
export const withHeaders = (
  h: ResponseHeaders,
  set: Readonly<Record<string, HeaderValue | undefined>>,
): ResponseHeaders => {
  const out = new HeaderRecord()
  for (const k in h) if (!(k in set)) out[k] = h[k]!
  for (const k in set) {
    const v = set[k]
    if (v !== undefined) out[k] = v
  }
  return out
}

/** A `vary` value with `name` added, unless it names it already (any case) or is `*`. */
export const addVary = (had: HeaderValue | undefined, name: string): string => {
  const list = had === undefined ? [] : (typeof had === 'string' ? [had] : [...had]).flatMap((v) => v.split(','))
  const names = list.map((v) => v.trim()).filter((v) => v !== '')
  if (names.includes('*') || names.some((v) => v.toLowerCase() === name.toLowerCase())) return names.join(', ')
  return [...names, name].join(', ')
}
