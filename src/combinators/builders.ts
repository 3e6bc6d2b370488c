/**
 * Builders: Parts that draft the response. They never reject and never touch method or path.
 *
 * @since 0.1.0
 */
import {
  type Body,
  type Conn,
  type ResponseHeaders,
  emptyRecord,
  settingsOf,
  update,
  withAssign,
  withDraft,
  withStatusBody,
} from '../context/conn.js'
import { type Part, makeBuilder } from '../context/context.js'
import { type HeaderValue, headerRecord, withHeader } from '../internal/headers.js'

// Every builder here but `assign` touches only the response draft (see the Pure shape).
const build = <O = Conn>(fn: (c: Conn) => Conn, label: string, reads: 'response' | 'any' = 'response'): Part<Conn, O> =>
  makeBuilder(fn, label, reads, false) as unknown as Part<Conn, O>

const checkName = (name: string): string => {
  if (typeof name !== 'string' || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) {
    throw new TypeError(`sapwood: "${String(name)}" is not a valid header name`)
  }
  return name.toLowerCase()
}

// What node's writeHead refuses in a value (RFC 9110 allows visible ASCII, space, tab and
// obs-text): refused when the Part is made, so that `inject` and a socket answer alike.
const FORBIDDEN_IN_VALUE = /[^\t\x20-\x7e\x80-\xff]/

const describeChar = (ch: string): string => {
  const code = ch.charCodeAt(0)
  const u = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`
  if (ch === '\r') return `a carriage return (CR, ${u})`
  if (ch === '\n') return `a line feed (LF, ${u})`
  if (ch === '\0') return `a NUL (${u})`
  return code > 0xff ? `the character ${u}, outside Latin-1` : `the control character ${u}`
}

/**
 * @internal Returns `value` when it may be sent as the value of header `name`; else throws a
 * TypeError that names the header and the character (CR, LF, NUL, other controls, non-Latin-1).
 */
export const checkHeaderValue = (name: string, value: string): string => {
  if (typeof value !== 'string') {
    throw new TypeError(`sapwood: the value of header "${name}" must be a string, not ${typeof value}`)
  }
  const bad = FORBIDDEN_IN_VALUE.exec(value)
  if (bad !== null) {
    throw new TypeError(
      `sapwood: the value of header "${name}" contains ${describeChar(bad[0])} at index ${bad.index}, which a header value cannot hold`,
    )
  }
  return value
}

/**
 * Sets response header `name` (case-insensitive), replacing any value it had. An invalid name,
 * or a value with CR, LF, NUL or another character a header cannot hold, throws a TypeError
 * when the Part is made.
 *
 * @example
 * import { setHeader } from 'sapwood'
 * setHeader('cache-control', 'no-store')
 *
 * @category writers
 * @since 0.1.0
 */
export const setHeader = (name: string, value: HeaderValue): Part<Conn, Conn> => {
  const key = checkName(name)
  // An array is copied and frozen: the values checked are the values sent, whatever the caller
  // does with its array later.
  const checked: HeaderValue = Array.isArray(value) ? Object.freeze([...(value as readonly string[])]) : value
  for (const v of (Array.isArray(checked) ? checked : [checked]) as readonly string[]) checkHeaderValue(key, v)
  return build((c) => update(c, { respHeaders: withHeader(c.respHeaders, key, checked) }), `setHeader('${key}')`)
}

/**
 * Adds a value to response header `name`, keeping the values it had (e.g. `set-cookie`). An
 * invalid name or value throws a TypeError when the Part is made, as with `setHeader`.
 *
 * @example
 * import { appendHeader } from 'sapwood'
 * appendHeader('vary', 'accept')
 *
 * @category writers
 * @since 0.1.0
 */
export const appendHeader = (name: string, value: string): Part<Conn, Conn> => {
  const key = checkName(name)
  checkHeaderValue(key, value)
  return build((c) => {
    const had = c.respHeaders[key]
    const next = had === undefined ? value : typeof had === 'string' ? [had, value] : [...had, value]
    return update(c, { respHeaders: withHeader(c.respHeaders, key, next) })
  }, `appendHeader('${key}')`)
}

/**
 * Removes response header `name`.
 *
 * @example
 * import { removeHeader } from 'sapwood'
 * removeHeader('x-powered-by')
 *
 * @category writers
 * @since 0.1.0
 */
export const removeHeader = (name: string): Part<Conn, Conn> => {
  const key = checkName(name)
  return build(
    (c) => (key in c.respHeaders ? update(c, { respHeaders: withHeader(c.respHeaders, key, undefined) }) : c),
    `removeHeader('${key}')`,
  )
}

/**
 * Sets the response status.
 *
 * @example
 * import { setStatus } from 'sapwood'
 * setStatus(202)
 *
 * @category writers
 * @since 0.1.0
 */
export const setStatus = (status: number): Part<Conn, Conn> => {
  checkStatus(status)
  return build((c) => update(c, { status }), `setStatus(${status})`)
}

const checkStatus = (status: number): void => {
  if (!Number.isInteger(status) || status < 100 || status > 999) {
    throw new RangeError(`sapwood: ${status} is not an HTTP status`)
  }
}

/**
 * Sets the response body (a string is sent as UTF-8).
 *
 * @example
 * import { setBody } from 'sapwood'
 * setBody('hello')
 *
 * @category writers
 * @since 0.1.0
 */
export const setBody = (body: Body): Part<Conn, Conn> => build((c) => update(c, { respBody: body }), 'setBody')

/**
 * Sets the response status and, when given, the body.
 *
 * @example
 * import { response } from 'sapwood'
 * response(418, "I'm a teapot")
 *
 * @category writers
 * @since 0.1.0
 */
export const response = (status: number, body?: Body, label = `response(${status})`): Part<Conn, Conn> => {
  checkStatus(status)
  return body === undefined
    ? build((c) => withStatusBody(c, status, c.respBody), label)
    : build((c) => withStatusBody(c, status, body), label)
}

/**
 * Sets `Content-Type` to `type`, with `; charset=...` when a charset is given.
 *
 * @example
 * import { setMimeType } from 'sapwood'
 * setMimeType('text/csv', 'utf-8')
 *
 * @category writers
 * @since 0.1.0
 */
export const setMimeType = (type: string, charset?: string): Part<Conn, Conn> => {
  const value = checkHeaderValue('content-type', charset === undefined ? type : `${type}; charset=${charset}`)
  return build(
    (c) => update(c, { respHeaders: withHeader(c.respHeaders, 'content-type', value) }),
    `setMimeType('${value}')`,
  )
}

/**
 * Sets `Content-Type: application/json` for the rest of the branch (Sap's `resp_json`).
 *
 * @example
 * import { pipe, get, respJson, ok } from 'sapwood'
 * pipe(get, respJson, ok('{"data":"body 1"}'))
 *
 * @category writers
 * @since 0.1.0
 */
export const respJson: Part<Conn, Conn> = setMimeType('application/json')

/**
 * Sets `Content-Type: text/plain; charset=utf-8`.
 *
 * @example
 * import { pipe, respText, ok } from 'sapwood'
 * pipe(respText, ok('plain'))
 *
 * @category writers
 * @since 0.1.0
 */
export const respText: Part<Conn, Conn> = setMimeType('text/plain', 'utf-8')

/**
 * Sets `Content-Type: text/html; charset=utf-8`.
 *
 * @example
 * import { pipe, respHtml, ok } from 'sapwood'
 * pipe(respHtml, ok('<h1>hi</h1>'))
 *
 * @category writers
 * @since 0.1.0
 */
export const respHtml: Part<Conn, Conn> = setMimeType('text/html', 'utf-8')

/**
 * Sends `value` as JSON, and sets `Content-Type: application/json` unless a JSON type was set
 * already. The body is serialised with `JSON.stringify` when the Part is first applied, and that
 * text is reused by every later use of the same Part (a `json(...)` in the tree is serialised
 * once); a value it rejects (a BigInt, a cycle, a value nested too deeply) makes the branch a
 * failed handler (500).
 *
 * Under `responds`, the value is written instead with the schema of the status drafted when
 * `json` runs (set the status first: `pipe(setStatus(201), json(v))`, or in a handler
 * `pipe(created(), json(v))`): fields outside the schema are dropped, and a value the schema
 * cannot write (a required field missing) makes the branch a failed handler (500), never a
 * half-written body. A status with no schema gets the `JSON.stringify` body. For a value checked
 * against the schema's type, use the `json` of the `responds` value.
 *
 * @example
 * import { pipe, get, path, handle, json, responds } from 'sapwood'
 * pipe(get, path('/me'), json({ name: 'octocat' }))
 * pipe(get, path('/users/:id'), handle((c) => json({ id: c.params.id })))
 * // sends {"id":"7"}: the schema has no `secret`
 * const out = responds({ 200: { type: 'object', properties: { id: { type: 'string' } } } })
 * pipe(get, path('/users/:id'), out, handle((c) => json({ id: c.params.id, secret: 'x' })))
 *
 * @category writers
 * @since 0.1.0
 */
export const json = (value: unknown): Part<Conn, Conn> => {
  // Serialised on first use, not when the Part is made: under a response schema the schema
  // writes the value, and a `JSON.stringify` made ahead would be thrown away.
  let body: string | undefined
  // `throws`: a value the serializer cannot write is a failed handler, not a crash
  return makeBuilder(
    (c) => {
      const find = settingsOf(c).serializerFor
      const write = find === undefined ? undefined : find(c.status)
      const text = write === undefined ? (body ??= stringify(value)) : write(value)
      return withDraft(c, c.params, c.rest, c.status, jsonHeaders(c.respHeaders), text)
    },
    'json',
    'response',
    true,
  )
}

/**
 * `JSON.stringify`, with its failure said as sapwood's (the original as `cause`): a BigInt, a
 * cycle, or a value nested so deep that the serializer runs out of stack (~4,000 levels on node
 * 20; `jsonBody` refuses a client's value past 1000, so such a value is the server's own).
 */
const stringify = (value: unknown): string => {
  try {
    return JSON.stringify(value) ?? 'null'
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    const why =
      error instanceof RangeError && /call stack/i.test(message) ? `it is nested too deeply (${message})` : message
    throw new TypeError(`sapwood: json(): the value cannot be written as JSON: ${why}`, { cause: error })
  }
}

const JSON_TYPE = /[/+]json\b/i
const JSON_HEADERS = headerRecord('content-type', 'application/json')

/**
 * @internal The response headers of a JSON answer: `Content-Type: application/json` unless a JSON
 * type was drafted already; with nothing drafted (the usual case), one shared record, no copy.
 */
export const jsonHeaders = (h: ResponseHeaders): ResponseHeaders => {
  if (h === emptyRecord) return JSON_HEADERS
  const type = h['content-type']
  return typeof type === 'string' && JSON_TYPE.test(type) ? h : withHeader(h, 'content-type', 'application/json')
}

/**
 * Attaches `value` to the Conn under `key` (Sap's `set_user_data`); later Parts read it from
 * `c.assigns` with its type.
 *
 * @example
 * import { pipe, assign, handle, ok } from 'sapwood'
 * pipe(assign('user', { name: 'ada' }), handle((c) => ok(c.assigns.user.name)))
 *
 * @category writers
 * @since 0.1.0
 */
export const assign = <K extends string, V>(
  key: K,
  value: V,
): Part<Conn, Conn<Conn['params'], { readonly [k in K]: V }>> =>
  build((c) => withAssign(c, key, value), `assign('${key}')`, 'any')
