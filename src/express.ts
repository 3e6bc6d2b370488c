/**
 * `sapwood/express`: an app as Express (or Connect) middleware. Express is not a dependency of
 * sapwood: nothing here imports it.
 *
 * @since 0.3.0
 */
export { type ExpressMiddleware, type ExpressRequest, toExpress } from './adapters/express.js'
