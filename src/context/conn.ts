/**
 * The Conn: one immutable record of a request and of the response drafted for it so far.
 *
 * @since 0.1.0
 */
import { parseCookie } from 'cookie'
import { canonicalPath } from '../internal/canonical-path.js'
import type { BodySource } from './body-source.js'
import type { Body } from './response-body.js'

export type { Body } from './response-body.js'

/**
 * Path parameters captured by `path` and `prefix`, decoded once: any name, which may be
 * missing. Inside a tree, `c.params` is typed more closely: the names the patterns before a
 * Part gave, each a string (see `Conn`).
 *
 * @category model
 * @since 0.1.0
 */
export interface Params {
  readonly [name: string]: string | undefined
}

/**
 * Values that combinators and handlers attach to a Conn with `assign` (Sap's `set_user_data`):
 * any key, of unknown type. Inside a tree, `c.assigns` has the keys assigned before a Part,
 * each with its type (see `Conn`).
 *
 * @category model
 * @since 0.1.0
 */
export interface Assigns {
  readonly [key: string]: unknown
}

/**
 * Request headers: lower-case names, null prototype; a header the client did not send is missing.
 *
 * @category model
 * @since 0.1.0
 */
export type RequestHeaders = Readonly<Record<string, string | undefined>>

/**
 * The query string parsed into a null-prototype record; a repeated name gives an array.
 *
 * @category model
 * @since 0.1.0
 */
export type Query = Readonly<Record<string, string | readonly string[] | undefined>>

/**
 * The request cookies by name, parsed from the `Cookie` header into a record that inherits no
 * key (`c.cookies['constructor']` is `undefined`); a cookie the client did not send is missing.
 *
 * @category model
 * @since 0.2.0
 */
export type Cookies = Readonly<Record<string, string | undefined>>

/**
 * Response headers drafted so far: lower-case names; several values (e.g. `set-cookie`) as an array.
 *
 * @category model
 * @since 0.1.0
 */
export type ResponseHeaders = Readonly<Record<string, string | readonly string[]>>

/**
 * The immutable request/response record that every Part receives. `P` types the path params
 * and `A` the assigns that the Parts before it established: in `pipe(get, path('/todos/:id'),
 * handle((c) => ...))`, `c` is a `Conn<{ readonly id: string }, {}, unknown>`, inside a `choose` after the
 * path too, and `c.params.idd` is a type error. A plain `Conn` allows any name, maybe missing.
 *
 * A handler written apart from its pipe says what it needs with the same type, on its
 * parameter: `Conn<{ id: string }>` needs an `id` param, `Conn<Params, { user: User }>` a `user`
 * assign. `pipe` accepts it where the Parts before it establish these, and refuses it elsewhere.
 * A type rather than a `handler<P>(fn)` helper: nothing more to import or learn, and it serves
 * `handle` and `recover` alike. To unit-test such a handler, call the branch that gives it its
 * params (`pipe(path('/todos/:id'), handle(showTodo))`) on a test Conn.
 *
 * @example
 * import { pipe, get, path, handle, ok, type Conn } from 'sapwood'
 * import { conn } from 'sapwood/testing'
 * const req = conn('GET', '/users/42?sort=asc')
 * req.path // '/users/42'
 * req.query.sort // 'asc'
 *
 * const showTodo = (c: Conn<{ id: string }>) => ok(`todo ${c.params.id}`)
 * pipe(get, path('/todos/:id'), handle(showTodo)) // accepted
 * // pipe(get, path('/todos'), handle(showTodo)) would not compile: no pattern gives an `id`
 *
 * @category model
 * @since 0.1.0
 */
export interface Conn<P extends Params = Params, A extends Assigns = Assigns, B = unknown> {
  /** The request method, upper-case. */
  readonly method: string
  /**
   * The request target: its path in canonical form (as `path`), then the query string as received.
   */
  readonly url: string
  /**
   * The path part of the target in canonical form, the same through every adapter: `\` read as
   * `/`, dot segments (`.`, `..`, `%2e`) resolved, what a URL encodes percent-encoded, and the
   * client's escapes kept (params are decoded, once). A path with a broken escape, escaped NUL or
   * `//` is kept too, and every path filter rejects it with 400.
   */
  readonly path: string
  /** The part of `path` that `prefix` filters have not consumed yet. */
  readonly rest: string
  /** The path params: with `P` known, exactly its names (a name no pattern gave is a type error). */
  readonly params: P
  /** Parsed on first access. */
  readonly query: Query
  readonly headers: RequestHeaders
  /** What `assign` attached: with `A` known, exactly its keys and their types. */
  readonly assigns: A
  /** The decoded request body, once a body decoder (`jsonBody`, `formBody`, ...) has run: with `B` known, its type. */
  readonly body: B
  /** The request cookies (`Cookie` header), parsed on first access; a record that inherits no key. */
  readonly cookies: Cookies
  readonly status: number
  readonly respHeaders: ResponseHeaders
  readonly respBody: Body
  /** Where the raw request body is read from. */
  readonly source: BodySource
  /**
   * Fires when the client goes away before its answer is complete (made on first access: an
   * app that never reads it pays nothing). Streams and long handlers stop on it.
   */
  readonly signal: AbortSignal
}

/**
 * What an adapter knows about a request when it builds the first Conn.
 *
 * @category model
 * @since 0.1.0
 */
export interface ConnInit {
  readonly method: string
  readonly url: string
  /**
   * The request's headers (names lower-case, null prototype), or a function that makes them,
   * called on the first read of `c.headers` (an adapter whose runtime keeps the headers
   * elsewhere makes no record for an app that reads none). The function must give the same
   * record every time it is called.
   */
  readonly headers: RequestHeaders | (() => RequestHeaders)
  readonly source?: BodySource
}

const EMPTY: Readonly<Record<string, never>> = Object.freeze(Object.create(null) as Record<string, never>)

// Shared by every Conn built without a source: stateless, since a ChunkedBody remembers its readers.
let never: AbortController | undefined
const NO_BYTES = new Uint8Array(0)
const NO_BODY: BodySource = Object.freeze({
  length: 0,
  parsed: undefined,
  read: () => Promise.resolve(NO_BYTES),
  whenDone: () => undefined,
  stream: async function* () {},
  // made on first use: a Worker refuses an AbortController made while its module loads
  get signal(): AbortSignal {
    return (never ??= new AbortController()).signal
  },
})

const parseQuery = (search: string): Query => {
  const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>
  if (search === '') return out
  for (const [key, value] of new URLSearchParams(search)) {
    const seen = out[key]
    if (seen === undefined) out[key] = value
    else if (typeof seen === 'string') out[key] = [seen, value]
    else seen.push(value)
  }
  return out
}

// A class rather than object spread: every Conn shares one hidden class, and the query is
// parsed only when a Part reads it (eager query parsing and spreads cost time on every request).
class ConnRecord implements Conn {
  /** @internal the parsed query, once read (a plain field: private fields cost per Conn made) */
  parsed: Query | undefined
  /** @internal the parsed cookies, once read */
  jar: Cookies | undefined
  constructor(
    readonly method: string,
    readonly url: string,
    readonly path: string,
    readonly rest: string,
    readonly params: Params,
    /** @internal the headers, or what makes them on first read (see `ConnInit`) */
    hdrs: RequestHeaders | (() => RequestHeaders),
    readonly assigns: Assigns,
    readonly body: unknown,
    readonly status: number,
    readonly respHeaders: ResponseHeaders,
    readonly respBody: Body,
    readonly source: BodySource,
    query: Query | undefined,
    /** @internal what the tree above set for the Parts under it (see `Settings`) */
    readonly settings: Settings,
    cookies: Cookies | undefined,
  ) {
    this.parsed = query
    this.jar = cookies
    this.hdrs = hdrs
  }

  /** @internal see the constructor (a plain field: private fields cost per Conn made) */
  hdrs: RequestHeaders | (() => RequestHeaders)

  get headers(): RequestHeaders {
    const h = this.hdrs
    if (typeof h !== 'function') return h
    const made = h()
    this.hdrs = made
    return made
  }

  get query(): Query {
    if (this.parsed === undefined) {
      // The query ends at a fragment, as the path does; a `?` inside the fragment starts none.
      const url = this.url
      const q = url.indexOf('?')
      const hash = url.indexOf('#')
      this.parsed =
        q === -1 || (hash !== -1 && hash < q) ? EMPTY : parseQuery(url.slice(q + 1, hash === -1 ? url.length : hash))
    }
    return this.parsed
  }

  get cookies(): Cookies {
    if (this.jar === undefined) {
      const header = this.headers['cookie']
      this.jar = header === undefined || header === '' ? EMPTY : parseCookie(header)
    }
    return this.jar
  }

  get signal(): AbortSignal {
    return this.source.signal
  }
}

/**
 * A request target in absolute form (`http://host/path?q`, as sent to proxies) as its path and
 * query, so that every path filter and the trie read the same path; anything else unchanged.
 */
const originForm = (url: string): string => {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return url
  try {
    const u = new URL(url)
    return u.pathname + u.search
  } catch {
    return url
  }
}

/**
 * Builds the first Conn of a request: status 200, no response headers, no body.
 *
 * @category constructors
 * @since 0.1.0
 */
export const makeConn = (init: ConnInit): Conn => {
  const target = init.url.charCodeAt(0) === 47 /* / */ ? init.url : originForm(init.url)
  // The path ends at the query or at a fragment (which no client should send, but one may).
  let end = target.indexOf('?')
  const hash = target.indexOf('#')
  if (hash !== -1 && (end === -1 || hash < end)) end = hash
  const raw = end === -1 ? target : target.slice(0, end)
  // one canonical path for every consumer, whatever the adapter did or did not normalise
  const path = canonicalPath(raw)
  const url = path === raw ? target : end === -1 ? path : path + target.slice(end)
  return new ConnRecord(
    init.method.toUpperCase(),
    url,
    path,
    path,
    EMPTY,
    init.headers,
    EMPTY,
    undefined,
    200,
    EMPTY,
    null,
    init.source ?? NO_BODY,
    undefined,
    NO_SETTINGS,
    undefined,
  )
}

/** What a copy of a Conn carries as its headers: not yet made ones stay so (one record for all). */
const headersOf = (c: Conn): RequestHeaders | (() => RequestHeaders) => (c instanceof ConnRecord ? c.hdrs : c.headers)

/**
 * The fields a Part may change on a Conn; every other field is carried over.
 *
 * @category model
 * @since 0.1.0
 */
export interface ConnPatch {
  readonly method?: string
  readonly rest?: string
  readonly params?: Params
  readonly assigns?: Assigns
  readonly body?: unknown
  readonly status?: number
  readonly respHeaders?: ResponseHeaders
  readonly respBody?: Body
}

/**
 * Returns a new Conn with the patched fields; the given Conn is left untouched.
 *
 * @example
 * import { update } from 'sapwood'
 * import { conn } from 'sapwood/testing'
 * update(conn('GET', '/'), { status: 201 }).status // 201
 *
 * @category combinators
 * @since 0.1.0
 */
export const update = <C extends Conn>(c: C, patch: ConnPatch): C => {
  return new ConnRecord(
    patch.method ?? c.method,
    c.url,
    c.path,
    patch.rest ?? c.rest,
    patch.params ?? c.params,
    headersOf(c),
    patch.assigns ?? c.assigns,
    'body' in patch ? patch.body : c.body,
    patch.status ?? c.status,
    patch.respHeaders ?? c.respHeaders,
    patch.respBody === undefined ? c.respBody : patch.respBody,
    c.source,
    (c as unknown as ConnRecord).parsed,
    (c as unknown as ConnRecord).settings,
    (c as unknown as ConnRecord).jar,
  ) as unknown as C
}

/**
 * @internal The one copy the hot path makes: routing (params, rest) and response draft
 * (status, headers, body) replaced, everything else carried over, no patch object read.
 */
export const withDraft = <C extends Conn>(
  c: C,
  params: Params,
  rest: string,
  status: number,
  respHeaders: ResponseHeaders,
  respBody: Body,
): C => {
  const r = c as unknown as ConnRecord
  return new ConnRecord(
    r.method,
    r.url,
    r.path,
    rest,
    params,
    headersOf(r),
    r.assigns,
    r.body,
    status,
    respHeaders,
    respBody,
    r.source,
    r.parsed,
    r.settings,
    r.jar,
  ) as unknown as C
}

/** @internal `key` when it may name an assign (a non-empty string); else a TypeError naming the Part */
export const assignKey = (label: string, key: unknown): string => {
  if (typeof key !== 'string' || key === '') throw new TypeError(`sapwood: ${label}: \`as\` must be a non-empty string`)
  return key
}

/** @internal a copy with one more assign (a new null-prototype record: the given Conn keeps its own) */
export const withAssign = <C extends Conn>(c: C, key: string, value: unknown): C => {
  const out = Object.create(null) as Record<string, unknown>
  for (const k in c.assigns) out[k] = c.assigns[k]
  out[key] = value
  return update(c, { assigns: out })
}

/** @internal a path filter's copy: new params and rest */
export const withRoute = <C extends Conn>(c: C, params: Params, rest: string): C =>
  withDraft(c, params, rest, c.status, c.respHeaders, c.respBody)

/** @internal a status builder's copy: status and body */
export const withStatusBody = <C extends Conn>(c: C, status: number, respBody: Body): C =>
  withDraft(c, c.params, c.rest, status, c.respHeaders, respBody)

/**
 * True when a value is a Conn built by sapwood.
 *
 *
 * @example
 * import { isConn } from 'sapwood'
 * import { conn } from 'sapwood/testing'
 * isConn(conn('GET', '/')) // true
 *
 * @category guards
 * @since 0.1.0
 */
export const isConn = (u: unknown): u is Conn => u instanceof ConnRecord

/**
 * @internal What a subtree sets for the Parts under it, carried by every copy of the Conn and
 * never sent: the default limit of body decoders (`bodyLimit`) and the response serializers
 * that `json` uses (`responds`). One field for all of them: a copy of the Conn copies one reference.
 */
export interface Settings {
  /** The limit of body decoders that do not set their own, in bytes. */
  readonly bodyLimit?: number
  /** The serializer for a status, when a schema was declared for it (`responds`). */
  readonly serializerFor?: (status: number) => ((value: unknown) => string) | undefined
}

const NO_SETTINGS: Settings = Object.freeze({})

/** @internal the settings a Conn carries */
export const settingsOf = (c: Conn): Settings => (c as unknown as ConnRecord).settings

/**
 * @internal A function that copies a Conn with the settings `make` derives from the Conn's own.
 * The settings made are kept for the last settings seen (the usual case: every request comes in
 * with the same, the root's), so a request pays one Conn copy and no settings object.
 */
export const settingsWriter = (make: (outer: Settings) => Settings): (<C extends Conn>(c: C) => C) => {
  let lastOuter: Settings | undefined
  let lastMade: Settings = NO_SETTINGS
  return <C extends Conn>(c: C): C => {
    const r = c as unknown as ConnRecord
    if (r.settings !== lastOuter) {
      lastMade = Object.freeze(make(r.settings))
      lastOuter = r.settings
    }
    return new ConnRecord(
      r.method,
      r.url,
      r.path,
      r.rest,
      r.params,
      headersOf(r),
      r.assigns,
      r.body,
      r.status,
      r.respHeaders,
      r.respBody,
      r.source,
      r.parsed,
      lastMade,
      r.jar,
    ) as unknown as C
  }
}

/** A shared empty null-prototype record. @internal */
export const emptyRecord = EMPTY

/** @internal true when nothing has been drafted on the Conn yet, and nothing set would change a draft */
export const isUndrafted = (c: Conn): boolean =>
  c.status === 200 &&
  c.respHeaders === EMPTY &&
  c.respBody === null &&
  // under response schemas, a response drafted ahead (without them) would not be the same
  (c as unknown as ConnRecord).settings.serializerFor === undefined
