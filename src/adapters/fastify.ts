/**
 * The Fastify mount: an app as a Fastify plugin that serves it under the plugin's prefix and
 * leaves the requests its tree does not take to Fastify's 404 handling. It needs nothing from
 * Fastify at run time.
 *
 * @since 0.3.0
 */
import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify'
import type { Conn } from '../context/conn.js'
import type { Part } from '../context/context.js'
import { mountListener } from './node-mount.js'
import { type RespondOptions, respondOrPass } from './respond.js'

/**
 * The URL the app routes on: `url` less its first `depth` path segments (those of the prefix,
 * counted rather than compared, as Fastify may have matched them percent-encoded or in another
 * case), query kept.
 */
const below = (url: string, depth: number): string => {
  if (depth === 0) return url
  const query = url.indexOf('?')
  const end = query === -1 ? url.length : query
  let at = 0
  for (let i = 0; i < depth; i++) {
    const next = url.indexOf('/', at + 1)
    if (next === -1 || next > end) return query === -1 ? '/' : `/${url.slice(query)}`
    at = next
  }
  return url.slice(at)
}

/**
 * Makes a Fastify 5 plugin that serves an app under the prefix it is registered with:
 * `fastify.register(toFastify(app), { prefix: '/api' })`. The tree routes on the rest of the
 * path; a request that no branch matches goes to Fastify's 404 handling (its default JSON or
 * your `setNotFoundHandler`), every other answer is sent by sapwood (405, 401 and the app's own
 * 500 problem+json included; a handler that throws is reported to `onError`, not to Fastify's
 * error handler), and a redirect to a path of the app (`found('/login')`) goes to `/api/login`.
 * Inside the plugin, bodies are left unread for the app's decoders (its content-type parsers
 * take every type and read nothing, so Fastify's `bodyLimit` does not apply: the decoders have
 * their own limits); routes of your own outside the plugin keep Fastify's parsers. Fastify's
 * hooks run before the app (`onRequest`, `preHandler`, ...) and the headers they set on the
 * reply are sent, under the app's own; hooks that see the answer (`onSend`) do not run, as
 * sapwood writes it on `reply.raw` after `reply.hijack()`. `fastify.close()` tells the
 * producers of open streams (SSE) to stop, so that it is not held open. WebSocket branches are
 * not served through Fastify.
 *
 * @example
 * import Fastify from 'fastify'
 * import { pipe, get, path, ok } from 'sapwood'
 * import { toFastify } from 'sapwood/fastify'
 * const server = Fastify()
 * await server.register(toFastify(pipe(get, path('/hello'), ok('hi'))), { prefix: '/api' })
 * await server.listen({ port: 3000 }) // GET /api/hello → "hi"; GET /api/other → Fastify's 404
 *
 * @category adapters
 * @since 0.3.0
 */
export const toFastify = (app: Part<Conn, Conn>, options: RespondOptions = {}): FastifyPluginCallback => {
  const handler = respondOrPass(app, options)
  return (fastify, _options, done) => {
    const run = mountListener(handler)
    // streams that never end by themselves (SSE) would hold fastify.close() open
    fastify.addHook('preClose', (closed) => {
      run.close()
      closed()
    })
    const base = fastify.prefix.endsWith('/') ? fastify.prefix.slice(0, -1) : fastify.prefix
    const depth = base.split('/').length - 1
    // in this plugin's context only: the body stays on the stream, for the app's decoders
    fastify.removeAllContentTypeParsers()
    fastify.addContentTypeParser('*', (_request, _payload, parsed) => parsed(null))
    const route = (request: FastifyRequest, reply: FastifyReply): void =>
      run(request.raw, reply.raw, {
        url: below(request.raw.url ?? '/', depth),
        base,
        pass: () => reply.callNotFound(),
        claim: () => {
          reply.hijack()
          // headers that hooks set on the reply (a CORS or security plugin's) go out with the answer
          const headers = reply.getHeaders()
          for (const name in headers) {
            const value = headers[name]
            if (value !== undefined) reply.raw.setHeader(name, value)
          }
        },
      })
    fastify.all('/', { prefixTrailingSlash: 'no-slash' }, route)
    fastify.all('/*', route)
    done()
  }
}
