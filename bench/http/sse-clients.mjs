// Many idle Server-Sent Events clients in one process, on raw sockets (streaming benchmark,
// bench/http/streaming.ts): the runner drives it over IPC, on the load generator's core.
//
//   { cmd: 'open', count, batch, timeout }   opens `count` more GET /events streams, `batch` at a
//       time, each counted once its head and first chunk arrived; answers { open, failed, ms }
//   { cmd: 'broadcast', count, spacing, timeout }   `count` times: POST /broadcast/<seq> on a
//       connection of its own, then waits (up to `timeout` ms) until every stream got the event
//       with that seq, then `spacing` ms; answers the delivery times, trigger to receipt, all
//       taken with this process's clock: { p50, p99, max (per broadcast), missing, samples }
//   { cmd: 'close' }   closes every stream; answers { open: 0 }
//   { cmd: 'exit' }
//
// argv[2]: { port }. Every wait is bounded; a stream that fails or closes is counted, not retried.
/* eslint-disable @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-return -- plain JavaScript, linted without types: see tsconfig.json */
import { Buffer } from 'node:buffer'
import { connect } from 'node:net'
import { performance } from 'node:perf_hooks'
import process from 'node:process'
import { clearTimeout, setTimeout } from 'node:timers'
import { setTimeout as sleep } from 'node:timers/promises'

const { port } = JSON.parse(process.argv[2])
const HOST = '127.0.0.1'
const REQUEST = `GET /events HTTP/1.1\r\nHost: ${HOST}:${port}\r\nAccept: text/event-stream\r\n\r\n`
const HEAD_END = Buffer.from('\r\n\r\n')

/** The open streams; `index` is a stream's slot in the receipt times of a broadcast. */
const streams = []
/** During a broadcast: the marker its event carries, the receipt times, how many are in. */
let marker
let received
let receivedCount = 0
let whenAll

const onEvent = (stream, chunk) => {
  if (marker === undefined || received[stream.index] !== 0 || chunk.indexOf(marker) === -1) return
  received[stream.index] = performance.now()
  receivedCount++
  if (receivedCount === streams.length) whenAll?.()
}

/** One stream: resolves true once the head (200) and a first chunk after it arrived, false if it failed. */
const openOne = (timeout) =>
  new Promise((resolve) => {
    const socket = connect(port, HOST)
    const stream = { socket, index: -1 }
    let head = Buffer.alloc(0)
    let settled = false
    const settle = (ok) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      if (!ok) socket.destroy()
      resolve(ok)
    }
    const timer = setTimeout(() => settle(false), timeout)
    socket.setNoDelay(true)
    socket.on('error', () => settle(false))
    socket.on('close', () => {
      if (stream.index !== -1) stream.closed = true
      settle(false)
    })
    const first = (chunk) => {
      head = Buffer.concat([head, chunk])
      const end = head.indexOf(HEAD_END)
      if (end === -1) {
        if (head.length > 16_384) settle(false)
        return
      }
      if (!head.subarray(0, 16).toString('latin1').startsWith('HTTP/1.1 200')) return settle(false)
      // the head alone is not enough: the stream's first chunk must be in too
      if (head.length <= end + HEAD_END.length) return
      socket.off('data', first)
      socket.on('data', (c) => onEvent(stream, c))
      stream.index = streams.length
      streams.push(stream)
      settle(true)
    }
    socket.on('data', first)
    socket.write(REQUEST)
  })

const open = async ({ count, batch, timeout }) => {
  const start = performance.now()
  let failed = 0
  for (let i = 0; i < count; i += batch) {
    const n = Math.min(batch, count - i)
    const results = await Promise.all(Array.from({ length: n }, () => openOne(timeout)))
    failed += results.filter((ok) => !ok).length
    // the whole open is bounded too: 2 timeouts' worth
    if (performance.now() - start > 2 * timeout + count) break
  }
  return { open: streams.filter((s) => !s.closed).length, failed, ms: performance.now() - start }
}

/** The connection the broadcasts are asked on, kept alive; resolves each answer's status. */
const trigger = () => {
  const socket = connect(port, HOST)
  socket.setNoDelay(true)
  let pending
  let text = ''
  socket.setEncoding('latin1')
  socket.on('data', (chunk) => {
    text += chunk
    // 204: a head and no body
    const end = text.indexOf('\r\n\r\n')
    if (end === -1) return
    const status = Number(text.slice(9, 12))
    text = text.slice(end + 4)
    pending?.(status)
  })
  return {
    ask: (seq) =>
      new Promise((resolve) => {
        pending = resolve
        socket.write(`POST /broadcast/${seq} HTTP/1.1\r\nHost: ${HOST}:${port}\r\nContent-Length: 0\r\n\r\n`)
      }),
    ready: new Promise((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    }),
    close: () => socket.destroy(),
  }
}

let seq = 0

const broadcast = async ({ count, spacing, timeout }) => {
  const t = trigger()
  await t.ready
  const all = new Float64Array(count * streams.length)
  let samples = 0
  let missing = 0
  const max = []
  const statuses = new Set()
  try {
    for (let b = 0; b < count; b++) {
      seq++
      marker = Buffer.from(`"seq":${seq}}`)
      received = new Float64Array(streams.length)
      receivedCount = 0
      const done = new Promise((resolve) => (whenAll = resolve))
      const start = performance.now()
      const answered = t.ask(seq)
      await Promise.race([done, sleep(timeout)])
      statuses.add(await Promise.race([answered, sleep(timeout).then(() => 0)]))
      marker = undefined
      whenAll = undefined
      let last = 0
      for (const at of received) {
        if (at === 0) {
          missing++
          continue
        }
        const ms = at - start
        all[samples++] = ms
        if (ms > last) last = ms
      }
      max.push(last)
      await sleep(spacing)
    }
  } finally {
    t.close()
  }
  const sorted = all.subarray(0, samples).sort()
  const at = (p) => (samples === 0 ? Number.NaN : sorted[Math.min(samples - 1, Math.ceil(p * samples) - 1)])
  return { p50: at(0.5), p99: at(0.99), max, missing, samples, statuses: [...statuses] }
}

const close = async () => {
  for (const s of streams) s.socket.destroy()
  streams.length = 0
  await sleep(100)
  return { open: 0 }
}

process.on('message', (m) => {
  const run =
    m.cmd === 'open'
      ? open(m)
      : m.cmd === 'broadcast'
        ? broadcast(m)
        : m.cmd === 'close'
          ? close()
          : m.cmd === 'exit'
            ? close().then(() => process.exit(0))
            : Promise.reject(new Error(`unknown command ${m.cmd}`))
  run.then(
    (result) => process.send({ ok: true, result }),
    (error) => process.send({ ok: false, error: String(error?.stack ?? error) }),
  )
})
process.send({ ok: true, result: 'ready' })
