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

/**
 * A TLS certificate and its private key (PEM, as text or bytes), for `serve`'s `https` on every
 * runtime. The node adapter takes any option of node's `https.createServer` besides.
 *
 * @example
 * import { readFileSync } from 'node:fs'
 * import type { TlsOptions } from 'sapwood'
 * const tls: TlsOptions = { key: readFileSync('key.pem'), cert: readFileSync('cert.pem') }
 *
 * @category adapters
 * @since 0.3.0
 */
export interface TlsOptions {
  readonly key: string | Uint8Array
  readonly cert: string | Uint8Array
}

/** @internal The URL of a server that listens on `host:port`. */
export const urlOf = (secure: boolean, host: string, port: number): string =>
  `${secure ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`
