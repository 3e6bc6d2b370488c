import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import * as http2 from 'node:http2'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import Fastify, { type FastifyInstance } from 'fastify'
import * as sap from 'sapwood'
import { toFastify } from 'sapwood/fastify'
import { selfSigned } from '../support/cert.js'
import { within } from '../support/wait.js'

import { LIMIT, app, seen, sharedCases } from '../support/mount-app.js'

const { choose, pipe, get, path, ok, handle } = sap

const fastifyErrors: unknown[] = []

/**
 * A Fastify server with the sapwood app registered under `prefix`, a route of its own outside
 * the plugin (which keeps Fastify's JSON parser), a hook that sets headers on every reply, and
 * an error handler that no test may reach; at the root, a not-found handler of its own.
 */
const host = async (prefix: string): Promise<FastifyInstance> => {
  const server = Fastify()
  server.addHook('onRequest', (_request, reply, done) => {
    reply.header('set-cookie', 'host=1')
    reply.header('x-host', 'kept')
    reply.header('x-both', 'host')
    done()
  })
  server.setErrorHandler((error, _request, reply) => {
    fastifyErrors.push(error)
    void reply.code(599).send('fastify error handler')
  })
  if (prefix === '') {
    server.setNotFoundHandler((request, reply) => {
      void reply.code(404).send(`fastify has no ${request.url}`)
    })
  }
  await server.register(
    toFastify(app, { onError: (error) => void seen.errors.push(error) }),
    prefix === '' ? {} : { prefix },
  )
  server.post('/outside', (request) => ({ outside: request.body }))
  return server
}

const request = (url: string, init: RequestInit = {}): Promise<Response> =>
  fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(LIMIT), ...init })

before(async () => {
  seen.dir = await mkdtemp(join(tmpdir(), 'sapwood-fastify-'))
  await writeFile(join(seen.dir, 'letters.txt'), 'abcdefghijklmnopqrstuvwxyz')
})
after(() => rm(seen.dir, { recursive: true, force: true }))

for (const prefix of ['/api', '']) {
  describe(`toFastify registered ${prefix === '' ? 'at the root' : `under ${prefix}`}`, () => {
    let url = ''
    let server: FastifyInstance | undefined
    before(async () => {
      server = await host(prefix)
      url = await server.listen({ port: 0, host: '127.0.0.1' })
    })
    after(() => server?.close())
    const at = (p: string): string => `${url}${prefix}${p}`

    it('answers a route of the app, on the path below the prefix', async () => {
      const res = await request(at('/hello'))
      assert.equal(res.status, 200)
      assert.equal(await res.text(), 'hi')
      assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8')
    })

    it('routes the prefix itself, with a query, to the root of the app', async () => {
      for (const p of [`${prefix}?x=1`, `${prefix}/`]) {
        const res = await request(`${url}${p}`)
        assert.equal(res.status, 200, p)
        assert.equal(await res.text(), 'root')
      }
    })

    it("gives a path the app does not have to Fastify's 404 handling", async () => {
      const res = await request(at('/nope'))
      assert.equal(res.status, 404)
      if (prefix === '') assert.equal(await res.text(), 'fastify has no /nope')
      else {
        assert.deepEqual(await res.json(), {
          message: `Route GET:${prefix}/nope not found`,
          error: 'Not Found',
          statusCode: 404,
        })
      }
    })

    it('answers 405 with Allow for a path the app has, with another method', async () => {
      const res = await request(at('/hello'), { method: 'DELETE' })
      assert.equal(res.status, 405)
      assert.equal(res.headers.get('allow'), 'GET, HEAD, OPTIONS')
      assert.equal(res.headers.get('content-type'), 'application/problem+json')
    })

    it('keeps a redirect to a path of the app inside the prefix, and leaves others alone', async () => {
      const res = await request(at('/go'))
      assert.equal(res.status, 302)
      assert.equal(res.headers.get('location'), `${prefix}/login`)
      assert.equal((await request(at('/away'))).headers.get('location'), 'https://elsewhere.test/x')
      assert.equal((await request(at('/proto'))).headers.get('location'), '//elsewhere.test/x')
    })

    it("decodes a JSON body from the stream, and leaves Fastify's parser to the routes outside", async () => {
      const res = await request(at('/json'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"a":[1,2]}',
      })
      assert.equal(res.status, 200)
      assert.deepEqual(await res.json(), { got: { a: [1, 2] } })
      const outside = await request(`${url}/outside`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"b":3}',
      })
      assert.deepEqual(await outside.json(), { outside: { b: 3 } })
    })

    it('gives the app a body of any type, or of none, unread', async () => {
      for (const type of ['text/plain', 'application/x-anything', undefined]) {
        const res = await request(at('/raw'), {
          method: 'POST',
          ...(type === undefined ? {} : { headers: { 'content-type': type } }),
          body: new TextEncoder().encode('some bytes'),
        })
        assert.equal(res.status, 200, String(type))
        assert.equal(await res.text(), 'some bytes')
      }
    })

    it('streams a 1 MiB body to bodyStream, past the bodyLimit of Fastify', async () => {
      const bytes = randomBytes(1024 * 1024 + 1)
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

    sharedCases(at, request, fastifyErrors)

    it('sends each Set-Cookie on its own line, after those a hook set, and the headers hooks set', async () => {
      const res = await request(at('/cookies'))
      assert.deepEqual(
        res.headers.getSetCookie().map((line) => line.split(';')[0]),
        ['host=1', 'a=1', 'b=2'],
      )
      assert.equal(res.headers.get('x-host'), 'kept')
      assert.equal(res.headers.get('x-both'), 'app')
    })
  })
}

describe('toFastify on HTTP/2', () => {
  it('answers over HTTP/2, with its cookies and the host of :authority, and passes misses on', async (t) => {
    const made = await selfSigned()
    if ('skip' in made) return t.skip(made.skip)
    const h2app = choose([
      pipe(
        get,
        path('/hello'),
        sap.setCookie('a', '1'),
        sap.setCookie('b', '2'),
        handle((c) => ok(`hello ${c.headers['host'] ?? 'nobody'}`)),
      ),
    ])
    const server = Fastify({ http2: true, https: { key: made.key, cert: made.cert } })
    await server.register(toFastify(h2app), { prefix: '/api' })
    const url = await server.listen({ port: 0, host: '127.0.0.1' })
    const client = http2.connect(url, { ca: made.cert })
    client.on('error', () => undefined)
    const get2 = (target: string): Promise<{ status: number; cookies: string[]; body: string }> =>
      new Promise((resolve, reject) => {
        const req = client.request({ ':path': target })
        let status = 0
        let cookies: string[] = []
        let body = ''
        req.on('response', (h) => {
          status = Number(h[':status'])
          cookies = (h['set-cookie'] ?? []).map((line) => line.split(';')[0]!)
        })
        req.setEncoding('utf8')
        req.on('data', (d: string) => (body += d))
        req.on('end', () => resolve({ status, cookies, body }))
        req.on('error', reject)
        req.setTimeout(LIMIT, () => req.close())
        req.end()
      })
    try {
      const { host } = new URL(url)
      assert.deepEqual(await get2('/api/hello'), { status: 200, cookies: ['a=1', 'b=2'], body: `hello ${host}` })
      const missing = await get2('/api/nope')
      assert.equal(missing.status, 404)
      assert.match(missing.body, /Route GET:\/api\/nope not found/)
    } finally {
      client.destroy()
      await server.close()
    }
  })
})

describe('toFastify and fastify.close()', () => {
  it('tells the producers of open streams that the server closes, so that close() ends', async () => {
    let reason: unknown
    let started: () => void = () => undefined
    const opened = new Promise<void>((resolve) => (started = resolve))
    const events = pipe(
      get,
      path('/events'),
      sap.sse(async ({ send, signal }) => {
        await send('one')
        started()
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
        reason = signal.reason
      }),
    )
    const server = Fastify()
    await server.register(toFastify(events), { prefix: '/api' })
    const url = await server.listen({ port: 0, host: '127.0.0.1' })
    const client = new AbortController()
    try {
      const res = await request(`${url}/api/events`, { signal: client.signal })
      assert.equal(res.status, 200)
      const reader = res.body!.getReader() as ReadableStreamDefaultReader<Uint8Array>
      await within(opened, LIMIT, 'the stream to open')
      const started = performance.now()
      await within(server.close(), LIMIT, 'fastify.close()')
      assert.ok(performance.now() - started < 2000, `close() took ${Math.round(performance.now() - started)} ms`)
      assert.ok(reason instanceof sap.ServerClosingError, String(reason))
      // the stream ended cleanly: the client reads it to its end
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
      await server.close()
    }
  })
})
