// Server-Sent Events on Fastify 5, written by hand as its users do without a plugin (streaming
// benchmark, bench/http/streaming.ts): GET /events takes over the raw response (writeHead, then
// an empty comment so that the head goes out) and joins a Set of clients; POST /broadcast/:seq
// formats one event and writes it to each. One timer sends a heartbeat comment to all every 15 s,
// as sapwood's `sse` does per stream.
/* eslint-disable @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access -- plain JavaScript, linted without types: see ../tsconfig.json */
import process from 'node:process'
import { setInterval } from 'node:timers'
import Fastify from 'fastify'
import { listening } from './common.mjs'

const app = Fastify({ logger: false })
const clients = new Set()

app.get('/events', (req, reply) => {
  reply.hijack()
  const res = reply.raw
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
  })
  res.write(':\n\n')
  clients.add(res)
  res.on('close', () => clients.delete(res))
})

app.post('/broadcast/:seq', (req, reply) => {
  const event = `data: ${JSON.stringify({ seq: Number(req.params.seq) })}\n\n`
  for (const res of clients) res.write(event)
  reply.code(204).send()
})

setInterval(() => {
  for (const res of clients) res.write(':\n\n')
}, 15_000).unref()

await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' })
listening(app.server)
