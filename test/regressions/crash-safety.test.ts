// Issue #12, item 5: hostile or broken input never takes the server down. Each case runs over a
// real socket (raw node:net where a client would not send it), then the server must still
// answer a normal request, and no 'uncaughtException' or 'unhandledRejection' may have fired.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { type Socket, connect } from 'node:net'
import { after, afterEach, before, describe, it } from 'node:test'
import { Type } from '@sinclair/typebox'
import {
  bodyStream,
  choose,
  formBody,
  get,
  handle,
  host,
  json,
  jsonBody,
  ok,
  path,
  pipe,
  post,
  rawBody,
  responds,
  serve,
  sse,
  stream,
  textBody,
  websocket,
  type Listening,
} from 'sapwood'
import { multipartBody } from 'sapwood/node'
import { sleep, waitFor, within } from '../support/wait.js'

const User = Type.Object({ id: Type.Integer(), name: Type.String() })
const userSchema = responds({ 200: User })

let streamed = 0
const app = choose([
  pipe(get, path('/'), ok('ok')),
  pipe(host('api.test'), get, path('/host'), ok('api')),
  pipe(
    get,
    path('/host'),
    handle((c) => json({ host: c.headers['host'] ?? null })),
  ),
  pipe(
    post,
    path('/json'),
    jsonBody(),
    handle((c) => json({ got: c.body })),
  ),
  pipe(
    post,
    path('/form'),
    formBody(),
    handle((c) => json(c.body)),
  ),
  pipe(
    post,
    path('/text'),
    textBody(),
    handle((c) => ok(c.body)),
  ),
  pipe(
    post,
    path('/raw'),
    rawBody({ limit: 64 }),
    handle((c) => ok(String(c.body.byteLength))),
  ),
  pipe(
    post,
    path('/stream-body'),
    bodyStream(),
    handle(async (c) => {
      let size = 0
      for await (const chunk of c.body) size += chunk.byteLength
      streamed += size
      return ok(String(size))
    }),
  ),
  pipe(
    post,
    path('/multipart'),
    multipartBody(),
    handle((c) => json({ fields: c.body.fields, files: c.body.files.length })),
  ),
  pipe(
    get,
    path('/stream-throws'),
    stream(async function* () {
      yield 'first\n'
      await sleep(10)
      throw new Error('the producer failed mid-stream')
    }),
  ),
  pipe(
    get,
    path('/sse-throws'),
    sse(async ({ send }) => {
      await send('one')
      await sleep(10)
      throw new Error('the SSE producer failed mid-stream')
    }),
  ),
  pipe(
    get,
    path('/serializer'),
    userSchema,
    handle(() => userSchema.json({ id: 'not a number' } as never)),
  ),
  pipe(
    get,
    path('/bigint'),
    handle(() => json({ n: 1n })),
  ),
  pipe(path('/ws'), websocket({ message: (ws, data) => ws.send(data) })),
  pipe(
    get,
    path('/later'),
    handle(async () => {
      await sleep(50)
      return ok('later')
    }),
  ),
])

/** What the server wrote on a raw connection until it closed it (or `ms` passed). */
const rawExchange = (port: number, bytes: string | Buffer, ms = 3000): Promise<string> =>
  new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes))
    let data = ''
    socket.setEncoding('latin1')
    socket.on('data', (d: string) => (data += d))
    socket.on('error', () => undefined)
    socket.on('close', () => resolve(data))
    socket.setTimeout(ms, () => socket.destroy())
  })

const statusOf = (answer: string): number => Number(/^HTTP\/1\.1 (\d{3}) /.exec(answer)?.[1] ?? 0)

/** Sends `head` and part of the declared body, then the client leaves. */
const abortMidBody = async (port: number, head: string, part: string): Promise<void> => {
  const socket = connect(port, '127.0.0.1')
  socket.on('error', () => undefined)
  await new Promise((r) => socket.once('connect', r))
  socket.write(head)
  socket.write(part)
  await sleep(50)
  socket.destroy()
  await sleep(50)
}

/** Completes a WebSocket handshake on a raw socket and resolves with it (the 101 read). */
const rawWebSocket = async (port: number): Promise<{ socket: Socket; closed: Promise<Buffer> }> => {
  const socket = connect(port, '127.0.0.1')
  socket.on('error', () => undefined)
  await new Promise((r) => socket.once('connect', r))
  const key = Buffer.from('0123456789abcdef').toString('base64')
  socket.write(
    'GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  )
  const chunks: Buffer[] = []
  socket.on('data', (d: Buffer) => chunks.push(d))
  const closed = new Promise<Buffer>((r) => socket.once('close', () => r(Buffer.concat(chunks))))
  await waitFor(() => Buffer.concat(chunks).includes('\r\n\r\n'), 3000, 'the 101')
  const head = Buffer.concat(chunks).toString('latin1')
  assert.match(head, /^HTTP\/1\.1 101 /)
  const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64')
  assert.match(head, new RegExp(`Sec-WebSocket-Accept: ${accept.replace(/[+/=]/g, '\\$&')}`, 'i'))
  chunks.length = 0
  return { socket, closed }
}

/** The close code in the first frame the server sent, if it is a close frame. */
const closeCode = (frames: Buffer): number | undefined =>
  frames.length >= 4 && (frames[0]! & 0x0f) === 0x8 ? frames.readUInt16BE(2) : undefined

describe('crash safety (issue #12): bad input answers 4xx/5xx or closes, never crashes', () => {
  let server: Listening
  let port: number
  const fatal: unknown[] = []
  const reported: unknown[] = []
  const onFatal = (error: unknown): void => {
    fatal.push(error)
  }
  let quiet: typeof console.error
  before(async () => {
    process.on('uncaughtException', onFatal)
    process.on('unhandledRejection', onFatal)
    quiet = console.error
    console.error = () => undefined
    server = await serve(app, { port: 0, host: '127.0.0.1', onError: (e) => reported.push(e) })
    port = Number(new URL(server.url).port)
  })
  after(async () => {
    console.error = quiet
    process.off('uncaughtException', onFatal)
    process.off('unhandledRejection', onFatal)
    await server.close()
  })
  afterEach(async () => {
    // the server still answers, and nothing escaped
    const res = await within(fetch(`${server.url}/`), 3000, 'a normal request')
    assert.equal(await res.text(), 'ok')
    assert.deepEqual(fatal, [])
  })

  describe('Host', () => {
    // RFC 9112 §3.2: 400 to a Host that is missing (HTTP/1.1), empty, malformed or repeated
    const cases: [string, string, number][] = [
      ['Host: ::::', 'Host: ::::', 400],
      ['Host: a b', 'Host: a b', 400],
      ['an empty Host', 'Host:', 400],
      ['Host: [::1', 'Host: [::1', 400],
      ['Host: a/b', 'Host: a/b', 400],
      ['Host: a:80:80', 'Host: a:80:80', 400],
      ['two Hosts', 'Host: a\r\nHost: api.test', 400],
      ['two Hosts, spelled differently', 'Host: a\r\nHOST: a', 400],
      // node refuses an HTTP/1.1 request without Host before the app runs
      ['no Host on HTTP/1.1', '', 400],
      ['Host: api.test:8080', 'Host: api.test:8080', 200],
      ['Host: [::1]:80', 'Host: [::1]:80', 200],
      ['Host: 127.0.0.1', 'Host: 127.0.0.1', 200],
    ]
    for (const [name, host, status] of cases) {
      it(`answers ${name} with ${status}`, async () => {
        const head = host === '' ? '' : `${host}\r\n`
        const answer = await rawExchange(port, `GET /host HTTP/1.1\r\n${head}Connection: close\r\n\r\n`)
        assert.equal(statusOf(answer), status, JSON.stringify(answer.slice(0, 300)))
      })
    }
    it('answers an HTTP/1.0 request without Host', async () => {
      const answer = await rawExchange(port, 'GET /host HTTP/1.0\r\n\r\n')
      assert.equal(statusOf(answer), 200, JSON.stringify(answer.slice(0, 300)))
    })
    it('refuses a WebSocket handshake with a bad Host with 400', async () => {
      const answer = await rawExchange(
        port,
        'GET /ws HTTP/1.1\r\nHost: a b\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Key: MDEyMzQ1Njc4OWFiY2RlZg==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      )
      assert.equal(statusOf(answer), 400, JSON.stringify(answer.slice(0, 300)))
    })
  })

  describe('CONNECT', () => {
    // node gives CONNECT to a 'connect' listener only; without one it closed the socket unanswered
    it('answers a tunnel request (authority form) as the app says, 404, and closes', async () => {
      const answer = await rawExchange(port, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n')
      assert.equal(statusOf(answer), 404, JSON.stringify(answer.slice(0, 300)))
      assert.match(answer, /\r\nConnection: close\r\n/i)
    })
    it('answers CONNECT to a routed path with 405 and its Allow', async () => {
      const answer = await rawExchange(port, 'CONNECT / HTTP/1.1\r\nHost: localhost\r\n\r\n')
      assert.equal(statusOf(answer), 405, JSON.stringify(answer.slice(0, 300)))
      assert.match(answer, /\r\nallow: GET, HEAD, OPTIONS\r\n/i)
    })
  })

  describe('an upgrade or CONNECT pipelined behind a request still being answered', () => {
    // node hands such a request to its 'upgrade'/'connect' listener while the answer before it
    // is still being made: the listener must wait its turn (found by the raw-request fuzz:
    // ERR_HTTP_SOCKET_ASSIGNED escaped to the process)
    const first = 'GET /later HTTP/1.1\r\nHost: localhost\r\n\r\n'
    it('answers the request, then the CONNECT (405), in order', async () => {
      const answer = await rawExchange(port, `${first}CONNECT / HTTP/1.1\r\nHost: localhost\r\n\r\n`)
      const statuses = [...answer.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]))
      assert.deepEqual(statuses, [200, 405], JSON.stringify(answer.slice(0, 600)))
      assert.ok(answer.indexOf('later') < answer.indexOf('405'), 'the answers in the order of the requests')
    })
    it('answers the request, then opens the WebSocket (101), in order', async () => {
      const key = Buffer.from('0123456789abcdef').toString('base64')
      const upgrade =
        'GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`
      const answer = await rawExchange(port, first + upgrade, 500)
      const statuses = [...answer.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]))
      assert.deepEqual(statuses, [200, 101], JSON.stringify(answer.slice(0, 600)))
    })
  })

  describe('body decoders', () => {
    const post = (path: string, type: string | undefined, body: string, extra = ''): string =>
      `POST ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n` +
      (type === undefined ? '' : `Content-Type: ${type}\r\n`) +
      `Content-Length: ${Buffer.byteLength(body, 'latin1')}\r\n${extra}\r\n${body}`
    const deep = '['.repeat(100_000) + ']'.repeat(100_000)
    const boundary = '----sapwood'
    // 'error': a 4xx; 'answered': any answer but a 5xx (a lenient decoder may accept it)
    const cases: [string, string, number | 'error' | 'answered'][] = [
      ['JSON that does not parse', post('/json', 'application/json', '{"a":'), 400],
      ['an empty JSON body', post('/json', 'application/json', ''), 400],
      ['JSON that is not UTF-8', post('/json', 'application/json', '"\xff"'), 400],
      ['JSON with __proto__', post('/json', 'application/json', '{"__proto__":{"x":1}}'), 400],
      ['JSON 100 000 levels deep', post('/json', 'application/json', deep), 'error'],
      ['JSON with a content type of garbage', post('/json', 'application/json;;;\t=', '{}'), 'error'],
      [
        'a form with a broken escape',
        post('/form', 'application/x-www-form-urlencoded', 'a=%E0%A4%A&b=%zz'),
        'answered',
      ],
      [
        'a form with __proto__',
        post('/form', 'application/x-www-form-urlencoded', '__proto__=1&constructor=2'),
        'answered',
      ],
      ['text in a charset other than UTF-8', post('/text', 'text/plain; charset=latin1', 'caf\xe9'), 415],
      ['text that is not UTF-8', post('/text', 'text/plain', 'caf\xe9'), 400],
      ['a raw body over its limit', post('/raw', 'application/octet-stream', 'x'.repeat(100)), 413],
      ['a Content-Length that is not a number', post('/raw', 'application/octet-stream', '', 'X: 1'), 'error'],
      ['multipart without a boundary', post('/multipart', 'multipart/form-data', 'garbage'), 'error'],
      [
        'multipart cut short',
        post(
          '/multipart',
          `multipart/form-data; boundary=${boundary}`,
          `--${boundary}\r\nContent-Disposition: form-data; name="a"\r\n\r\nvalue`,
        ),
        'error',
      ],
      [
        'multipart of garbage',
        post('/multipart', `multipart/form-data; boundary=${boundary}`, '\x00\xff garbage -- --\r\n\r\n'),
        'error',
      ],
      [
        'a multipart part without a name',
        post(
          '/multipart',
          `multipart/form-data; boundary=${boundary}`,
          `--${boundary}\r\nContent-Disposition: form-data\r\n\r\nvalue\r\n--${boundary}--\r\n`,
        ),
        'error',
      ],
    ]
    for (const [name, request, expected] of cases) {
      it(`answers ${name} with ${expected === 'error' ? 'a 4xx' : expected === 'answered' ? 'no 5xx' : expected}`, async () => {
        const req =
          name === 'a Content-Length that is not a number'
            ? request.replace(/Content-Length: 0/, 'Content-Length: 1x')
            : request
        const answer = await rawExchange(port, Buffer.from(req, 'latin1'))
        const status = statusOf(answer)
        if (expected === 'error') assert.ok(status >= 400 && status < 500, `${name}: ${answer.slice(0, 300)}`)
        else if (expected === 'answered') assert.ok(status >= 200 && status < 500, `${name}: ${answer.slice(0, 300)}`)
        else assert.equal(status, expected, `${name}: ${answer.slice(0, 300)}`)
      })
    }
  })

  describe('request bodies that stop', () => {
    const head = (path: string, type: string, length: number): string =>
      `POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: ${type}\r\nContent-Length: ${length}\r\n\r\n`
    it('survives a client that leaves while jsonBody reads', async () => {
      await abortMidBody(port, head('/json', 'application/json', 1000), '{"a":"')
    })
    it('survives a client that leaves while bodyStream reads', async () => {
      await abortMidBody(port, head('/stream-body', 'application/octet-stream', 100_000), 'x'.repeat(5000))
    })
    it('survives a client that leaves while multipartBody reads', async () => {
      const boundary = 'b0undary'
      await abortMidBody(
        port,
        head('/multipart', `multipart/form-data; boundary=${boundary}`, 10_000),
        `--${boundary}\r\nContent-Disposition: form-data; name="f"; filename="a.bin"\r\n\r\n${'y'.repeat(2000)}`,
      )
    })
    it('survives a chunked body cut in the middle of a chunk', async () => {
      await abortMidBody(
        port,
        'POST /stream-body HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n',
        '400\r\n' + 'z'.repeat(100),
      )
    })
    it('answers a chunked body with broken framing with 400', async () => {
      const answer = await rawExchange(
        port,
        'POST /stream-body HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n',
      )
      assert.equal(statusOf(answer), 400, answer.slice(0, 200))
    })
  })

  describe('answers that fail', () => {
    it('cuts a stream whose producer throws mid-stream, and reports the error', async () => {
      const before = reported.length
      const answer = await rawExchange(port, 'GET /stream-throws HTTP/1.1\r\nHost: localhost\r\n\r\n')
      assert.equal(statusOf(answer), 200)
      assert.match(answer, /first/)
      // chunked, and cut: no last chunk
      assert.doesNotMatch(answer, /\r\n0\r\n\r\n$/)
      await waitFor(() => reported.length > before, 2000, 'the error reported')
      assert.match(String(reported.at(-1)), /mid-stream/)
    })

    it('ends an SSE stream whose producer throws, and reports the error', async () => {
      const before = reported.length
      const answer = await rawExchange(port, 'GET /sse-throws HTTP/1.1\r\nHost: localhost\r\n\r\n')
      assert.equal(statusOf(answer), 200)
      assert.match(answer, /data: one/)
      await waitFor(() => reported.length > before, 2000, 'the error reported')
      assert.match(String(reported.at(-1)), /SSE producer failed/)
    })

    it('answers 500 when a response schema cannot write the value', async () => {
      const res = await fetch(`${server.url}/serializer`)
      assert.equal(res.status, 500)
      await res.text()
    })

    it('answers 500 when the value cannot be written as JSON (a BigInt)', async () => {
      const res = await fetch(`${server.url}/bigint`)
      assert.equal(res.status, 500)
      await res.text()
    })
  })

  describe('WebSocket peers that break the protocol', () => {
    it('closes a socket that sends garbage bytes after the handshake', async () => {
      const { socket, closed } = await rawWebSocket(port)
      socket.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00, 0x13, 0x37, 0x42]))
      const frames = await within(closed, 3000, 'the server to close the socket')
      const code = closeCode(frames)
      assert.ok(code === undefined || code === 1002, `close code ${code}`)
    })

    it('closes a socket that sends an unmasked frame', async () => {
      const { socket, closed } = await rawWebSocket(port)
      socket.write(Buffer.concat([Buffer.from([0x81, 0x05]), Buffer.from('hello')]))
      const frames = await within(closed, 3000, 'the server to close the socket')
      assert.equal(closeCode(frames), 1002)
    })

    it('closes a socket that sets reserved bits, or sends a control frame over 125 bytes', async () => {
      const mask = Buffer.from([1, 2, 3, 4])
      for (const head of [Buffer.from([0xf1, 0x80]), Buffer.from([0x89, 0xfe, 0x00, 0xc8])]) {
        const { socket, closed } = await rawWebSocket(port)
        socket.write(Buffer.concat([head, mask, Buffer.alloc(200)]))
        const frames = await within(closed, 3000, 'the server to close the socket')
        assert.equal(closeCode(frames), 1002)
      }
    })

    it('closes a socket that sends text that is not UTF-8', async () => {
      const { socket, closed } = await rawWebSocket(port)
      const payload = Buffer.from([0xc3, 0x28])
      const mask = Buffer.from([9, 8, 7, 6])
      const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!))
      socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]))
      const frames = await within(closed, 3000, 'the server to close the socket')
      assert.equal(closeCode(frames), 1007)
    })

    it('survives a peer that leaves in the middle of a frame', async () => {
      const { socket } = await rawWebSocket(port)
      socket.write(Buffer.from([0x82, 0xfe, 0x10, 0x00, 1, 2, 3, 4, 0, 0]))
      await sleep(20)
      socket.destroy()
      await sleep(50)
    })
  })

  it('never let an exception escape', () => {
    assert.deepEqual(fatal, [])
    assert.ok(streamed >= 0)
  })
})
