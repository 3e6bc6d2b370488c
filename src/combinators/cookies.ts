/**
 * Cookies: `Set-Cookie` writers, and cookies signed with HMAC-SHA256 so that a client cannot
 * forge or alter them. The request's cookies are `c.cookies`.
 *
 * @since 0.2.0
 */
import { type SetCookie, stringifySetCookie } from 'cookie'
import { type Conn, type Params, assignKey, update, withAssign } from '../context/conn.js'
import { type Part, makeBuilder, part, right } from '../context/context.js'
import { withHeader } from '../internal/headers.js'
import { failure } from './compose.js'

/**
 * The attributes of a `Set-Cookie` header (RFC 6265bis). `maxAge` is in seconds.
 *
 * @category model
 * @since 0.2.0
 */
export interface CookieAttributes {
  readonly maxAge?: number
  readonly expires?: Date
  readonly domain?: string
  readonly path?: string
  readonly secure?: boolean
  readonly httpOnly?: boolean
  readonly sameSite?: 'strict' | 'lax' | 'none'
  /** CHIPS: the cookie is kept apart per top-level site; needs `secure`. */
  readonly partitioned?: boolean
  readonly priority?: 'low' | 'medium' | 'high'
}

/**
 * What `signedCookie` accepts: the assign the verified value goes under (the cookie's name by default).
 *
 * @category model
 * @since 0.2.0
 */
export interface SignedCookieOptions<K extends string> {
  readonly as?: K
}

// RFC 6265 cookie-name: an RFC 9110 token (the `cookie` package accepts more, which some
// clients split differently).
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
// Browsers drop a cookie whose name and value together exceed 4096 bytes (RFC 6265bis 5.6).
const MAX_PAIR = 4096
// base64url of the 32 bytes of an HMAC-SHA256, unpadded; the last character carries 4 bits, so
// only 16 letters can end it (the others would be a second spelling of the same signature).
const SIGNATURE = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/
const SIGNED_EXTRA = 44 // '.' and the 43 characters of the signature

const ATTRIBUTES = [
  'maxAge',
  'expires',
  'domain',
  'path',
  'secure',
  'httpOnly',
  'sameSite',
  'partitioned',
  'priority',
] as const

const checkName = (label: string, name: string): void => {
  if (typeof name !== 'string' || !TOKEN.test(name)) {
    throw new TypeError(
      `sapwood: ${label}: the cookie name must be a token (letters, digits and !#$%&'*+-.^_\`|~), not ${JSON.stringify(name)}`,
    )
  }
}

const checkValue = (label: string, value: string): void => {
  if (typeof value !== 'string') {
    throw new TypeError(`sapwood: ${label}: the cookie value must be a string, not ${typeof value}`)
  }
  // a lone surrogate cannot be percent-encoded as UTF-8
  const lone = /\p{Cs}/u.exec(value)
  if (lone !== null) {
    throw new TypeError(`sapwood: ${label}: the cookie value holds a lone surrogate at index ${lone.index}`)
  }
}

/** The attributes as the `cookie` package's record, copied (later changes to the caller's object do not count). */
const attributesOf = (name: string, value: string, attributes: CookieAttributes): SetCookie => {
  const out: Record<string, unknown> = { name, value }
  for (const k of ATTRIBUTES) if (attributes[k] !== undefined) out[k] = attributes[k]
  return out as unknown as SetCookie
}

// The rules browsers enforce by dropping the cookie silently: refused here, when the Part is made.
const checkRules = (label: string, sc: SetCookie): void => {
  const lower = sc.name.toLowerCase()
  // prefixes are matched case-insensitively (RFC 6265bis 4.1.3), as browsers now do
  if ((lower.startsWith('__secure-') || lower.startsWith('__host-')) && sc.secure !== true) {
    throw new TypeError(`sapwood: ${label}: a cookie named "${sc.name}" needs secure: true`)
  }
  if (lower.startsWith('__host-') && (sc.path !== '/' || sc.domain !== undefined)) {
    throw new TypeError(`sapwood: ${label}: a cookie named "${sc.name}" needs path: '/' and no domain`)
  }
  if (sc.sameSite === 'none' && sc.secure !== true) {
    throw new TypeError(`sapwood: ${label}: sameSite: 'none' needs secure: true`)
  }
  if (sc.partitioned === true && sc.secure !== true) {
    throw new TypeError(`sapwood: ${label}: partitioned needs secure: true`)
  }
}

/** The `Set-Cookie` value; `extra` counts characters a signature will add to the value. */
const format = (label: string, sc: SetCookie, extra = 0): string => {
  let line: string
  try {
    line = stringifySetCookie(sc)
  } catch (error) {
    throw new TypeError(`sapwood: ${label}: ${(error as Error).message}`)
  }
  const semi = line.indexOf(';')
  const pair = (semi === -1 ? line.length : semi) + extra
  if (pair > MAX_PAIR) {
    throw new TypeError(
      `sapwood: ${label}: the cookie's name and encoded value are ${pair} bytes; browsers drop cookies over ${MAX_PAIR}`,
    )
  }
  return line
}

const appendSetCookie = (c: Conn, line: string): Conn => {
  const had = c.respHeaders['set-cookie']
  const next = had === undefined ? line : typeof had === 'string' ? [had, line] : [...had, line]
  return update(c, { respHeaders: withHeader(c.respHeaders, 'set-cookie', next) })
}

/**
 * Adds a `Set-Cookie` header; several cookies give several headers. The value is
 * percent-encoded where a cookie cannot hold it (`c.cookies` decodes it). An invalid name or
 * attribute, a prefix's rule broken (`__Secure-` needs `secure`, `__Host-` needs `secure`,
 * `path: '/'` and no `domain`), `sameSite: 'none'` or `partitioned` without `secure`, or a
 * cookie over 4096 bytes throws a TypeError when the Part is made.
 *
 * @example
 * import { pipe, post, path, setCookie, ok } from 'sapwood'
 * pipe(post, path('/theme'), setCookie('theme', 'dark', { path: '/', maxAge: 86400, sameSite: 'lax' }), ok())
 *
 * @category cookies
 * @since 0.2.0
 */
export const setCookie = (name: string, value: string, attributes: CookieAttributes = {}): Part<Conn, Conn> => {
  const label = `setCookie('${String(name)}')`
  checkName(label, name)
  checkValue(label, value)
  const sc = attributesOf(name, value, attributes)
  checkRules(label, sc)
  const line = format(label, sc)
  return makeBuilder((c) => appendSetCookie(c, line), label, 'response', false)
}

/**
 * Tells the client to delete a cookie: a `Set-Cookie` with an empty value, `Max-Age=0` and an
 * `Expires` in the past. Give the `path` and `domain` the cookie was set with (and, for a
 * `__Host-` or `__Secure-` cookie, `secure`), or the client keeps it.
 *
 * @example
 * import { pipe, post, path, clearCookie, noContent } from 'sapwood'
 * pipe(post, path('/logout'), clearCookie('session', { path: '/' }), noContent())
 *
 * @category cookies
 * @since 0.2.0
 */
export const clearCookie = (
  name: string,
  attributes: Omit<CookieAttributes, 'maxAge' | 'expires'> = {},
): Part<Conn, Conn> => {
  const label = `clearCookie('${String(name)}')`
  checkName(label, name)
  const sc = attributesOf(name, '', attributes)
  sc.maxAge = 0
  sc.expires = new Date(0)
  checkRules(label, sc)
  const line = format(label, sc)
  return makeBuilder((c) => appendSetCookie(c, line), label, 'response', false)
}

// ---------------------------------------------------------------------------------------------
// signed cookies: Web Crypto only, so that the module runs wherever `crypto.subtle` does

type CryptoKeyOf = Awaited<ReturnType<typeof globalThis.crypto.subtle.importKey>>

const encoder = new TextEncoder()
const imported = new Map<string, Promise<CryptoKeyOf>>()

/** The HMAC key of a secret, imported once per secret whichever Part asks. */
const keyFor = (secret: string): Promise<CryptoKeyOf> => {
  let key = imported.get(secret)
  if (key === undefined) {
    key = globalThis.crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
      'verify',
    ])
    imported.set(secret, key)
  }
  return key
}

const checkKeys = (label: string, keys: readonly string[]): readonly string[] => {
  const given = keys
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new TypeError(`sapwood: ${label}: keys must be a non-empty array of secrets (the first signs, any verifies)`)
  }
  for (const [i, k] of keys.entries()) {
    if (typeof k !== 'string' || k === '') {
      throw new TypeError(`sapwood: ${label}: key ${i + 1} must be a non-empty string`)
    }
  }
  return Object.freeze(given.slice())
}

// The MAC covers the name too: a value signed for one cookie is refused under another name.
const signed = (name: string, value: string): Uint8Array => encoder.encode(`${name}=${value}`)

const toBase64url = (bytes: Uint8Array): string => {
  let binary = ''
  for (const b of bytes) binary += String.fromCharCode(b)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

const fromBase64url = (text: string): Uint8Array =>
  Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/') + '='), (ch) => ch.charCodeAt(0))

const sign = async (secret: string, name: string, value: string): Promise<string> => {
  const mac = await globalThis.crypto.subtle.sign('HMAC', await keyFor(secret), signed(name, value))
  return toBase64url(new Uint8Array(mac))
}

/** True when some key verifies the signature (`subtle.verify` compares in constant time). */
const verifies = async (
  keys: readonly string[],
  name: string,
  value: string,
  signature: Uint8Array,
): Promise<boolean> => {
  const data = signed(name, value)
  for (const secret of keys) {
    if (await globalThis.crypto.subtle.verify('HMAC', await keyFor(secret), signature, data)) return true
  }
  return false
}

/**
 * Adds a `Set-Cookie` header whose value is signed: `value.signature`, an HMAC-SHA256 (base64url)
 * of the name and value with the first of `keys`. Read it back with `signedCookie`. The value is
 * readable by the client, only not changeable: keep secrets out of it. Errors as `setCookie`,
 * and an empty key list, throw when the Part is made.
 *
 * @example
 * import { pipe, post, path, handle, setSignedCookie } from 'sapwood'
 * const keys = [process.env['COOKIE_SECRET'] ?? 'change me']
 * pipe(post, path('/login'), handle(() => setSignedCookie('session', 'user-42', keys, { path: '/', httpOnly: true })))
 *
 * @category cookies
 * @since 0.2.0
 */
export const setSignedCookie = (
  name: string,
  value: string,
  keys: readonly string[],
  attributes: CookieAttributes = {},
): Part<Conn, Conn> => {
  const label = `setSignedCookie('${String(name)}')`
  checkName(label, name)
  checkValue(label, value)
  const secrets = checkKeys(label, keys)
  const sc = attributesOf(name, value, attributes)
  checkRules(label, sc)
  format(label, sc, SIGNED_EXTRA)
  // signed once, on first use: the value is known already
  let line: Promise<string> | undefined
  return part(
    (c: Conn) => {
      line ??= sign(secrets[0]!, name, value).then((signature) =>
        format(label, { ...sc, value: `${value}.${signature}` }),
      )
      return line.then((l) => right(appendSetCookie(c, l)), failure)
    },
    { _tag: 'Opaque' },
    label,
  )
}

/** The value and signature of a `value.signature` cookie, or undefined when it is not one. */
const split = (raw: string): { readonly value: string; readonly signature: Uint8Array } | undefined => {
  const dot = raw.lastIndexOf('.')
  if (dot === -1) return undefined
  const sig = raw.slice(dot + 1)
  if (!SIGNATURE.test(sig)) return undefined
  return { value: raw.slice(0, dot), signature: fromBase64url(sig) }
}

/**
 * Reads cookie `name`, signed by `setSignedCookie` with one of `keys`, and assigns its value
 * under `as` (the cookie's name by default): `undefined` when the cookie is missing, unsigned,
 * altered or signed with no key of the list. It never rejects. Put the new key first and keep
 * the old ones after it to rotate keys without logging everyone out.
 *
 * @example
 * import { pipe, get, path, signedCookie, handle, ok } from 'sapwood'
 * const keys = [process.env['COOKIE_SECRET'] ?? 'change me']
 * pipe(get, path('/me'), signedCookie('session', keys, { as: 'sid' }), handle((c) => ok(c.assigns.sid ?? 'anonymous')))
 *
 * @category cookies
 * @since 0.2.0
 */
export const signedCookie = <N extends string, K extends string = N>(
  name: N,
  keys: readonly string[],
  options: SignedCookieOptions<K> = {},
): Part<Conn, Conn<Params, { readonly [k in K]: string | undefined }>> => {
  const label = `signedCookie('${String(name)}')`
  checkName(label, name)
  const secrets = checkKeys(label, keys)
  const key = assignKey(label, options.as ?? name)
  return part(
    (c: Conn) => {
      const raw = c.cookies[name]
      const found = raw === undefined ? undefined : split(raw)
      // nothing to verify: no promise
      if (found === undefined) return right(withAssign(c, key, undefined))
      return verifies(secrets, name, found.value, found.signature).then(
        (ok) => right(withAssign(c, key, ok ? found.value : undefined)),
        () => right(withAssign(c, key, undefined)),
      )
    },
    { _tag: 'Opaque' },
    label,
  ) as unknown as Part<Conn, Conn<Params, { readonly [k in K]: string | undefined }>>
}
