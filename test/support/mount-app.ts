// The app that the Express and Fastify mount tests serve, and what it records: the errors its
// onError saw, and how many SSE producers saw their signal fire.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { it } from 'node:test'
import * as sap from 'sapwood'
import * as sapNode from 'sapwood/node'
import { waitFor, within } from './wait.js'

const { choose, pipe, get, post, put, path, ok, handle } = sap

/** Every request in this file gives up after this long: a hung answer fails its test. */
export const LIMIT = 5_000

/** What the app records, shared by a test file. */
export const seen = { errors: [] as unknown[], producersGone: 0, dir: '' }

export const app = choose([
  pipe(get, path('/'), ok('root')),
  pipe(get, path('/hello'), ok('hi')),
  pipe(get, path('/go'), sap.found('/login')),
  pipe(get, path('/away'), sap.found('https://elsewhere.test/x')),
  pipe(get, path('/proto'), sap.found('//elsewhere.test/x')),
  pipe(
    post,
    path('/json'),
    sap.jsonBody(),
    handle((c) => sap.json({ got: c.body })),
  ),
  pipe(
    post,
    path('/raw'),
    sap.rawBody(),
    handle((c) => ok(c.body)),
  ),
  pipe(
    put,
    path('/upload'),
    sap.bodyStream(),
    handle(async (c) => {
      const hash = createHash('sha256')
      let size = 0
      for await (const chunk of c.body) {
        size += chunk.byteLength
        hash.update(chunk)
      }
      return sap.json({ size, sha256: hash.digest('hex') })
    }),
  ),
  pipe(
    get,
    path('/events'),
    sap.sse(async ({ send, signal }) => {
      await send('one', { id: '1' })
      // open until the client leaves: its signal is the only way out
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
      seen.producersGone++
    }),
  ),
  pipe(
    get,
    path('/file'),
    sapNode.sendFile(() => join(seen.dir, 'letters.txt')),
  ),
  pipe(
    get,
    path('/boom'),
    handle((): never => {
      throw new Error('boom in a handler')
    }),
  ),
  pipe(
    get,
    path('/cookies'),
    sap.setCookie('a', '1'),
    sap.setCookie('b', '2'),
    sap.setHeader('x-both', 'app'),
    ok('two cookies'),
  ),
])

/**
 * The cases every mount answers alike, registered where it is called: `at` makes a URL under the
 * mount, and `hostErrors` is what the host's own error handler saw.
 */
export const sharedCases = (
  at: (target: string) => string,
  request: (url: string, init?: RequestInit) => Promise<Response>,
  hostErrors: readonly unknown[],
): void => {
  it('streams Server-Sent Events, and tells the producer when the client leaves', async () => {
    const gone = seen.producersGone
    const client = new AbortController()
    const res = await request(at('/events'), { signal: client.signal })
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8')
    const reader = res.body!.getReader() as ReadableStreamDefaultReader<Uint8Array>
    let text = ''
    await within(
      (async () => {
        while (!text.includes('data: one\n\n')) {
          const { value, done } = await reader.read()
          if (done) break
          text += new TextDecoder().decode(value)
        }
      })(),
      LIMIT,
      'the first event',
    )
    assert.match(text, /id: 1\ndata: one\n\n/)
    client.abort()
    await waitFor(() => seen.producersGone === gone + 1, LIMIT, "the producer's signal")
  })

  it('sends a range of a file', async () => {
    const res = await request(at('/file'), { headers: { range: 'bytes=2-5' } })
    assert.equal(res.status, 206)
    assert.equal(res.headers.get('content-range'), 'bytes 2-5/26')
    assert.equal(await res.text(), 'cdef')
  })

  it('answers HEAD with the headers of GET and no body', async () => {
    const res = await request(at('/hello'), { method: 'HEAD' })
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-length'), '2')
    assert.equal(await res.text(), '')
  })

  it("answers a handler's throw with the app's 500, reported to onError, not to the host", async () => {
    const before = seen.errors.length
    const res = await request(at('/boom'))
    assert.equal(res.status, 500)
    assert.equal(res.headers.get('content-type'), 'application/problem+json')
    const text = await res.text()
    assert.doesNotMatch(text, /boom in a handler|at /)
    assert.equal(seen.errors.length, before + 1)
    assert.deepEqual(hostErrors, [])
  })
}
