/**
 * Filters: Parts that look at the request and pass the Conn on, or reject it with a reason.
 *
 * @since 0.1.0
 */
import Negotiator from 'negotiator'
import { type Conn, withRoute } from '../context/conn.js'
import { type Part, type Shape, left, part, right } from '../context/context.js'
import {
  type Rejection,
  handlerFailed,
  methodNotAllowed,
  noMatch,
  notAcceptable,
  unsupportedMediaType,
} from '../context/rejection.js'
import { requestMediaType, typeMatches } from '../internal/content-type.js'
import { exactMatcher, fromMiss, mergeParams, prefixMatcher, type PathMatcher } from '../internal/pattern.js'
import type { ParamsOf } from '../internal/params.js'
import { callSite } from '../internal/where.js'

/**
 * Passes requests whose method is one of `methods`; otherwise rejects with a provisional
 * `MethodNotAllowed` that becomes `NoMatch` when the rest of the branch cannot match the path.
 *
 * @example
 * import { method } from 'sapwood'
 * const reads = method('GET', 'HEAD')
 *
 * @category filters
 * @since 0.1.0
 */
export const method = (...methods: readonly string[]): Part<Conn, Conn> => {
  if (methods.length === 0) throw new TypeError('sapwood: method() needs at least one method name')
  const allow = methods.map((m) => m.toUpperCase())
  const only = allow.length === 1 ? allow[0] : undefined
  // provisional: the enclosing pipe turns it into NoMatch where the path cannot match
  const no = left(methodNotAllowed(allow))
  return part(
    only !== undefined
      ? (c: Conn) => (c.method === only ? right(c) : no)
      : (c: Conn) => (allow.includes(c.method) ? right(c) : no),
    { _tag: 'Method', methods: allow },
    only === undefined ? `method(${allow.join(', ')})` : only === 'DELETE' ? 'del' : only.toLowerCase(),
  )
}

/**
 * Passes GET requests. HEAD requests are answered by GET branches too, without a body.
 *
 * @example
 * import { pipe, get, path, ok } from 'sapwood'
 * pipe(get, path('/'), ok('home'))
 *
 * @category filters
 * @since 0.1.0
 */
export const get: Part<Conn, Conn> = method('GET')
/**
 * Passes POST requests.
 *
 * @example
 * import { pipe, post, path, created } from 'sapwood'
 * pipe(post, path('/users'), created('{}'))
 *
 * @category filters
 * @since 0.1.0
 */
export const post: Part<Conn, Conn> = method('POST')
/**
 * Passes PUT requests.
 *
 * @example
 * import { pipe, put, path, noContent } from 'sapwood'
 * pipe(put, path('/users/:id'), noContent())
 *
 * @category filters
 * @since 0.1.0
 */
export const put: Part<Conn, Conn> = method('PUT')
/**
 * Passes PATCH requests.
 *
 * @example
 * import { pipe, patch, path, ok } from 'sapwood'
 * pipe(patch, path('/users/:id'), ok('patched'))
 *
 * @category filters
 * @since 0.1.0
 */
export const patch: Part<Conn, Conn> = method('PATCH')
/**
 * Passes DELETE requests (`delete` is a reserved word: `sap.delete` is the same filter).
 *
 * @example
 * import { pipe, del, path, noContent } from 'sapwood'
 * pipe(del, path('/users/:id'), noContent())
 *
 * @category filters
 * @since 0.1.0
 */
export const del: Part<Conn, Conn> = method('DELETE')
/**
 * Passes HEAD requests; an explicit HEAD branch overrides the automatic one.
 *
 * @example
 * import { pipe, head, path, ok } from 'sapwood'
 * pipe(head, path('/ping'), ok())
 *
 * @category filters
 * @since 0.1.0
 */
export const head: Part<Conn, Conn> = method('HEAD')
/**
 * Passes OPTIONS requests; an explicit OPTIONS branch overrides the automatic 204.
 *
 * @example
 * import { pipe, options, path, setHeader, noContent } from 'sapwood'
 * pipe(options, path('/api'), setHeader('allow', 'GET'), noContent())
 *
 * @category filters
 * @since 0.1.0
 */
export const options: Part<Conn, Conn> = method('OPTIONS')
/**
 * Passes TRACE requests.
 *
 * @example
 * import { pipe, trace, path, ok } from 'sapwood'
 * pipe(trace, path('/echo'), ok())
 *
 * @category filters
 * @since 0.1.0
 */
export const trace: Part<Conn, Conn> = method('TRACE')

const pathPart = <S extends string>(
  matcher: PathMatcher,
  label: string,
  declared: () => string,
): Part<Conn, Conn<ParamsOf<S>>> =>
  part(
    (c: Conn) => {
      const m = matcher.match(c.rest)
      if (typeof m === 'string') return left(fromMiss(m))
      return right(withRoute(c, mergeParams(c.params, m.params), m.rest))
    },
    { _tag: 'Path', pattern: matcher.pattern, mode: matcher.mode, match: matcher.match, declared },
    label,
  ) as unknown as Part<Conn, Conn<ParamsOf<S>>>

/**
 * Passes requests whose remaining path matches `pattern` exactly (find-my-way syntax: `:name`,
 * `:name(regex)`, a trailing `*`), and captures its params, percent-decoded once. Inside a
 * `prefix`, the pattern is relative. A malformed escape rejects with `BadRequest` (400), a
 * param longer than 100 characters does not match (when no branch matches, the app answers 414).
 *
 * @example
 * import { pipe, get, path, handle, json } from 'sapwood'
 * pipe(get, path('/users/:id'), handle((c) => json({ id: c.params.id })))
 *
 * @category filters
 * @since 0.1.0
 */
export const path = <S extends string>(pattern: S): Part<Conn, Conn<ParamsOf<S>>> =>
  pathPart<S>(exactMatcher(pattern), `path('${pattern}')`, callSite())

/**
 * Passes requests whose remaining path starts with the whole segments of `pattern`, consumes
 * them, and captures their params: the `path` filters nested after it are relative to it
 * (like Akka's `pathPrefix`).
 *
 * @example
 * import { pipe, prefix, choose, path, get, ok } from 'sapwood'
 * pipe(prefix('/api'), choose([pipe(get, path('/status'), ok('up'))])) // GET /api/status
 *
 * @category filters
 * @since 0.1.0
 */
export const prefix = <S extends string>(pattern: S): Part<Conn, Conn<ParamsOf<S>>> =>
  pathPart<S>(prefixMatcher(pattern), `prefix('${pattern}')`, callSite())

/**
 * Passes requests for which `predicate` holds; otherwise rejects with `rejection` (`NoMatch` by default).
 *
 * @example
 * import { filter } from 'sapwood'
 * const local = filter((c) => c.headers['x-forwarded-for'] === undefined)
 *
 * @category filters
 * @since 0.1.0
 */
export const filter = (predicate: (conn: Conn) => boolean, rejection: Rejection = noMatch): Part<Conn, Conn> =>
  guard(predicate, rejection, 'any', `filter(${predicate.name || 'predicate'})`, true)

/** A filter whose shape tells the compiler what it may reject with and what it reads. */
const guard = (
  predicate: (conn: Conn) => boolean,
  rejection: Rejection,
  reads: 'request' | 'any',
  label: string,
  throws = false,
): Part<Conn, Conn> => {
  const shape: Shape = {
    _tag: 'Guard',
    reads,
    test: predicate,
    rejection,
    throws,
  }
  const no = left(rejection)
  return part(
    (c: Conn) => {
      try {
        return predicate(c) ? right(c) : no
      } catch (error) {
        return left(handlerFailed(error))
      }
    },
    shape,
    label,
  )
}

type Expect = string | ((value: string) => boolean)

const test = (expect: Expect, value: string | undefined): boolean =>
  value !== undefined && (typeof expect === 'string' ? value === expect : expect(value))

/**
 * Passes requests whose `Host` (without port, case-insensitive) equals `name`; otherwise `NoMatch`.
 *
 * @example
 * import { pipe, host, ok } from 'sapwood'
 * pipe(host('api.example.com'), ok('api'))
 *
 * @category filters
 * @since 0.1.0
 */
export const host = (name: string): Part<Conn, Conn> => {
  const want = name.toLowerCase()
  return guard(
    (c) => {
      const h = c.headers['host']
      if (h === undefined) return false
      const colon = h.startsWith('[') ? h.indexOf(':', h.indexOf(']')) : h.indexOf(':')
      return (colon === -1 ? h : h.slice(0, colon)).toLowerCase() === want
    },
    noMatch,
    'request',
    `host('${name}')`,
  )
}

/**
 * Passes requests that carry header `name` equal to `value` or satisfying the predicate; otherwise `NoMatch`.
 *
 * @example
 * import { pipe, header, ok } from 'sapwood'
 * pipe(header('x-api-version', '2'), ok('v2'))
 *
 * @category filters
 * @since 0.1.0
 */
export const header = (name: string, expect: Expect): Part<Conn, Conn> => {
  const key = name.toLowerCase()
  return guard(
    (c) => test(expect, c.headers[key]),
    noMatch,
    'request',
    `header('${key}')`,
    typeof expect === 'function',
  )
}

/**
 * Passes requests whose query parameter `name` (its first value) equals `value` or satisfies
 * the predicate; otherwise `NoMatch`.
 *
 * @example
 * import { pipe, query, ok } from 'sapwood'
 * pipe(query('format', 'csv'), ok('a,b'))
 *
 * @category filters
 * @since 0.1.0
 */
export const query = (name: string, expect: Expect): Part<Conn, Conn> =>
  guard(
    (c) => {
      const v = c.query[name]
      return test(expect, typeof v === 'string' || v === undefined ? v : v[0])
    },
    noMatch,
    'request',
    `query('${name}')`,
    typeof expect === 'function',
  )

/**
 * Passes requests whose `Accept` header allows `type` (q-values and wildcards honoured; no
 * header accepts anything); otherwise rejects with `NotAcceptable` (406).
 *
 * @example
 * import { pipe, accepts, respJson, ok } from 'sapwood'
 * pipe(accepts('application/json'), respJson, ok('{}'))
 *
 * @category filters
 * @since 0.1.0
 */
export const accepts = (type: string): Part<Conn, Conn> => {
  const available = [type.toLowerCase()]
  const rejection = notAcceptable(available)
  return guard(
    (c) => {
      const accept = c.headers['accept']
      if (accept === undefined || accept === '') return true
      return new Negotiator({ headers: { accept } }).mediaTypes(available).length > 0
    },
    rejection,
    'request',
    `accepts('${type}')`,
  )
}

/**
 * Passes requests whose `Content-Type` is `type` (parameters ignored; `text/*` and `+json`
 * suffixes understood); otherwise rejects with `UnsupportedMediaType` (415). The header is read
 * strictly (RFC 9110): a missing or malformed one (`application/json; charset=utf-8 garbage`)
 * names no type, and is refused too.
 *
 * @example
 * import { pipe, post, contentType, ok } from 'sapwood'
 * pipe(post, contentType('application/json'), ok())
 *
 * @category filters
 * @since 0.1.0
 */
export const contentType = (type: string): Part<Conn, Conn> => {
  const want = type.toLowerCase()
  const rejection = unsupportedMediaType([want])
  return guard(
    (c) => {
      // the request's one parsed media type, which the body decoders read too
      const got = requestMediaType(c)
      return got !== undefined && typeMatches(want, got.type)
    },
    rejection,
    'request',
    `contentType('${type}')`,
  )
}
