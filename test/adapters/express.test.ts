import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import express from 'express'
import * as sap from 'sapwood'
import { toExpress } from 'sapwood/express'
import { within } from '../support/wait.js'

import { LIMIT, app, seen, sharedCases } from '../support/mount-app.js'

const { pipe, get, path } = sap

const expressErrors: unknown[] = []

/**
 * An Express app with the sapwood app mounted at `base` (and behind `express.json()` at
 * `${base}/parsed`), a later Express route that takes what sapwood passes on, and an error
 * handler that no test may reach.
 */
const host = (base: string) => {
  const server = express()
  // what middleware in front sets on every answer (a session cookie, a security header)
  server.use((_req, res, next) => {
    res.appendHeader('set-cookie', 'host=1')
    res.setHeader('x-host', 'kept')
    res.setHeader('x-both', 'host')
    next()
  })
  const mounted = toExpress(app, { onError: (error) => void seen.errors.push(error) })
  server.use(`${base}/parsed`, express.json(), mounted)
  if (base === '') server.use(mounted)
  else server.use(base, mounted)
  server.get(`${base}/later`, (_req, res) => {
    res.send('express, later')
  })
  server.use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    expressErrors.push(error)
    res.status(599).send('express error handler')
  })
  return server
}

const listen = (server: express.Express): Promise<{ url: string; close: () => Promise<void> }> =>
  new Promise((resolve, reject) => {
    const s: Server = server.listen(0, '127.0.0.1')
    s.once('error', reject)
    s.once('listening', () => {
      const { port } = s.address() as AddressInfo
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise<void>((done) => {
            s.closeAllConnections()
            s.close(() => done())
          }),
      })
    })
  })

const request = (url: string, init: RequestInit = {}): Promise<Response> =>
  fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(LIMIT), ...init })

before(async () => {
  seen.dir = await mkdtemp(join(tmpdir(), 'sapwood-express-'))
  await writeFile(join(seen.dir, 'letters.txt'), 'abcdefghijklmnopqrstuvwxyz')
})
after(() => rm(seen.dir, { recursive: true, force: true }))

for (const base of ['/api', '']) {
  describe(`toExpress mounted ${base === '' ? 'at the root' : `under ${base}`}`, () => {
    let url = ''
    let close: () => Promise<void> = () => Promise.resolve()
    before(async () => {
      ;({ url, close } = await listen(host(base)))
    })
    after(() => close())
    const at = (p: string): string => `${url}${base}${p}`

    it('answers a route of the app, on the path below the mount', async () => {
      const res = await request(at('/hello'))
      assert.equal(res.status, 200)
      assert.equal(await res.text(), 'hi')
      assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8')
    })

    it('routes the mount path itself, with a query, to the root of the app', async () => {
      const res = await request(`${url}${base}?x=1`)
      assert.equal(res.status, 200)
      assert.equal(await res.text(), 'root')
    })

    it('passes a path the app does not have to the next middleware, then to Express 404', async () => {
      const later = await request(at('/later'))
      assert.equal(later.status, 200)
      assert.equal(await later.text(), 'express, later')
      const missing = await request(at('/nope'))
      assert.equal(missing.status, 404)
      assert.match(await missing.text(), /Cannot GET \/.*nope/)
    })

    it('answers 405 with Allow for a path the app has, with another method', async () => {
      const res = await request(at('/hello'), { method: 'DELETE' })
      assert.equal(res.status, 405)
      assert.equal(res.headers.get('allow'), 'GET, HEAD, OPTIONS')
      assert.equal(res.headers.get('content-type'), 'application/problem+json')
    })

    it('keeps a redirect to a path of the app inside the mount, and leaves others alone', async () => {
      const res = await request(at('/go'))
      assert.equal(res.status, 302)
      assert.equal(res.headers.get('location'), `${base}/login`)
      assert.equal((await request(at('/away'))).headers.get('location'), 'https://elsewhere.test/x')
      assert.equal((await request(at('/proto'))).headers.get('location'), '//elsewhere.test/x')
    })

    it('decodes a JSON body that it reads itself', async () => {
      const res = await request(at('/json'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"a":[1,2]}',
      })
      assert.equal(res.status, 200)
      assert.deepEqual(await res.json(), { got: { a: [1, 2] } })
    })

    it('decodes a JSON body that express.json() read in front, without waiting for the stream', async () => {
      const res = await request(at('/parsed/json'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"parsed":true}',
      })
      assert.equal(res.status, 200)
      assert.deepEqual(await res.json(), { got: { parsed: true } })
    })

    it('answers 500 (not a wait) when a body that express.json() read is asked for as bytes', async () => {
      const before = seen.errors.length
      const res = await request(at('/parsed/raw'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"parsed":true}',
      })
      assert.equal(res.status, 500)
      assert.equal(res.headers.get('content-type'), 'application/problem+json')
      assert.equal(seen.errors.length, before + 1)
      assert.match(String(seen.errors.at(-1)), /body parser mounted in front/)
    })

    it('streams a 1 MiB body to bodyStream', async () => {
      const bytes = randomBytes(1024 * 1024)
      const res = await request(at('/upload'), {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream' },
        body: bytes,
      })
      assert.equal(res.status, 200)
      assert.deepEqual(await res.json(), {
        size: bytes.byteLength,
        sha256: createHash('sha256').update(bytes).digest('hex'),
      })
    })

    sharedCases(at, request, expressErrors)

    it("sends each Set-Cookie on its own line, after those set in front, and keeps Express's headers", async () => {
      const res = await request(at('/cookies'))
      assert.deepEqual(
        res.headers.getSetCookie().map((line) => line.split(';')[0]),
        ['host=1', 'a=1', 'b=2'],
      )
      assert.equal(res.headers.get('x-powered-by'), 'Express')
      assert.equal(res.headers.get('x-host'), 'kept')
      assert.equal(res.headers.get('x-both'), 'app')
    })
  })
}

describe("toExpress's close()", () => {
  it('tells the producers of open streams that the server closes, so that server.close() ends', async () => {
    let reason: unknown
    let started: () => void = () => undefined
    const opened = new Promise<void>((resolve) => (started = resolve))
    const mounted = toExpress(
      pipe(
        get,
        path('/events'),
        sap.sse(async ({ send, signal }) => {
          await send('one')
          started()
          await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
          reason = signal.reason
        }),
      ),
    )
    const server: Server = express().use('/api', mounted).listen(0, '127.0.0.1')
    await within(new Promise((resolve) => server.once('listening', resolve)), LIMIT, 'the server to listen')
    const client = new AbortController()
    try {
      const { port } = server.address() as AddressInfo
      const res = await request(`http://127.0.0.1:${port}/api/events`, { signal: client.signal })
      assert.equal(res.status, 200)
      const reader = res.body!.getReader() as ReadableStreamDefaultReader<Uint8Array>
      await within(opened, LIMIT, 'the stream to open')
      mounted.close()
      await within(new Promise<void>((resolve) => server.close(() => resolve())), LIMIT, 'server.close()')
      assert.ok(reason instanceof sap.ServerClosingError, String(reason))
      let text = ''
      await within(
        (async () => {
          for (;;) {
            const { value, done } = await reader.read()
            if (done) return
            text += new TextDecoder().decode(value)
          }
        })(),
        LIMIT,
        'the end of the stream',
      )
      assert.match(text, /data: one\n\n/)
    } finally {
      client.abort()
      server.closeAllConnections()
    }
  })
})
