// The ceiling for a routing library: node:http plus find-my-way by hand, one find() per request,
// each handler writing once with writeHead(status, headers) + end(body) and a content-length.
// find-my-way is the very copy sapwood compiles to (resolved from the root package).
/* eslint-disable @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access -- plain JavaScript, linted without types: see ../tsconfig.json */
import process from 'node:process'
import { URL } from 'node:url'
import { Buffer } from 'node:buffer'
import { createRequire } from 'node:module'
import { createServer } from 'node:http'
import { APP, HELLO, JSON_TYPE, TEXT, bodyOf, echo, listening, loadRoutes, send, user } from './common.mjs'

const FindMyWay = createRequire(new URL('../../../package.json', import.meta.url))('find-my-way')

const router = FindMyWay()
if (APP === 'basic') {
  const helloLength = String(Buffer.byteLength(HELLO))
  router.on('GET', '/', (_req, res) => {
    res.writeHead(200, { 'content-type': TEXT, 'content-length': helloLength })
    res.end(HELLO)
  })
  router.on('GET', '/users/:id', (_req, res, params) => send(res, 200, JSON_TYPE, JSON.stringify(user(params.id))))
  router.on('POST', '/echo', echo)
} else {
  for (const [method, path] of loadRoutes()) {
    const body = bodyOf(method, path)
    const length = String(Buffer.byteLength(body))
    router.on(method, path, (_req, res) => {
      res.writeHead(200, { 'content-type': TEXT, 'content-length': length })
      res.end(body)
    })
  }
}

const server = createServer((req, res) => {
  const found = router.find(req.method, req.url)
  if (found === null) send(res, 404, TEXT, 'Not Found')
  else found.handler(req, res, found.params)
})

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => listening(server))
