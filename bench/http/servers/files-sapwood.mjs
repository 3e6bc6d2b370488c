// Files and streams on sapwood (streaming benchmark, bench/http/streaming.ts): GET /file and
// GET /big send the files named by FILE and BIG with `sendFile`; GET /stream streams
// STREAM_BYTES bytes from a generator of fresh 64 KiB chunks (chunked: no length given), so that
// a producer that ran ahead of a slow client would show in the server's memory.
/* eslint-disable @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access -- plain JavaScript, linted without types: see ../tsconfig.json */
import { Buffer } from 'node:buffer'
import process from 'node:process'
import { listening, loadSapwood } from './common.mjs'

const sap = await loadSapwood()

const CHUNK = 64 * 1024
const total = Number(process.env.STREAM_BYTES ?? 0)

// eslint-disable-next-line @typescript-eslint/require-await -- yields fresh chunks as fast as the client takes them
async function* chunks(c) {
  for (let sent = 0, i = 0; sent < total && !c.signal.aborted; i++) {
    const size = Math.min(CHUNK, total - sent)
    yield Buffer.allocUnsafe(size).fill(i & 0xff)
    sent += size
  }
}

const routes = [sap.pipe(sap.get, sap.path('/stream'), sap.stream(chunks))]
if (process.env.FILE) routes.push(sap.pipe(sap.get, sap.path('/file'), sap.sendFile(process.env.FILE)))
if (process.env.BIG) routes.push(sap.pipe(sap.get, sap.path('/big'), sap.sendFile(process.env.BIG)))

const server = await sap.serve(sap.choose(routes), { port: Number(process.env.PORT ?? 0), host: '127.0.0.1' })
listening(server.native)
