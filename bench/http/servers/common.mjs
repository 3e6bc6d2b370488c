// What every server script of the HTTP benchmark shares: which app to build (APP=basic|github),
// the GitHub-shaped route set, and how a server says where it listens. Plain JavaScript, loaded
// by node without any loader, so that no transform sits between a framework and the timings.
/* eslint-disable @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-return -- plain JavaScript, linted without types: see ../tsconfig.json */
import { Buffer } from 'node:buffer'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import process from 'node:process'
import { URL, fileURLToPath, pathToFileURL } from 'node:url'

/**
 * The built package, as users load it: dist/ by default, or the `index.js` of another build
 * given by SAPWOOD_DIST (a build of the work tree in bench/tmp/, say, to time a change without
 * touching dist/).
 */
export const loadSapwood = () => {
  const other = process.env.SAPWOOD_DIST
  return import(other === undefined || other === '' ? '../../../dist/index.js' : pathToFileURL(resolve(other)).href)
}

/** `basic`: GET /, GET /users/:id, POST /echo (anything else is a 404); `github`: the 302 routes. */
export const APP = process.env.APP ?? 'basic'
if (APP !== 'basic' && APP !== 'github') throw new Error(`APP=${APP}: expected basic or github`)

/** The largest request body a server reads (Fastify's default). */
export const BODY_LIMIT = 1 << 20

export const HELLO = 'hello world'
export const TEXT = 'text/plain; charset=utf-8'
export const JSON_TYPE = 'application/json'

/** The response schema of GET /users/:id, the same for every server that takes one. */
export const USER_SCHEMA = {
  type: 'object',
  properties: { id: { type: 'string' }, name: { type: 'string' } },
  required: ['id', 'name'],
}

/** The schema of POST /echo's body and answer. */
export const ECHO_SCHEMA = {
  type: 'object',
  properties: { hello: { type: 'string' } },
  required: ['hello'],
}

/** The body of GET /users/:id. */
export const user = (id) => ({ id, name: `user ${id}` })

const candidates = [new URL('../../data/github-routes.txt', import.meta.url)]

/** The 302 routes as [method, path] pairs, in file order (the same reading as bench/github.ts). */
export const loadRoutes = () => {
  for (const url of candidates) {
    let text
    try {
      text = readFileSync(fileURLToPath(url), 'utf8')
    } catch {
      continue
    }
    const routes = []
    for (const line of text.split('\n')) {
      const r = /^([A-Z]+) (\S+)/.exec(line)
      if (r !== null) routes.push([r[1], r[2]])
    }
    return routes
  }
  throw new Error('github-routes.txt not found')
}

/** What every GitHub-shaped route answers (text/plain), the same on every server. */
export const bodyOf = (method, path) => `${method} ${path}`

/**
 * Prints the port on stdout (the runner reads the first line). When started with an IPC channel
 * (memory runs only), answers 'memory' with the usage after a full GC and the open connections.
 */
export const listening = (server) => {
  process.stdout.write(`${server.address().port}\n`)
  if (process.send === undefined) return
  process.on('message', (message) => {
    if (message !== 'memory') return
    globalThis.gc?.()
    globalThis.gc?.()
    const { rss, heapUsed } = process.memoryUsage()
    server.getConnections((_error, connections) => process.send({ rss, heapUsed, connections }))
  })
}

/** The two hand-written servers answer with one writeHead (with content-length) and one end. */
export const send = (res, status, type, body) => {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

/** POST /echo by hand, for the two hand-written servers: read the body, parse it, send it back. */
export const echo = (req, res) => {
  const chunks = []
  let size = 0
  req.on('data', (chunk) => {
    size += chunk.length
    if (size > BODY_LIMIT) req.destroy()
    else chunks.push(chunk)
  })
  req.on('end', () => {
    let value
    try {
      value = JSON.parse(Buffer.concat(chunks, size).toString('utf8'))
    } catch {
      send(res, 400, TEXT, 'Bad Request')
      return
    }
    send(res, 200, JSON_TYPE, JSON.stringify(value))
  })
}
