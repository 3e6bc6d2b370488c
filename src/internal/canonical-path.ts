// The one rule for reading a request path, which every consumer follows: the trie, `path`,
// `prefix`, their params and `serveDir`.
//
// 1. `makeConn` turns the path of the request target into its canonical form, the form a URL
//    parser (WHATWG, as `Request` does) gives it: `\` is a `/`, dot segments (`.`, `..`, and
//    their spellings with `%2e`) are resolved and never climb above the root, and what a URL
//    percent-encodes in a path (controls, space, `"`, `<`, `>`, `` ` ``, `{`, `}`, non-ASCII) is
//    percent-encoded. The node adapter gives the target as received and a `Request` gives it
//    parsed: both reach the same canonical path, so one app answers the same through both.
//    Escapes are left as sent: nothing is decoded here.
// 2. A canonical path is malformed when an escape is not `%` and two hex digits, when its bytes
//    are not UTF-8 (an overlong `%C0%AE` included), when it decodes to NUL, or when it holds an
//    empty segment (`//`). Every path consumer rejects with 400 what it reads of a malformed
//    path: `path`, the trie and `serveDir` the whole rest, a `prefix` the segments it matches
//    (what follows is for the Parts after it, which judge it when they read it).
// 3. A well-formed path is then percent-decoded exactly once, segment by segment, by whoever
//    reads it (find-my-way for patterns and params, `serveDir` for file names): an encoded `/`
//    or `\` stays data inside its segment, so a param may hold one; `serveDir` refuses it.

/** What a consumer answers (400) for a malformed path. */
export const MALFORMED_PATH = 'The path holds a malformed percent-escape, an escaped NUL or an empty segment'

// The ASCII characters that a URL percent-encodes in a path (the path percent-encode set; `#`
// and `?` end the path before it gets here).
const ENCODED = new Uint8Array(128)
for (let code = 0; code <= 0x20; code++) ENCODED[code] = 1
for (const ch of '"<>`{}') ENCODED[ch.charCodeAt(0)] = 1
ENCODED[0x7f] = 1

const SLASH = 0x2f

// Anything but what a canonical path holds as it is (visible ASCII except `"`, `<`, `>`, `\`,
// `` ` ``, `{`, `}`), or a separator followed by what may start a dot segment. One regex test is
// the cheapest check of the usual path: about 1.5x faster than a charCodeAt loop, measured.
const UNPLAIN = /[^\x21\x23-\x3b\x3d\x3f-\x5b\x5d-\x5f\x61-\x7a\x7c\x7e]|\/(?:\.|%2[eE])/

const isSingleDot = (seg: string): boolean => seg === '.' || seg.toLowerCase() === '%2e'

const isDoubleDot = (seg: string): boolean => {
  if (seg.length !== 2 && seg.length !== 4 && seg.length !== 6) return false
  const s = seg.toLowerCase()
  return s === '..' || s === '.%2e' || s === '%2e.' || s === '%2e%2e'
}

const REPLACEMENT = '%EF%BF%BD'

/** A segment with what a URL percent-encodes in a path percent-encoded (as UTF-8); escapes kept. */
const encodeSegment = (seg: string): string => {
  let out = ''
  for (const ch of seg) {
    const code = ch.charCodeAt(0)
    if (code < 0x7f && ENCODED[code] === 0) out += ch
    else if (code < 0x80) out += `%${code < 0x10 ? '0' : ''}${code.toString(16).toUpperCase()}`
    else {
      try {
        out += encodeURIComponent(ch)
      } catch {
        out += REPLACEMENT // a lone surrogate: a URL encodes U+FFFD in its place
      }
    }
  }
  return out
}

/**
 * The canonical form of the path of a request target (see the rule above). A path that does not
 * start with `/` (`*`, or what no client sends) is left as it is.
 */
export const canonicalPath = (path: string): string => {
  if (path.charCodeAt(0) !== SLASH || !UNPLAIN.test(path)) return path
  // a URL parser drops ASCII tab and newlines wherever they are (the node parser refuses them)
  const parts = path.replace(/[\t\n\r]/g, '').split(/[/\\]/)
  const out: string[] = []
  const last = parts.length - 1
  for (let i = 1; i <= last; i++) {
    const seg = parts[i]!
    if (isDoubleDot(seg)) {
      out.pop()
      if (i === last) out.push('')
    } else if (isSingleDot(seg)) {
      if (i === last) out.push('')
    } else out.push(encodeSegment(seg))
  }
  return '/' + out.join('/')
}

/**
 * True when a canonical path, or what is left of one after a `prefix`, cannot be read: a broken
 * escape, bytes that are not UTF-8 (overlong included), NUL, or an empty segment.
 */
export const isMalformedPath = (path: string): boolean => {
  if (path.indexOf('//') !== -1) return true
  if (path.indexOf('%') === -1) return false
  let decoded: string
  try {
    // strict UTF-8: overlong forms, surrogates and truncated sequences throw
    decoded = decodeURIComponent(path)
  } catch {
    return true
  }
  return decoded.indexOf('\0') !== -1
}

/** One segment of a well-formed path, percent-decoded (once). */
export const decodeSegment = (segment: string): string =>
  segment.indexOf('%') === -1 ? segment : decodeURIComponent(segment)
