/**
 * `serve`: an app on a port, with the server of the runtime it runs on (node:http, `Bun.serve`,
 * `Deno.serve`). It imports no `node:` module: on node the node adapter is loaded when called.
 *
 * @since 0.1.0
 */
import type { Conn } from './context/conn.js'
import type { Part } from './context/context.js'
import type { Adapter, Listening, TlsOptions } from './adapters/adapter.js'
import { bunAdapter } from './adapters/bun.js'
import { denoAdapter } from './adapters/deno.js'
import { type RespondOptions, respond } from './adapters/respond.js'
import { type Runtime, runtime } from './internal/runtime.js'

/**
 * Options of `serve`: those of `respond` (`onError`, `compile`), and where to listen. `port` and
 * `host` default to the `PORT` and `HOST` environment variables, then to 4000 and 127.0.0.1.
 * `https` works on node, Bun and Deno; `http2` on node and Deno; `workers` on node.
 *
 * @category serve
 * @since 0.1.0
 */
export interface ServeOptions extends RespondOptions {
  readonly port?: number
  readonly host?: string
  /** Serve HTTPS with this certificate and key (PEM), on every runtime. */
  readonly https?: TlsOptions
  /**
   * Serve HTTP/2 with HTTP/1.1 fallback (ALPN); needs `https`. Node and Deno (which speaks
   * HTTP/2 over TLS by itself) have it; Bun has no HTTP/2 server, and refuses it.
   */
  readonly http2?: boolean
  /**
   * The adapter to serve with. Default: the runtime's own server, `nodeAdapter()` (from
   * `sapwood/node`) on node, `bunAdapter()` on Bun, `denoAdapter()` on Deno, with `https`.
   */
  readonly adapter?: Adapter
  /**
   * Serve with this many node:cluster workers (`'auto'`: one per core), all on the same port (node only).
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

/** An environment variable, on runtimes that have `process.env` (node, Bun, Deno 2). */
const env = (name: string): string | undefined => {
  try {
    return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name]
  } catch {
    // Deno without --allow-env refuses to read it: the default applies
    return undefined
  }
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
  const port = options.port ?? portFrom(env('PORT')) ?? 4000
  const host = options.host ?? (env('HOST') || '127.0.0.1')
  if (options.adapter !== undefined && (options.https !== undefined || options.http2 !== undefined)) {
    throw new TypeError(
      'sapwood: serve: give `https` and `http2` to the adapter (nodeAdapter({ https })), not next to it',
    )
  }
  const where = runtime()
  if (where === 'node') {
    // the node server (and node:cluster) is loaded only here, by the package's own name: a bundle
    // for a Worker or a browser resolves it to a stub (the conditions of sapwood/node-serve), and
    // the main entry stays free of node: modules
    return import('sapwood/node-serve').then(({ serveOnNode }) => serveOnNode(app, options, port, host))
  }
  if (options.workers !== undefined) {
    throw new TypeError(
      `sapwood: serve: \`workers\` needs node:cluster; on ${where}, start one process per core yourself`,
    )
  }
  const adapter = options.adapter ?? defaultAdapter(where, options)
  // ServeOptions extends RespondOptions: every respond option (onError, compile, ...) goes on.
  return adapter.listen(respond(app, options), { port, host })
}

/** The server of a runtime that is not node. */
const defaultAdapter = (where: Exclude<Runtime, 'node'>, options: ServeOptions): Adapter => {
  const { https, http2 } = options
  if (http2 === true && https === undefined) {
    throw new TypeError('sapwood: serve: http2 needs https ({ https: { key, cert }, http2: true })')
  }
  switch (where) {
    case 'bun':
      if (http2 === true)
        throw new TypeError('sapwood: serve: Bun has no HTTP/2 server; leave out `http2` (HTTPS works)')
      return bunAdapter(https === undefined ? {} : { https })
    case 'deno':
      // Deno speaks HTTP/2 over TLS to every client that offers it: `http2` asks for nothing more
      return denoAdapter(https === undefined ? {} : { https })
    default:
      throw new TypeError(
        `sapwood: serve: this runtime (${where}) has no server that sapwood starts: ` +
          'export toFetchHandler(app) from sapwood/fetch as its fetch handler',
      )
  }
}
