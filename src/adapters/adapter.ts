/**
 * The one interface between an app and a platform.
 *
 * @since 0.1.0
 */
import type { Handler } from './respond.js'

/**
 * Where and how to listen.
 *
 * @category adapters
 * @since 0.1.0
 */
export interface ListenOptions {
  readonly port: number
  readonly host: string
}

/**
 * A running server: its URL, the platform's own server object, and a `close()` that stops
 * accepting connections and resolves once the requests in flight are answered.
 *
 * @category adapters
 * @since 0.1.0
 */
export interface Listening<Native = unknown> {
  readonly url: string
  readonly native: Native
  close(): Promise<void>
}

/**
 * A platform that can serve a Handler (node:http by default).
 *
 * @category adapters
 * @since 0.1.0
 */
export interface Adapter<Native = unknown> {
  readonly name: string
  listen(handler: Handler, options: ListenOptions): Promise<Listening<Native>>
}
