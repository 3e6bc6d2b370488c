/**
 * `serve`: an app on a port, node:http by default.
 *
 * @since 0.1.0
 */
import type { Conn } from './context/conn.js'
import type { Part } from './context/context.js'
import type { Adapter, Listening } from './adapters/adapter.js'
import { type NodeAdapterOptions, nodeAdapter } from './adapters/node.js'
import { type RespondOptions, respond } from './adapters/respond.js'

/**
 * Options of `serve`: those of `respond` (`onError`, `compile`), and where to listen. `port` and
 * `host` default to the `PORT` and `HOST` environment variables, then to 4000 and 127.0.0.1.
 *
 * @category serve
 * @since 0.1.0
 */
export interface ServeOptions extends RespondOptions {
  readonly port?: number
  readonly host?: string
  /** Serve HTTPS with these TLS options (`key` and `cert`), on the node adapter; see `NodeAdapterOptions.https`. */
  readonly https?: NodeAdapterOptions['https']
  /** Serve HTTP/2 with HTTP/1.1 fallback (ALPN); needs `https`. See `NodeAdapterOptions.http2`. */
  readonly http2?: boolean
  /** The adapter to serve with (default: `nodeAdapter()`, with `https` when given). */
  readonly adapter?: Adapter
  /**
   * Serve with this many node:cluster workers (`'auto'`: one per core), all on the same port.
   * The primary process forks them (the same script, argv and execArgv) and resolves with the
   * shared URL and a `close()` that drains every worker; a worker that dies is restarted (at
   * most 5 restarts in 10 s); SIGTERM and SIGINT drain every worker, then exit the primary. In a
   * worker, `serve` listens as without `workers` and closes at the primary's word.
   *
   * @example
   * import cluster from 'node:cluster'
   * import { serve, pipe, get, ok } from 'sapwood'
   * const server = await serve(pipe(get, ok(`hi from ${process.pid}`)), { port: 3000, workers: 'auto' })
   * if (cluster.isPrimary) console.log(`${server.url}, one worker per core`)
   *
   * @since 0.3.0
   */
  readonly workers?: number | 'auto'
}

const portFrom = (value: string | undefined): number | undefined => {
  if (value === undefined || value === '') return undefined
  const port = Number(value)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`sapwood: PORT=${value} is not a port number (0-65535)`)
  }
  return port
}

/**
 * Serves the app and resolves once it listens, with its `url` and a `close()` that drains the
 * requests in flight.
 *
 * @example
 * import { serve, pipe, get, path, ok } from 'sapwood'
 * const server = await serve(pipe(get, path('/'), ok('hello')), { port: 0 })
 * console.log(server.url)
 * await server.close()
 *
 * @category serve
 * @since 0.1.0
 */
export const serve = (app: Part<Conn, Conn>, options: ServeOptions = {}): Promise<Listening> => {
  const port = options.port ?? portFrom(process.env['PORT']) ?? 4000
  const host = options.host ?? (process.env['HOST'] || '127.0.0.1')
  if (options.adapter !== undefined && (options.https !== undefined || options.http2 !== undefined)) {
    throw new TypeError(
      'sapwood: serve: give `https` and `http2` to the adapter (nodeAdapter({ https })), not next to it',
    )
  }
  const { https, http2, workers } = options
  const here = (shared: number | undefined): Promise<Listening> => {
    const adapter =
      options.adapter ??
      nodeAdapter({ ...(https === undefined ? {} : { https }), ...(http2 === undefined ? {} : { http2 }) })
    // ServeOptions extends RespondOptions: every respond option (onError, compile, ...) goes on.
    return adapter.listen(respond(app, options), { port: shared ?? port, host })
  }
  if (workers === undefined) return here(undefined)
  // loaded only when asked for: node:cluster stays out of every other app
  return import('./cluster.js').then(({ serveCluster }) => serveCluster(workers, here))
}
