import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { request as httpsRequest } from 'node:https'
import * as http2 from 'node:http2'
import type { AddressInfo } from 'node:net'
import { type Socket, connect } from 'node:net'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { after, before, describe, it } from 'node:test'
import * as sap from 'sapwood'
import * as sapNode from 'sapwood/node'
import { selfSigned } from '../support/cert.js'
import { sleep, waitFor, within } from '../support/wait.js'

const { choose, pipe, get, post, path, ok, handle } = sap

let release: () => void = () => undefined
let started: () => void = () => undefined
const app = choose([
  pipe(get, path('/'), ok('hello')),
  pipe(
    get,
    path('/users/:id'),
    handle((c) => sap.json({ id: c.params.id })),
  ),
  pipe(
    get,
    path('/slow'),
    handle(async () => {
      started()
      await new Promise<void>((r) => (release = r))
      return ok('slow done')
    }),
  ),
  pipe(
    get,
    path('/bad-header'),
    handle(() => sap.setHeader('x-bad', 'a\r\nb')),
  ),
  pipe(
    post,
    path('/echo'),
    handle(async (c) => ok(new TextDecoder().decode(await c.source.read(16)))),
  ),
  pipe(sap.del, path('/'), sap.noContent()),
  pipe(
    get,
    path('/framed'),
    sap.setHeader('transfer-encoding', 'chunked'),
    sap.setHeader('content-length', '999'),
    ok('hello'),
  ),
  pipe(
    get,
    path('/headers'),
    handle((c) =>
      sap.json({
        inherited: ['constructor', 'toString', '__proto__', 'hasOwnProperty'].filter((k) => k in c.headers),
        types: [...new Set(Object.values(c.headers).map((v) => typeof v))],
        multi: c.headers['x-multi'],
        cookie: c.headers['cookie'],
        setCookie: c.headers['set-cookie'],
      }),
    ),
  ),
  pipe(
    get,
    path('/ctor'),
    sap.header('constructor', (v) => v.startsWith('x')),
    ok('matched'),
  ),
])

/** The status line, the headers (lower-case names, in order) and the body of a raw answer. */
const parse = (answer: string): { status: string; headers: [string, string][]; body: string } => {
  const end = answer.indexOf('\r\n\r\n')
  const [status = '', ...lines] = answer.slice(0, end).split('\r\n')
  const headers = lines.map((l): [string, string] => {
    const colon = l.indexOf(':')
    return [l.slice(0, colon).toLowerCase(), l.slice(colon + 1).trim()]
  })
  return { status, headers, body: answer.slice(end + 4) }
}

/** Sends raw bytes and resolves with what the server answered (bounded by a timeout). */
const raw = (port: number, bytes: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes))
    let data = ''
    socket.setEncoding('utf8')
    socket.on('data', (d: string) => (data += d))
    socket.on('end', () => resolve(data))
    socket.on('error', reject)
    socket.setTimeout(3000, () => {
      socket.destroy()
      resolve(data)
    })
  })

describe('serve (node adapter, real sockets)', () => {
  let server: sap.Listening
  let quiet: typeof console.error
  before(async () => {
    quiet = console.error
    console.error = () => undefined
    server = await sap.serve(app, { port: 0, host: '127.0.0.1' })
  })
  after(async () => {
    console.error = quiet
    await server.close()
  })

  it('listens on 127.0.0.1 and reports its url', () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/)
  })

  it('answers GET, params, 404, 405 with Allow, HEAD and OPTIONS over HTTP', async () => {
    const home = await fetch(`${server.url}/`)
    assert.equal(home.status, 200)
    assert.equal(await home.text(), 'hello')
    assert.equal(home.headers.get('content-length'), '5')
    const user = await fetch(`${server.url}/users/42`)
    assert.deepEqual(await user.json(), { id: '42' })
    const missing = await fetch(`${server.url}/nope`)
    assert.equal(missing.status, 404)
    assert.equal(missing.headers.get('content-type'), 'application/problem+json')
    await missing.text()
    const wrong = await fetch(`${server.url}/users/1`, { method: 'PUT' })
    assert.equal(wrong.status, 405)
    assert.equal(wrong.headers.get('allow'), 'GET, HEAD, OPTIONS')
    await wrong.text()
    const head = await fetch(`${server.url}/users/42`, { method: 'HEAD' })
    assert.equal(head.status, 200)
    assert.equal(head.headers.get('content-length'), '11')
    assert.equal(await head.text(), '')
    const opts = await fetch(`${server.url}/`, { method: 'OPTIONS' })
    assert.equal(opts.status, 204)
    assert.equal(opts.headers.get('allow'), 'GET, HEAD, DELETE, OPTIONS')
  })

  it('reads a request body', async () => {
    const res = await fetch(`${server.url}/echo`, { method: 'POST', body: 'ping' })
    assert.equal(await res.text(), 'ping')
  })

  it('answers 413 when a handler reads a body past its limit', async () => {
    const res = await fetch(`${server.url}/echo`, { method: 'POST', body: 'x'.repeat(17) })
    assert.equal(res.status, 413)
    assert.equal(res.headers.get('content-type'), 'application/problem+json')
    await res.text()
  })

  it('answers 500 instead of crashing when a header value is invalid', async () => {
    const res = await fetch(`${server.url}/bad-header`)
    assert.equal(res.status, 500)
    assert.doesNotMatch(await res.text(), /\bat |stack|a\r/)
  })

  it('answers a malformed request line with 400 and keeps serving', async () => {
    const { port } = new URL(server.url)
    const answer = await raw(Number(port), 'GARBAGE\r\n\r\n')
    assert.match(answer, /^HTTP\/1\.1 400/)
    assert.equal((await fetch(`${server.url}/`)).status, 200)
  })

  it('frames the body itself: a drafted transfer-encoding and content-length are dropped (issue #8)', async () => {
    const { port } = new URL(server.url)
    const answer = parse(await raw(Number(port), 'GET /framed HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'))
    assert.equal(answer.status, 'HTTP/1.1 200 OK')
    const framing = answer.headers.filter(([name]) => name === 'content-length' || name === 'transfer-encoding')
    assert.deepEqual(framing, [['content-length', '5']])
    assert.equal(answer.body, 'hello')
  })

  it('gives request headers as strings with nothing inherited; repeated ones joined (issue #8)', async () => {
    const { port } = new URL(server.url)
    const request = [
      'GET /headers HTTP/1.1',
      'Host: x',
      'X-Multi: a',
      'x-multi: b',
      'Cookie: a=1',
      'Cookie: b=2',
      'Set-Cookie: c=3',
      'Set-Cookie: d=4',
      'Connection: close',
    ]
    const answer = parse(await raw(Number(port), `${request.join('\r\n')}\r\n\r\n`))
    assert.equal(answer.status, 'HTTP/1.1 200 OK')
    assert.deepEqual(JSON.parse(answer.body), {
      inherited: [],
      types: ['string'],
      multi: 'a, b',
      cookie: 'a=1; b=2',
      setCookie: 'c=3, d=4',
    })
  })

  it("answers 404, not 500, when header('constructor', …) finds no such header (issue #8)", async () => {
    const res = await fetch(`${server.url}/ctor`)
    assert.equal(res.status, 404)
    await res.text()
    const sent = await fetch(`${server.url}/ctor`, { headers: { constructor: 'xyz' } })
    assert.equal(await sent.text(), 'matched')
  })

  it('answers a malformed percent-escape with 400', async () => {
    const { port } = new URL(server.url)
    const answer = await raw(Number(port), 'GET /users/%E0%A4%A HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    assert.match(answer, /^HTTP\/1\.1 400/)
    assert.doesNotMatch(answer, /at .*\.ts/)
  })
})

describe('serve: lifecycle', () => {
  it('rejects with a clear error when the port is taken', async () => {
    const first = await sap.serve(app, { port: 0 })
    try {
      const port = Number(new URL(first.url).port)
      await assert.rejects(sap.serve(app, { port }), /port is taken/)
    } finally {
      await first.close()
    }
  })

  it('drains the request in flight on close()', async () => {
    const server = await sap.serve(app, { port: 0 })
    const inFlight = new Promise<void>((r) => (started = r))
    const pending = fetch(`${server.url}/slow`)
    await inFlight
    const closing = server.close()
    release()
    const res = await pending
    assert.equal(await res.text(), 'slow done')
    await closing
  })

  it('answers the request in flight with Connection: close and resolves close() right after (issue #8)', async () => {
    const server = await sap.serve(app, { port: 0 })
    const inFlight = new Promise<void>((r) => (started = r))
    const pending = fetch(`${server.url}/slow`)
    await inFlight
    let closedAt = 0
    const closing = server.close().then(() => (closedAt = performance.now()))
    try {
      release()
      const res = await pending
      const answeredAt = performance.now()
      assert.equal(res.headers.get('connection'), 'close')
      assert.equal(await res.text(), 'slow done')
      let timer: NodeJS.Timeout | undefined
      const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), 1000)))
      const first = await Promise.race([closing.then(() => 'closed' as const), late])
      clearTimeout(timer)
      assert.equal(first, 'closed', 'close() still pending 1 s after the answer')
      assert.ok(closedAt - answeredAt < 1000, `close() resolved ${closedAt - answeredAt} ms after the answer`)
    } finally {
      await closing
    }
  })

  it('close() does not wait for a connection that never sent a request', async () => {
    const server = await sap.serve(app, { port: 0 })
    const socket = connect(Number(new URL(server.url).port), '127.0.0.1')
    await new Promise((r) => socket.once('connect', r))
    const closed = new Promise((r) => socket.once('close', r))
    const started = performance.now()
    await server.close()
    await closed
    assert.ok(performance.now() - started < 1000, `close() took ${Math.round(performance.now() - started)} ms`)
  })

  it('serves HTTPS with the TLS options given to serve (issue #11)', async (t) => {
    const made = await selfSigned()
    if ('skip' in made) return t.skip(made.skip)
    const server = await sap.serve(app, { port: 0, https: { key: made.key, cert: made.cert } })
    try {
      assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/)
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpsRequest(`${server.url}/users/5`, { ca: made.cert }, (res) => {
          let body = ''
          res.setEncoding('utf8')
          res.on('data', (d: string) => (body += d))
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
        })
        req.on('error', reject)
        req.setTimeout(3000, () => req.destroy(new Error('no answer within 3 s')))
        req.end()
      })
      assert.deepEqual(answer, { status: 200, body: '{"id":"5"}' })
      // a client that does not trust the certificate is refused by TLS, before any request
      await assert.rejects(fetch(`${server.url}/users/5`))
    } finally {
      await server.close()
    }
  })

  it('serves HTTP/2 with HTTP/1.1 fallback, streams over it, and closes with a session open (issue #11)', async (t) => {
    const made = await selfSigned()
    if ('skip' in made) return t.skip(made.skip)
    const h2app = choose([
      pipe(
        get,
        path('/hello'),
        handle((c) => ok(`hello ${c.headers['host'] ?? 'nobody'}`)),
      ),
      pipe(
        get,
        path('/ticks'),
        sap.stream(async function* () {
          yield 'one\n'
          yield 'two\n'
        }),
      ),
    ])
    const server = await sap.serve(h2app, { port: 0, https: { key: made.key, cert: made.cert }, http2: true })
    const client = http2.connect(server.url, { ca: made.cert })
    const get2 = (target: string): Promise<{ status: number; body: string }> =>
      new Promise((resolve, reject) => {
        const req = client.request({ ':path': target })
        let status = 0
        let body = ''
        req.on('response', (h) => (status = Number(h[':status'])))
        req.setEncoding('utf8')
        req.on('data', (d: string) => (body += d))
        req.on('end', () => resolve({ status, body }))
        req.on('error', reject)
        req.setTimeout(3000, () => req.close())
        req.end()
      })
    try {
      const { port } = new URL(server.url)
      assert.deepEqual(await get2('/hello'), { status: 200, body: `hello 127.0.0.1:${port}` })
      assert.deepEqual(await get2('/ticks'), { status: 200, body: 'one\ntwo\n' })
      // a client that offers only HTTP/1.1 (ALPN) is still answered
      const h1 = await new Promise<string>((resolve, reject) => {
        const req = httpsRequest(`${server.url}/hello`, { ca: made.cert }, (res) => {
          let body = ''
          res.setEncoding('utf8')
          res.on('data', (d: string) => (body += d))
          res.on('end', () => resolve(`${res.httpVersion} ${body}`))
        })
        req.on('error', reject)
        req.setTimeout(3000, () => req.destroy(new Error('no answer within 3 s')))
        req.end()
      })
      assert.equal(h1, `1.1 hello 127.0.0.1:${port}`)
    } finally {
      // the client's session is still open: close() must not wait for it to go idle on its own
      const started = performance.now()
      await server.close()
      assert.ok(performance.now() - started < 2000, `close() took ${Math.round(performance.now() - started)} ms`)
      client.destroy()
    }
  })

  it('honours PORT from the environment', async () => {
    const saved = process.env['PORT']
    process.env['PORT'] = '0'
    try {
      const server = await sap.serve(app)
      assert.notEqual(new URL(server.url).port, '4000')
      await server.close()
    } finally {
      if (saved === undefined) delete process.env['PORT']
      else process.env['PORT'] = saved
    }
  })
})

describe('toNodeHandler', () => {
  it('serves the app from any http.createServer', async () => {
    const server = createServer(sapNode.toNodeHandler(app)).listen(0, '127.0.0.1')
    await new Promise((r) => server.once('listening', r))
    try {
      const { port } = server.address() as AddressInfo
      const res = await fetch(`http://127.0.0.1:${port}/users/9`)
      assert.deepEqual(await res.json(), { id: '9' })
    } finally {
      await new Promise((r) => server.close(r))
    }
  })

  it('reads an HTTP/2 request as an HTTP/1.1 one: :authority is the host, no pseudo-header shows (issue #11)', async () => {
    const h2app = choose([
      pipe(
        get,
        path('/headers'),
        handle((c) => sap.json({ names: Object.keys(c.headers).sort(), host: c.headers['host'] ?? null })),
      ),
      pipe(get, path('/host'), sap.host('example.test'), ok('host matched')),
    ])
    const server = http2.createServer(
      sapNode.toNodeHandler(h2app) as unknown as Parameters<typeof http2.createServer>[0],
    )
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const { port } = server.address() as AddressInfo
    const client = http2.connect(`http://127.0.0.1:${port}`)
    const get2 = (target: string, authority: string): Promise<{ status: number; body: string }> =>
      new Promise((resolve, reject) => {
        const req = client.request({ ':path': target, ':authority': authority, 'x-test': '1' })
        let status = 0
        let body = ''
        req.on('response', (h) => (status = Number(h[':status'])))
        req.setEncoding('utf8')
        req.on('data', (d: string) => (body += d))
        req.on('end', () => resolve({ status, body }))
        req.on('error', reject)
        req.setTimeout(3000, () => req.close())
        req.end()
      })
    try {
      const seen = await get2('/headers', 'api.test:8443')
      assert.equal(seen.status, 200)
      assert.deepEqual(JSON.parse(seen.body), { names: ['host', 'x-test'], host: 'api.test:8443' })
      const matched = await get2('/host', 'example.test')
      assert.deepEqual(matched, { status: 200, body: 'host matched' })
    } finally {
      client.close()
      await new Promise((r) => server.close(r))
    }
  })
})

describe('serve: streamed bodies (real sockets)', () => {
  const CHUNK = new Uint8Array(64 * 1024).fill(120)
  let produced = 0
  let endedBy: unknown = undefined
  let opened = 0
  const errors: unknown[] = []
  const streams = choose([
    pipe(
      get,
      path('/chunked'),
      sap.stream(
        async function* () {
          yield 'a'
          yield ''
          yield 'b'
        },
        { type: 'text/plain' },
      ),
    ),
    pipe(
      get,
      path('/sized'),
      sap.stream(() => Readable.from([Buffer.from('hello')]), { length: 5 }),
    ),
    pipe(
      get,
      path('/counted'),
      sap.stream(() => {
        opened++
        return Readable.from(['x'])
      }),
    ),
    pipe(
      get,
      path('/endless'),
      sap.stream((c) =>
        (async function* () {
          produced = 0
          endedBy = undefined
          try {
            while (!c.signal.aborted) {
              produced++
              yield CHUNK
            }
          } finally {
            endedBy = c.signal.reason
          }
        })(),
      ),
    ),
    pipe(
      get,
      path('/idle'),
      sap.stream((c) =>
        (async function* () {
          endedBy = undefined
          yield 'ready\n'
          await new Promise((r) => c.signal.addEventListener('abort', r, { once: true }))
          endedBy = c.signal.reason
          yield 'bye\n'
        })(),
      ),
    ),
    pipe(
      get,
      path('/too-long'),
      sap.stream(() => Readable.from(['hello', ' world']), { length: 5 }),
    ),
    pipe(
      get,
      path('/too-short'),
      sap.stream(
        async function* () {
          yield 'hel'
        },
        { length: 5 },
      ),
    ),
    pipe(
      get,
      path('/fails'),
      sap.stream(async function* () {
        yield 'partial'
        throw new Error('producer failed')
      }),
    ),
  ])
  let server: sap.Listening
  before(async () => {
    server = await sap.serve(streams, { port: 0, onError: (e) => void errors.push(e) })
  })
  after(() => server.close())

  it('chunks a body of unknown length, and sends a known length as content-length', async () => {
    const port = Number(new URL(server.url).port)
    const chunked = parse(await raw(port, 'GET /chunked HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n'))
    assert.ok(chunked.headers.some(([k, v]) => k === 'transfer-encoding' && v === 'chunked'))
    assert.equal(chunked.body, '1\r\na\r\n1\r\nb\r\n0\r\n\r\n')
    const sized = await fetch(`${server.url}/sized`)
    assert.equal(sized.headers.get('content-length'), '5')
    assert.equal(await sized.text(), 'hello')
  })

  it('never opens a stream for HEAD', async () => {
    opened = 0
    const res = await fetch(`${server.url}/counted`, { method: 'HEAD' })
    assert.equal(res.status, 200)
    assert.equal(await res.text(), '')
    assert.equal(opened, 0)
    await (await fetch(`${server.url}/counted`)).text()
    assert.equal(opened, 1)
  })

  it('makes a producer wait while the client does not read, and stops it when the client leaves', async () => {
    const port = Number(new URL(server.url).port)
    const socket = connect(port, '127.0.0.1', () => socket.write('GET /endless HTTP/1.1\r\nhost: x\r\n\r\n'))
    socket.pause() // never reads: the kernel buffers fill, then node's, then the producer must wait
    try {
      await waitFor(() => produced > 0, 2000, 'the producer to start')
      let last = -1
      // once the buffers are full, the producer stops: its count holds still for 200 ms
      const deadline = performance.now() + 5000
      while (produced !== last && performance.now() < deadline) {
        last = produced
        await new Promise((r) => setTimeout(r, 200))
      }
      assert.equal(produced, last, 'the producer never waited')
      assert.ok(produced * CHUNK.byteLength < 64 * 1024 * 1024, `${produced} chunks made for a client that reads none`)
    } finally {
      socket.destroy()
    }
    await waitFor(() => endedBy !== undefined, 1000, 'the signal to fire after the client left')
    assert.ok(endedBy instanceof sap.ClientGoneError)
  })

  it('fires the signal within a second of the client closing', async () => {
    const controller = new AbortController()
    const res = await fetch(`${server.url}/idle`, { signal: controller.signal })
    const reader = res.body!.getReader()
    await reader.read()
    const closedAt = performance.now()
    controller.abort()
    await waitFor(() => endedBy !== undefined, 1000, 'the signal')
    assert.ok(performance.now() - closedAt < 1000)
    assert.ok(endedBy instanceof sap.ClientGoneError)
  })

  it('cuts the answer when the producer throws, and reports the error', async () => {
    errors.length = 0
    // the head may or may not be out when the connection is cut: either way the client sees a failure
    await assert.rejects(fetch(`${server.url}/fails`).then((res) => res.text()))
    await waitFor(() => errors.length > 0, 1000, 'onError')
    assert.equal((errors[0] as Error).message, 'producer failed')
    assert.equal((await fetch(`${server.url}/sized`)).status, 200, 'the server still answers')
  })

  it('cuts a stream that gives more or fewer bytes than its declared length, and keeps serving', async () => {
    errors.length = 0
    const port = Number(new URL(server.url).port)
    for (const target of ['/too-long', '/too-short']) {
      // one connection, two requests: the extra bytes must never be read as the second answer
      const answer = await raw(port, `GET ${target} HTTP/1.1\r\nhost: x\r\n\r\nGET /sized HTTP/1.1\r\nhost: x\r\n\r\n`)
      // the head may not even be out when the answer is cut: at most one answer, never two
      assert.ok((answer.match(/HTTP\/1\.1 /g)?.length ?? 0) <= 1, `${target}: ${answer}`)
    }
    await waitFor(() => errors.length === 2, 1000, 'both errors reported')
    assert.match(String(errors[0]), /declared 5 bytes and gave more/)
    assert.match(String(errors[1]), /declared 5 bytes and gave fewer/)
  })

  it('sends a file range with its own reads, and cuts a file that is shorter than its declared length', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'node-file-'))
    const file = join(dir, 'data.bin')
    const bytes = Buffer.alloc(200 * 1024)
    for (let i = 0; i < bytes.length; i++) bytes[i] = i % 251
    await writeFile(file, bytes)
    const fileBody = (offset: number, length: number): sap.FileBody => ({
      _tag: 'File',
      path: file,
      offset,
      length,
      open: () => Readable.from([bytes.subarray(offset, offset + length)]),
    })
    const files = choose([
      pipe(
        get,
        path('/range'),
        sap.builder((c) => sap.update(c, { respBody: fileBody(1000, 150_000) }), 'range'),
      ),
      pipe(
        get,
        path('/short'),
        sap.builder((c) => sap.update(c, { respBody: fileBody(0, 300 * 1024) }), 'short'),
      ),
    ])
    const own = await sap.serve(files, { port: 0, onError: () => undefined })
    try {
      const range = await fetch(`${own.url}/range`)
      assert.equal(range.headers.get('content-length'), '150000')
      assert.ok(Buffer.from(await range.arrayBuffer()).equals(bytes.subarray(1000, 151_000)))
      await assert.rejects(fetch(`${own.url}/short`).then((res) => res.arrayBuffer()))
    } finally {
      await own.close()
      await rm(dir, { recursive: true })
    }
  })

  it('close() tells streaming producers to stop, ends their answers cleanly and resolves', async () => {
    const own = await sap.serve(streams, { port: 0 })
    const res = await fetch(`${own.url}/idle`)
    const reader = res.body!.getReader()
    await reader.read()
    let timer: NodeJS.Timeout | undefined
    const closed = await Promise.race([
      own.close().then(() => 'closed' as const),
      new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), 2000))),
    ])
    clearTimeout(timer)
    assert.equal(closed, 'closed')
    assert.ok(endedBy instanceof sap.ServerClosingError)
    let rest = ''
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      rest += new TextDecoder().decode(value as Uint8Array)
    }
    assert.equal(rest, 'bye\n', 'the answer ended cleanly after the producer stopped')
  })
})

describe('serve: limits and timeouts (issue #12)', () => {
  it('applies its defaults to the node server', async () => {
    const listening = await sapNode.nodeAdapter().listen(sap.respond(app), { port: 0, host: '127.0.0.1' })
    try {
      const s = listening.native
      assert.equal(s.requestTimeout, 30_000)
      assert.equal(s.headersTimeout, 10_000)
      assert.equal(s.keepAliveTimeout, 5_000)
      assert.equal((s as unknown as { maxHeaderSize: number }).maxHeaderSize, 16_384)
      assert.equal(s.maxRequestsPerSocket, 1_000)
      // node's own default (30 s) would let a slow head live 40 s
      assert.equal((s as unknown as { connectionsCheckingInterval: number }).connectionsCheckingInterval, 1_000)
      assert.equal(s.listenerCount('checkContinue'), 1)
    } finally {
      await listening.close()
    }
  })

  it('applies the settings given', async () => {
    const listening = await sapNode
      .nodeAdapter({
        requestTimeout: 4_000,
        headersTimeout: 500,
        keepAliveTimeout: 700,
        maxHeaderSize: 8_192,
        maxRequestsPerSocket: 0,
      })
      .listen(sap.respond(app), { port: 0, host: '127.0.0.1' })
    try {
      const s = listening.native
      assert.deepEqual(
        [
          s.requestTimeout,
          s.headersTimeout,
          s.keepAliveTimeout,
          (s as unknown as { maxHeaderSize: number }).maxHeaderSize,
          s.maxRequestsPerSocket,
        ],
        [4_000, 500, 700, 8_192, 0],
      )
      assert.equal((s as unknown as { connectionsCheckingInterval: number }).connectionsCheckingInterval, 500)
    } finally {
      await listening.close()
    }
  })

  it('closes a keep-alive connection after maxRequestsPerSocket requests', async () => {
    const listening = await sapNode
      .nodeAdapter({ maxRequestsPerSocket: 2 })
      .listen(sap.respond(app), { port: 0, host: '127.0.0.1' })
    try {
      const one = 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'
      const answer = await raw(Number(new URL(listening.url).port), one + one)
      const answers = answer.split('HTTP/1.1 200 OK').slice(1)
      assert.equal(answers.length, 2)
      assert.doesNotMatch(answers[0]!, /Connection: close/i)
      assert.match(answers[1]!, /Connection: close/i)
    } finally {
      await listening.close()
    }
  })

  it('answers 503 to a handler that never settles, after handlerTimeout, and keeps serving', async () => {
    const errors: unknown[] = []
    const server = await sap.serve(
      choose([
        pipe(
          get,
          path('/never'),
          handle(() => new Promise<never>(() => undefined)),
        ),
        app,
      ]),
      { port: 0, handlerTimeout: 200, onError: (e) => errors.push(e) },
    )
    try {
      const started = performance.now()
      const res = await fetch(`${server.url}/never`)
      const took = performance.now() - started
      assert.equal(res.status, 503)
      assert.match(res.headers.get('content-type') ?? '', /problem\+json/)
      await res.text()
      assert.ok(took >= 190 && took < 3000, `answered after ${Math.round(took)} ms`)
      assert.equal((errors[0] as Error | undefined)?.name, 'HandlerTimeoutError')
      const next = await fetch(`${server.url}/`)
      assert.equal(await next.text(), 'hello')
    } finally {
      await server.close()
    }
  })

  it('closes slow-loris connections after headersTimeout, and answers a normal client meanwhile', async () => {
    const listening = await sapNode
      .nodeAdapter({ headersTimeout: 1_000, requestTimeout: 2_000 })
      .listen(sap.respond(app), { port: 0, host: '127.0.0.1' })
    const port = Number(new URL(listening.url).port)
    const request = 'GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: ' + 'a'.repeat(40) + '\r\n\r\n'
    const sockets: Socket[] = []
    const timers: NodeJS.Timeout[] = []
    const ends: Promise<{ at: number; text: string }>[] = []
    try {
      const opened = performance.now()
      for (let i = 0; i < 50; i++) {
        const socket = connect(port, '127.0.0.1')
        sockets.push(socket)
        let text = ''
        socket.setEncoding('latin1')
        socket.on('data', (d: string) => (text += d))
        socket.on('error', () => undefined)
        ends.push(new Promise((r) => socket.once('close', () => r({ at: performance.now() - opened, text }))))
        let sent = 0
        const drip = (): void => {
          // one byte a second, at most 10 (the head is longer: it never completes)
          if (socket.destroyed || sent >= 10) return
          socket.write(request[sent++]!)
          timers.push(setTimeout(drip, 1_000))
        }
        socket.once('connect', drip)
      }
      await sleep(300)
      const started = performance.now()
      const res = await fetch(`${listening.url}/`)
      assert.equal(await res.text(), 'hello')
      const took = performance.now() - started
      assert.ok(took < 500, `a normal client waited ${Math.round(took)} ms`)
      const all = await within(Promise.all(ends), 5_000, 'the server to close the slow connections')
      for (const { at, text } of all) {
        assert.ok(at < 4_000, `a slow connection lived ${Math.round(at)} ms`)
        assert.ok(text === '' || /^HTTP\/1\.1 408 /.test(text), `unexpected answer: ${JSON.stringify(text)}`)
      }
    } finally {
      for (const t of timers) clearTimeout(t)
      for (const s of sockets) s.destroy()
      await listening.close()
    }
  })
})
