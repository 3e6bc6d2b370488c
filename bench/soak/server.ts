// The soak server (bench/soak.ts): one app with the five scenarios, served by `serve` from the
// built package (dist/, or the directory given by SOAK_DIST), with node's defaults otherwise.
//
//   GET /          hello world
//   GET /json      a small JSON object
//   POST /echo     a JSON body, parsed and answered back
//   GET /events    Server-Sent Events: a first event, then a channel subscription until the
//                  client leaves (its signal ends it)
//   GET /file      SOAK_FILE through sendFile, with its Range support
//
// Started with --expose-gc and an IPC channel: the message 'memory' runs two full collections and
// answers process.memoryUsage() with the number of open connections. Prints its port, then serves.
import type { Server } from 'node:http'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

import type * as Sapwood from '../../src/index.js'
import type * as SapwoodNode from '../../src/node.js'

const dist = resolve(process.env['SOAK_DIST'] ?? new URL('../../dist', import.meta.url).pathname)
const sap = (await import(pathToFileURL(join(dist, 'index.js')).href)) as typeof Sapwood
const { sendFile } = (await import(pathToFileURL(join(dist, 'node.js')).href)) as typeof SapwoodNode
const file = process.env['SOAK_FILE']
if (file === undefined) throw new Error('soak server: SOAK_FILE (the file GET /file serves) is not set')

const { choose, pipe, get, post, path, ok, json, handle } = sap
const room = sap.channel<string>('soak')

const app = choose([
  pipe(get, path('/'), ok('hello world')),
  pipe(get, path('/json'), json({ hello: 'world', items: [1, 2, 3] })),
  pipe(
    post,
    path('/echo'),
    sap.jsonBody(),
    handle((c) => json(c.body)),
  ),
  pipe(
    get,
    path('/events'),
    sap.sse(async ({ send, signal }) => {
      await send('hello', { event: 'hello' })
      for await (const message of room.subscribe(signal)) await send(message)
    }),
  ),
  pipe(get, path('/file'), sendFile(file)),
])

const server = await sap.serve(app, { port: 0, host: '127.0.0.1' })
const native = server.native as Server

process.on('message', (message) => {
  if (message !== 'memory') return
  const gc = (globalThis as { gc?: () => void }).gc
  gc?.()
  gc?.()
  const { rss, heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage()
  native.getConnections((_error, connections) => {
    process.send?.({ rss, heapUsed, heapTotal, external, arrayBuffers, connections, gc: gc !== undefined })
  })
})
process.once('SIGTERM', () => {
  server.close().then(
    () => process.exit(0),
    () => process.exit(1),
  )
})
process.stdout.write(`${new URL(server.url).port}\n`)
