// Files on Fastify 5 with @fastify/static (streaming benchmark, bench/http/streaming.ts): GET
// /file and GET /big send the files named by FILE and BIG with `reply.sendFile`, from their
// directory as the plugin's root, with its defaults (ETag, Last-Modified, cache-control, ranges).
// HIGH_WATER_MARK=65536 passes `highWaterMark` to @fastify/send: without it, the file stream reads
// 16 KiB at a time on Node 20 (send passes `highWaterMark: null`, and a null takes the generic
// stream default, not fs.createReadStream's 64 KiB).
/* eslint-disable @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-return -- plain JavaScript, linted without types: see ../tsconfig.json */
import { basename, dirname } from 'node:path'
import process from 'node:process'
import fastifyStatic from '@fastify/static'
import Fastify from 'fastify'
import { listening } from './common.mjs'

const app = Fastify({ logger: false })
const files = [
  ['/file', process.env.FILE],
  ['/big', process.env.BIG],
].filter(([, file]) => file)
if (files.length === 0) throw new Error('files-fastify.mjs: set FILE or BIG')

// one root for both: the runner writes them to the same directory
await app.register(fastifyStatic, { root: dirname(files[0][1]), serve: false })
const hwm = Number(process.env.HIGH_WATER_MARK ?? 0)
const options = hwm > 0 ? { highWaterMark: hwm } : {}
for (const [url, file] of files) app.get(url, (_req, reply) => reply.sendFile(basename(file), options))

await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' })
listening(app.server)
