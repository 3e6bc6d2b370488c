/**
 * The node half of `serve` as a bundle for a Worker or a browser resolves it (the `workerd`,
 * `worker` and `browser` conditions of `sapwood/node-serve`): node's server is not there.
 *
 * @since 0.3.0
 */
import type { Listening } from './adapter.js'

/** @internal Says that node's server is not part of this bundle. */
export const serveOnNode = (): Promise<Listening> =>
  Promise.reject(
    new TypeError(
      'sapwood: serve: this bundle was built for a Worker or a browser, which has no server to start: ' +
        'export toFetchHandler(app) from sapwood/fetch as its fetch handler',
    ),
  )
