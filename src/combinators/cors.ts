/**
 * CORS: cross-origin answers for browsers, on every answer of an app (rejections included), and
 * preflight requests answered before any guard runs.
 *
 * @since 0.2.0
 */
import { type Conn, type ResponseHeaders, update } from '../context/conn.js'
import type { Part } from '../context/context.js'
import { addVary, withHeaders } from '../internal/headers.js'
import { decorateWith } from './decorate.js'

/**
 * Options of `cors`. Every option has the default a public API wants: any origin, no
 * credentials, the requested headers allowed, no exposed headers, no max-age.
 *
 * @category decorations
 * @since 0.2.0
 */
export interface CorsOptions {
  /** Which origins may read answers: `'*'` (default), a list, a RegExp, or a predicate. */
  readonly origin?: '*' | readonly string[] | RegExp | ((origin: string) => boolean)
  /** Let the browser send cookies and read answers with them (the origin is then echoed, never `*`). */
  readonly credentials?: boolean
  /** Methods a preflight allows. Default: GET, HEAD, PUT, PATCH, POST, DELETE. */
  readonly methods?: readonly string[]
  /** Request headers a preflight allows. Default: the ones the preflight asks for. */
  readonly allowedHeaders?: readonly string[]
  /** Response headers the browser may read besides the simple ones. */
  readonly exposedHeaders?: readonly string[]
  /** How long (seconds) a browser may cache a preflight answer. */
  readonly maxAge?: number
}

const DEFAULT_METHODS = ['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE']

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

const checkList = (what: string, list: readonly string[] | undefined): void => {
  for (const v of list ?? []) {
    if (typeof v !== 'string' || !TOKEN.test(v))
      throw new TypeError(`sapwood: cors ${what}: "${String(v)}" is not a token`)
  }
}

const withVary = (h: ResponseHeaders, name: string): string => addVary(h['vary'], name)

/**
 * Answers cross-origin requests for browsers. Every answer of `app` (200, 404, 405, 413, 500
 * alike) gets `Access-Control-Allow-Origin` for an allowed `Origin` (and `Vary: Origin` when
 * the answer depends on it); a preflight (`OPTIONS` with `Origin` and
 * `Access-Control-Request-Method`) is answered 204 before any guard of the tree runs. Place it at
 * the root of the app, where it sees every answer.
 *
 * @example
 * import { cors, choose, pipe, get, path, ok } from 'sapwood'
 * const app = cors(choose([pipe(get, path('/api/items'), ok('[]'))]), {
 *   origin: ['https://app.example.com'],
 *   credentials: true,
 *   maxAge: 600,
 * })
 *
 * @category decorations
 * @since 0.2.0
 */
export const cors = (app: Part<Conn, Conn>, options: CorsOptions = {}): Part<Conn, Conn> => {
  const origin = options.origin ?? '*'
  const credentials = options.credentials === true
  checkList('methods', options.methods)
  checkList('allowedHeaders', options.allowedHeaders)
  checkList('exposedHeaders', options.exposedHeaders)
  if (options.maxAge !== undefined && (!Number.isInteger(options.maxAge) || options.maxAge < 0)) {
    throw new RangeError(`sapwood: cors maxAge ${options.maxAge} is not a whole number of seconds`)
  }
  const methods = (options.methods ?? DEFAULT_METHODS).map((m) => m.toUpperCase()).join(', ')
  const exposed = options.exposedHeaders?.join(', ')
  const maxAge = options.maxAge === undefined ? undefined : String(options.maxAge)
  // an answer that names the origin depends on it: caches must key on it
  const varies = origin !== '*' || credentials

  const allowed = (value: string): boolean => {
    if (origin === '*') return true
    if (typeof origin === 'function') return origin(value)
    if (origin instanceof RegExp) return origin.test(value)
    return origin.includes(value)
  }
  /** The Access-Control-Allow-Origin value for a request, or undefined when it gets none. */
  const allowOrigin = (request: Conn): string | undefined => {
    const from = request.headers['origin']
    if (from === undefined || from === '' || /[\r\n\0]/.test(from))
      return origin === '*' && !credentials ? '*' : undefined
    if (!allowed(from)) return undefined
    return origin === '*' && !credentials ? '*' : from
  }

  const preflight = (request: Conn): Conn | undefined => {
    if (request.method !== 'OPTIONS') return undefined
    const asked = request.headers['access-control-request-method']
    if (request.headers['origin'] === undefined || asked === undefined) return undefined
    const value = allowOrigin(request)
    const askedHeaders = request.headers['access-control-request-headers']
    const headers = withHeaders(request.respHeaders, {
      'access-control-allow-origin': value,
      'access-control-allow-credentials': value !== undefined && credentials ? 'true' : undefined,
      'access-control-allow-methods': value === undefined ? undefined : methods,
      'access-control-allow-headers':
        value === undefined
          ? undefined
          : options.allowedHeaders !== undefined
            ? options.allowedHeaders.join(', ')
            : askedHeaders !== undefined && !/[\r\n\0]/.test(askedHeaders)
              ? askedHeaders
              : undefined,
      'access-control-max-age': value === undefined ? undefined : maxAge,
      vary: addVary(withVary(request.respHeaders, 'Origin'), 'Access-Control-Request-Headers'),
      'content-length': undefined,
    })
    return update(request, { status: 204, respHeaders: headers, respBody: null })
  }

  const finish = (answer: Conn, request: Conn): Conn => {
    const value = allowOrigin(request)
    const h = answer.respHeaders
    if (value === undefined)
      return varies ? update(answer, { respHeaders: withHeaders(h, { vary: withVary(h, 'Origin') }) }) : answer
    return update(answer, {
      respHeaders: withHeaders(h, {
        'access-control-allow-origin': value,
        'access-control-allow-credentials': credentials ? 'true' : undefined,
        'access-control-expose-headers': exposed,
        vary: varies ? withVary(h, 'Origin') : undefined,
      }),
    })
  }

  return decorateWith(app, preflight, finish, 'cors')
}
