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
  | { readonly _tag: 'MethodNotAllowed'; readonly allow: readonly string[] }
  | { readonly _tag: 'Unauthorized'; readonly challenge?: string }
  | { readonly _tag: 'UnsupportedMediaType'; readonly supported: readonly string[] }
  | { readonly _tag: 'NotAcceptable'; readonly available: readonly string[] }
  | { readonly _tag: 'BadRequest'; readonly details: string }
  | { readonly _tag: 'PayloadTooLarge'; readonly limit: number }
  | { readonly _tag: 'UriTooLong' }
  | { readonly _tag: 'HandlerFailed'; readonly error: unknown }

/**
 * The tag of a rejection.
 *
 * @category model
 * @since 0.1.0
 */
export type RejectionTag = Rejection['_tag']

/**
 * No branch matched the path (404).
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
export const unauthorized = (challenge?: string): Rejection =>
  challenge === undefined ? { _tag: 'Unauthorized' } : { _tag: 'Unauthorized', challenge }

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
 * The request is malformed (400); `details` is safe to show to the client.
 *
 *
 * @example
 * import { rejection, handle, left } from 'sapwood'
 * handle(() => left(rejection.badRequest('"name" must be a string')))
 *
 * @category constructors
 * @since 0.1.0
 */
export const badRequest = (details: string): Rejection => ({ _tag: 'BadRequest', details })

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

// Least specific first: a branch that got further explains the failure better (DESIGN §2).
const RANK: Readonly<Record<RejectionTag, number>> = {
  NoMatch: 0,
  MethodNotAllowed: 1,
  Unauthorized: 2,
  UnsupportedMediaType: 3,
  NotAcceptable: 4,
  BadRequest: 5,
  UriTooLong: 6,
  PayloadTooLarge: 7,
  HandlerFailed: 8,
}

/**
 * The rank of a rejection: higher means the branch got further and explains the failure better.
 *
 *
 * @example
 * import { rejection } from 'sapwood'
 * rejection.rank(rejection.badRequest('x')) > rejection.rank(rejection.noMatch) // true
 *
 * @category ranking
 * @since 0.1.0
 */
export const rank = (r: Rejection): number => RANK[r._tag]

/**
 * True for rejections that end `choose` at once instead of trying the next option: a failed
 * handler is a bug to report, not a reason to answer from another branch.
 *
 *
 * @example
 * import { rejection } from 'sapwood'
 * rejection.isFatal(rejection.handlerFailed(new Error())) // true
 *
 * @category ranking
 * @since 0.1.0
 */
export const isFatal = (r: Rejection): boolean => r._tag === 'HandlerFailed'

const mergeAllow = (a: readonly string[], b: readonly string[]): readonly string[] => {
  const out = [...a]
  for (const m of b) if (!out.includes(m)) out.push(m)
  return out
}

/**
 * Keeps the better of two rejections: the higher rank wins, the earlier one on a tie, and two
 * `MethodNotAllowed` merge their `Allow` sets.
 *
 * @example
 * import { rejection } from 'sapwood'
 * rejection.better(rejection.noMatch, rejection.methodNotAllowed(['GET'])) // MethodNotAllowed, allow GET
 *
 * @category ranking
 * @since 0.1.0
 */
export const better = (a: Rejection, b: Rejection): Rejection => {
  if (a._tag === 'MethodNotAllowed' && b._tag === 'MethodNotAllowed') {
    // A plain 405 (made by user code) is an entry that nothing can narrow any more.
    const pa = pendings.get(a) ?? [{ allow: a.allow, rest: null }]
    const pb = pendings.get(b) ?? [{ allow: b.allow, rest: null }]
    return fromPending([...pa, ...pb])
  }
  return RANK[b._tag] > RANK[a._tag] ? b : a
}

/**
 * The HTTP status that answers a rejection.
 *
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
      return 404
    case 'MethodNotAllowed':
      return 405
    case 'Unauthorized':
      return 401
    case 'UnsupportedMediaType':
      return 415
    case 'NotAcceptable':
      return 406
    case 'BadRequest':
      return 400
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
  MethodNotAllowed: 'Method Not Allowed',
  Unauthorized: 'Unauthorized',
  UnsupportedMediaType: 'Unsupported Media Type',
  NotAcceptable: 'Not Acceptable',
  BadRequest: 'Bad Request',
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
  const headers: Record<string, string> = { 'content-type': 'application/problem+json' }
  if (r._tag === 'MethodNotAllowed') headers['allow'] = r.allow.join(', ')
  if (r._tag === 'Unauthorized' && r.challenge !== undefined) headers['www-authenticate'] = r.challenge
  const detail = detailOf(r)
  const problem = { type: 'about:blank', title: TITLES[r._tag], status, ...(detail === undefined ? {} : { detail }) }
  return { status, headers, body: JSON.stringify(problem) }
}

/**
 * A method filter's rejection is provisional: it becomes a 405 only if the rest of its branch
 * could still match the path. Each entry is the methods one filter allows and the path still to
 * match after it (`null` once nothing more can be known statically). Kept beside the rejection,
 * not in it, so that the public union stays plain data. @internal
 */
export interface PendingAllow {
  readonly allow: readonly string[]
  readonly rest: string | null
}

const pendings = new WeakMap<Rejection, readonly PendingAllow[]>()

/** @internal the provisional entries of a MethodNotAllowed, if any */
export const pendingOf = (r: Rejection): readonly PendingAllow[] | undefined => pendings.get(r)

/** @internal a MethodNotAllowed built from provisional entries; NoMatch when none is left */
export const fromPending = (entries: readonly PendingAllow[]): Rejection => {
  if (entries.length === 0) return noMatch
  let allow: readonly string[] = entries[0]!.allow
  for (let i = 1; i < entries.length; i++) allow = mergeAllow(allow, entries[i]!.allow)
  const r = methodNotAllowed(allow)
  pendings.set(r, entries)
  return r
}
