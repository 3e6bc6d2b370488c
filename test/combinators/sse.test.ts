import assert from 'node:assert/strict'
import * as net from 'node:net'
import { describe, it, mock } from 'node:test'
import { EventSource } from 'eventsource'
import * as sap from 'sapwood'
import * as sapNode from 'sapwood/node'
import { inject } from 'sapwood/testing'
import { sleep, waitFor, within } from '../support/wait.js'

const { pipe, get, path, sse, formatEvent, serve, setStatus } = sap

// undici (under EventSource) may open a spare connection that never sends a request, which would
// hold close() until the adapter's closeTimeout (10 s by default)
const esServer = { port: 0, adapter: sapNode.nodeAdapter({ closeTimeout: 300 }) }

/** A raw HTTP/1.1 exchange on a socket: what arrived so far, and whether the server ended it. */
const rawGet = (url: string, target: string, method = 'GET') => {
  const socket = net.connect({ port: Number(new URL(url).port), host: '127.0.0.1' })
  const chunks: Buffer[] = []
  let ended = false
  socket.on('data', (chunk: Buffer) => chunks.push(chunk))
  socket.on('close', () => (ended = true))
  socket.on('error', () => undefined)
  socket.write(`${method} ${target} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n`)
  const bytes = (): Buffer => Buffer.concat(chunks)
  return {
    bytes,
    text: () => bytes().toString('latin1'),
    ended: () => ended,
    destroy: () => socket.destroy(),
  }
}

/** The head and the de-chunked body of a raw chunked response, and whether its last chunk came. */
const parseChunked = (raw: Buffer): { head: string; body: Buffer; complete: boolean } => {
  const split = raw.indexOf('\r\n\r\n')
  assert.ok(split !== -1, 'no complete head')
  const head = raw.subarray(0, split).toString('latin1')
  const parts: Buffer[] = []
  let at = split + 4
  for (;;) {
    const eol = raw.indexOf('\r\n', at)
    if (eol === -1) return { head, body: Buffer.concat(parts), complete: false }
    const size = parseInt(raw.subarray(at, eol).toString('latin1'), 16)
    if (size === 0) return { head, body: Buffer.concat(parts), complete: true }
    parts.push(raw.subarray(eol + 2, eol + 2 + size))
    at = eol + 2 + size + 2
  }
}

const countOf = (text: string, part: string): number => text.split(part).length - 1

describe('formatEvent', () => {
  it('writes the fields, one data line per line of the data, and a blank line', () => {
    assert.equal(formatEvent('hi'), 'data: hi\n\n')
    assert.equal(
      formatEvent('hi', { event: 'greet', id: '7', retry: 500 }),
      'event: greet\nid: 7\nretry: 500\ndata: hi\n\n',
    )
    assert.equal(formatEvent('a\nb\r\nc\rd'), 'data: a\ndata: b\ndata: c\ndata: d\n\n')
    assert.equal(formatEvent('end\n'), 'data: end\ndata:\n\n')
    assert.equal(formatEvent(''), 'data:\n\n')
    // the parser strips one space after the colon: a leading space of the data survives
    assert.equal(formatEvent(' indented'), 'data:  indented\n\n')
  })

  it('sends anything but text as JSON, and undefined as the fields alone', () => {
    assert.equal(formatEvent({ a: [1, 'x\ny'] }), 'data: {"a":[1,"x\\ny"]}\n\n')
    assert.equal(formatEvent(null), 'data: null\n\n')
    assert.equal(formatEvent(42), 'data: 42\n\n')
    assert.equal(formatEvent(undefined, { id: '3' }), 'id: 3\n\n')
    assert.equal(formatEvent(undefined, { id: '' }), 'id:\n\n')
  })

  it('refuses line breaks in event and id, NUL in id, a bad retry, and data JSON cannot hold', () => {
    for (const event of ['a\nb', 'a\rb', 'a\r\nb', '\n']) assert.throws(() => formatEvent('x', { event }), TypeError)
    for (const id of ['1\n2', '1\r', '1\0']) assert.throws(() => formatEvent('x', { id }), TypeError)
    for (const retry of [-1, 1.5, NaN, Infinity]) assert.throws(() => formatEvent('x', { retry }), RangeError)
    assert.throws(() => formatEvent(() => 1), TypeError)
    assert.throws(() => formatEvent(10n), TypeError)
    assert.equal(formatEvent('x', { event: 'ok\0' }), 'event: ok\0\ndata: x\n\n')
  })
})

describe('sse', () => {
  it('drafts status 200 and the event-stream headers, chunked, starting with the first event', async () => {
    const app = pipe(
      get,
      path('/events'),
      setStatus(201),
      sse(async ({ send }) => {
        await send('one', { id: '1' })
        await send({ two: 2 }, { event: 'second' })
      }),
    )
    const res = await inject(app, { url: '/events' })
    assert.equal(res.status, 200)
    assert.equal(res.headers['content-type'], 'text/event-stream; charset=utf-8')
    assert.equal(res.headers['cache-control'], 'no-cache')
    assert.equal(res.headers['x-accel-buffering'], 'no')
    assert.equal(res.headers['content-length'], undefined)
    assert.equal(res.body, 'id: 1\ndata: one\n\nevent: second\ndata: {"two":2}\n\n')
    assert.equal(res.complete, true)
  })

  it('sends an empty comment first when the producer has nothing yet, and the retry option before all', async () => {
    const late = sse(async ({ send }) => {
      await sleep(1)
      await send('late')
    })
    assert.equal((await inject(pipe(get, late), { url: '/' })).body, ':\n\ndata: late\n\n')
    const retried = sse(
      ({ send, close }) => {
        void send('now')
        close()
      },
      { retry: 2500 },
    )
    assert.equal((await inject(pipe(get, retried), { url: '/' })).body, 'retry: 2500\n\ndata: now\n\n')
  })

  it('frames multi-line data exactly, in memory and on the wire', async () => {
    const app = pipe(
      get,
      sse(async ({ send, comment }) => {
        await send('a\nb\r\nc\rdé', { event: 'lines', id: '9' })
        await comment('note\nmore')
      }),
    )
    const expected = 'event: lines\nid: 9\ndata: a\ndata: b\ndata: c\ndata: dé\n\n: note\n: more\n\n'
    assert.deepEqual((await inject(app, { url: '/' })).rawBody, new TextEncoder().encode(expected))
    const server = await serve(app, { port: 0 })
    try {
      const client = rawGet(server.url, '/')
      await waitFor(client.ended, 2000, 'the end of the response')
      const { head, body, complete } = parseChunked(client.bytes())
      assert.match(head, /^HTTP\/1\.1 200 OK\r\n/)
      assert.match(head, /\r\ntransfer-encoding: chunked/i)
      assert.match(head, /\r\ncontent-type: text\/event-stream; charset=utf-8/i)
      assert.equal(complete, true)
      assert.deepEqual(body, Buffer.from(expected, 'utf8'))
    } finally {
      await server.close()
    }
  })

  it('refuses a line break in event with a TypeError thrown by send', async () => {
    const caught: unknown[] = []
    const checked = sse(({ send, close }) => {
      try {
        void send('x', { event: 'a\nevent: forged' })
      } catch (error) {
        caught.push(error)
      }
      close()
    })
    // the producer closed at once, having sent nothing: the stream is empty
    assert.equal((await inject(pipe(get, checked), { url: '/' })).body, '')
    assert.ok(caught[0] instanceof TypeError)
    assert.match(caught[0].message, /line break/)
    // uncaught, it ends the stream as a producer's error does
    const errors: unknown[] = []
    const unchecked = sse(async ({ send }) => {
      await send('fine')
      await send('x', { id: 'a\rb' })
    })
    const res = await inject(pipe(get, unchecked), { url: '/' }, { onError: (e) => void errors.push(e) })
    assert.equal(res.body, 'data: fine\n\n')
    assert.equal(res.complete, false)
    assert.ok(errors[0] instanceof TypeError)
  })

  it('gives the producer the client Last-Event-ID, the Conn and a signal', async () => {
    const seen: unknown[] = []
    const app = pipe(
      get,
      path('/rooms/:room'),
      sse(async ({ send, lastEventId, signal }, c) => {
        const room: string = c.params.room
        seen.push([lastEventId, room, signal.aborted])
        await send(room)
      }),
    )
    await inject(app, { url: '/rooms/a', headers: { 'last-event-id': '41' } })
    await inject(app, { url: '/rooms/b' })
    await inject(app, { url: '/rooms/c', headers: { 'last-event-id': '' } })
    assert.deepEqual(seen, [
      ['41', 'a', false],
      [undefined, 'b', false],
      [undefined, 'c', false],
    ])
  })

  it('never starts the producer for HEAD, in memory or on a socket', async () => {
    let started = 0
    const app = pipe(
      get,
      sse(async ({ send }) => {
        started++
        await send('x')
      }),
    )
    const res = await inject(app, { method: 'HEAD', url: '/' })
    assert.equal(res.status, 200)
    assert.equal(res.headers['content-type'], 'text/event-stream; charset=utf-8')
    assert.equal(res.body, '')
    const server = await serve(app, { port: 0 })
    try {
      const head = await within(fetch(server.url, { method: 'HEAD' }), 2000, 'the HEAD answer')
      assert.equal(head.status, 200)
      assert.equal(await head.text(), '')
      assert.equal(started, 0)
      const got = await within(fetch(server.url), 2000, 'the GET answer')
      assert.equal(await got.text(), 'data: x\n\n')
      assert.equal(started, 1)
    } finally {
      await server.close()
    }
  })

  it('ends the stream after the events sent when the producer throws, and reports the error', async () => {
    const errors: unknown[] = []
    const app = pipe(
      get,
      sse(async ({ send }) => {
        void send('before')
        await sleep(1)
        throw new Error('producer failed')
      }),
    )
    const res = await inject(app, { url: '/' }, { onError: (e) => void errors.push(e) })
    assert.equal(res.body, 'data: before\n\n')
    assert.equal(res.complete, false)
    assert.equal((errors[0] as Error).message, 'producer failed')
    // before the head is out, a synchronous throw is a plain 500
    const sync = await inject(
      pipe(
        get,
        sse(() => {
          throw new Error('at once')
        }),
      ),
      { url: '/' },
      { onError: () => undefined },
    )
    assert.equal(sync.status, 500)
  })

  it('keeps the stream of a producer that returns nothing open until close(), and drops later events', async () => {
    let keep: sap.SseStream | undefined
    const app = pipe(
      get,
      sse((stream) => {
        keep = stream
      }),
    )
    const answer = inject(app, { url: '/' })
    await waitFor(() => keep !== undefined, 1000, 'the producer')
    await keep!.send('from outside')
    keep!.close()
    await keep!.send('after close')
    const res = await within(answer, 1000, 'the end of the stream')
    assert.equal(res.body, ':\n\ndata: from outside\n\n')
    assert.equal(keep!.signal.aborted, true)
  })

  it('fires the signal when the client leaves, and resolves a send the producer awaits', async () => {
    const client = new AbortController()
    let reason: unknown
    const app = pipe(
      get,
      sse(async ({ send, signal }) => {
        await send('first')
        client.abort()
        if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve))
        reason = signal.reason
        await send('after')
      }),
    )
    const res = await within(inject(app, { url: '/', signal: client.signal }), 1000, 'the answer')
    assert.equal(res.complete, false)
    assert.ok(reason instanceof sap.ClientGoneError)
  })

  it('is received by an EventSource: ids, event names, JSON data and retry', async () => {
    const app = pipe(
      get,
      path('/feed'),
      // returns nothing: the stream stays open until the client leaves
      sse(({ send }) => {
        void send({ n: 1 }, { id: '1', event: 'tick', retry: 1000 })
        void send('plain', { id: '2' })
        void send('two\nlines', { id: '3', event: 'tick' })
      }),
    )
    const server = await serve(app, esServer)
    const es = new EventSource(`${server.url}/feed`)
    try {
      const got: { type: string; data: string; id: string }[] = []
      const take = (e: MessageEvent) => got.push({ type: e.type, data: e.data, id: e.lastEventId })
      es.addEventListener('tick', take)
      es.addEventListener('message', take)
      await waitFor(() => got.length === 3, 3000, 'three events')
      assert.deepEqual(got, [
        { type: 'tick', data: '{"n":1}', id: '1' },
        { type: 'message', data: 'plain', id: '2' },
        { type: 'tick', data: 'two\nlines', id: '3' },
      ])
    } finally {
      es.close()
      await server.close()
    }
  })

  it('lets an EventSource reconnect and resume: the producer sees its Last-Event-ID', async () => {
    const seen: (string | undefined)[] = []
    const app = pipe(
      get,
      sse(
        async ({ send, lastEventId }) => {
          seen.push(lastEventId)
          const from = Number(lastEventId ?? 0)
          for (let n = from + 1; n <= from + 2; n++) await send(`event ${n}`, { id: String(n) })
          // the stream ends here: the client reconnects after `retry`
        },
        { retry: 20 },
      ),
    )
    const server = await serve(app, esServer)
    const es = new EventSource(server.url)
    try {
      const got: string[] = []
      es.addEventListener('message', (e) => {
        got.push(`${e.lastEventId}:${e.data}`)
        if (got.length === 4) es.close()
      })
      await waitFor(() => got.length === 4, 3000, 'four events over two connections')
      assert.deepEqual(got, ['1:event 1', '2:event 2', '3:event 3', '4:event 4'])
      assert.deepEqual(seen.slice(0, 2), [undefined, '2'])
    } finally {
      es.close()
      await server.close()
    }
  })

  it('fires the signal within a second of an EventSource closing', async () => {
    let left: number | undefined
    let reason: unknown
    const app = pipe(
      get,
      sse(async ({ send, signal }) => {
        await send('hello')
        await new Promise((resolve) => signal.addEventListener('abort', resolve))
        left = Date.now()
        reason = signal.reason
      }),
    )
    const server = await serve(app, esServer)
    const es = new EventSource(server.url)
    try {
      let closedAt = 0
      es.addEventListener('message', () => {
        closedAt = Date.now()
        es.close()
      })
      await waitFor(() => closedAt !== 0, 3000, 'the first event')
      await waitFor(() => left !== undefined, 1000, 'the server signal')
      assert.ok(left! - closedAt < 1000, `the signal fired ${left! - closedAt} ms after the client closed`)
      assert.ok(reason instanceof sap.ClientGoneError)
    } finally {
      es.close()
      await server.close()
    }
  })

  it('sends heartbeat comments at the configured interval while nothing else is sent', async () => {
    const server = await serve(
      pipe(
        get,
        sse(() => undefined, { heartbeat: 30 }),
      ),
      { port: 0 },
    )
    const client = rawGet(server.url, '/')
    try {
      // the first comment is the opening one; four more are heartbeats
      await waitFor(() => countOf(client.text(), ':\n\n') >= 5, 3000, 'heartbeat comments')
      const { body } = parseChunked(client.bytes())
      assert.match(body.toString('latin1'), /^(:\n\n)+$/)
    } finally {
      client.destroy()
      await server.close()
    }
  })

  it('unrefs the heartbeat timer and clears it when the stream ends; heartbeat 0 makes none', async () => {
    const setSpy = mock.method(globalThis, 'setInterval')
    const clearSpy = mock.method(globalThis, 'clearInterval')
    try {
      const ours = () => setSpy.mock.calls.filter((call) => call.arguments[1] === 12_345)
      await inject(
        pipe(
          get,
          sse(async ({ send }) => void (await send('x')), { heartbeat: 12_345 }),
        ),
        { url: '/' },
      )
      assert.equal(ours().length, 1)
      const timer = ours()[0]!.result as NodeJS.Timeout
      assert.equal(timer.hasRef(), false)
      assert.ok(clearSpy.mock.calls.some((call) => call.arguments[0] === timer))
      const before = setSpy.mock.callCount()
      await inject(
        pipe(
          get,
          sse(async ({ send }) => void (await send('x')), { heartbeat: 0 }),
        ),
        { url: '/' },
      )
      assert.equal(setSpy.mock.callCount(), before)
    } finally {
      mock.restoreAll()
    }
  })

  it('makes the producer wait while the client does not read: memory stays bounded', async () => {
    const big = 'x'.repeat(64 * 1024)
    const attempts = 2000
    let accepted = 0
    let finished = false
    const app = pipe(
      get,
      sse(
        async ({ send, signal }) => {
          for (let i = 0; i < attempts && !signal.aborted; i++) {
            await send(big)
            accepted++
          }
          finished = true
        },
        { heartbeat: 0 },
      ),
    )
    const server = await serve(app, { port: 0 })
    // a socket with no 'data' listener reads up to its buffer and then leaves the rest in the kernel
    const socket = net.connect({ port: Number(new URL(server.url).port), host: '127.0.0.1' })
    socket.on('error', () => undefined)
    try {
      socket.write('GET / HTTP/1.1\r\nhost: localhost\r\n\r\n')
      // wait until the producer is blocked: no progress for 300 ms
      const until = Date.now() + 10_000
      let last = -1
      let still = 0
      while (still < 300 && Date.now() < until) {
        await sleep(50)
        still = accepted === last ? still + 50 : 0
        last = accepted
      }
      assert.ok(accepted > 0, 'nothing was sent')
      assert.equal(finished, false)
      // 2000 events of 64 KiB attempted (125 MiB); what was taken fits the socket buffers and the queue
      assert.ok(accepted < 300, `${accepted} of ${attempts} events were taken while the client read nothing`)
      // the client leaving unblocks the producer
      socket.destroy()
      await waitFor(() => finished, 2000, 'the producer to stop')
      assert.ok(accepted < attempts)
    } finally {
      socket.destroy()
      await server.close()
    }
  })

  it('tells the producer when the server closes, and ends the answer cleanly', async () => {
    let reason: unknown
    const server = await serve(
      pipe(
        get,
        sse(({ signal }) => {
          signal.addEventListener('abort', () => {
            reason = signal.reason
          })
        }),
      ),
      { port: 0 },
    )
    const client = rawGet(server.url, '/')
    try {
      await waitFor(() => client.text().includes(':\n\n'), 2000, 'the opening comment')
      await within(server.close(), 2000, 'close()')
      assert.ok(reason instanceof sap.ServerClosingError)
      await waitFor(client.ended, 2000, 'the end of the response')
      assert.equal(parseChunked(client.bytes()).complete, true)
    } finally {
      client.destroy()
    }
  })

  it('refuses a bad producer or option when the Part is made', () => {
    assert.throws(() => sse('nope' as never), TypeError)
    assert.throws(() => sse(() => undefined, { heartbeat: -1 }), RangeError)
    assert.throws(() => sse(() => undefined, { heartbeat: 2 ** 31 }), RangeError)
    assert.throws(() => sse(() => undefined, { retry: 0.5 }), RangeError)
    assert.throws(() => sse(() => undefined, { highWaterMark: -1 }), RangeError)
  })
})
