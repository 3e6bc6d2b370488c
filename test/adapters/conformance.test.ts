// The conformance suite (conformance.ts) against every adapter that runs on this Node: serve over
// HTTP/1.1, HTTPS and HTTP/2 (and HTTP/1.1 clients of that HTTP/2 server), the fetch handler behind
// a node:http bridge, and the Express and Fastify mounts. The other runtimes (Bun, Deno, Node from
// npm, workerd) run the same suite through `npm run test:runtimes` (test/runtimes/conformance.ts).
import assert from 'node:assert/strict'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import express from 'express'
import Fastify from 'fastify'
import { get, ok, path, pipe, serve } from 'sapwood'
import { toExpress } from 'sapwood/express'
import { toFastify } from 'sapwood/fastify'
import { toFetchHandler } from 'sapwood/fetch'
import { selfSigned } from '../support/cert.js'
import { serveFetch } from '../support/fetch-bridge.js'
import { type Served, type Start, conformance, request } from './conformance.js'

const local = { port: 0, host: '127.0.0.1' } as const

conformance('serve (node:http, HTTP/1.1)', async ({ app, options }) => serve(await app(), { ...options, ...local }))

const certificate = await selfSigned()
const noCertificate = 'skip' in certificate ? `no certificate: ${certificate.skip}` : undefined
const tls = certificate as Exclude<typeof certificate, { skip: string }>

conformance(
  'serve (node:https)',
  async ({ app, options }) => {
    const served = await serve(await app(), { ...options, ...local, https: tls })
    return { url: served.url, ca: tls.cert, close: () => served.close() }
  },
  noCertificate ?? {},
)

/** `serve` with `http2: true`; the client speaks HTTP/2 when `h2`, else HTTP/1.1 (the server's ALPN fallback). */
const http2Server =
  (h2: boolean): Start =>
  async ({ app, options }) => {
    const served = await serve(await app(), { ...options, ...local, https: tls, http2: true })
    return { url: served.url, ca: tls.cert, http2: h2, close: () => served.close() }
  }

conformance(
  'serve (node:http2, HTTP/2 client)',
  http2Server(true),
  noCertificate ?? {
    WebSocket:
      'WebSocket over HTTP/2 needs RFC 8441 (extended CONNECT); the ws client speaks HTTP/1.1 only ' +
      '(the HTTP/1.1 run below opens a WebSocket on this same server)',
  },
)
conformance('serve (node:http2, HTTP/1.1 client over ALPN)', http2Server(false), noCertificate ?? {})

const plainApp = () => pipe(get, path('/'), ok('hi'))

describe('serve (node:http2): ALPN', () => {
  let served: Served | undefined
  before(async () => {
    if (noCertificate === undefined) served = await http2Server(true)({ app: async () => plainApp(), options: {} })
  })
  after(() => served?.close())

  it('answers an HTTP/2 client in HTTP/2 and an HTTP/1.1 client in HTTP/1.1', { skip: noCertificate }, async () => {
    const h2 = await request(`${served!.url}/`, { ca: tls.cert, http2: true })
    const h1 = await request(`${served!.url}/`, { ca: tls.cert })
    assert.deepEqual([h2.status, h2.version, new TextDecoder().decode(h2.body)], [200, '2.0', 'hi'])
    assert.deepEqual([h1.status, h1.version, new TextDecoder().decode(h1.body)], [200, '1.1', 'hi'])
  })
})

conformance(
  'toFetchHandler (behind a node:http bridge)',
  async ({ app, options }) => serveFetch(toFetchHandler(await app(), options)),
  { WebSocket: 'a fetch handler answers a websocket branch with 501: a Response cannot carry an upgrade' },
)

/** Why the mounts skip the bad Host case. */
const mountedHost = (host: string): string =>
  `${host} (over node's parser) owns the request head and routes by req.url, which a Host cannot change; ` +
  "the mount answers what it is passed, and sapwood's own node server refuses such a Host with 400"

/** Why the mounts skip WebSocket. */
const mountedUpgrade = (host: string): string =>
  `a handshake reaches the ${host} mount as a plain request (the server has no 'upgrade' listener) and the ` +
  "mount cannot take the socket: it answers 500; a user adds server.on('upgrade', nodeUpgradeListener(respond(app))) " +
  'from sapwood/node to the server'

conformance(
  "toExpress (mounted at '/')",
  async ({ app, options }) => {
    const middleware = toExpress(await app(), options)
    const server: Server = express().use(middleware).listen(0, '127.0.0.1')
    await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject))
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () =>
        new Promise<void>((resolve) => {
          middleware.close()
          server.close(() => resolve())
          server.closeAllConnections()
        }),
    }
  },
  { WebSocket: mountedUpgrade('Express'), 'bad Host': mountedHost('Express') },
)

conformance(
  'toFastify (at the root prefix)',
  async ({ app, options }) => {
    const server = Fastify()
    await server.register(toFastify(await app(), options))
    const url = await server.listen({ port: 0, host: '127.0.0.1' })
    return { url, close: () => server.close() }
  },
  { WebSocket: mountedUpgrade('Fastify'), 'bad Host': mountedHost('Fastify') },
)
