import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { builtinModules, createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import * as sap from 'sapwood'
import * as sapNode from 'sapwood/node'
import { toFetchHandler } from 'sapwood/fetch'
import { inject, type InjectResponse } from 'sapwood/testing'
import { bridge } from '../support/fetch-bridge.js'
import { sleep, waitFor, within } from '../support/wait.js'

const { choose, pipe, get, post, path, ok, handle } = sap
const root = fileURLToPath(new URL('../..', import.meta.url))
const encoder = new TextEncoder()
const decoder = new TextDecoder()

const url = (target: string): string => `http://app.test${target}`

/** A request body that arrives in pieces over time, as a runtime's streamed upload does. */
const slowBody = (pieces: readonly (string | Uint8Array)[], gap = 2, fail?: Error): ReadableStream<Uint8Array> => {
  let i = 0
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      await sleep(gap)
      if (i < pieces.length) {
        const piece = pieces[i++]!
        controller.enqueue(typeof piece === 'string' ? encoder.encode(piece) : piece)
      } else if (fail !== undefined) controller.error(fail)
      else controller.close()
    },
  })
}

/** Reads a response body chunk by chunk (bounded), as text pieces. */
const pieces = async (res: Response, max = 1000): Promise<string[]> => {
  const reader = res.body!.getReader()
  const out: string[] = []
  for (let n = 0; n < max; n++) {
    const { done, value } = await within(reader.read(), 5000, 'a chunk')
    if (done) return out
    out.push(decoder.decode(value as Uint8Array))
  }
  assert.fail(`more than ${max} chunks`)
}

/** A 64 KiB-chunked upload of `size` bytes, each byte its index mod 251. */
const bigBytes = (size: number): Uint8Array => Uint8Array.from({ length: size }, (_, i) => i % 251)
const checksum = (bytes: Uint8Array): number => bytes.reduce((sum, b) => (sum * 31 + b) % 1_000_000_007, 0)

describe('toFetchHandler', () => {
  describe('answers', () => {
    const app = choose([
      pipe(get, path('/'), ok('hello')),
      pipe(post, path('/things'), sap.created('made')),
      pipe(sap.del, path('/'), sap.noContent()),
      pipe(get, path('/old'), sap.found('/new')),
      pipe(get, path('/cached'), sap.notModified()),
      pipe(get, path('/empty'), ok('')),
      pipe(get, path('/bytes'), ok(Uint8Array.from([0, 1, 2, 254, 255]))),
      pipe(get, path('/cookies'), sap.setCookie('a', '1'), sap.setCookie('b', '2'), ok('two cookies')),
      pipe(get, path('/reset'), sap.setStatus(205), sap.setBody('dropped')),
      pipe(
        get,
        path('/bad-status'),
        handle((c) => sap.update(c, { status: 1000 })),
      ),
    ])
    const errors: unknown[] = []
    const fetch = toFetchHandler(app, { onError: (e) => void errors.push(e) })

    it('a status, the default headers and the body', async () => {
      const res = await fetch(new Request(url('/')))
      assert.equal(res.status, 200)
      assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8')
      assert.equal(res.headers.get('content-length'), '5')
      assert.equal(await res.text(), 'hello')
      const made = await fetch(new Request(url('/things'), { method: 'POST' }))
      assert.equal(made.status, 201)
      assert.equal(await made.text(), 'made')
      const moved = await fetch(new Request(url('/old')))
      assert.equal(moved.status, 302)
      assert.equal(moved.headers.get('location'), '/new')
    })

    it('no body for 204, 205 and 304, and nothing framed for it', async () => {
      for (const [method, target, status] of [
        ['DELETE', '/', 204],
        ['GET', '/reset', 205],
        ['GET', '/cached', 304],
      ] as const) {
        const res = await fetch(new Request(url(target), { method }))
        assert.equal(res.status, status, target)
        assert.equal(res.body, null, target)
        assert.equal(res.headers.get('content-length'), null, target)
      }
    })

    it('an empty body as no body, bytes as they are', async () => {
      const empty = await fetch(new Request(url('/empty')))
      assert.equal(empty.headers.get('content-length'), '0')
      assert.equal(empty.headers.get('content-type'), null)
      assert.equal(await empty.text(), '')
      const bytes = await fetch(new Request(url('/bytes')))
      assert.equal(bytes.headers.get('content-type'), 'application/octet-stream')
      assert.deepEqual(new Uint8Array(await bytes.arrayBuffer()), Uint8Array.from([0, 1, 2, 254, 255]))
    })

    it('keeps two set-cookie headers apart', async () => {
      const res = await fetch(new Request(url('/cookies')))
      assert.deepEqual(
        res.headers.getSetCookie().map((cookie) => cookie.split(';')[0]),
        ['a=1', 'b=2'],
      )
    })

    it('HEAD: the GET head, with its length, and no body', async () => {
      const res = await fetch(new Request(url('/'), { method: 'HEAD' }))
      assert.equal(res.status, 200)
      assert.equal(res.headers.get('content-length'), '5')
      assert.equal(res.body, null)
    })

    it('OPTIONS: 204 with Allow', async () => {
      const res = await fetch(new Request(url('/'), { method: 'OPTIONS' }))
      assert.equal(res.status, 204)
      assert.equal(res.headers.get('allow'), 'GET, HEAD, DELETE, OPTIONS')
    })

    it('405 with Allow, 404 as problem+json', async () => {
      const wrong = await fetch(new Request(url('/'), { method: 'PUT' }))
      assert.equal(wrong.status, 405)
      assert.equal(wrong.headers.get('allow'), 'GET, HEAD, DELETE, OPTIONS')
      const missing = await fetch(new Request(url('/nowhere')))
      assert.equal(missing.status, 404)
      assert.equal(missing.headers.get('content-type'), 'application/problem+json')
      assert.deepEqual(await missing.json(), { type: 'about:blank', title: 'Not Found', status: 404 })
    })

    it('an answer a Response cannot carry is a 500 that reaches onError, never a rejected promise', async () => {
      errors.length = 0
      const res = await fetch(new Request(url('/bad-status')))
      assert.equal(res.status, 500)
      assert.equal(res.headers.get('content-type'), 'application/problem+json')
      assert.doesNotMatch(await res.text(), /RangeError|1000/)
      assert.equal(errors.length, 1)
      assert.ok(errors[0] instanceof RangeError)
      const head = await fetch(new Request(url('/bad-status'), { method: 'HEAD' }))
      assert.equal(head.status, 500)
      assert.equal(head.body, null)
    })
  })

  describe('the request', () => {
    const echo = handle((c) =>
      sap.json({
        method: c.method,
        url: c.url,
        path: c.path,
        query: { ...c.query },
        headers: { ...c.headers },
        inherits: Object.getPrototypeOf(c.headers) !== null,
        cookies: { ...c.cookies },
      }),
    )
    const fetch = toFetchHandler(echo)
    type Seen = {
      method: string
      url: string
      path: string
      query: Record<string, unknown>
      headers: Record<string, string>
      inherits: boolean
      cookies: Record<string, string>
    }
    const seen = async (request: Request): Promise<Seen> => (await (await fetch(request)).json()) as Seen

    it('gives the Conn the path and query still encoded, without the fragment', async () => {
      const res = await fetch(new Request('http://app.test:8080/a%20b/c%2Fd?x=1&x=2&y=%C3%A9#top'))
      const got = (await res.json()) as Seen
      assert.equal(got.method, 'GET')
      assert.equal(got.url, '/a%20b/c%2Fd?x=1&x=2&y=%C3%A9')
      assert.equal(got.path, '/a%20b/c%2Fd')
      assert.deepEqual(got.query, { x: ['1', '2'], y: 'é' })
    })

    it('gives headers as a null-prototype record of lower-case names, one string each', async () => {
      const headers = new Headers()
      headers.append('X-Multi', 'one')
      headers.append('X-Multi', 'two')
      headers.append('Accept', 'text/html')
      const got = await seen(new Request(url('/'), { headers }))
      assert.equal(got.inherits, false)
      assert.equal(got.headers['x-multi'], 'one, two')
      assert.equal(got.headers['accept'], 'text/html')
      // a runtime's URL carries the authority; the host header is taken from it when absent
      assert.equal(got.headers['host'], 'app.test')
    })

    it("joins a cookie sent in pieces with '; ', whichever way the runtime joined them", async () => {
      const pieces = new Headers()
      pieces.append('cookie', 'a=1')
      pieces.append('cookie', 'b=2')
      const ours = await seen(new Request(url('/'), { headers: pieces }))
      assert.deepEqual(ours.cookies, { a: '1', b: '2' })
      // a runtime that joins them with ', ', as Headers does every other field
      const commas = await seen(new Request(url('/'), { headers: { cookie: 'a=1, b=2, c="x, y"' } }))
      // a comma and a space that start no cookie-pair stay in the value
      assert.equal(commas.headers['cookie'], 'a=1; b=2; c="x, y"')
      assert.deepEqual(commas.cookies, { a: '1', b: '2', c: '"x, y"' })
    })

    it('keeps a host the request names', async () => {
      const got = await seen(new Request(url('/'), { headers: { host: 'other.test' } }))
      assert.equal(got.headers['host'], 'other.test')
    })
  })

  describe('the request body', () => {
    const errors: unknown[] = []
    let chunks = 0
    const app = choose([
      pipe(
        post,
        path('/echo'),
        sap.jsonBody(),
        handle((c) => sap.json({ got: c.body })),
      ),
      pipe(
        post,
        path('/text'),
        sap.textBody(),
        handle((c) => ok(c.body)),
      ),
      pipe(
        post,
        path('/big'),
        sap.rawBody({ limit: 4 * 1024 * 1024 }),
        handle((c) => sap.json({ size: c.body.byteLength, sum: checksum(c.body) })),
      ),
      pipe(
        post,
        path('/count'),
        sap.bodyStream(),
        handle(async (c) => {
          let size = 0
          chunks = 0
          for await (const chunk of c.body) {
            chunks++
            size += chunk.byteLength
          }
          return sap.json({ size })
        }),
      ),
      pipe(
        post,
        path('/small'),
        sap.bodyLimit(8),
        sap.textBody(),
        handle((c) => ok(c.body)),
      ),
    ])
    const fetch = toFetchHandler(app, { onError: (e) => void errors.push(e) })

    it('an empty body', async () => {
      const res = await fetch(new Request(url('/text'), { method: 'POST', headers: { 'content-type': 'text/plain' } }))
      assert.equal(res.status, 200)
      assert.equal(await res.text(), '')
    })

    it('JSON through jsonBody', async () => {
      const res = await fetch(
        new Request(url('/echo'), {
          method: 'POST',
          body: JSON.stringify({ a: [1, 'two'] }),
          headers: { 'content-type': 'application/json' },
        }),
      )
      assert.deepEqual(await res.json(), { got: { a: [1, 'two'] } })
    })

    it('a 2 MB upload, whole and as a stream of pieces', async () => {
      const bytes = bigBytes(2 * 1024 * 1024)
      const whole = await fetch(new Request(url('/big'), { method: 'POST', body: bytes }))
      assert.deepEqual(await whole.json(), { size: bytes.byteLength, sum: checksum(bytes) })
      const parts = Array.from({ length: 32 }, (_, i) => bytes.subarray(i * 65536, (i + 1) * 65536))
      const streamed = await fetch(
        new Request(url('/big'), { method: 'POST', body: slowBody(parts, 0), duplex: 'half' }),
      )
      assert.deepEqual(await streamed.json(), { size: bytes.byteLength, sum: checksum(bytes) })
    })

    it('a body that arrives over time, read as it comes', async () => {
      const res = await fetch(
        new Request(url('/text'), {
          method: 'POST',
          headers: { 'content-type': 'text/plain' },
          body: slowBody(['one ', 'two ', 'three']),
          duplex: 'half',
        }),
      )
      assert.equal(await res.text(), 'one two three')
      const counted = await fetch(
        new Request(url('/count'), {
          method: 'POST',
          body: slowBody(['a', 'bb', 'ccc']),
          duplex: 'half',
        }),
      )
      assert.deepEqual(await counted.json(), { size: 6 })
      assert.equal(chunks, 3)
    })

    it('413 past the limit: at once for a declared length, without reading the body', async () => {
      let pulled = 0
      const body = new ReadableStream<Uint8Array>(
        {
          pull(controller) {
            pulled++
            controller.enqueue(encoder.encode('0123456789'))
            controller.close()
          },
        },
        { highWaterMark: 0 },
      )
      const declared = await fetch(
        new Request(url('/small'), {
          method: 'POST',
          headers: { 'content-type': 'text/plain', 'content-length': '10' },
          body,
          duplex: 'half',
        }),
      )
      assert.equal(declared.status, 413)
      assert.equal(pulled, 0)
      const undeclared = await fetch(
        new Request(url('/small'), {
          method: 'POST',
          headers: { 'content-type': 'text/plain' },
          body: slowBody(['01234', '56789', 'never read']),
          duplex: 'half',
        }),
      )
      assert.equal(undeclared.status, 413)
      assert.match(await undeclared.text(), /larger than 8 bytes/)
    })

    it('a client that leaves mid-body: 400, not logged', async () => {
      errors.length = 0
      const res = await fetch(
        new Request(url('/text'), {
          method: 'POST',
          headers: { 'content-type': 'text/plain' },
          body: slowBody(['partial'], 2, new Error('connection reset')),
          duplex: 'half',
        }),
      )
      assert.equal(res.status, 400)
      assert.deepEqual(errors, [])
    })

    it("a request's signal that fires mid-body: the read fails at once", async () => {
      const client = new AbortController()
      const never = new ReadableStream<Uint8Array>({ pull: () => new Promise(() => undefined) })
      setTimeout(() => client.abort(), 10)
      const res = await within(
        fetch(
          new Request(url('/text'), {
            method: 'POST',
            headers: { 'content-type': 'text/plain' },
            body: never,
            duplex: 'half',
            signal: client.signal,
          }),
        ),
        5000,
        'the answer',
      )
      assert.equal(res.status, 400)
    })
  })

  describe('the client-gone signal', () => {
    const app = pipe(
      get,
      path('/wait'),
      handle(
        (c) =>
          new Promise<sap.Conn>((resolve) => {
            const answer = () => resolve(sap.update(c, { respBody: `gone: ${(c.signal.reason as Error).name}` }))
            if (c.signal.aborted) answer()
            else c.signal.addEventListener('abort', answer)
          }),
      ),
    )
    const fetch = toFetchHandler(app)

    it("fires when the request's signal fires", async () => {
      const client = new AbortController()
      setTimeout(() => client.abort(), 10)
      const res = await within(fetch(new Request(url('/wait'), { signal: client.signal })), 5000, 'the answer')
      assert.equal(await res.text(), 'gone: ClientGoneError')
    })

    it('has fired already when the request comes aborted', async () => {
      const res = await within(fetch(new Request(url('/wait'), { signal: AbortSignal.abort() })), 5000, 'the answer')
      assert.equal(await res.text(), 'gone: ClientGoneError')
    })

    it("does not fire when the request's signal fires after the answer is sent (as Deno does)", async () => {
      let signal: AbortSignal | undefined
      const quick = toFetchHandler(
        handle((c) => {
          signal = c.signal
          return ok('done')
        }),
      )
      const client = new AbortController()
      const res = await quick(new Request(url('/'), { signal: client.signal }))
      assert.equal(await res.text(), 'done')
      client.abort()
      assert.equal(signal?.aborted, false)
    })
  })

  describe('a streamed answer', () => {
    const errors: unknown[] = []
    let produced = 0
    let finished = false
    let cleaned = false
    let reason: unknown
    let step: () => void = () => undefined
    const app = choose([
      pipe(
        get,
        path('/many'),
        sap.stream(
          async function* () {
            for (let i = 0; i < 50; i++) {
              produced++
              yield `chunk ${i}\n`
            }
          },
          { type: 'text/plain' },
        ),
      ),
      pipe(
        get,
        path('/endless'),
        handle((c) => {
          c.source.whenDone(() => (cleaned = true))
          return sap.stream(
            (async function* () {
              try {
                for (let i = 0; i < 100_000; i++) {
                  yield 'tick\n'
                  await sleep(1)
                }
              } finally {
                reason = c.signal.reason
                finished = true
              }
            })(),
          )
        }),
      ),
      pipe(
        get,
        path('/flaky'),
        sap.stream(async function* () {
          yield 'first part, '
          throw new Error('the database went away')
        }),
      ),
      pipe(
        get,
        path('/broken'),
        sap.stream(() => {
          throw new Error('no source')
        }),
      ),
      pipe(
        get,
        path('/short'),
        sap.stream(
          async function* () {
            yield 'only five'.slice(0, 5)
          },
          { length: 10 },
        ),
      ),
      pipe(
        get,
        path('/events'),
        sap.sse(async ({ send }) => {
          await send('one')
          await new Promise<void>((r) => (step = r))
          await send({ n: 2 }, { event: 'tick', id: '2' })
        }),
      ),
      pipe(get, path('/ws'), sap.websocket({ message: (ws, data) => ws.send(data) })),
    ])
    const fetch = toFetchHandler(app, { onError: (e) => void errors.push(e) })

    it('is chunked (no content-length) and read chunk by chunk', async () => {
      const res = await fetch(new Request(url('/many')))
      assert.equal(res.headers.get('content-length'), null)
      assert.equal(res.headers.get('content-type'), 'text/plain')
      const got = await pieces(res)
      assert.equal(got.length, 50)
      assert.equal(got.join(''), Array.from({ length: 50 }, (_, i) => `chunk ${i}\n`).join(''))
    })

    it('asks the producer for a chunk only when the reader wants one (backpressure)', async () => {
      produced = 0
      const res = await fetch(new Request(url('/many')))
      const reader = res.body!.getReader()
      let read = 0
      await sleep(20)
      assert.ok(produced <= 1, `${produced} chunks made before any was read`)
      for (;;) {
        const { done } = await within(reader.read(), 5000, 'a chunk')
        if (done) break
        read++
        // the reader dawdles: the producer must wait for it, not run ahead
        if (read % 10 === 0) await sleep(10)
        assert.ok(produced - read <= 1, `${produced} made for ${read} read`)
      }
      assert.equal(read, 50)
      assert.equal(produced, 50)
    })

    it('a cancelled body (the client went away) fires c.signal, stops the producer and runs the cleanups', async () => {
      finished = false
      cleaned = false
      const res = await fetch(new Request(url('/endless')))
      const reader = res.body!.getReader()
      assert.equal(decoder.decode((await reader.read()).value as Uint8Array), 'tick\n')
      await reader.cancel()
      await waitFor(() => finished && cleaned, 5000, 'the producer to stop and the cleanups to run')
      assert.ok(reason instanceof sap.ClientGoneError)
    })

    it('a producer error errors the stream and reaches onError', async () => {
      errors.length = 0
      const res = await fetch(new Request(url('/flaky')))
      const reader = res.body!.getReader()
      assert.equal(decoder.decode((await reader.read()).value as Uint8Array), 'first part, ')
      await assert.rejects(reader.read(), /the database went away/)
      assert.equal((errors[0] as Error).message, 'the database went away')
    })

    it('a source that throws at once is a 500', async () => {
      errors.length = 0
      const res = await fetch(new Request(url('/broken')))
      assert.equal(res.status, 500)
      assert.equal(res.headers.get('content-type'), 'application/problem+json')
      assert.equal((errors[0] as Error).message, 'no source')
    })

    it('a stream that gives fewer bytes than its length is cut and reported', async () => {
      errors.length = 0
      const res = await fetch(new Request(url('/short')))
      assert.equal(res.headers.get('content-length'), '10')
      await assert.rejects(res.text())
      assert.match((errors[0] as Error).message, /declared 10 bytes and gave fewer/)
    })

    it('sends Server-Sent Events as they are sent', async () => {
      const res = await fetch(new Request(url('/events')))
      assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8')
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader()
      let text = ''
      const until = async (what: string): Promise<void> => {
        for (let n = 0; n < 20 && !text.includes(what); n++) {
          const { done, value } = await within(reader.read(), 5000, what)
          if (done) break
          text += value
        }
        assert.ok(text.includes(what), `${JSON.stringify(what)} not in ${JSON.stringify(text)}`)
      }
      await until('data: one\n\n')
      assert.doesNotMatch(text, /tick/)
      step()
      await until('event: tick\nid: 2\ndata: {"n":2}\n\n')
      assert.equal((await reader.read()).done, true)
    })

    it('answers a WebSocket handshake with 501 where the runtime has no WebSocketPair (node)', async () => {
      const res = await fetch(
        new Request(url('/ws'), {
          headers: {
            connection: 'Upgrade',
            upgrade: 'websocket',
            'sec-websocket-version': '13',
            'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
          },
        }),
      )
      assert.equal(res.status, 501)
      assert.equal(res.headers.get('upgrade'), null)
      assert.match(((await res.json()) as { detail: string }).detail, /cannot upgrade/)
      // a plain GET gets the websocket leaf's own 426
      assert.equal((await fetch(new Request(url('/ws')))).status, 426)
    })
  })

  describe('a file', () => {
    let dir = ''
    let fetch: (request: Request) => Promise<Response>
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'sapwood-fetch-'))
      await writeFile(join(dir, 'hello.txt'), 'hello, file')
      fetch = toFetchHandler(pipe(get, path('/hello.txt'), sapNode.sendFile(join(dir, 'hello.txt'))))
    })
    after(() => rm(dir, { recursive: true, force: true }))

    it('is sent whole with its length, or a range of it', async () => {
      const whole = await fetch(new Request(url('/hello.txt')))
      assert.equal(whole.status, 200)
      assert.equal(whole.headers.get('content-length'), '11')
      assert.equal(whole.headers.get('content-type'), 'text/plain; charset=utf-8')
      assert.equal(await whole.text(), 'hello, file')
      const part = await fetch(new Request(url('/hello.txt'), { headers: { range: 'bytes=7-10' } }))
      assert.equal(part.status, 206)
      assert.equal(part.headers.get('content-range'), 'bytes 7-10/11')
      assert.equal(await part.text(), 'file')
      const head = await fetch(new Request(url('/hello.txt'), { method: 'HEAD' }))
      assert.equal(head.headers.get('content-length'), '11')
      assert.equal(head.body, null)
    })
  })

  describe('alike through inject', () => {
    let dir = ''
    let app: sap.Part<sap.Conn, sap.Conn>
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'sapwood-fetch-'))
      await writeFile(join(dir, 'page.html'), '<h1>page</h1>')
      app = sap.decorate(
        choose([
          pipe(get, path('/'), ok('home')),
          pipe(
            get,
            path('/users/:id'),
            handle((c) => sap.json({ id: c.params.id })),
          ),
          pipe(
            post,
            path('/echo'),
            sap.jsonBody(),
            handle((c) => sap.json(c.body)),
          ),
          pipe(
            post,
            path('/small'),
            sap.bodyLimit(4),
            sap.textBody(),
            handle((c) => ok(c.body)),
          ),
          pipe(get, path('/cookies'), sap.setCookie('a', '1'), sap.setCookie('b', '2', { httpOnly: true }), ok('')),
          pipe(get, path('/gone'), sap.noContent()),
          pipe(get, path('/old'), sap.movedPermanently('/')),
          pipe(get, path('/page'), sapNode.sendFile(join(dir, 'page.html'))),
          pipe(
            get,
            path('/numbers'),
            sap.stream(async function* () {
              for (let i = 0; i < 3; i++) yield `${i}\n`
            }),
          ),
          pipe(
            get,
            path('/events'),
            sap.sse(async ({ send }) => {
              await send('a')
              await send({ b: 2 }, { event: 'x' })
            }),
          ),
        ]),
        (answer) => sap.update(answer, { respHeaders: { ...answer.respHeaders, 'x-served-by': 'sapwood' } }),
      )
    })
    after(() => rm(dir, { recursive: true, force: true }))

    /** The answer as plain data: repeated headers (set-cookie) as arrays. */
    const fromFetch = async (res: Response) => {
      const headers: Record<string, string | string[]> = {}
      res.headers.forEach((value, name) => {
        if (name !== 'set-cookie') headers[name] = value
      })
      const cookies = res.headers.getSetCookie()
      if (cookies.length > 0) headers['set-cookie'] = cookies.length === 1 ? cookies[0]! : cookies
      return { status: res.status, headers, body: await res.text() }
    }
    const fromInject = (res: InjectResponse) => ({
      status: res.status,
      headers: Object.fromEntries(
        Object.entries(res.headers).map(([k, v]) => [
          k,
          typeof v === 'string' || k === 'set-cookie' ? v : v.join(', '),
        ]),
      ),
      body: res.body,
    })

    const table: readonly { method?: string; target: string; headers?: Record<string, string>; body?: string }[] = [
      { target: '/' },
      { method: 'HEAD', target: '/' },
      { method: 'OPTIONS', target: '/' },
      { method: 'DELETE', target: '/' },
      { target: '/nowhere' },
      { target: '/users/42?x=1' },
      { method: 'POST', target: '/echo', headers: { 'content-type': 'application/json' }, body: '{"a":[1,2]}' },
      { method: 'POST', target: '/echo', headers: { 'content-type': 'application/json' }, body: '{"a":' },
      { method: 'POST', target: '/echo', headers: { 'content-type': 'text/plain' }, body: 'hi' },
      { method: 'POST', target: '/small', headers: { 'content-type': 'text/plain' }, body: 'too long' },
      { target: '/cookies' },
      { target: '/gone' },
      { target: '/old' },
      { target: '/page' },
      { target: '/page', headers: { range: 'bytes=0-3' } },
      { target: '/page', headers: { range: 'bytes=99-' } },
      { method: 'HEAD', target: '/page' },
      { target: '/numbers' },
      { method: 'HEAD', target: '/numbers' },
      { target: '/events' },
    ]

    for (const r of table) {
      const name = `${r.method ?? 'GET'} ${r.target}${r.headers?.range ? ` (${r.headers.range})` : ''}${r.body ? ` ${r.body}` : ''}`
      it(name, async () => {
        const fetch = toFetchHandler(app, { onError: () => undefined })
        const init: RequestInit = { method: r.method ?? 'GET' }
        if (r.headers !== undefined) init.headers = r.headers
        if (r.body !== undefined) init.body = r.body
        const viaFetch = await fromFetch(await fetch(new Request(url(r.target), init)))
        const injected = fromInject(
          await inject(
            app,
            {
              method: r.method ?? 'GET',
              url: r.target,
              ...(r.headers === undefined ? {} : { headers: r.headers }),
              ...(r.body === undefined ? {} : { body: r.body }),
            },
            { onError: () => undefined },
          ),
        )
        // volatile headers of a file are the same file's, so they match too
        assert.deepEqual(viaFetch, injected)
      })
    }
  })

  describe('behind a node:http bridge (a real socket)', () => {
    let server: ReturnType<typeof createServer>
    let base = ''
    let stopped = false
    const app = choose([
      pipe(get, path('/'), ok('over a socket')),
      pipe(
        post,
        path('/echo'),
        sap.jsonBody(),
        handle((c) => sap.json(c.body)),
      ),
      pipe(
        get,
        path('/ticks'),
        sap.stream((c) =>
          (async function* () {
            try {
              for (let i = 0; i < 100_000 && !c.signal.aborted; i++) {
                yield `tick ${i}\n`
                await sleep(2)
              }
            } finally {
              stopped = true
            }
          })(),
        ),
      ),
    ])

    before(async () => {
      server = createServer((req, res) => void bridge(toFetchHandler(app))(req, res))
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    })
    after(
      () =>
        new Promise<void>((r) => {
          server.close(() => r())
          server.closeAllConnections()
        }),
    )

    it('answers over HTTP', async () => {
      const res = await fetch(`${base}/`)
      assert.equal(res.status, 200)
      assert.equal(await res.text(), 'over a socket')
      const echo = await fetch(`${base}/echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"x":1}',
      })
      assert.deepEqual(await echo.json(), { x: 1 })
    })

    it('streams, and stops the producer when the client leaves', async () => {
      stopped = false
      const client = new AbortController()
      const res = await fetch(`${base}/ticks`, { signal: client.signal })
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader()
      let text = ''
      for (let n = 0; n < 50 && !text.includes('tick 2\n'); n++) text += (await reader.read()).value ?? ''
      assert.match(text, /^tick 0\ntick 1\ntick 2\n/)
      client.abort()
      await waitFor(() => stopped, 5000, 'the producer to stop')
    })
  })
})

/** The packages that the portable entries may import: none needs node's modules but find-my-way's assert. */
const PORTABLE_PACKAGES = [
  '@standard-schema/spec',
  'ajv',
  'ajv-formats',
  'content-type',
  'cookie',
  'fast-json-stringify',
  'find-my-way',
  'fp-ts',
  'negotiator',
  'secure-json-parse',
]

/**
 * The package's own subpaths that the portable sources import lazily, as a bundle for a Worker
 * resolves them (their `workerd`/`worker`/`browser` export conditions): `serve` loads node's
 * server through `sapwood/node-serve` only on node.
 */
const AS_BUNDLED_FOR_WORKERS: Readonly<Record<string, string>> = {
  'sapwood/node-serve': 'src/adapters/node-serve-elsewhere.ts',
}

/**
 * The module graph of an entry that must run on every runtime: `sapwood/fetch` and the main entry.
 * `allowed`: the runtime-neutral packages its sources may import; `builtins`: the node built-ins
 * that those packages require, by package.
 */
const portableGraph = (
  entry: string,
  allowed: readonly string[],
  builtins: Record<string, readonly string[]>,
): void => {
  const ALLOWED = new Set(allowed)
  /**
   * The node built-ins that those packages require, by package: find-my-way asserts its
   * options with `node:assert` (Deno, Bun and Workers with `nodejs_compat` have it; a bare
   * Worker does not). A package that starts to need another built-in fails here.
   */
  const KNOWN_BUILTINS = builtins

  const isBuiltin = (spec: string): boolean => spec.startsWith('node:') || builtinModules.includes(spec.split('/')[0]!)
  const packageOf = (spec: string): string =>
    spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!

  /** What a TypeScript module imports at run time: `import type` and `export type` are erased. */
  const runtimeImports = (file: string): string[] => {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true)
    const out: string[] = []
    const visit = (node: ts.Node): void => {
      if (ts.isImportDeclaration(node) && !node.importClause?.isTypeOnly) {
        out.push((node.moduleSpecifier as ts.StringLiteral).text)
      } else if (ts.isExportDeclaration(node) && !node.isTypeOnly && node.moduleSpecifier !== undefined) {
        out.push((node.moduleSpecifier as ts.StringLiteral).text)
      } else if (
        ts.isCallExpression(node) &&
        (node.expression.kind === ts.SyntaxKind.ImportKeyword ||
          (ts.isIdentifier(node.expression) && node.expression.text === 'require')) &&
        node.arguments[0] !== undefined &&
        ts.isStringLiteralLike(node.arguments[0])
      ) {
        out.push(node.arguments[0].text)
      }
      ts.forEachChild(node, visit)
    }
    visit(source)
    return out
  }

  /** Our sources reachable from the entry, and the bare specifiers they import. */
  const ourGraph = (): { files: string[]; bare: Map<string, string[]> } => {
    const files = new Set<string>()
    const bare = new Map<string, string[]>()
    const todo = [join(root, entry)]
    while (todo.length > 0) {
      const file = todo.pop()!
      if (files.has(file)) continue
      files.add(file)
      for (const spec of runtimeImports(file)) {
        const self = AS_BUNDLED_FOR_WORKERS[spec]
        if (self !== undefined) todo.push(join(root, self))
        else if (spec.startsWith('.')) todo.push(resolve(dirname(file), spec.replace(/\.js$/, '.ts')))
        else bare.set(spec, [...(bare.get(spec) ?? []), relative(root, file)])
      }
    }
    return { files: [...files].map((f) => relative(root, f)).sort(), bare }
  }

  it('imports no node: module and only runtime-neutral packages from our sources', () => {
    const { files, bare } = ourGraph()
    assert.ok(files.includes('src/adapters/fetch.ts'))
    assert.ok(!files.includes('src/adapters/node.ts'), `the node adapter is reachable from ${entry}`)
    for (const [spec, from] of bare) {
      assert.ok(!isBuiltin(spec), `${spec} is imported by ${from.join(', ')}`)
      assert.ok(
        ALLOWED.has(packageOf(spec)),
        `${spec} (imported by ${from.join(', ')}) is not known to be runtime-neutral`,
      )
    }
  })

  it('reads no process global in our sources (a Worker has none)', () => {
    for (const file of ourGraph().files) {
      const text = readFileSync(join(root, file), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '')
      assert.doesNotMatch(text, /\bprocess\./, file)
    }
  })

  it('needs no node built-in from the packages but the ones known', () => {
    const found: Record<string, string[]> = {}
    const seen = new Set<string>()
    const walk = (file: string, pkg: string): void => {
      if (seen.has(file)) return
      seen.add(file)
      const text = readFileSync(file, 'utf8')
      const specs = [
        ...text.matchAll(
          /\brequire\(\s*['"]([^'"]+)['"]\s*\)|\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(?\s*['"]([^'"]+)['"]/g,
        ),
      ]
      for (const m of specs) {
        const spec = (m[1] ?? m[2] ?? m[3])!
        if (isBuiltin(spec)) {
          const list = (found[pkg] ??= [])
          const name = spec.startsWith('node:') ? spec : `node:${spec}`
          if (!list.includes(name)) list.push(name)
          continue
        }
        let next: string
        try {
          next = createRequire(file).resolve(spec)
        } catch {
          // a specifier in a comment or a string of the package's, not an import it makes
          continue
        }
        walk(next, spec.startsWith('.') ? pkg : packageOf(spec))
      }
    }
    const require = createRequire(join(root, 'package.json'))
    for (const spec of ourGraph().bare.keys()) walk(require.resolve(spec), packageOf(spec))
    assert.deepEqual(found, KNOWN_BUILTINS)
  })
}

describe('sapwood/fetch module graph', () => {
  portableGraph('src/fetch.ts', PORTABLE_PACKAGES, { 'find-my-way': ['node:assert'] })

  it('loads with no Buffer global, and answers without it', () => {
    // the runtime's own Request and Response are made first: node's use Buffer
    const script = `
      await new Response('warm').text()
      const buffer = globalThis.Buffer
      delete globalThis.Buffer
      const { toFetchHandler } = await import('./src/fetch.ts')
      const { part } = await import('./src/context/context.ts')
      const { update } = await import('./src/context/conn.ts')
      const { streamBody } = await import('./src/context/response-body.ts')
      globalThis.Buffer = buffer
      const app = part(
        (c) => ({
          _tag: 'Right',
          right: update(c, {
            respBody: c.path === '/s' ? streamBody(async function* () { yield 'é'; yield 'tude' }) : 'héllo',
          }),
        }),
        { _tag: 'Opaque' },
      )
      const fetch = toFetchHandler(app)
      const a = await fetch(new Request('http://x/'))
      const b = await fetch(new Request('http://x/s'))
      console.log(JSON.stringify([a.headers.get('content-length'), await a.text(), await b.text()]))
    `
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: root,
      encoding: 'utf8',
    })
    // the length of 'héllo' in UTF-8 bytes, counted without Buffer
    assert.deepEqual(JSON.parse(out), ['6', 'héllo', 'étude'])
  })

  // Measured on workerd (test/runtimes: the conformance suite runs as a Worker): code generation
  // works while a Worker starts and is refused during a request, so an app compiled at the top
  // level runs. A refusal during a request (a path() built in a handler) says how to fix it.
  it('says how to fix a code generation refused during a request', async () => {
    const seen: unknown[] = []
    const handler = toFetchHandler(
      pipe(
        get,
        path('/'),
        handle((): never => {
          throw new EvalError('Code generation from strings disallowed for this context')
        }),
      ),
      { onError: (error) => void seen.push(error) },
    )
    const res = await handler(new Request('http://x/'))
    assert.equal(res.status, 500)
    assert.doesNotMatch(await res.text(), /Code generation|toFetchHandler/)
    assert.equal(seen.length, 1)
    const error = seen[0] as Error
    assert.match(error.message, /call toFetchHandler\(app\) at the top level of the module/)
    assert.ok(error.cause instanceof EvalError, 'the refusal is kept as the cause')
  })
})

describe('sapwood (the main entry) module graph', () => {
  portableGraph('src/index.ts', PORTABLE_PACKAGES, { 'find-my-way': ['node:assert'] })
})
