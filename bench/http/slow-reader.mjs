// A client that reads slowly (streaming benchmark, bench/http/streaming.ts): GET <path> on a raw
// socket, read at about `rate` bytes per second (the socket is paused whenever it is ahead of
// that pace, and resumed as the pace catches up: the kernel's buffers fill and the server must
// wait), until the server closes the connection or `timeout` ms passed. Prints one JSON line:
// { status, bytes (all received, head included), seconds, complete }.
//
// argv[2]: { port, path, rate, timeout }
/* eslint-disable @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access -- plain JavaScript, linted without types: see tsconfig.json */
import { connect } from 'node:net'
import { performance } from 'node:perf_hooks'
import process from 'node:process'
import { clearInterval, clearTimeout, setInterval, setTimeout } from 'node:timers'

const { port, path, rate, timeout } = JSON.parse(process.argv[2])
const TICK_MS = 20

const start = performance.now()
let bytes = 0
let status = 0
let allowance = 0
let last = start

const socket = connect(port, '127.0.0.1')
socket.on('data', (chunk) => {
  if (status === 0) status = Number(chunk.subarray(9, 12).toString('latin1'))
  bytes += chunk.length
  allowance -= chunk.length
  if (allowance <= 0) socket.pause()
})

const pace = setInterval(() => {
  const now = performance.now()
  // at most one tick's worth carried over: a pause does not bank a burst
  allowance = Math.min(allowance + ((now - last) / 1000) * rate, (rate * TICK_MS) / 1000)
  last = now
  if (allowance > 0 && socket.isPaused()) socket.resume()
}, TICK_MS)

const finish = (complete) => {
  clearInterval(pace)
  clearTimeout(bound)
  socket.destroy()
  const seconds = (performance.now() - start) / 1000
  process.stdout.write(`${JSON.stringify({ status, bytes, seconds, complete })}\n`)
}

const bound = setTimeout(() => finish(false), timeout)
socket.once('end', () => finish(true))
socket.once('error', () => finish(false))
socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`)
