/**
 * The in-memory adapter: test Conns and a whole request/response cycle without a socket.
 *
 * @since 0.1.0
 */
import { type ChunkedBody, bytesSource, concat } from '../context/body-source.js'
import { type Conn, makeConn } from '../context/conn.js'
import type { Part } from '../context/context.js'
import { type StreamSource, chunksOf } from '../context/response-body.js'
import { type RespondOptions, respond } from './respond.js'
import { outgoing } from './outgoing.js'
import { bodyBytes } from './wire.js'

/**
 * What `conn` accepts besides method and URL.
 *
 * @category testing
 * @since 0.1.0
 */
export interface TestConnInit {
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: string | Uint8Array
}

/**
 * Builds a test Conn (like `Plug.Test.conn/3`), so that any Part can be called directly and its
 * Either asserted. Header names are lower-cased.
 *
 * @example
 * import { conn } from 'sapwood/testing'
 * import { path } from 'sapwood'
 * path('/users/:id')(conn('GET', '/users/42')) // Right, with params.id === '42'
 *
 * @category testing
 * @since 0.1.0
 */
export const conn = (method: string, url: string, init: TestConnInit = {}): Conn => {
  const headers: Record<string, string> = Object.create(null) as Record<string, string>
  for (const [k, v] of Object.entries(init.headers ?? {})) headers[k.toLowerCase()] = v
  const bytes = bodyBytes(init.body ?? null)
  if (init.body !== undefined) headers['content-length'] ??= String(bytes.byteLength)
  return makeConn({ method, url, headers, source: bytesSource(bytes) })
}

/**
 * A request for `inject`. A body that is not a string or bytes is sent as JSON.
 *
 * @category testing
 * @since 0.1.0
 */
export interface InjectRequest {
  readonly method?: string
  readonly url: string
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: string | Uint8Array | object
  /** Aborting it is the client going away: the Conn's signal fires, and a stream stops being collected. */
  readonly signal?: AbortSignal
}

/**
 * What `inject` resolves to: lower-case headers (repeated ones as arrays) and the body as text.
 *
 * @category testing
 * @since 0.1.0
 */
export interface InjectResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string | readonly string[]>>
  readonly body: string
  readonly rawBody: Uint8Array
  /** False when a streamed body failed or the request's signal stopped it before its end. */
  readonly complete: boolean
  json<T = unknown>(): T
}

const decoder = new TextDecoder()

/** Reads a streamed body as an adapter would send it: to its end, or until the signal fires. */
const collect = async (
  from: StreamSource,
  signal: AbortSignal,
): Promise<{ bytes: Uint8Array; complete: boolean; failure?: { error: unknown } }> => {
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    for await (const chunk of chunksOf(from, signal)) {
      chunks.push(chunk)
      size += chunk.byteLength
    }
  } catch (error) {
    return { bytes: concat(chunks, size), complete: false, failure: { error } }
  }
  return { bytes: concat(chunks, size), complete: !signal.aborted }
}

/**
 * Runs one request through the app in memory, exactly as an adapter would (HEAD, OPTIONS,
 * rejections, default headers), and resolves to the response.
 *
 * @example
 * import { inject } from 'sapwood/testing'
 * import { pipe, get, path, ok } from 'sapwood'
 * const res = await inject(pipe(get, path('/'), ok('hello')), { url: '/' })
 * res.status // 200
 *
 * @category testing
 * @since 0.1.0
 */
export const inject = async (
  app: Part<Conn, Conn>,
  request: InjectRequest,
  options: RespondOptions = {},
): Promise<InjectResponse> => {
  const method = (request.method ?? 'GET').toUpperCase()
  const raw = request.body
  const json = raw !== undefined && typeof raw !== 'string' && !(raw instanceof Uint8Array)
  const headers = json ? { 'content-type': 'application/json', ...request.headers } : (request.headers ?? {})
  const body = json ? JSON.stringify(raw) : raw
  const c = conn(method, request.url, body === undefined ? { headers } : { headers, body })
  const source = c.source as ChunkedBody
  const signal = request.signal
  if (signal !== undefined) {
    if (signal.aborted) source.abort()
    else signal.addEventListener('abort', () => source.abort(), { once: true })
  }
  const handler = respond(app, options)
  const answer = await handler(c)
  const sent = outgoing(answer, method === 'HEAD', source, handler.report)
  const wire = sent.wire
  let rawBody: Uint8Array
  let complete = true
  if (sent.from === undefined) rawBody = bodyBytes(sent.wire.body)
  else {
    const got = await collect(sent.from, source.signal)
    if (got.failure !== undefined) handler.report?.(got.failure.error, answer)
    rawBody = got.bytes
    complete = got.complete
  }
  // as an adapter does once the answer is written: cleanups (temporary upload files) run
  source.release()
  const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>
  for (let i = 0; i < wire.headers.length; i += 2) {
    const name = wire.headers[i]!
    const value = wire.headers[i + 1]!
    const had = out[name]
    out[name] = had === undefined ? value : typeof had === 'string' ? [had, value] : [...had, value]
  }
  const text = decoder.decode(rawBody)
  return { status: wire.status, headers: out, body: text, rawBody, complete, json: <T>() => JSON.parse(text) as T }
}
