/**
 * The Express (and Connect) mount: an app as middleware that answers the requests its tree
 * takes and calls `next()` for the others. It needs nothing from Express at run time.
 *
 * @since 0.3.0
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Conn } from '../context/conn.js'
import type { Part } from '../context/context.js'
import { mountListener } from './node-mount.js'
import { type RespondOptions, respondOrPass } from './respond.js'

/**
 * The request an Express or Connect middleware gets: node's, with the mount path Express sets
 * (`baseUrl`) and the body a parser in front may have read (`body`).
 *
 * @category adapters
 * @since 0.3.0
 */
export type ExpressRequest = IncomingMessage & { readonly baseUrl?: string; readonly body?: unknown }

/**
 * What `toExpress` makes: an Express (or Connect) middleware, `(req, res, next)`, and `close()`.
 *
 * @category adapters
 * @since 0.3.0
 */
export interface ExpressMiddleware {
  (req: ExpressRequest, res: ServerResponse, next: () => void): void
  /**
   * Call it when the server closes: the producers of the streams being sent (SSE) are told to
   * stop (their signal fires), so that those answers end and `server.close()` is not held open,
   * and answers from then on close their connections.
   */
  close(): void
}

/**
 * Mounts an app in Express 4 or 5 (or Connect): requests that no branch of the tree matches go
 * on to the next middleware (`next()`), and so on to Express's own 404; every other answer is
 * sent, 405, 401 and the app's own 500 problem+json included (a handler that throws is reported
 * to `onError` and answered by the app, not passed to Express's error handlers). Mounted with
 * `app.use('/api', middleware)`, the tree routes on the rest of the path, as Express gives it,
 * and a redirect to a path of the app (`found('/login')`) goes to `/api/login`. A JSON body
 * that `express.json()` read in front is what `jsonBody` decodes; the other decoders read the
 * body themselves (one that a parser in front read is a 500 that says so, never a wait).
 * WebSocket branches do not go through Express. On shutdown, call its `close()` before the
 * server's, so that open streams (SSE) end.
 *
 * @example
 * import express from 'express'
 * import { pipe, get, path, ok } from 'sapwood'
 * import { toExpress } from 'sapwood/express'
 * const api = toExpress(pipe(get, path('/hello'), ok('hi')))
 * const server = express().use('/api', api).listen(3000) // GET /api/hello → "hi"; GET /api/other → Express's 404
 * process.on('SIGTERM', () => {
 *   api.close()
 *   server.close()
 * })
 *
 * @category adapters
 * @since 0.3.0
 */
export const toExpress = (app: Part<Conn, Conn>, options: RespondOptions = {}): ExpressMiddleware => {
  const run = mountListener(respondOrPass(app, options))
  const middleware = (req: ExpressRequest, res: ServerResponse, next: () => void): void =>
    run(req, res, { url: req.url ?? '/', base: req.baseUrl ?? '', pass: next })
  return Object.assign(middleware, { close: () => run.close() })
}
