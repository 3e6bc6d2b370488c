/**
 * `sapwood/fastify`: an app as a Fastify plugin. Fastify is not a dependency of sapwood: nothing
 * here imports it at run time.
 *
 * @since 0.3.0
 */
export { toFastify } from './adapters/fastify.js'
