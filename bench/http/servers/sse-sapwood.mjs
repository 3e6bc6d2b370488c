// Server-Sent Events on sapwood (streaming benchmark, bench/http/streaming.ts): GET /events is an
// `sse` stream fed by a `channel` subscription (or by a Set of `send` functions: FANOUT=set),
// POST /broadcast/:seq publishes `{ seq }`, and so sends it to every connected client. sapwood comes from the built package (dist/, or
// SAPWOOD_DIST), with its defaults (a heartbeat comment every 15 s per stream).
/* eslint-disable @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-return -- plain JavaScript, linted without types: see ../tsconfig.json */
import process from 'node:process'
import { listening, loadSapwood } from './common.mjs'

const sap = await loadSapwood()

// FANOUT=channel (default): each stream reads a `channel` subscription; FANOUT=set: the room
// pattern, a Set of the streams' `send` functions that a broadcast calls in turn.
const FANOUT = process.env.FANOUT ?? 'channel'
if (FANOUT !== 'channel' && FANOUT !== 'set') throw new Error(`FANOUT=${FANOUT}: expected channel or set`)

const room = sap.channel('broadcast')
const sends = new Set()

const events =
  FANOUT === 'channel'
    ? sap.sse(async ({ send, signal }) => {
        // the subscription ends when the client leaves, and the producer with it
        for await (const message of room.subscribe(signal)) await send(message)
      })
    : sap.sse(({ send, signal }) => {
        sends.add(send)
        signal.addEventListener('abort', () => sends.delete(send))
      })

const publish =
  FANOUT === 'channel'
    ? (message) => room.publish(message)
    : (message) => {
        for (const send of sends) void send(message)
      }

const app = sap.choose([
  sap.pipe(sap.get, sap.path('/events'), events),
  sap.pipe(
    sap.post,
    sap.path('/broadcast/:seq'),
    sap.handle(async (c) => {
      await publish({ seq: Number(c.params.seq) })
      return sap.noContent()
    }),
  ),
])

const server = await sap.serve(app, { port: Number(process.env.PORT ?? 0), host: '127.0.0.1' })
listening(server.native)
