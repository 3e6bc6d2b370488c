// The app that the Express and Fastify mount tests serve, and what it records: the errors its
// onError saw, and how many SSE producers saw their signal fire.
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import * as sap from 'sapwood'

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
    sap.sendFile(() => join(seen.dir, 'letters.txt')),
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
