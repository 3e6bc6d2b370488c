// Response-header records: copied key by key into a fresh null-prototype record. Object spread
// would give a dictionary-mode object that enumerates 20-100x slower when written (DESIGN §7).
import type { ResponseHeaders } from '../context/conn.js'

export type HeaderValue = string | readonly string[]

/** The headers with `name` set to `value`, or removed when `value` is undefined. */
export const withHeader = (h: ResponseHeaders, name: string, value: HeaderValue | undefined): ResponseHeaders => {
  const out: Record<string, HeaderValue> = Object.create(null) as Record<string, HeaderValue>
  for (const k in h) if (k !== name) out[k] = h[k]!
  if (value !== undefined) out[name] = value
  return out
}
