/**
 * Rejections: why a branch of the tree said no, ranked so that `choose` can keep the best reason.
 *
 * @since 0.1.0
 */

/**
 * Why a branch rejected the request. The tag is a noun; the fields explain it.
 *
 * @category model
 * @since 0.1.0
 */
export type Rejection =
  | { readonly _tag: 'NoMatch' }
  | { readonly _tag: 'NotFound'; readonly detail?: string }
  | { readonly _tag: 'MethodNotAllowed'; readonly allow: readonly string[] }
  | { readonly _tag: 'Unauthorized'; readonly challenge?: string }
  | { readonly _tag: 'Forbidden'; readonly detail?: string }
  | { readonly _tag: 'UnsupportedMediaType'; readonly supported: readonly string[] }
  | { readonly _tag: 'NotAcceptable'; readonly available: readonly string[] }
  | { readonly _tag: 'BadRequest'; readonly details: string; readonly errors?: readonly FieldError[] }
  | { readonly _tag: 'Unprocessable'; readonly errors: readonly FieldError[] }
  | { readonly _tag: 'Conflict'; readonly detail?: string }
  | { readonly _tag: 'TooManyRequests'; readonly retryAfter?: number }
  | ({ readonly _tag: 'Problem' } & ProblemInit)
  | { readonly _tag: 'PayloadTooLarge'; readonly limit: number }
  | { readonly _tag: 'UriTooLong' }
  | { readonly _tag: 'HandlerFailed'; readonly error: unknown }

/**
 * One error of a field of the request (a body, query or params field): where, and what is wrong.
 *
 * @category model
 * @since 0.2.0
 */
export interface FieldError {
  /** A JSON Pointer to the field (`/email`), or `''` for the whole value. */
  readonly path: string
  readonly message: string
}

/**
 * Any other 4xx or 5xx answer as an RFC 9457 problem: the status, and the members of its
 * `application/problem+json` body (`extensions` are added to the body as they are).
 *
 * @category model
 * @since 0.2.0
 */
export interface ProblemInit {
  readonly status: number
  readonly title?: string
  readonly detail?: string
  readonly type?: string
  readonly extensions?: Readonly<Record<string, unknown>>
  /** Response headers to send with it (e.g. `retry-after`), lower-case names. */
  readonly headers?: Readonly<Record<string, string>>
}

/**
 * The tag of a rejection.
 *
 * @category model
 * @since 0.1.0
 */
export type RejectionTag = Rejection['_tag']

/**
 * This branch does not match the request (404 when no branch does). Raised by path filters and
 * guards; a handler that says it after its route matched means "nothing here" (see
 * `notFound` for the same with a detail).
 *
 *
 * @example
 * import { rejection } from 'sapwood'
 * rejection.statusOf(rejection.noMatch) // 404
 *
 * @category constructors
 * @since 0.1.0
 */
export const noMatch: Rejection = { _tag: 'NoMatch' }

/**
 * The path matched but not the method (405 with `Allow`).
 *
 *
 * @example
 * import { rejection } from 'sapwood'
 * rejection.methodNotAllowed(['GET', 'HEAD'])
 *
 * @category constructors
 * @since 0.1.0
 */
export const methodNotAllowed = (allow: readonly string[]): Rejection => ({ _tag: 'MethodNotAllowed', allow })

/**
 * Credentials are missing or wrong (401, with `WWW-Authenticate` when a challenge is given).
 *
 *
 * @example
 * import { rejection, handle, left } from 'sapwood'
 * handle(() => left(rejection.unauthorized('Bearer realm="api"')))
 *
 * @category constructors
 * @since 0.1.0
 */
export const unauthorized = (challenge?: string): Rejection => {
  if (challenge === undefined) return { _tag: 'Unauthorized' }
  checkHeader('www-authenticate', challenge)
  return { _tag: 'Unauthorized', challenge }
}

/**
 * The request body's media type is not one the branch reads (415).
 *
 *
 * @example
 * import { rejection } from 'sapwood'
 * rejection.unsupportedMediaType(['application/json'])
 *
 * @category constructors
 * @since 0.1.0
 */
export const unsupportedMediaType = (supported: readonly string[]): Rejection => ({
  _tag: 'UnsupportedMediaType',
  supported,
})

/**
 * The client accepts none of the media types the branch produces (406).
 *
 *
 * @example
 * import { rejection } from 'sapwood'
 * rejection.notAcceptable(['text/csv'])
 *
 * @category constructors
 * @since 0.1.0
 */
export const notAcceptable = (available: readonly string[]): Rejection => ({ _tag: 'NotAcceptable', available })

/**
 * The request is malformed (400); `details` is safe to show to the client, and `errors` (sent
 * as the problem's `errors` member) say which fields of the query or path are wrong.
 *
 *
 * @example
 * import { rejection, handle, left } from 'sapwood'
 * handle(() => left(rejection.badRequest('"name" must be a string')))
 * rejection.badRequest('invalid query', [{ path: '/page', message: 'must be integer' }])
 *
 * @category constructors
 * @since 0.1.0
 */
export const badRequest = (details: string, errors?: readonly FieldError[]): Rejection =>
  errors === undefined ? { _tag: 'BadRequest', details } : { _tag: 'BadRequest', details, errors }

/**
 * The request body is larger than the limit (413).
 *
 *
 * @example
 * import { rejection } from 'sapwood'
 * rejection.payloadTooLarge(1024)
 *
 * @category constructors
 * @since 0.1.0
 */
export const payloadTooLarge = (limit: number): Rejection => ({ _tag: 'PayloadTooLarge', limit })

/**
 * A path segment is longer than the router accepts (414).
 *
 *
 * @example
 * import { rejection } from 'sapwood'
 * rejection.statusOf(rejection.uriTooLong) // 414
 *
 * @category constructors
 * @since 0.1.0
 */
export const uriTooLong: Rejection = { _tag: 'UriTooLong' }

/**
 * User code threw or its promise rejected (500). The error is logged, never sent to the client.
 *
 *
 * @example
 * import { rejection } from 'sapwood'
 * rejection.handlerFailed(new Error('db down')) // answered with 500, the error logged
 *
 * @category constructors
 * @since 0.1.0
 */
export const handlerFailed = (error: unknown): Rejection => ({ _tag: 'HandlerFailed', error })

/**
 * The route matched, the resource does not exist (404), with a detail safe to show the client.
 *
 * @example
 * import { rejection, handle, left } from 'sapwood'
 * handle(() => left(rejection.notFound('No article "hello"')))
 *
 * @category constructors
 * @since 0.2.0
 */
export const notFound = (detail?: string): Rejection =>
  detail === undefined ? { _tag: 'NotFound' } : { _tag: 'NotFound', detail }

/**
 * The client is known but may not do this (403).
 *
 * @example
 * import { rejection, handle, left } from 'sapwood'
 * handle(() => left(rejection.forbidden('Only the author may edit')))
 *
 * @category constructors
 * @since 0.2.0
 */
export const forbidden = (detail?: string): Rejection =>
  detail === undefined ? { _tag: 'Forbidden' } : { _tag: 'Forbidden', detail }

/**
 * The request conflicts with the state of the resource (409).
 *
 * @example
 * import { rejection, handle, left } from 'sapwood'
 * handle(() => left(rejection.conflict('The username is taken')))
 *
 * @category constructors
 * @since 0.2.0
 */
export const conflict = (detail?: string): Rejection =>
  detail === undefined ? { _tag: 'Conflict' } : { _tag: 'Conflict', detail }

/**
 * The request is well-formed but its fields are wrong (422), with every field error; the body
 * lists them as `errors: [{ path, message }]`.
 *
 * @example
 * import { rejection, handle, left } from 'sapwood'
 * handle(() => left(rejection.unprocessable([{ path: '/email', message: 'must be an email' }])))
 *
 * @category constructors
 * @since 0.2.0
 */
export const unprocessable = (errors: readonly FieldError[]): Rejection => ({ _tag: 'Unprocessable', errors })

/**
 * The client sent too many requests (429), with `Retry-After` (seconds) when given.
 *
 * @example
 * import { rejection, handle, left } from 'sapwood'
 * handle(() => left(rejection.tooManyRequests(30)))
 *
 * @category constructors
 * @since 0.2.0
 */
export const tooManyRequests = (retryAfter?: number): Rejection => {
  if (retryAfter !== undefined && (!Number.isInteger(retryAfter) || retryAfter < 0)) {
    throw new RangeError(`sapwood: tooManyRequests(${retryAfter}): Retry-After must be a whole number of seconds`)
  }
  return retryAfter === undefined ? { _tag: 'TooManyRequests' } : { _tag: 'TooManyRequests', retryAfter }
}

/**
 * Any other 4xx or 5xx answer as an RFC 9457 problem (`type`, `title`, `detail`, extension
 * members, and headers of its own).
 *
 * @example
 * import { rejection, handle, left } from 'sapwood'
 * handle(() => left(rejection.problem({ status: 402, title: 'Payment Required', extensions: { balance: 0 } })))
 *
 * @category constructors
 * @since 0.2.0
 */
export const problem = (init: ProblemInit): Rejection => {
  if (!Number.isInteger(init.status) || init.status < 400 || init.status > 599) {
    throw new RangeError(`sapwood: problem({ status: ${init.status} }): the status must be a 4xx or 5xx`)
  }
  for (const [name, value] of Object.entries(init.headers ?? {})) checkHeader(name, value)
  return { _tag: 'Problem', ...init }
}

const checkHeader = (name: string, value: string): void => {
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name) || /[\r\n\0]/.test(value)) {
    throw new TypeError(`sapwood: "${name}" cannot be sent as a header with that value`)
  }
}

/**
 * The HTTP status that answers a rejection.
 *
 * @example
 * import { rejection } from 'sapwood'
 * rejection.statusOf(rejection.notAcceptable([])) // 406
 *
 * @category response
 * @since 0.1.0
 */
export const statusOf = (r: Rejection): number => {
  switch (r._tag) {
    case 'NoMatch':
    case 'NotFound':
      return 404
    case 'MethodNotAllowed':
      return 405
    case 'Unauthorized':
      return 401
    case 'Forbidden':
      return 403
    case 'UnsupportedMediaType':
      return 415
    case 'NotAcceptable':
      return 406
    case 'BadRequest':
      return 400
    case 'Unprocessable':
      return 422
    case 'Conflict':
      return 409
    case 'TooManyRequests':
      return 429
    case 'Problem':
      return r.status
    case 'PayloadTooLarge':
      return 413
    case 'UriTooLong':
      return 414
    case 'HandlerFailed':
      return 500
  }
}

const TITLES: Readonly<Record<RejectionTag, string>> = {
  NoMatch: 'Not Found',
  NotFound: 'Not Found',
  MethodNotAllowed: 'Method Not Allowed',
  Unauthorized: 'Unauthorized',
  Forbidden: 'Forbidden',
  UnsupportedMediaType: 'Unsupported Media Type',
  NotAcceptable: 'Not Acceptable',
  BadRequest: 'Bad Request',
  Unprocessable: 'Unprocessable Content',
  Conflict: 'Conflict',
  TooManyRequests: 'Too Many Requests',
  Problem: 'Error',
  PayloadTooLarge: 'Payload Too Large',
  UriTooLong: 'URI Too Long',
  HandlerFailed: 'Internal Server Error',
}

const detailOf = (r: Rejection): string | undefined => {
  switch (r._tag) {
    case 'MethodNotAllowed':
      return `Allowed methods: ${r.allow.join(', ')}`
    case 'UnsupportedMediaType':
      return `Supported media types: ${r.supported.join(', ')}`
    case 'NotAcceptable':
      return `Available media types: ${r.available.join(', ')}`
    case 'BadRequest':
      return r.details
    case 'PayloadTooLarge':
      return `The body is larger than ${r.limit} bytes`
    case 'NotFound':
    case 'Forbidden':
    case 'Conflict':
    case 'Problem':
      return r.detail
    case 'Unprocessable':
      return r.errors.length === 1 ? r.errors[0]!.message : `${r.errors.length} fields are invalid`
    default:
      return undefined
  }
}

/**
 * The response that answers a rejection: status, headers and an `application/problem+json` body
 * (RFC 9457). A failed handler's error never reaches the body.
 *
 * @example
 * import { rejection } from 'sapwood'
 * rejection.rejectionResponse(rejection.methodNotAllowed(['GET', 'HEAD'])).headers['allow'] // 'GET, HEAD'
 *
 * @category response
 * @since 0.1.0
 */
export const rejectionResponse = (
  r: Rejection,
): { readonly status: number; readonly headers: Readonly<Record<string, string>>; readonly body: string } => {
  const status = statusOf(r)
  const headers: Record<string, string> = Object.create(null) as Record<string, string>
  headers['content-type'] = 'application/problem+json'
  const detail = detailOf(r)
  const body: Record<string, unknown> = {
    type: 'about:blank',
    title: TITLES[r._tag],
    status,
  }
  if (detail !== undefined) body['detail'] = detail
  switch (r._tag) {
    case 'MethodNotAllowed':
      headers['allow'] = r.allow.join(', ')
      break
    case 'Unauthorized':
      if (r.challenge !== undefined) headers['www-authenticate'] = r.challenge
      break
    case 'TooManyRequests':
      if (r.retryAfter !== undefined) headers['retry-after'] = String(r.retryAfter)
      break
    case 'BadRequest':
      if (r.errors !== undefined) body['errors'] = r.errors.map((e) => ({ path: e.path, message: e.message }))
      break
    case 'Unprocessable':
      body['errors'] = r.errors.map((e) => ({ path: e.path, message: e.message }))
      break
    case 'Problem':
      if (r.type !== undefined) body['type'] = r.type
      body['title'] = r.title ?? TITLES.Problem
      // extension members never replace the standard ones
      for (const [k, v] of Object.entries(r.extensions ?? {})) if (!(k in body)) body[k] = v
      for (const [k, v] of Object.entries(r.headers ?? {})) headers[k.toLowerCase()] = v
      break
  }
  return { status, headers, body: JSON.stringify(body) }
}
