/**
 * Files: `sendFile` and `serveDir` send files from disk with their content type, validators
 * (`ETag`, `Last-Modified`), 304, single ranges (206, 416), `cache-control` and precompressed
 * siblings, and no way out of the served directory.
 *
 * @since 0.3.0
 */
import { type Stats, createReadStream, lstat, realpath, stat } from 'node:fs'
import { resolve as resolvePath, sep } from 'node:path'
import fresh from 'fresh'
import mime from 'mime'
import { type Conn, type ResponseHeaders, update } from '../context/conn.js'
import { type Context, type Part, part } from '../context/context.js'
import { MISSED } from '../context/ranking.js'
import { badRequest, handlerFailed, noMatch, problem, rejectionResponse } from '../context/rejection.js'
import type { FileBody, StreamSource } from '../context/response-body.js'
import { type HeaderValue, addVary, withHeader, withHeaders } from '../internal/headers.js'
import { encodingNegotiator } from '../internal/accept-encoding.js'
import { MALFORMED_PATH, decodeSegment, isMalformedPath } from '../internal/canonical-path.js'

/**
 * A precompressed sibling's coding: `br` is read from `file.br`, `gzip` from `file.gz`.
 *
 * @category files
 * @since 0.3.0
 */
export type PrecompressedEncoding = 'br' | 'gzip'

/**
 * Options of `sendFile`.
 *
 * @category files
 * @since 0.3.0
 */
export interface SendFileOptions {
  /**
   * The `max-age` of `cache-control`, in seconds (default 0: `public, max-age=0`, so caches keep
   * the file and ask again each time, which the `ETag` makes cheap).
   */
  readonly maxAge?: number
  /** Adds `immutable` to `cache-control`: for names that change whenever the content does. */
  readonly immutable?: boolean
  /** `false` sends no `cache-control`. A `cache-control` drafted in front is always kept. */
  readonly cacheControl?: boolean
  /**
   * The `content-type`. Default: from the file name's extension (`mime`), with `; charset=utf-8`
   * for `text/*`; `application/octet-stream` for an unknown one.
   */
  readonly type?: string
  /** `false` sends no `ETag` (default: a weak tag made of the file's size and modification time). */
  readonly etag?: boolean
  /** `false` sends no `Last-Modified`. */
  readonly lastModified?: boolean
  /** `false` ignores `Range` and sends no `accept-ranges`. */
  readonly ranges?: boolean
  /**
   * Sends `file.br` or `file.gz` instead of `file` when it exists and the client's
   * `Accept-Encoding` takes it: `true` for both (br first on a tie), or the codings in the order
   * preferred. Default `false`: each coding tried costs a file-system lookup per request.
   */
  readonly precompressed?: boolean | readonly PrecompressedEncoding[]
}

/**
 * Options of `serveDir`: those of `sendFile` but `type`, and what a directory serves.
 *
 * @category files
 * @since 0.3.0
 */
export interface ServeDirOptions extends Omit<SendFileOptions, 'type'> {
  /** The file a directory serves (default `index.html`); `false` for none. Directories are never listed. */
  readonly index?: string | false
  /** Serves names that start with a dot (`.well-known`); default `false`: they are not found. */
  readonly dotfiles?: boolean
}

// ---------------------------------------------------------------------------------------------
// settings

interface Settings {
  readonly type: string | undefined
  readonly cacheControl: string | undefined
  readonly etag: boolean
  readonly lastModified: boolean
  readonly ranges: boolean
  readonly encodings: readonly PrecompressedEncoding[]
}

const ENCODINGS: readonly PrecompressedEncoding[] = ['br', 'gzip']
const SUFFIX: Readonly<Record<PrecompressedEncoding, string>> = { br: '.br', gzip: '.gz' }
const VALUE = /^[\t\x20-\x7e]*$/

const settingsOf = (o: SendFileOptions, who: string): Settings => {
  const maxAge = o.maxAge ?? 0
  if (!Number.isSafeInteger(maxAge) || maxAge < 0) {
    throw new RangeError(`sapwood: ${who}: maxAge must be a whole number of seconds, not ${String(o.maxAge)}`)
  }
  if (o.type !== undefined && (typeof o.type !== 'string' || o.type === '' || !VALUE.test(o.type))) {
    throw new TypeError(`sapwood: ${who}: type must be a media type that a header can hold`)
  }
  const p = o.precompressed
  let encodings: readonly PrecompressedEncoding[] = []
  if (p === true) encodings = ENCODINGS
  else if (Array.isArray(p)) {
    for (const e of p as readonly unknown[]) {
      if (e !== 'br' && e !== 'gzip')
        throw new TypeError(`sapwood: ${who}: precompressed takes 'br' and 'gzip', not ${String(e)}`)
    }
    encodings = [...new Set(p)]
  } else if (p !== undefined && p !== false)
    throw new TypeError(`sapwood: ${who}: precompressed is a boolean or a list of codings`)
  return {
    type: o.type,
    cacheControl:
      o.cacheControl === false ? undefined : `public, max-age=${maxAge}${o.immutable === true ? ', immutable' : ''}`,
    etag: o.etag !== false,
    lastModified: o.lastModified !== false,
    ranges: o.ranges !== false,
    encodings,
  }
}

// ---------------------------------------------------------------------------------------------
// the file system, through callbacks: the promise API costs more per call

/** File-system errors that mean "no such file to serve here": the branch does not match. */
const MISSING = new Set(['ENOENT', 'ENOTDIR', 'ENAMETOOLONG', 'ELOOP', 'EACCES', 'EPERM', 'EISDIR', 'EINVAL'])

const isMissing = (error: unknown): boolean => MISSING.has((error as NodeJS.ErrnoException | null)?.code ?? '')

const statOf = (path: string): Promise<Stats> =>
  new Promise((resolve, reject) => stat(path, (error, s) => (error === null ? resolve(s) : reject(error))))

const lstatOf = (path: string): Promise<Stats> =>
  new Promise((resolve, reject) => lstat(path, (error, s) => (error === null ? resolve(s) : reject(error))))

// The native realpath asks the OS once; `fs.realpath` walks every component with an lstat.
const realOf = (path: string): Promise<string> =>
  new Promise((resolve, reject) => realpath.native(path, (error, p) => (error === null ? resolve(p) : reject(error))))

/** `undefined` when the path names nothing to serve; other errors (EIO, EMFILE) are thrown. */
const maybe = async <A>(p: Promise<A>): Promise<A | undefined> => {
  try {
    return await p
  } catch (error) {
    if (isMissing(error)) return undefined
    throw error
  }
}

// ---------------------------------------------------------------------------------------------
// the answer

/** What is sent: the file read, its stats, the name that gives its type, and its coding. */
interface Chosen {
  readonly path: string
  readonly stats: Stats
  readonly name: string
  readonly encoding: PrecompressedEncoding | undefined
}

const types = new Map<string, string>()

/** The content type of a file name, from its extension (kept per extension: the table is fixed). */
const typeOf = (name: string): string => {
  const slash = name.lastIndexOf(sep)
  const dot = name.lastIndexOf('.')
  const ext = dot > slash + 1 ? name.slice(dot + 1).toLowerCase() : ''
  let type = types.get(ext)
  if (type === undefined) {
    const found = ext === '' ? null : mime.getType(ext)
    type = found === null ? 'application/octet-stream' : found.startsWith('text/') ? `${found}; charset=utf-8` : found
    if (types.size < 1000) types.set(ext, type)
  }
  return type
}

// One file is usually asked for again and again: its date is formatted once (pure, never stale).
let lastMs = Number.NaN
let lastDate = ''
const httpDate = (ms: number): string => {
  if (ms !== lastMs) {
    lastDate = new Date(ms).toUTCString()
    lastMs = ms
  }
  return lastDate
}

const NO_BYTES: StreamSource = {
  [Symbol.asyncIterator]: async function* () {},
}

/** The bytes `offset .. offset + length - 1` of the file at `path`. */
const fileBody = (path: string, offset: number, length: number): FileBody => ({
  _tag: 'File',
  path,
  offset,
  length,
  open: () => (length === 0 ? NO_BYTES : createReadStream(path, { start: offset, end: offset + length - 1 })),
})

const problemOf = (status: number, title: string, detail: string) => {
  const r = rejectionResponse(problem({ status, title, detail }))
  return { body: r.body, type: r.headers['content-type']! }
}
const UNSATISFIABLE = problemOf(416, 'Range Not Satisfiable', 'The range starts past the end of the file')
const PRECONDITION = problemOf(412, 'Precondition Failed', 'The file does not match the precondition')

/** Headers that describe this body only: a value drafted in front is replaced, or removed. */
const OWN = new Set(['content-type', 'content-encoding', 'content-range'])

/**
 * The drafted headers with the file's. A drafted `cache-control` wins; an `undefined` value
 * keeps what was drafted (an `etag` set in front with `etag: false`), except for the headers
 * that describe the body itself, which are removed.
 */
const withFileHeaders = (
  drafted: ResponseHeaders,
  set: Readonly<Record<string, HeaderValue | undefined>>,
): ResponseHeaders => {
  const out: Record<string, HeaderValue | undefined> = {}
  for (const k in set) {
    const v = set[k]
    if (v !== undefined) out[k] = k === 'cache-control' ? (drafted[k] ?? v) : v
    else if (OWN.has(k)) out[k] = undefined
  }
  return withHeaders(drafted, out)
}

/** True when the tag list of `If-Match` / `If-Range` names `etag` (weakly: the opaque tags compare). */
const tagIn = (list: string, etag: string | undefined): boolean => {
  if (list.trim() === '*') return true
  if (etag === undefined) return false
  const bare = etag.startsWith('W/') ? etag.slice(2) : etag
  for (const raw of list.split(',')) {
    const t = raw.trim()
    if ((t.startsWith('W/') ? t.slice(2) : t) === bare) return true
  }
  return false
}

/**
 * The one range a `Range` header asks for (RFC 9110 §14.1.2): `undefined` when it is to be
 * ignored (not bytes, malformed, or several ranges that do not join into one: the whole file is
 * sent then), `'unsatisfiable'` when no range overlaps the file.
 *
 * @internal
 */
export const rangeOf = (
  header: string,
  size: number,
): { readonly start: number; readonly end: number } | 'unsatisfiable' | undefined => {
  const eq = header.indexOf('=')
  if (eq === -1 || header.slice(0, eq).trim().toLowerCase() !== 'bytes') return undefined
  const ranges: { start: number; end: number }[] = []
  let specs = 0
  for (const raw of header.slice(eq + 1).split(',')) {
    const spec = raw.trim()
    if (spec === '') continue // an empty list element is allowed, and says nothing
    specs++
    const m = /^(\d*)-(\d*)$/.exec(spec)
    if (m === null) return undefined
    const [, first = '', last = ''] = m
    if (first === '') {
      if (last === '') return undefined
      const suffix = Number(last)
      // a suffix longer than the file asks for all of it
      if (suffix > 0 && size > 0) ranges.push({ start: Math.max(0, size - suffix), end: size - 1 })
      continue
    }
    const start = Number(first)
    if (last !== '' && Number(last) < start) return undefined // an invalid range-spec voids the whole field
    if (start < size) ranges.push({ start, end: last === '' ? size - 1 : Math.min(Number(last), size - 1) })
  }
  if (specs === 0) return undefined
  if (ranges.length === 0) return 'unsatisfiable'
  if (ranges.length === 1) return ranges[0]
  // overlapping or adjacent ranges are sent as the one range they make; disjoint ones are not
  ranges.sort((a, b) => a.start - b.start)
  const start = ranges[0]!.start
  let end = ranges[0]!.end
  for (let i = 1; i < ranges.length; i++) {
    const r = ranges[i]!
    if (r.start > end + 1) return undefined
    if (r.end > end) end = r.end
  }
  return { start, end }
}

/** True when `If-Range` names the file as it is now: its ETag, or exactly its `Last-Modified`. */
const rangeStillValid = (ifRange: string, etag: string | undefined, lastModified: string | undefined): boolean => {
  const v = ifRange.trim()
  if (v.startsWith('"') || v.startsWith('W/')) return etag !== undefined && v === etag
  if (lastModified === undefined) return false
  const date = Date.parse(v)
  return !Number.isNaN(date) && date === Date.parse(lastModified)
}

/** A weak tag from size and modification time (and the coding: each coded file is its own representation). */
const etagOf = (stats: Stats, encoding: PrecompressedEncoding | undefined): string => {
  const tag = `${stats.size.toString(16)}-${Math.floor(stats.mtimeMs).toString(16)}`
  return encoding === undefined ? `W/"${tag}"` : `W/"${tag}-${encoding}"`
}

/** Makes the answer for a chosen file: 200, 206, 304, 412 or 416, with their headers. */
const answer = (c: Conn, file: Chosen, s: Settings, varies: boolean): Context => {
  const { stats, encoding } = file
  const size = stats.size
  const etag = s.etag ? etagOf(stats, encoding) : undefined
  const lastModified = s.lastModified ? httpDate(stats.mtimeMs) : undefined
  const drafted = c.respHeaders
  const vary = varies ? addVary(drafted['vary'], 'Accept-Encoding') : undefined
  const h = c.headers
  // Preconditions, 304 and ranges are about GET (HEAD arrives here as GET, or as itself on an
  // own HEAD branch), and only when nothing drafted another status (a 404 page sent from disk).
  const conditional = c.status === 200 && (c.method === 'GET' || c.method === 'HEAD')
  if (conditional) {
    const ifMatch = h['if-match']
    const ifUnmodified = h['if-unmodified-since']
    if (
      ifMatch !== undefined
        ? !tagIn(ifMatch, etag)
        : ifUnmodified !== undefined &&
          lastModified !== undefined &&
          Date.parse(lastModified) > Date.parse(ifUnmodified)
    ) {
      return {
        _tag: 'Right',
        right: update(c, {
          status: 412,
          respHeaders: withFileHeaders(drafted, { 'content-type': PRECONDITION.type, vary }),
          respBody: PRECONDITION.body,
        }),
      }
    }
    if (
      (h['if-none-match'] !== undefined || h['if-modified-since'] !== undefined) &&
      fresh(h, { etag, 'last-modified': lastModified })
    ) {
      return {
        _tag: 'Right',
        right: update(c, {
          status: 304,
          respHeaders: withFileHeaders(drafted, {
            etag,
            'last-modified': lastModified,
            'cache-control': s.cacheControl,
            vary,
          }),
          respBody: null,
        }),
      }
    }
  }
  const headers: Record<string, HeaderValue | undefined> = {
    'content-type': s.type ?? typeOf(file.name),
    'content-encoding': encoding,
    'content-range': undefined,
    etag,
    'last-modified': lastModified,
    'cache-control': s.cacheControl,
    'accept-ranges': s.ranges ? 'bytes' : undefined,
    vary,
  }
  const range = conditional && s.ranges ? h['range'] : undefined
  if (range !== undefined) {
    const ifRange = h['if-range']
    const wanted =
      ifRange === undefined || rangeStillValid(ifRange, etag, lastModified) ? rangeOf(range, size) : undefined
    if (wanted === 'unsatisfiable') {
      return {
        _tag: 'Right',
        right: update(c, {
          status: 416,
          respHeaders: withFileHeaders(drafted, {
            'content-range': `bytes */${size}`,
            'content-type': UNSATISFIABLE.type,
            'accept-ranges': 'bytes',
            vary,
          }),
          respBody: UNSATISFIABLE.body,
        }),
      }
    }
    if (wanted !== undefined) {
      headers['content-range'] = `bytes ${wanted.start}-${wanted.end}/${size}`
      return {
        _tag: 'Right',
        right: update(c, {
          status: 206,
          respHeaders: withFileHeaders(drafted, headers),
          respBody: fileBody(file.path, wanted.start, wanted.end - wanted.start + 1),
        }),
      }
    }
  }
  return {
    _tag: 'Right',
    right: update(c, { respHeaders: withFileHeaders(drafted, headers), respBody: fileBody(file.path, 0, size) }),
  }
}

// ---------------------------------------------------------------------------------------------
// content codings

// ---------------------------------------------------------------------------------------------
// sendFile

const failed = (error: unknown): Context => ({ _tag: 'Left', left: handlerFailed(error) })
const NO_MATCH: Context = { _tag: 'Left', left: noMatch }
const OPAQUE = { _tag: 'Opaque' } as const

/**
 * Sends a file: `content-type` from its name, a weak `ETag`, `Last-Modified`, `cache-control`
 * and `accept-ranges`; 304 when the client's copy is current (`If-None-Match`, else
 * `If-Modified-Since`), 412 when `If-Match` / `If-Unmodified-Since` fail, 206 with
 * `content-range` for one `Range` (honouring `If-Range`), 416 with a `content-range` that gives
 * the size for a range past the end; several ranges that do not join into one get the whole
 * file (200). The file is stat'ed on every request (never stale), and sent by the adapter its
 * fastest way; HEAD gets the same head and never opens it.
 *
 * `file` is trusted: never build it from request input (use `serveDir`, which refuses to leave
 * its root). Give a function, `(c) => path`, to choose the file per request. A missing file, or
 * one that is not a regular file, rejects with `NoMatch` raised where the route matched (a 404
 * that outranks another branch's 405), and a `choose` goes on to its next branch. It answers
 * any method that reaches it, with 304 and ranges for GET and HEAD only: put `get` in front.
 *
 * @example
 * import { choose, pipe, get, path } from 'sapwood'
 * import { sendFile } from 'sapwood/node'
 * const app = choose([
 *   pipe(get, path('/'), sendFile('public/index.html')),
 *   pipe(get, path('/logo'), sendFile('public/logo.svg', { maxAge: 86_400 })),
 *   pipe(get, path('/reports/:year'), sendFile((c) => `reports/${c.params.year === '2024' ? '2024' : 'latest'}.pdf`)),
 * ])
 *
 * @category files
 * @since 0.3.0
 */
export const sendFile = <I extends Conn = Conn>(
  file: string | ((c: I) => string),
  options: SendFileOptions = {},
): Part<I, I> => {
  const s = settingsOf(options, 'sendFile')
  if (typeof file !== 'function' && (typeof file !== 'string' || file === '')) {
    throw new TypeError('sapwood: sendFile takes a path, or a function of the Conn that returns one')
  }
  const fixed = typeof file === 'string' ? resolvePath(file) : undefined
  const pathOf = typeof file === 'function' ? file : undefined
  const accepted = encodingNegotiator(s.encodings)
  const varies = s.encodings.length > 0

  const run = async (c: Conn): Promise<Context> => {
    let path = fixed
    if (path === undefined) {
      let given: unknown
      try {
        given = pathOf!(c as I)
      } catch (error) {
        return failed(error)
      }
      if (typeof given !== 'string' || given === '' || given.includes('\0')) {
        const what = typeof given === 'string' ? 'an empty one or one with a NUL' : typeof given
        return failed(new TypeError(`sapwood: sendFile's function must return a path, not ${what}`))
      }
      path = resolvePath(given)
    }
    try {
      const stats = await maybe(statOf(path))
      if (stats === undefined || !stats.isFile()) return NO_MATCH
      let chosen: Chosen = { path, stats, name: path, encoding: undefined }
      for (const e of accepted(varies ? c.headers['accept-encoding'] : undefined)) {
        const sibling = path + SUFFIX[e]
        const ss = await maybe(statOf(sibling))
        if (ss !== undefined && ss.isFile()) {
          chosen = { path: sibling, stats: ss, name: path, encoding: e }
          break
        }
      }
      return answer(c, chosen, s, varies)
    } catch (error) {
      return failed(error)
    }
  }
  return part(run, OPAQUE, `sendFile(${fixed === undefined ? 'fn' : `'${String(file)}'`})`) as unknown as Part<I, I>
}

// ---------------------------------------------------------------------------------------------
// serveDir

/**
 * The path under the root that a request names, each segment decoded once: its segments, and
 * whether it ends with a slash (a directory). `'malformed'` for a path every path filter refuses
 * (a broken escape, bytes that are not UTF-8, an escaped NUL, `//`: see `isMalformedPath`);
 * `'refused'` for what can name no file under the root: a segment that holds `/` or `\` once
 * decoded (`%2f`, `%5c`), a `.` or `..` segment (the canonical path has none left: refused all
 * the same), a dotfile unless allowed.
 *
 * @internal
 */
export const segmentsOf = (
  rest: string,
  dotfiles: boolean,
): { readonly segments: readonly string[]; readonly slash: boolean } | 'refused' | 'malformed' => {
  if (rest === '') return { segments: [], slash: false }
  if (rest.charCodeAt(0) !== 47 /* / */) return 'refused'
  if (isMalformedPath(rest)) return 'malformed'
  const segments = rest.slice(1).split('/')
  const slash = segments[segments.length - 1] === ''
  if (slash) segments.pop()
  for (let i = 0; i < segments.length; i++) {
    const seg = decodeSegment(segments[i]!)
    if (seg === '' || seg === '.' || seg === '..' || /[/\\\0]/.test(seg)) return 'refused'
    if (!dotfiles && seg.charCodeAt(0) === 46 /* . */) return 'refused'
    // Windows reads `name:stream` (alternate data streams) and `C:` (drives) from a colon
    if (sep === '\\' && seg.includes(':')) return 'refused'
    segments[i] = seg
  }
  return { segments, slash }
}

/** A redirect target that stays on this host: a path that starts with one `/`, in visible ASCII. */
const sameHost = (location: string): boolean =>
  location.charCodeAt(0) === 47 &&
  location.charCodeAt(1) !== 47 &&
  location.charCodeAt(1) !== 92 /* \ */ &&
  /^[\x21-\x7e]*$/.test(location)

const MALFORMED: Context = { _tag: 'Left', left: badRequest(MALFORMED_PATH) }

/**
 * Serves the files under `root` for the rest of the path (after a `prefix`): what `sendFile`
 * sends, plus an index file for a directory (`index.html` by default), and a 301 to the slash
 * form for a directory asked without its trailing slash (only when it has an index; the
 * `Location` is always a path on this host). Directories are never listed.
 *
 * The path cannot leave the root, by construction: the request's path is canonical (dot
 * segments resolved within it, `\` read as `/`), each segment is percent-decoded once, a segment
 * that holds a separator once decoded (`%2f`, `%5c`), a `.` or `..` segment and dotfiles (unless
 * `dotfiles: true`) are refused, and the file's real path (symlinks followed) must lie under the
 * root's real path. A refused path, a missing file or a directory without index rejects with
 * `NoMatch` ranked as a path that does not match (the file name is part of the path): a `choose`
 * goes on to its next branch, another branch's 405 for that path wins, and else it is a 404,
 * which reveals nothing. A malformed path (a broken escape, bytes that are not UTF-8, an escaped
 * NUL, `//`) is a `BadRequest` (400), as for `path`. It answers any method that reaches it: put
 * `get` in front.
 *
 * @example
 * import { choose, pipe, get, prefix, path, ok } from 'sapwood'
 * import { serveDir } from 'sapwood/node'
 * const app = choose([
 *   pipe(get, path('/health'), ok('up')),
 *   pipe(get, prefix('/assets'), serveDir('dist/assets', { maxAge: 31_536_000, immutable: true })),
 *   pipe(get, serveDir('public')), // `/` serves public/index.html
 * ])
 *
 * @category files
 * @since 0.3.0
 */
export const serveDir = (root: string, options: ServeDirOptions = {}): Part<Conn, Conn> => {
  if (typeof root !== 'string' || root === '') throw new TypeError('sapwood: serveDir takes the path of a directory')
  const s = settingsOf(options, 'serveDir')
  const index = options.index ?? 'index.html'
  if (
    index !== false &&
    (typeof index !== 'string' || index === '' || /[/\\\0]/.test(index) || index === '.' || index === '..')
  ) {
    throw new TypeError('sapwood: serveDir: index must be a file name (no separator), or false')
  }
  const dotfiles = options.dotfiles === true
  const base = resolvePath(root)
  const accepted = encodingNegotiator(s.encodings)
  const varies = s.encodings.length > 0

  /** The real path and stats of `path` when it lies under the real root `top`; undefined otherwise. */
  const inside = async (path: string, top: string): Promise<{ real: string; stats: Stats } | undefined> => {
    const real = await maybe(realOf(path))
    if (real === undefined || !under(real, top)) return undefined
    const stats = await maybe(statOf(real))
    return stats === undefined ? undefined : { real, stats }
  }

  /** A sibling of a real file: its directory is checked already, so only a symlink needs resolving. */
  const sibling = async (path: string, top: string): Promise<Stats | undefined> => {
    const l = await maybe(lstatOf(path))
    if (l === undefined) return undefined
    if (l.isFile()) return l
    if (!l.isSymbolicLink()) return undefined
    return (await inside(path, top))?.stats
  }

  const run = async (c: Conn): Promise<Context> => {
    const wanted = segmentsOf(c.rest, dotfiles)
    if (wanted === 'refused') return MISSED
    if (wanted === 'malformed') return MALFORMED
    try {
      // The root's real path is asked every time, with the file's: a root that is a symlink
      // (`current -> releases/42`) may be re-pointed while the server runs.
      const lexical = wanted.segments.length === 0 ? base : base + sep + wanted.segments.join(sep)
      const [top, found] = await Promise.all([maybe(realOf(base)), maybe(realOf(lexical))])
      if (top === undefined || found === undefined || !under(found, top)) return MISSED
      const stats = await maybe(statOf(found))
      if (stats === undefined) return MISSED
      let file: { real: string; stats: Stats; name: string }
      if (stats.isDirectory()) {
        if (index === false) return MISSED
        const ix = await inside(found + sep + index, top)
        if (ix === undefined || !ix.stats.isFile()) return MISSED
        // (after a `path` the rest is empty: a path that ends with a slash is served, not redirected again)
        if (!wanted.slash && !c.path.endsWith('/')) return redirect(c)
        file = { real: ix.real, stats: ix.stats, name: index }
      } else {
        if (wanted.slash || !stats.isFile()) return MISSED
        file = { real: found, stats, name: lexical }
      }
      let chosen: Chosen = { path: file.real, stats: file.stats, name: file.name, encoding: undefined }
      for (const e of accepted(varies ? c.headers['accept-encoding'] : undefined)) {
        const path = file.real + SUFFIX[e]
        const ss = await sibling(path, top)
        if (ss !== undefined && ss.isFile()) {
          chosen = { path, stats: ss, name: file.name, encoding: e }
          break
        }
      }
      return answer(c, chosen, s, varies)
    } catch (error) {
      return failed(error)
    }
  }
  return part(run, OPAQUE, `serveDir('${root}')`)
}

/** True when `path` is `top` or lies under it. */
const under = (path: string, top: string): boolean =>
  path === top || path.startsWith(top.endsWith(sep) ? top : top + sep)

/** 301 to the directory's slash form, query kept; `NoMatch` if that would not be a path on this host. */
const redirect = (c: Conn): Context => {
  const q = c.url.indexOf('?')
  const location = `${c.path}/${q === -1 ? '' : c.url.slice(q)}`
  if (!sameHost(location)) return MISSED
  return {
    _tag: 'Right',
    right: update(c, { status: 301, respHeaders: withHeader(c.respHeaders, 'location', location), respBody: '' }),
  }
}
