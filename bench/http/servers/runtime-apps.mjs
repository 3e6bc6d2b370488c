// What the Bun and Deno servers of `npm run bench:runtimes` share: the built sapwood (dist/, or
// the build SAPWOOD_DIST names), the same two apps built for every side (APP=basic: GET / answers
// 'hello world'; APP=github: the 302 routes), the bare find-my-way fetch handler, the Hono app,
// and how a server says its port. Every side answers text/plain; charset=utf-8 with the same body,
// and 404 for what it does not route.
/* eslint-disable @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-return -- plain JavaScript, linted without types: see ../tsconfig.json */
/* global Response -- Bun and Deno have it, as node does (its types are not loaded here) */
import { createRequire } from 'node:module'
import { resolve } from 'node:path'
import process from 'node:process'
import { URL, pathToFileURL } from 'node:url'
import { Hono } from 'hono'
import { APP, HELLO, TEXT, bodyOf, loadRoutes } from './common.mjs'

export { APP }

/** The built package's directory: the one of SAPWOOD_DIST (a path to its index.js), else dist/. */
const distUrl = (() => {
  const other = process.env.SAPWOOD_DIST
  return other === undefined || other === ''
    ? new URL('../../../dist/', import.meta.url)
    : pathToFileURL(resolve(other))
})()

/** The main entry, `sapwood`, loaded by file path as users' bundlers and runtimes load dist/. */
export const loadSapwood = () => import(new URL('index.js', distUrl).href)

/** `sapwood/fetch`, from the same build. */
export const loadFetch = () => import(new URL('fetch.js', distUrl).href)

/** The app as one sapwood tree, the same tree on every runtime. */
export const sapwoodApp = (sap) =>
  APP === 'basic'
    ? sap.choose([sap.pipe(sap.get, sap.path('/'), sap.ok(HELLO))])
    : sap.choose(loadRoutes().map(([m, p]) => sap.pipe(sap.method(m), sap.path(p), sap.ok(bodyOf(m, p)))))

/** The routes of the app as [method, path, body], for a framework to register by itself. */
export const routes = () =>
  APP === 'basic' ? [['GET', '/', HELLO]] : loadRoutes().map(([m, p]) => [m, p, bodyOf(m, p)])

/**
 * The ceiling: find-my-way by hand (the very copy sapwood compiles to, resolved from the root
 * package), one find() per request on the path sliced out of the URL, each handler a fresh
 * Response of a constant body and the one content-type.
 */
export const bareHandler = () => {
  const FindMyWay = createRequire(new URL('../../../package.json', import.meta.url))('find-my-way')
  const router = FindMyWay()
  const init = { headers: { 'content-type': TEXT } }
  for (const [method, path, body] of routes()) router.on(method, path, () => new Response(body, init))
  const missing = { status: 404, headers: { 'content-type': TEXT } }
  return (request) => {
    const url = request.url
    // a Request's URL is serialized: the path starts at the first '/' after the scheme's '//'
    const found = router.find(request.method, url.slice(url.indexOf('/', url.indexOf('//') + 2)))
    return found === null ? new Response('Not Found', missing) : found.handler()
  }
}

/** The app on Hono, its default router; `c.text` answers text/plain; charset=UTF-8. */
export const honoApp = () => {
  const app = new Hono()
  for (const [method, path, body] of routes()) app.on(method, path, (c) => c.text(body))
  return app
}

/** The port to listen on: PORT, or 0. */
export const PORT = Number(process.env.PORT ?? 0)

/**
 * Prints the port on stdout (the driver reads the first line). Exits on SIGTERM, so that a
 * server run with --cpu-prof writes its profile.
 */
export const listening = (port) => {
  process.stdout.write(`${port}\n`)
  process.once('SIGTERM', () => process.exit(0))
}

/**
 * Serves a fetch handler with the runtime's own server, `Bun.serve` or `Deno.serve`, on
 * 127.0.0.1:PORT, and prints the port.
 */
export const serveFetch = (handler) => {
  const { Bun, Deno } = globalThis
  if (Bun !== undefined) {
    const server = Bun.serve({ port: PORT, hostname: '127.0.0.1', fetch: handler })
    listening(server.port)
  } else if (Deno !== undefined) {
    // an onListen of its own: Deno's default one prints a line of its own on stdout
    const server = Deno.serve({ port: PORT, hostname: '127.0.0.1', onListen: () => undefined }, handler)
    listening(server.addr.port)
  } else throw new Error('neither Bun nor Deno: run this server with bun or deno')
}
