// The request's Content-Type, read strictly (RFC 9110 §8.3.1, §5.6.6): one media type, its
// parameters, nothing after them. A value that does not follow the grammar is no media type at
// all, so a decoder or a `contentType` filter answers 415 instead of guessing what was meant.
// The `content-type` package validates tokens and types; its `parse` is lenient (it skips what it
// does not understand), so the structure is scanned here.
import { isTokenValid, isTypeValid } from 'content-type'
import type { Conn } from '../context/conn.js'

/** A parsed Content-Type: its media type and its parameters. */
export interface MediaType {
  /** `type/subtype`, lower-case (both are case-insensitive). */
  readonly type: string
  /**
   * The parameters by lower-case name, with their values as sent (a quoted string unquoted, its
   * quoted pairs unescaped); a null-prototype record, so a request cannot name an inherited key.
   */
  readonly parameters: Readonly<Record<string, string>>
}

const SP = 0x20
const HTAB = 0x09
const SEMI = 0x3b
const EQ = 0x3d
const DQUOTE = 0x22
const BSLASH = 0x5c

const isOws = (code: number): boolean => code === SP || code === HTAB

/** qdtext and the second character of a quoted pair: HTAB, SP, VCHAR, obs-text (not DEL). */
const isQuotable = (code: number): boolean => code === HTAB || (code >= SP && code <= 0xff && code !== 0x7f)

/** The index of the first character at or after `i` that ends a token (OWS, `;`, `=`, end). */
const tokenEnd = (s: string, i: number): number => {
  while (i < s.length) {
    const code = s.charCodeAt(i)
    if (isOws(code) || code === SEMI || code === EQ) break
    i++
  }
  return i
}

const skipOws = (s: string, i: number): number => {
  while (i < s.length && isOws(s.charCodeAt(i))) i++
  return i
}

/**
 * Reads a quoted string that opens at `i` (its DQUOTE): its unescaped text and the index after the
 * closing DQUOTE, or undefined when it is not closed or holds a character it cannot hold.
 */
const quoted = (s: string, i: number): { readonly text: string; readonly end: number } | undefined => {
  let text = ''
  let from = ++i
  while (i < s.length) {
    const code = s.charCodeAt(i)
    if (code === DQUOTE) return { text: text + s.slice(from, i), end: i + 1 }
    if (code === BSLASH) {
      if (i + 1 >= s.length || !isQuotable(s.charCodeAt(i + 1))) return undefined
      text += s.slice(from, i)
      from = i + 1
      i += 2
    } else if (!isQuotable(code)) return undefined
    else i++
  }
  return undefined
}

/**
 * Parses a Content-Type value strictly: `type/subtype` (tokens), then `; name=value` parameters
 * (a token or a quoted string as value, no space around `=`), optional whitespace between them
 * and at both ends, and nothing else. Undefined when the value does not follow that grammar.
 *
 * Empty parameters (`a/b;`, `a/b; ;c=d`) are allowed, as RFC 9110 allows them. Stricter than
 * RFC 9110 in one place, an ambiguous request: a parameter named twice (which `charset` would
 * a server pick?) makes the value malformed.
 */
export const parseContentType = (value: string): MediaType | undefined => {
  const n = value.length
  const start = skipOws(value, 0)
  let i = tokenEnd(value, start)
  if (!isTypeValid(value, start, i)) return undefined
  const type = value.slice(start, i).toLowerCase()
  const parameters = Object.create(null) as Record<string, string>
  // Bounded: every turn consumes at least a `;`, or ends.
  for (;;) {
    i = skipOws(value, i)
    if (i === n) return { type, parameters }
    if (value.charCodeAt(i) !== SEMI) return undefined
    i = skipOws(value, i + 1)
    if (i === n || value.charCodeAt(i) === SEMI) continue
    const nameStart = i
    i = tokenEnd(value, i)
    if (value.charCodeAt(i) !== EQ || !isTokenValid(value, nameStart, i)) return undefined
    const name = value.slice(nameStart, i).toLowerCase()
    i++
    let text: string
    if (value.charCodeAt(i) === DQUOTE) {
      const q = quoted(value, i)
      if (q === undefined) return undefined
      text = q.text
      i = q.end
    } else {
      const valueStart = i
      i = tokenEnd(value, i)
      if (!isTokenValid(value, valueStart, i)) return undefined
      text = value.slice(valueStart, i)
    }
    if (name in parameters) return undefined
    parameters[name] = text
  }
}

/**
 * True when the media type `got` (lower-case, as `parseContentType` gives it) is one that `want`
 * names: the same type, any type (the full wildcard, or `*`), `major/*` for any subtype of
 * `major`, or a structured syntax suffix (`application/json` names `application/problem+json`,
 * RFC 6839).
 */
export const typeMatches = (want: string, got: string): boolean => {
  if (want === got || want === '*/*' || want === '*') return true
  if (want.endsWith('/*')) return got.startsWith(want.slice(0, -1))
  const plus = got.lastIndexOf('+')
  return plus !== -1 && want === `${got.slice(0, got.indexOf('/') + 1)}${got.slice(plus + 1)}`
}

/**
 * True when `type` may be given to a decoder or filter as the type it reads: a media type
 * (`text/plain`), `major/*`, or the full wildcard.
 */
export const isTypePattern = (type: string): boolean =>
  type === '*/*' || (type.endsWith('/*') ? isTokenValid(type, 0, type.length - 2) : isTypeValid(type))

/** True when the media type has no `charset` parameter or says UTF-8 (charset names are case-insensitive). */
export const isUtf8 = (media: MediaType): boolean => {
  const charset = media.parameters['charset']
  return charset === undefined || charset.toLowerCase() === 'utf-8'
}

// The media type of a request is parsed once and kept on its body source, the one object that
// every copy of the request's Conn shares (a Conn is copied at each step, and each `choose`
// branch starts from the same one): the `contentType` filter, each body decoder and any branch
// tried after them read the same frozen value. Under a private symbol, not in a WeakMap: a
// WeakMap entry per request cost ~400-650 ns (its ephemerons burden the GC), a property ~25 ns.
const MEDIA = Symbol('sapwood.mediaType')

/** What a body source keeps: the header value read, and the media type it gave. */
interface Memo {
  readonly value: string
  readonly media: MediaType | undefined
}

type Holder = { [MEDIA]?: Memo }

// The last value parsed, across requests: clients of an API send the same Content-Type request
// after request, so most requests skip the parse too.
let lastValue: string | undefined
let lastMedia: MediaType | undefined

const frozen = (media: MediaType | undefined): MediaType | undefined =>
  media === undefined ? undefined : Object.freeze({ type: media.type, parameters: Object.freeze(media.parameters) })

/**
 * The request's media type, parsed strictly (`parseContentType`) once per request and frozen;
 * undefined when the Content-Type is missing or malformed. A source that cannot keep it (a frozen
 * one: a Conn made without a body) is read again, through the last-value cache.
 */
export const requestMediaType = (c: Conn): MediaType | undefined => {
  const value = c.headers['content-type']
  if (value === undefined) return undefined
  const holder = c.source as Holder
  const memo = holder[MEDIA]
  // the value is compared too: a source handed to a second Conn with other headers is not misread
  if (memo !== undefined && memo.value === value) return memo.media
  if (value !== lastValue) {
    lastMedia = frozen(parseContentType(value))
    lastValue = value
  }
  const media = lastMedia
  if (Object.isExtensible(holder)) holder[MEDIA] = { value, media }
  return media
}
