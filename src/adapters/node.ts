/**
 * The node:http adapter: `toNodeHandler` for any `http.createServer`, and `nodeAdapter` for `serve`.
 *
 * @since 0.1.0
 */
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import { type BodySource, type Conn, PayloadTooLargeError, type RequestHeaders, makeConn } from '../context/conn.js'
import type { Part } from '../context/context.js'
import { isThenable } from '../context/context.js'
import { rejectionResponse } from '../context/rejection.js'
import type { Adapter, Listening, ListenOptions } from './adapter.js'
import { type Handler, type RespondOptions, respond } from './respond.js'
import { toWire } from './wire.js'

const readRequest = (req: http.IncomingMessage, limit: number): Promise<Uint8Array> =>
  new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'])
    if (declared > limit) {
      reject(new PayloadTooLargeError(limit))
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        req.removeAllListeners('data')
        req.resume()
        reject(new PayloadTooLargeError(limit))
        return
      }
      chunks.push(chunk)
    })
    req.once('end', () => resolve(Buffer.concat(chunks, size)))
    req.once('error', reject)
  })

// One object per request, methods on the prototype: no closure is made unless the body is read.
class RequestSource implements BodySource {
  private reading: Promise<Uint8Array> | undefined = undefined
  constructor(private readonly req: http.IncomingMessage) {}
  read(limit: number): Promise<Uint8Array> {
    return (this.reading ??= readRequest(this.req, limit))
  }
}

const fail = (res: http.ServerResponse, error: unknown): void => {
  console.error('sapwood: could not write the response:', error)
  if (res.headersSent) {
    res.destroy()
    return
  }
  const { status, headers, body } = rejectionResponse({ _tag: 'HandlerFailed', error })
  res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

const write = (res: http.ServerResponse, c: Conn, head: boolean): void => {
  try {
    const wire = toWire(c, head)
    // A flat [name, value, ...] list goes to writeHead as it is: no header object is built.
    res.writeHead(wire.status, wire.headers as string[])
    if (wire.body === null) res.end()
    else res.end(wire.body)
  } catch (error) {
    fail(res, error)
  }
}

/**
 * Serves one request with a Handler: builds the Conn from node's request (headers passed on
 * as they are: lower-case, null prototype) and writes the final Conn once.
 *
 *
 * @example
 * import { createServer } from 'node:http'
 * import { nodeListener, respond, pipe, get, ok } from 'sapwood'
 * createServer(nodeListener(respond(pipe(get, ok('hi')))))
 *
 * @category adapters
 * @since 0.1.0
 */
export const nodeListener =
  (handler: Handler) =>
  (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const head = req.method === 'HEAD'
    let out: Conn | PromiseLike<Conn>
    try {
      out = handler(
        makeConn({
          method: req.method ?? 'GET',
          url: req.url ?? '/',
          headers: req.headers as RequestHeaders,
          source: new RequestSource(req),
        }),
      )
    } catch (error) {
      fail(res, error)
      return
    }
    if (isThenable(out)) {
      out.then(
        (c) => write(res, c, head),
        (error: unknown) => fail(res, error),
      )
    } else write(res, out, head)
  }

/**
 * A `(req, res)` listener for any node `http.createServer` (or https/http2 compat) that answers
 * every request with the app.
 *
 * @example
 * import { createServer } from 'node:http'
 * import { toNodeHandler, pipe, get, path, ok } from 'sapwood'
 * createServer(toNodeHandler(pipe(get, path('/'), ok('hello'))))
 *
 * @category adapters
 * @since 0.1.0
 */
export const toNodeHandler = (
  app: Part<Conn, Conn>,
  options: RespondOptions = {},
): ((req: http.IncomingMessage, res: http.ServerResponse) => void) => nodeListener(respond(app, options))

/**
 * Server settings of the node adapter; the defaults bound every wait and every header.
 *
 * @category adapters
 * @since 0.1.0
 */
export interface NodeAdapterOptions {
  /** Time to receive a whole request (ms). Default 30 000. */
  readonly requestTimeout?: number
  /** Time to receive the request headers (ms). Default 10 000. */
  readonly headersTimeout?: number
  /** Idle time before a keep-alive connection is closed (ms). Default 5 000. */
  readonly keepAliveTimeout?: number
  /** Largest request head in bytes. Default 16 KiB. */
  readonly maxHeaderSize?: number
  /** Time `close()` waits for requests in flight before cutting connections (ms). Default 10 000. */
  readonly closeTimeout?: number
}

const formatUrl = (address: AddressInfo): string =>
  `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`

/**
 * The node:http adapter (the default of `serve`).
 *
 * @example
 * import { serve, nodeAdapter, pipe, get, ok } from 'sapwood'
 * await serve(pipe(get, ok('hi')), { adapter: nodeAdapter({ keepAliveTimeout: 10_000 }) })
 *
 * @category adapters
 * @since 0.1.0
 */
export const nodeAdapter = (options: NodeAdapterOptions = {}): Adapter<http.Server> => ({
  name: 'node',
  listen: (handler: Handler, listen: ListenOptions): Promise<Listening<http.Server>> =>
    new Promise((resolve, reject) => {
      const server = http.createServer(
        {
          requestTimeout: options.requestTimeout ?? 30_000,
          headersTimeout: options.headersTimeout ?? 10_000,
          keepAliveTimeout: options.keepAliveTimeout ?? 5_000,
          maxHeaderSize: options.maxHeaderSize ?? 16_384,
        },
        nodeListener(handler),
      )
      const onError = (error: NodeJS.ErrnoException): void => {
        const where = `${listen.host}:${listen.port}`
        if (error.code === 'EADDRINUSE') {
          reject(
            new Error(`sapwood: cannot listen on ${where}: the port is taken (set PORT or pass { port })`, {
              cause: error,
            }),
          )
        } else if (error.code === 'EACCES') {
          reject(new Error(`sapwood: cannot listen on ${where}: permission denied`, { cause: error }))
        } else reject(new Error(`sapwood: cannot listen on ${where}: ${error.message}`, { cause: error }))
      }
      server.once('error', onError)
      server.listen(listen.port, listen.host, () => {
        server.off('error', onError)
        const close = (): Promise<void> =>
          new Promise((done, failed) => {
            const timer = setTimeout(() => server.closeAllConnections(), options.closeTimeout ?? 10_000)
            timer.unref()
            server.close((error) => {
              clearTimeout(timer)
              if (error && (error as NodeJS.ErrnoException).code !== 'ERR_SERVER_NOT_RUNNING') failed(error)
              else done()
            })
            // Idle keep-alive sockets would hold close() open; busy ones finish their request first.
            server.closeIdleConnections()
          })
        resolve({ url: formatUrl(server.address() as AddressInfo), native: server, close })
      })
    }),
})
