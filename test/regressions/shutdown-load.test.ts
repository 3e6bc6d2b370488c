// Issue #12, item 6: graceful shutdown under load loses no accepted request. Raw keep-alive
// clients send a bounded number of requests while close() is called in the middle; every request
// that reached the app (accepted) must get its answer, answers given while the server drains
// carry `Connection: close`, and a request that got no answer never reached the app.
import assert from 'node:assert/strict'
import { type Socket, connect } from 'node:net'
import { describe, it } from 'node:test'
import { choose, get, handle, ok, path, pipe, serve, setHeader } from 'sapwood'
import { sleep, within } from '../support/wait.js'

interface Counts {
  sent: number
  answered: number
  /** Sent on a connection that closed before answering it. */
  unanswered: number
  /** Connections refused (the server stopped listening). */
  refused: number
  /**
   * Connections whose last answer was handled after close() began and did not say `Connection:
   * close` (with requests pipelined, the answers before the last one keep the connection open).
   */
  keptAlive: number
  /** Answers that said `Connection: close`. */
  closing: number
}

/**
 * One keep-alive connection that sends up to `depth` requests ahead (1: one at a time; more:
 * pipelined) while `take()` grants requests, reconnecting when the server closes it. Resolves
 * when no request is left, or the server refuses to connect.
 */
const client = (port: number, depth: number, take: () => boolean, counts: Counts, request: string): Promise<void> =>
  new Promise((resolve) => {
    let socket: Socket
    let buffer = ''
    let inFlight = 0
    let finished = false
    let last: 'close' | 'late' | 'early' | undefined
    const finish = (): void => {
      if (finished) return
      finished = true
      resolve()
    }
    const fill = (): void => {
      while (inFlight < depth && !socket.destroyed && socket.writable && take()) {
        inFlight++
        counts.sent++
        socket.write(request)
      }
      if (inFlight === 0) {
        socket.end()
        finish()
      }
    }
    const parse = (): boolean => {
      // every answer has a content-length here: parse as many whole ones as arrived
      for (;;) {
        const end = buffer.indexOf('\r\n\r\n')
        if (end === -1) return false
        const head = buffer.slice(0, end)
        const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? 0)
        if (buffer.length < end + 4 + length) return false
        buffer = buffer.slice(end + 4 + length)
        inFlight--
        counts.answered++
        const close = /\r\nconnection: close/i.test(head)
        last = close ? 'close' : /\r\nx-after-close: 1/i.test(head) ? 'late' : 'early'
        if (close) {
          counts.closing++
          return true
        }
      }
    }
    const open = (): void => {
      buffer = ''
      inFlight = 0
      last = undefined
      let connected = false
      socket = connect(port, '127.0.0.1')
      socket.setEncoding('latin1')
      socket.on('connect', () => {
        connected = true
        fill()
      })
      socket.on('data', (d: string) => {
        buffer += d
        const closed = parse()
        if (!closed) fill()
      })
      socket.on('error', () => undefined)
      socket.on('close', () => {
        if (!connected) {
          counts.refused++
          finish()
          return
        }
        counts.unanswered += inFlight
        inFlight = 0
        if (last === 'late') counts.keptAlive++
        if (!finished) open()
      })
    }
    open()
  })

const run = async (depth: number): Promise<{ counts: Counts; handled: number; total: number }> => {
  const total = 2000
  const connections = 20
  let handled = 0
  let closeCalled = false
  let closing: Promise<void> | undefined
  const app = choose([
    pipe(
      get,
      path('/work'),
      handle(async () => {
        handled++
        const late = closeCalled
        // close() in the middle, while requests are in flight
        if (handled === total / 2) {
          closeCalled = true
          closing = server.close()
        }
        // a little work, so that close() finds requests in flight
        await sleep(1 + (handled % 4))
        return late ? pipe(setHeader('x-after-close', '1'), ok('done')) : ok('done')
      }),
    ),
  ])
  const server = await serve(app, { port: 0, host: '127.0.0.1' })
  const port = Number(new URL(server.url).port)
  const counts: Counts = { sent: 0, answered: 0, unanswered: 0, refused: 0, keptAlive: 0, closing: 0 }
  let granted = 0
  const take = (): boolean => {
    if (granted >= total) return false
    granted++
    return true
  }
  const request = 'GET /work HTTP/1.1\r\nHost: localhost\r\n\r\n'
  try {
    await within(
      Promise.all(Array.from({ length: connections }, () => client(port, depth, take, counts, request))),
      20_000,
      'the clients to finish',
    )
    await within(closing ?? Promise.resolve(), 15_000, 'close() to resolve')
  } finally {
    if (closing === undefined) await server.close()
  }
  return { counts, handled, total }
}

describe('graceful shutdown under load (issue #12)', () => {
  for (const depth of [1, 4]) {
    const what = depth === 1 ? 'one request at a time' : `${depth} requests pipelined`
    it(`answers every accepted request, ${what} on 20 keep-alive connections`, async () => {
      const { counts, handled } = await run(depth)
      const note = JSON.stringify({ ...counts, handled })
      // every request sent is accounted for: answered, or on a connection closed before it was read
      assert.equal(counts.sent, counts.answered + counts.unanswered, note)
      // every request that reached the app was answered: none was cut after it was accepted
      assert.equal(counts.answered, handled, note)
      // close() began once the app had taken half of them
      assert.ok(counts.answered >= 1000, note)
      // an idle keep-alive connection is closed when close() begins (as Go's Shutdown does): a
      // request the client wrote on it then is not read, at most one per connection
      assert.ok(counts.unanswered <= 20 * depth, note)
      // the answers given while draining close their connections
      assert.equal(counts.keptAlive, 0, note)
      assert.ok(counts.closing >= 1, note)
      assert.ok(counts.refused >= 1, note)
    })
  }
})
