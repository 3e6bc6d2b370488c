/**
 * Auth guards: `bearer` (RFC 6750) and `basicAuth` (RFC 7617) read the `Authorization` header,
 * ask your function who it is, and assign the answer or reject with 401 and a challenge.
 *
 * @since 0.2.0
 */
import { type Conn, type Params, assignKey, withAssign } from '../context/conn.js'
import { type Context, type Part, isThenable, left, part, right } from '../context/context.js'
import { unauthorized } from '../context/rejection.js'
import { failure } from './compose.js'

/**
 * What `bearer` accepts: the scheme (`Bearer`), the realm of its challenge, and the assign the
 * verified value goes under (`user`).
 *
 * @category model
 * @since 0.2.0
 */
export interface BearerOptions<K extends string = 'user'> {
  readonly scheme?: string
  readonly realm?: string
  readonly as?: K
}

/**
 * What `basicAuth` accepts: the realm of its challenge (`Restricted`) and the assign the
 * verified value goes under (`user`).
 *
 * @category model
 * @since 0.2.0
 */
export interface BasicAuthOptions<K extends string = 'user'> {
  readonly realm?: string
  readonly as?: K
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/** A realm as an RFC 9110 quoted-string; one a header cannot hold is refused when the guard is made. */
const quoted = (label: string, realm: string): string => {
  if (typeof realm !== 'string') throw new TypeError(`sapwood: ${label}: the realm must be a string`)
  if (/[\r\n]/.test(realm)) throw new TypeError(`sapwood: ${label}: the realm cannot hold a CR or LF`)
  const bad = /[^\t\x20-\x7e\x80-\xff]/.exec(realm)
  if (bad !== null) {
    const code = bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')
    throw new TypeError(
      `sapwood: ${label}: the realm holds U+${code} at index ${bad.index}, which a header cannot hold`,
    )
  }
  return `"${realm.replace(/[\\"]/g, '\\$&')}"`
}

const challenge = (scheme: string, params: readonly string[]): string =>
  params.length === 0 ? scheme : `${scheme} ${params.join(', ')}`

/** The credentials after `scheme` and a space in an Authorization value, or undefined when the scheme differs. */
const credentialsOf = (header: string | undefined, scheme: string): string | undefined => {
  if (header === undefined || header.length <= scheme.length) return undefined
  const sep = header.charCodeAt(scheme.length)
  if (sep !== 32 /* space */ && sep !== 9 /* tab */) return undefined
  if (header.slice(0, scheme.length).toLowerCase() !== scheme.toLowerCase()) return undefined
  return header.slice(scheme.length + 1).replace(/^[ \t]+|[ \t]+$/g, '')
}

/**
 * Runs `verify`, sync or async: its value goes under `key`; `undefined`, `null` or `false` is
 * `refused`; a throw or a rejected promise is a failed handler (500).
 */
const check = (run: () => unknown, c: Conn, key: string, refused: Context): Context | Promise<Context> => {
  const settle = (v: unknown): Context =>
    v === undefined || v === null || v === false ? refused : right(withAssign(c, key, v))
  let out: unknown
  try {
    out = run()
  } catch (error) {
    return failure(error)
  }
  return isThenable(out) ? Promise.resolve(out).then(settle, failure) : settle(out)
}

/**
 * A guard for `Authorization: Bearer <token>` (RFC 6750; the scheme matched case-insensitively):
 * `verify(token, c)`, sync or async, returns who the token belongs to, assigned under `as`
 * (`user`), or `undefined`, `null` or `false` to refuse it. Without a token it rejects with 401
 * and `WWW-Authenticate: Bearer realm="..."`; with a token refused, the challenge adds
 * `error="invalid_token"`. A throw in `verify` is a failed handler (500). Put it after the path
 * filters that lead to what it guards, or in front of a subtree: a request whose path no route
 * of the subtree matches still gets its 404, not a 401.
 *
 * @example
 * import { pipe, prefix, bearer, choose, get, path, handle, ok } from 'sapwood'
 * const users = new Map([['s3cret', { name: 'ada' }]])
 * const admin = pipe(
 *   prefix('/admin'),
 *   bearer((token) => users.get(token), { realm: 'admin' }),
 *   choose([pipe(get, path('/me'), handle((c) => ok(c.assigns.user.name)))]),
 * )
 *
 * @category auth
 * @since 0.2.0
 */
export const bearer = <R, K extends string = 'user'>(
  verify: (token: string, conn: Conn) => R,
  options: BearerOptions<K> = {},
): Part<Conn, Conn<Params, { readonly [k in K]: Exclude<Awaited<R>, null | undefined | false> }>> => {
  if (typeof verify !== 'function') throw new TypeError('sapwood: bearer(verify): verify must be a function')
  const label = `bearer(${verify.name || 'verify'})`
  const scheme = options.scheme ?? 'Bearer'
  if (typeof scheme !== 'string' || !TOKEN.test(scheme)) {
    throw new TypeError(`sapwood: ${label}: the scheme must be a token, not ${JSON.stringify(scheme)}`)
  }
  const key = assignKey(label, options.as ?? 'user')
  const params = options.realm === undefined ? [] : [`realm=${quoted(label, options.realm)}`]
  // RFC 6750 3.1: no error code when the request carried no credentials
  const missing = left(unauthorized(challenge(scheme, params)))
  const invalid = left(unauthorized(challenge(scheme, [...params, 'error="invalid_token"'])))
  return part(
    (c: Conn) => {
      const token = credentialsOf(c.headers['authorization'], scheme)
      if (token === undefined || token === '') return missing
      // a token68 never holds spaces or controls: no need to ask
      if (!/^[\x21-\x7e]+$/.test(token)) return invalid
      return check(() => verify(token, c), c, key, invalid)
    },
    { _tag: 'Opaque' },
    label,
  ) as unknown as Part<Conn, Conn<Params, { readonly [k in K]: Exclude<Awaited<R>, null | undefined | false> }>>
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/
const utf8 = new TextDecoder('utf-8', { fatal: true })

/** RFC 7617 2: neither the user-id nor the password may hold a control character. */
const hasControl = (text: string): boolean => {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 0x20 || code === 0x7f) return true
  }
  return false
}

/** The user-id and password of Basic credentials, or undefined when they are malformed. */
const decodeBasic = (credentials: string): { readonly user: string; readonly password: string } | undefined => {
  if (!BASE64.test(credentials)) return undefined
  let text: string
  try {
    text = utf8.decode(Uint8Array.from(atob(credentials), (ch) => ch.charCodeAt(0)))
  } catch {
    return undefined
  }
  const colon = text.indexOf(':')
  if (colon === -1 || hasControl(text)) return undefined
  return { user: text.slice(0, colon), password: text.slice(colon + 1) }
}

/**
 * A guard for `Authorization: Basic <base64(user:password)>` (RFC 7617, decoded as UTF-8; the
 * password may hold `:`): `verify(user, password, c)`, sync or async, returns who it is, assigned
 * under `as` (`user`), or `undefined`, `null` or `false` to refuse. Missing, malformed or refused
 * credentials reject with 401 and `WWW-Authenticate: Basic realm="Restricted", charset="UTF-8"`;
 * a throw in `verify` is a failed handler (500). Compare passwords in constant time.
 *
 * @example
 * import { pipe, get, path, basicAuth, handle, ok } from 'sapwood'
 * const admin = pipe(
 *   get,
 *   path('/admin'),
 *   basicAuth((user, password) => (user === 'admin' && password === 'open sesame' ? { name: user } : undefined), {
 *     realm: 'Admin',
 *   }),
 *   handle((c) => ok(`hello ${c.assigns.user.name}`)),
 * )
 *
 * @category auth
 * @since 0.2.0
 */
export const basicAuth = <R, K extends string = 'user'>(
  verify: (user: string, password: string, conn: Conn) => R,
  options: BasicAuthOptions<K> = {},
): Part<Conn, Conn<Params, { readonly [k in K]: Exclude<Awaited<R>, null | undefined | false> }>> => {
  if (typeof verify !== 'function') throw new TypeError('sapwood: basicAuth(verify): verify must be a function')
  const label = `basicAuth(${verify.name || 'verify'})`
  const key = assignKey(label, options.as ?? 'user')
  const refused = left(
    unauthorized(challenge('Basic', [`realm=${quoted(label, options.realm ?? 'Restricted')}`, 'charset="UTF-8"'])),
  )
  return part(
    (c: Conn) => {
      const credentials = credentialsOf(c.headers['authorization'], 'Basic')
      const found = credentials === undefined ? undefined : decodeBasic(credentials)
      if (found === undefined) return refused
      return check(() => verify(found.user, found.password, c), c, key, refused)
    },
    { _tag: 'Opaque' },
    label,
  ) as unknown as Part<Conn, Conn<Params, { readonly [k in K]: Exclude<Awaited<R>, null | undefined | false> }>>
}
