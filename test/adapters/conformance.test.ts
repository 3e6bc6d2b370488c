// The conformance suite (conformance.ts) against every adapter that runs on this Node: serve over
// HTTP/1.1 and HTTPS, the fetch handler behind a node:http bridge, and the Express and Fastify mounts.
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import Fastify from 'fastify'
import { serve } from 'sapwood'
import { toExpress } from 'sapwood/express'
import { toFastify } from 'sapwood/fastify'
import { toFetchHandler } from 'sapwood/fetch'
import { selfSigned } from '../support/cert.js'
import { serveFetch } from '../support/fetch-bridge.js'
import { conformance } from './conformance.js'

conformance('serve (node:http, HTTP/1.1)', (app, options) => serve(app, { ...options, port: 0, host: '127.0.0.1' }))

const certificate = await selfSigned()
conformance(
  'serve (node:https)',
  async (app, options) => {
    const tls = certificate as Exclude<typeof certificate, { skip: string }>
    const served = await serve(app, { ...options, port: 0, host: '127.0.0.1', https: tls })
    return { url: served.url, ca: tls.cert, close: () => served.close() }
  },
  'skip' in certificate ? `no certificate: ${certificate.skip}` : {},
)

conformance('toFetchHandler (behind a node:http bridge)', (app, options) => serveFetch(toFetchHandler(app, options)))

conformance("toExpress (mounted at '/')", async (app, options) => {
  const middleware = toExpress(app, options)
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
})

conformance('toFastify (at the root prefix)', async (app, options) => {
  const server = Fastify()
  await server.register(toFastify(app, options))
  const url = await server.listen({ port: 0, host: '127.0.0.1' })
  return { url, close: () => server.close() }
})
