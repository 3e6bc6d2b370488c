/**
 * The node half of `serve`: the node adapter (HTTPS, HTTP/2) and, with `workers`, node:cluster.
 * `serve` loads it on node only.
 *
 * @since 0.3.0
 */
import type { Conn } from '../context/conn.js'
import type { Part } from '../context/context.js'
import type { ServeOptions } from '../serve.js'
import type { Listening } from './adapter.js'
import { nodeAdapter } from './node.js'
import { respond } from './respond.js'

/** PEM text or bytes as node's TLS options take them. */
const pem = (value: string | Uint8Array): string | Buffer =>
  typeof value === 'string' ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength)

/** @internal `serve` on node: the given adapter or node's, on `port`, or on every worker's shared one. */
export const serveOnNode = (
  app: Part<Conn, Conn>,
  options: ServeOptions,
  port: number,
  host: string,
): Promise<Listening> => {
  const { http2, workers } = options
  const https = options.https === undefined ? undefined : { key: pem(options.https.key), cert: pem(options.https.cert) }
  const here = (shared: number | undefined): Promise<Listening> => {
    const adapter =
      options.adapter ??
      nodeAdapter({ ...(https === undefined ? {} : { https }), ...(http2 === undefined ? {} : { http2 }) })
    // ServeOptions extends RespondOptions: every respond option (onError, compile, ...) goes on.
    return adapter.listen(respond(app, options), { port: shared ?? port, host })
  }
  if (workers === undefined) return here(undefined)
  // loaded only when asked for: node:cluster stays out of every other app
  return import('../cluster.js').then(({ serveCluster }) => serveCluster(workers, here))
}
