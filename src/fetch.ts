/**
 * `sapwood/fetch`: an app as a fetch handler, `(request: Request) => Promise<Response>`, for
 * Cloudflare Workers, Deno, Bun and edge functions. Nothing reachable from it imports a `node:`
 * module.
 *
 * @since 0.3.0
 */
export { toFetchHandler } from './adapters/fetch.js'
