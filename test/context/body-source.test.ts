// The body source: bytes kept once, each reader's own limit, a streamed reader, aborts that
// reject at once. The same rules from every source: the in-memory ones and node's request
// stream over a real socket.
import assert from 'node:assert/strict'
import * as net from 'node:net'
import { after, before, describe, it } from 'node:test'
import {
  BodyAbortedError,
  BodyConsumedError,
  type BodySource,
  type Conn,
  type Listening,
  PayloadTooLargeError,
  bytesSource,
  choose,
  handle,
  iterableSource,
  json,
  left,
  ok,
  path,
  pipe,
  post,
  rejection,
  serve,
} from 'sapwood'

const enc = new TextEncoder()
const dec = new TextDecoder()
const text = async (p: Promise<Uint8Array>): Promise<string> => dec.decode(await p)

const collect = async (it: AsyncIterable<Uint8Array>): Promise<string> => {
  let out = ''
  for await (const chunk of it) out += dec.decode(chunk, { stream: true })
  return out
}

/** The same laws, asked of each in-memory source. */
const sources: readonly [string, (s: string) => BodySource][] = [
  ['bytesSource', (s) => bytesSource(enc.encode(s))],
  ['iterableSource (chunked, no declared length)', (s) => iterableSource([...s].map((ch) => enc.encode(ch)))],
  [
    'iterableSource (async, declared length)',
    (s) =>
      iterableSource(
        (async function* () {
          for (const ch of s) {
            await new Promise((r) => setImmediate(r))
            yield enc.encode(ch)
          }
        })(),
        enc.encode(s).byteLength,
      ),
  ],
]

for (const [name, make] of sources) {
  describe(`${name}`, () => {
    it('gives every reader the same bytes, each under its own limit', async () => {
      const source = make('0123456789')
      assert.equal(await text(source.read(1024)), '0123456789')
      await assert.rejects(source.read(4), PayloadTooLargeError)
      assert.equal(await text(source.read(10)), '0123456789')
    })

    it('lets a larger reader have the body after a smaller one was refused', async () => {
      const source = make('0123456789')
      await assert.rejects(source.read(4), (e: unknown) => e instanceof PayloadTooLargeError && e.limit === 4)
      assert.equal(await text(source.read(1 << 20)), '0123456789')
    })

    it('streams the body, giving kept bytes first', async () => {
      const source = make('hello world')
      await assert.rejects(source.read(3), PayloadTooLargeError)
      assert.equal(await collect(source.stream()), 'hello world')
    })

    it('refuses a second reader once a stream took bytes it did not keep', async () => {
      const source = make('hello world')
      assert.equal(await collect(source.stream()), 'hello world')
      await assert.rejects(source.read(1024), BodyConsumedError)
    })

    it('stops a stream past its limit', async () => {
      const source = make('hello world')
      await assert.rejects(collect(source.stream(5)), PayloadTooLargeError)
    })
  })
}

describe('iterableSource', () => {
  it('refuses at once when the declared length is over the limit, without reading', async () => {
    let pulled = 0
    const source = iterableSource(
      (function* () {
        pulled++
        yield enc.encode('x')
      })(),
      100,
    )
    await assert.rejects(source.read(10), PayloadTooLargeError)
    assert.equal(pulled, 0)
  })

  it('rejects every reader with the error of a failed stream', async () => {
    const source = iterableSource(
      (async function* () {
        yield enc.encode('ab')
        await new Promise((r) => setImmediate(r))
        throw new BodyAbortedError()
      })(),
    )
    await assert.rejects(source.read(100), BodyAbortedError)
    await assert.rejects(source.read(100), BodyAbortedError)
  })
})

// ---------------------------------------------------------------------------------------------
// node's request stream, over a real socket

/** Sends raw bytes, resolves to everything the server sent back before closing (or `wait` ms). */
const raw = (port: number, data: string, wait = 2000, end = true): Promise<string> =>
  new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1')
    let got = ''
    const timer = setTimeout(() => {
      socket.destroy()
      resolve(got)
    }, wait)
    socket.on('data', (d: Buffer) => (got += d.toString('latin1')))
    socket.on('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    socket.on('close', () => {
      clearTimeout(timer)
      resolve(got)
    })
    socket.write(data)
    if (end) socket.end()
  })

const read = (limit: number) => handle(async (c: Conn) => ok(await text(c.source.read(limit))))

describe('node request body', () => {
  let server: Listening<unknown>
  let port = 0
  const events: string[] = []
  const app = choose([
    // a 413 in a failed branch leaves nothing behind: the next branch reads under its own limit
    pipe(
      post,
      path('/small-then-large'),
      choose([
        pipe(
          handle(async (c: Conn) => {
            await c.source.read(4)
            return ok('small')
          }),
        ),
      ]),
    ),
    pipe(
      post,
      path('/fallback'),
      choose([
        pipe(
          handle(async (c: Conn) => {
            try {
              await c.source.read(4)
              return ok('small')
            } catch {
              return left(rejection.noMatch)
            }
          }),
        ),
        read(1 << 20),
      ]),
    ),
    pipe(
      post,
      path('/large-then-small'),
      handle(async (c: Conn) => {
        const all = await text(c.source.read(1 << 20))
        try {
          await c.source.read(4)
          return ok(`large ${all}, then small read too`)
        } catch (e) {
          return ok(`large ${all}, then small refused: ${(e as Error).name}`)
        }
      }),
    ),
    pipe(
      post,
      path('/stream'),
      handle(async (c: Conn) => {
        let n = 0
        let chunks = 0
        for await (const chunk of c.source.stream()) {
          n += chunk.byteLength
          chunks++
        }
        return json({ bytes: n, chunks: chunks > 0 })
      }),
    ),
    pipe(
      post,
      path('/slow'),
      handle(async (c: Conn) => {
        events.push('reading')
        try {
          await c.source.read(1 << 20)
          events.push('read')
        } catch (e) {
          events.push((e as Error).name)
          throw e
        }
        return ok('read')
      }),
    ),
    pipe(
      post,
      path('/late'),
      handle(async (c: Conn) => {
        // start reading only after the client is gone
        await new Promise((r) => setTimeout(r, 200))
        try {
          await c.source.read(1 << 20)
          events.push('late: read')
        } catch (e) {
          events.push(`late: ${(e as Error).name}`)
          throw e
        }
        return ok('late')
      }),
    ),
    pipe(post, path('/ignore'), ok('ignored')),
  ])

  before(async () => {
    server = await serve(app, { port: 0, host: '127.0.0.1' })
    port = Number(new URL(server.url).port)
  })
  after(() => server.close())

  const post_ = (url: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${server.url}${url}`, { method: 'POST', body, headers })

  it('answers 413 when the only reader is under the body', async () => {
    const res = await post_('/small-then-large', '0123456789')
    assert.equal(res.status, 413)
  })

  it('gives a later branch the whole body after an earlier one was refused', async () => {
    const res = await post_('/fallback', '0123456789')
    assert.equal(res.status, 200)
    assert.equal(await res.text(), '0123456789')
  })

  it('checks a small reader against the bytes a large reader kept', async () => {
    const res = await post_('/large-then-small', '0123456789')
    assert.equal(await res.text(), 'large 0123456789, then small refused: PayloadTooLargeError')
  })

  it('streams a chunked upload of 4 MiB without a limit', async () => {
    const size = 4 << 20
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 64; i++) controller.enqueue(new Uint8Array(size / 64).fill(97))
        controller.close()
      },
    })
    const res = await fetch(`${server.url}/stream`, { method: 'POST', body, duplex: 'half' })
    assert.deepEqual(await res.json(), { bytes: size, chunks: true })
  })

  it('keeps the connection usable after a body nobody read, and after a refused one', async () => {
    const twice =
      'POST /ignore HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello' +
      'POST /small-then-large HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789' +
      'POST /fallback HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc'
    const got = await raw(port, twice)
    assert.match(got, /^HTTP\/1\.1 200 OK[\s\S]*ignored/)
    assert.match(got, /HTTP\/1\.1 413 /)
    assert.match(got, /HTTP\/1\.1 200 OK[\s\S]*\r\n\r\nsmall$/) // 3 bytes: within the first reader's 4
  })

  it('rejects a read at once when the client aborts mid-body, and logs nothing', async () => {
    events.length = 0
    const logged: unknown[] = []
    const original = console.error
    console.error = (...args: unknown[]) => logged.push(args)
    try {
      await raw(port, 'POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly a part', 300, false)
      const deadline = Date.now() + 2000
      while (events.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
    } finally {
      console.error = original
    }
    assert.deepEqual(events, ['reading', 'BodyAbortedError'])
    assert.deepEqual(logged, [])
    // the server still answers
    assert.equal((await post_('/fallback', 'ok')).status, 200)
  })

  it('settles a read that starts after the client went away', async () => {
    events.length = 0
    await raw(port, 'POST /late HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\npart', 50, false)
    const deadline = Date.now() + 2000
    while (events.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
    assert.deepEqual(events, ['late: BodyAbortedError'])
  })
})
