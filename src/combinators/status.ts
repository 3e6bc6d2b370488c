/**
 * One builder for every status Sap has, grouped by response class (as Suave does).
 *
 * @since 0.1.0
 */
import { type Body, type Conn, update } from '../context/conn.js'
import { type Part, makeBuilder } from '../context/context.js'
import { withHeader } from '../internal/headers.js'
import { checkHeaderValue, response } from './builders.js'

/** A builder that sets a status and, when given, the body; without one it keeps the draft's. */
const withStatus =
  (status: number, name: string) =>
  (body?: Body): Part<Conn, Conn> =>
    response(status, body, name)

/** A builder for a status that never carries a body (204, 304): sets it and clears the body. */
const withoutBody = (status: number, name: string) => (): Part<Conn, Conn> => response(status, null, name)

/** A redirect builder: sets the status and `Location`, and an empty body. */
const redirectTo =
  (status: number, name: string) =>
  (location: string): Part<Conn, Conn> => {
    checkHeaderValue('location', location)
    return makeBuilder(
      (c: Conn) => update(c, { status, respBody: '', respHeaders: withHeader(c.respHeaders, 'location', location) }),
      `${name}('${location}')`,
      'response',
      false,
    )
  }

// --- successful ------------------------------------------------------------

/**
 * 200 OK: sets the status and, when given, the body. `ok()` without an argument keeps the body
 * drafted so far (by `setBody`, `json` or an earlier builder), so it can end a branch that drafted
 * its body already.
 *
 * @example
 * import { ok } from 'sapwood'
 * ok('ok')
 *
 * @category successful
 * @since 0.1.0
 */
export const ok = withStatus(200, 'ok')

/**
 * 201 Created: sets the status and, when given, the body (else keeps the body drafted so far).
 *
 * @example
 * import { created } from 'sapwood'
 * created('created')
 *
 * @category successful
 * @since 0.1.0
 */
export const created = withStatus(201, 'created')

/**
 * 202 Accepted: sets the status and, when given, the body (else keeps the body drafted so far).
 *
 * @example
 * import { accepted } from 'sapwood'
 * accepted('accepted')
 *
 * @category successful
 * @since 0.1.0
 */
export const accepted = withStatus(202, 'accepted')

/**
 * 204 No Content: sets the status and clears the body drafted so far (a 204 never carries one);
 * it takes no body.
 *
 * @example
 * import { noContent } from 'sapwood'
 * noContent()
 *
 * @category successful
 * @since 0.1.0
 */
export const noContent = withoutBody(204, 'noContent')

// --- redirection ------------------------------------------------------------

/**
 * 301 Moved Permanently: sets the status and `Location`, with an empty body. A location that a
 * header cannot hold (CR, LF, NUL, ...) throws a TypeError when the Part is made.
 *
 * @example
 * import { movedPermanently } from 'sapwood'
 * movedPermanently('/elsewhere')
 *
 * @category redirection
 * @since 0.1.0
 */
export const movedPermanently = redirectTo(301, 'movedPermanently')

/**
 * 302 Found: sets the status and `Location`, with an empty body.
 *
 * @example
 * import { found } from 'sapwood'
 * found('/elsewhere')
 *
 * @category redirection
 * @since 0.1.0
 */
export const found = redirectTo(302, 'found')

/**
 * 303 See Other: sets the status and `Location`, with an empty body.
 *
 * @example
 * import { seeOther } from 'sapwood'
 * seeOther('/elsewhere')
 *
 * @category redirection
 * @since 0.1.0
 */
export const seeOther = redirectTo(303, 'seeOther')

/**
 * 304 Not Modified: sets the status and clears the body drafted so far (a 304 never carries one);
 * it takes no body. The headers drafted so far (`ETag`, `Cache-Control`, ...) are kept.
 *
 * @example
 * import { notModified } from 'sapwood'
 * notModified()
 *
 * @category redirection
 * @since 0.1.0
 */
export const notModified = withoutBody(304, 'notModified')

/**
 * 307 Temporary Redirect: sets the status and `Location`, with an empty body.
 *
 * @example
 * import { temporaryRedirect } from 'sapwood'
 * temporaryRedirect('/elsewhere')
 *
 * @category redirection
 * @since 0.1.0
 */
export const temporaryRedirect = redirectTo(307, 'temporaryRedirect')

/**
 * 308 Permanent Redirect: sets the status and `Location`, with an empty body.
 *
 * @example
 * import { permanentRedirect } from 'sapwood'
 * permanentRedirect('/elsewhere')
 *
 * @category redirection
 * @since 0.1.0
 */
export const permanentRedirect = redirectTo(308, 'permanentRedirect')

// --- request errors ------------------------------------------------------------

/**
 * 400 Bad Request: sets the status and, when given, the body (else keeps the body drafted so far).
 * This is an answer (a Right); to reject with a reason that `choose` ranks and `respond` answers
 * as `application/problem+json`, return `left(rejection.badRequest(details))`.
 *
 * @example
 * import { badRequest } from 'sapwood'
 * badRequest('bad request')
 *
 * @category request errors
 * @since 0.1.0
 */
export const badRequest = withStatus(400, 'badRequest')

/**
 * 401 Unauthorized: sets the status and, when given, the body (else keeps the body drafted so far).
 * This is an answer (a Right); to reject with a reason that `choose` ranks and `respond` answers
 * as `application/problem+json`, return `left(rejection.unauthorized(challenge))`.
 *
 * @example
 * import { unauthorized } from 'sapwood'
 * unauthorized('unauthorized')
 *
 * @category request errors
 * @since 0.1.0
 */
export const unauthorized = withStatus(401, 'unauthorized')

/**
 * 403 Forbidden: sets the status and, when given, the body (else keeps the body drafted so far).
 * This is an answer (a Right); to reject with a reason that `choose` ranks and `respond` answers
 * as `application/problem+json`, return `left(rejection.forbidden(detail))`.
 *
 * @example
 * import { forbidden } from 'sapwood'
 * forbidden('forbidden')
 *
 * @category request errors
 * @since 0.1.0
 */
export const forbidden = withStatus(403, 'forbidden')

/**
 * 404 Not Found: sets the status and, when given, the body (else keeps the body drafted so far).
 * This is an answer (a Right); to reject with a reason that `choose` ranks and `respond` answers
 * as `application/problem+json`, return `left(rejection.notFound(detail))`.
 *
 * @example
 * import { notFound } from 'sapwood'
 * notFound('not found')
 *
 * @category request errors
 * @since 0.1.0
 */
export const notFound = withStatus(404, 'notFound')

/**
 * 405 Method Not Allowed: sets the status and, when given, the body (else keeps the body drafted so
 * far).
 *
 * @example
 * import { methodNotAllowed } from 'sapwood'
 * methodNotAllowed('method not allowed')
 *
 * @category request errors
 * @since 0.1.0
 */
export const methodNotAllowed = withStatus(405, 'methodNotAllowed')

/**
 * 406 Not Acceptable: sets the status and, when given, the body (else keeps the body drafted so
 * far).
 *
 * @example
 * import { notAcceptable } from 'sapwood'
 * notAcceptable('not acceptable')
 *
 * @category request errors
 * @since 0.1.0
 */
export const notAcceptable = withStatus(406, 'notAcceptable')

/**
 * 407 Proxy Authentication Required: sets the status and, when given, the body (else keeps the body
 * drafted so far).
 *
 * @example
 * import { proxyAuthenticationRequired } from 'sapwood'
 * proxyAuthenticationRequired('proxy authentication required')
 *
 * @category request errors
 * @since 0.1.0
 */
export const proxyAuthenticationRequired = withStatus(407, 'proxyAuthenticationRequired')

/**
 * 408 Request Timeout: sets the status and, when given, the body (else keeps the body drafted so
 * far).
 *
 * @example
 * import { requestTimeout } from 'sapwood'
 * requestTimeout('request timeout')
 *
 * @category request errors
 * @since 0.1.0
 */
export const requestTimeout = withStatus(408, 'requestTimeout')

/**
 * 409 Conflict: sets the status and, when given, the body (else keeps the body drafted so far).
 * This is an answer (a Right); to reject with a reason that `choose` ranks and `respond` answers
 * as `application/problem+json`, return `left(rejection.conflict(detail))`.
 *
 * @example
 * import { conflict } from 'sapwood'
 * conflict('conflict')
 *
 * @category request errors
 * @since 0.1.0
 */
export const conflict = withStatus(409, 'conflict')

/**
 * 410 Gone: sets the status and, when given, the body (else keeps the body drafted so far).
 *
 * @example
 * import { gone } from 'sapwood'
 * gone('gone')
 *
 * @category request errors
 * @since 0.1.0
 */
export const gone = withStatus(410, 'gone')

/**
 * 411 Length Required: sets the status and, when given, the body (else keeps the body drafted so
 * far).
 *
 * @example
 * import { lengthRequired } from 'sapwood'
 * lengthRequired('length required')
 *
 * @category request errors
 * @since 0.1.0
 */
export const lengthRequired = withStatus(411, 'lengthRequired')

/**
 * 412 Precondition Failed: sets the status and, when given, the body (else keeps the body drafted
 * so far).
 *
 * @example
 * import { preconditionFailed } from 'sapwood'
 * preconditionFailed('precondition failed')
 *
 * @category request errors
 * @since 0.1.0
 */
export const preconditionFailed = withStatus(412, 'preconditionFailed')

/**
 * 413 Payload Too Large: sets the status and, when given, the body (else keeps the body drafted so
 * far).
 *
 * @example
 * import { payloadTooLarge } from 'sapwood'
 * payloadTooLarge('payload too large')
 *
 * @category request errors
 * @since 0.1.0
 */
export const payloadTooLarge = withStatus(413, 'payloadTooLarge')

/**
 * 414 URI Too Long: sets the status and, when given, the body (else keeps the body drafted so far).
 *
 * @example
 * import { uriTooLong } from 'sapwood'
 * uriTooLong('uri too long')
 *
 * @category request errors
 * @since 0.1.0
 */
export const uriTooLong = withStatus(414, 'uriTooLong')

/**
 * 415 Unsupported Media Type: sets the status and, when given, the body (else keeps the body
 * drafted so far).
 *
 * @example
 * import { unsupportedMediaType } from 'sapwood'
 * unsupportedMediaType('unsupported media type')
 *
 * @category request errors
 * @since 0.1.0
 */
export const unsupportedMediaType = withStatus(415, 'unsupportedMediaType')

/**
 * 422 Unprocessable Content: sets the status and, when given, the body (else keeps the body
 * drafted so far). To answer field errors as `application/problem+json`, reject with
 * `rejection.unprocessable(errors)` instead.
 *
 * @example
 * import { unprocessableEntity } from 'sapwood'
 * unprocessableEntity('{"errors":[]}')
 *
 * @category request errors
 * @since 0.2.0
 */
export const unprocessableEntity = withStatus(422, 'unprocessableEntity')

/**
 * 416 Range Not Satisfiable: sets the status and, when given, the body (else keeps the body drafted
 * so far).
 *
 * @example
 * import { requestedRangeNotSatisfiable } from 'sapwood'
 * requestedRangeNotSatisfiable('range not satisfiable')
 *
 * @category request errors
 * @since 0.1.0
 */
export const requestedRangeNotSatisfiable = withStatus(416, 'requestedRangeNotSatisfiable')

/**
 * 417 Expectation Failed: sets the status and, when given, the body (else keeps the body drafted so
 * far).
 *
 * @example
 * import { expectationFailed } from 'sapwood'
 * expectationFailed('expectation failed')
 *
 * @category request errors
 * @since 0.1.0
 */
export const expectationFailed = withStatus(417, 'expectationFailed')

/**
 * 426 Upgrade Required: sets the status and, when given, the body (else keeps the body drafted so
 * far).
 *
 * @example
 * import { upgradeRequired } from 'sapwood'
 * upgradeRequired('upgrade required')
 *
 * @category request errors
 * @since 0.1.0
 */
export const upgradeRequired = withStatus(426, 'upgradeRequired')

/**
 * 428 Precondition Required: sets the status and, when given, the body (else keeps the body drafted
 * so far).
 *
 * @example
 * import { preconditionRequired } from 'sapwood'
 * preconditionRequired('precondition required')
 *
 * @category request errors
 * @since 0.1.0
 */
export const preconditionRequired = withStatus(428, 'preconditionRequired')

/**
 * 429 Too Many Requests: sets the status and, when given, the body (else keeps the body drafted so
 * far).
 *
 * @example
 * import { tooManyRequests } from 'sapwood'
 * tooManyRequests('too many requests')
 *
 * @category request errors
 * @since 0.1.0
 */
export const tooManyRequests = withStatus(429, 'tooManyRequests')

/**
 * 431 Request Header Fields Too Large: sets the status and, when given, the body (else keeps the
 * body drafted so far).
 *
 * @example
 * import { requestHeaderFieldsTooLarge } from 'sapwood'
 * requestHeaderFieldsTooLarge('request header fields too large')
 *
 * @category request errors
 * @since 0.1.0
 */
export const requestHeaderFieldsTooLarge = withStatus(431, 'requestHeaderFieldsTooLarge')

/**
 * 451 Unavailable For Legal Reasons: sets the status and, when given, the body (else keeps the body
 * drafted so far).
 *
 * @example
 * import { unavailableForLegalReasons } from 'sapwood'
 * unavailableForLegalReasons('unavailable for legal reasons')
 *
 * @category request errors
 * @since 0.1.0
 */
export const unavailableForLegalReasons = withStatus(451, 'unavailableForLegalReasons')

// --- server errors ------------------------------------------------------------

/**
 * 500 Internal Server Error: sets the status and, when given, the body (else keeps the body drafted
 * so far).
 *
 * @example
 * import { internalServerError } from 'sapwood'
 * internalServerError('internal server error')
 *
 * @category server errors
 * @since 0.1.0
 */
export const internalServerError = withStatus(500, 'internalServerError')

/**
 * 501 Not Implemented: sets the status and, when given, the body (else keeps the body drafted so
 * far).
 *
 * @example
 * import { notImplemented } from 'sapwood'
 * notImplemented('not implemented')
 *
 * @category server errors
 * @since 0.1.0
 */
export const notImplemented = withStatus(501, 'notImplemented')

/**
 * 502 Bad Gateway: sets the status and, when given, the body (else keeps the body drafted so far).
 *
 * @example
 * import { badGateway } from 'sapwood'
 * badGateway('bad gateway')
 *
 * @category server errors
 * @since 0.1.0
 */
export const badGateway = withStatus(502, 'badGateway')

/**
 * 503 Service Unavailable: sets the status and, when given, the body (else keeps the body drafted
 * so far).
 *
 * @example
 * import { serviceUnavailable } from 'sapwood'
 * serviceUnavailable('service unavailable')
 *
 * @category server errors
 * @since 0.1.0
 */
export const serviceUnavailable = withStatus(503, 'serviceUnavailable')

/**
 * 504 Gateway Timeout: sets the status and, when given, the body (else keeps the body drafted so
 * far).
 *
 * @example
 * import { gatewayTimeout } from 'sapwood'
 * gatewayTimeout('gateway timeout')
 *
 * @category server errors
 * @since 0.1.0
 */
export const gatewayTimeout = withStatus(504, 'gatewayTimeout')

/**
 * 505 HTTP Version Not Supported: sets the status and, when given, the body (else keeps the body
 * drafted so far).
 *
 * @example
 * import { httpVersionNotSupported } from 'sapwood'
 * httpVersionNotSupported('http version not supported')
 *
 * @category server errors
 * @since 0.1.0
 */
export const httpVersionNotSupported = withStatus(505, 'httpVersionNotSupported')

/**
 * 511 Network Authentication Required: sets the status and, when given, the body (else keeps the
 * body drafted so far).
 *
 * @example
 * import { networkAuthenticationRequired } from 'sapwood'
 * networkAuthenticationRequired('network authentication required')
 *
 * @category server errors
 * @since 0.1.0
 */
export const networkAuthenticationRequired = withStatus(511, 'networkAuthenticationRequired')
