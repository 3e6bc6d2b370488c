import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as sap from 'sapwood'
import { conn, inject } from 'sapwood/testing'

const { choose, pipe, get, post, path, prefix, ok, handle, respJson } = sap

const app = choose([
  pipe(get, path('/'), ok('home')),
  pipe(get, respJson, path('/data'), ok('{"a":1}')),
  pipe(post, path('/data'), sap.created('{}')),
  pipe(sap.head, path('/custom-head'), sap.setHeader('x-head', 'explicit'), ok()),
  pipe(get, path('/custom-head'), ok('from get')),
  pipe(sap.options, path('/custom-options'), sap.setHeader('allow', 'GET'), sap.noContent()),
  pipe(
    prefix('/api'),
    choose([
      pipe(
        get,
        path('/users/:id'),
        handle((c) => sap.json({ id: c.params.id })),
      ),
    ]),
  ),
])

describe('respond', () => {
  const table: readonly [string, string, number, string?][] = [
    ['GET', '/', 200, 'home'],
    ['GET', '/nope', 404],
    ['DELETE', '/', 405],
    ['PUT', '/data', 405],
    ['GET', '/api/users/7', 200, '{"id":"7"}'],
    ['POST', '/api/users/7', 405],
    ['GET', '/api/nope', 404],
    ['GET', '/api/users/%E0%A4%A', 400],
    ['GET', `/api/users/${'x'.repeat(101)}`, 414],
  ]
  for (const [method, url, status, body] of table) {
    it(`${method} ${url.slice(0, 40)} → ${status}`, async () => {
      const res = await inject(app, { method, url })
      assert.equal(res.status, status)
      if (body !== undefined) assert.equal(res.body, body)
      else assert.equal(res.headers['content-type'], 'application/problem+json')
    })
  }

  it('answers 405 with Allow, HEAD listed after GET', async () => {
    const res = await inject(app, { method: 'DELETE', url: '/data' })
    assert.equal(res.headers['allow'], 'GET, HEAD, POST, OPTIONS')
    assert.equal(res.json<{ status: number }>().status, 405)
  })

  it('answers HEAD with the GET branch: same headers and Content-Length, no body', async () => {
    const got = await inject(app, { method: 'GET', url: '/data' })
    const head = await inject(app, { method: 'HEAD', url: '/data' })
    assert.equal(head.status, 200)
    assert.equal(head.body, '')
    assert.deepEqual(head.headers, got.headers)
    assert.equal(head.headers['content-length'], String(Buffer.byteLength('{"a":1}')))
  })

  it('lets an explicit HEAD branch win over the GET branch', async () => {
    const res = await inject(app, { method: 'HEAD', url: '/custom-head' })
    assert.equal(res.headers['x-head'], 'explicit')
  })

  it('answers HEAD on an unknown path with 404', async () => {
    assert.equal((await inject(app, { method: 'HEAD', url: '/nope' })).status, 404)
  })

  it('answers OPTIONS with 204 and Allow', async () => {
    const res = await inject(app, { method: 'OPTIONS', url: '/data' })
    assert.equal(res.status, 204)
    assert.equal(res.headers['allow'], 'GET, HEAD, POST, OPTIONS')
    assert.equal(res.body, '')
  })

  it('lets an explicit OPTIONS branch win', async () => {
    const res = await inject(app, { method: 'OPTIONS', url: '/custom-options' })
    assert.equal(res.headers['allow'], 'GET')
  })

  it('answers OPTIONS on an unknown path with 404', async () => {
    assert.equal((await inject(app, { method: 'OPTIONS', url: '/nope' })).status, 404)
  })

  it('answers 500 when a Part throws outside handle, and the logger may throw too', async () => {
    const broken = sap.part(
      () => {
        throw new Error('raw part')
      },
      { _tag: 'Opaque' },
    )
    const res = await inject(
      broken,
      { url: '/' },
      {
        onError: () => {
          throw new Error('logger down')
        },
      },
    )
    assert.equal(res.status, 500)
    assert.doesNotMatch(res.body, /raw part/)
  })

  it('answers 500 when a Part returns a rejected promise outside handle', async () => {
    const broken = sap.part(() => Promise.reject(new Error('x')), { _tag: 'Opaque' })
    assert.equal((await inject(broken, { url: '/' }, { onError: () => undefined })).status, 500)
  })

  it('sends no body and no Content-Length for 204 and 304', async () => {
    for (const p of [
      sap.pipe(sap.setBody('dropped'), sap.noContent()),
      sap.pipe(sap.setBody('dropped'), sap.notModified()),
    ]) {
      const res = await inject(p, { url: '/' })
      assert.equal(res.body, '')
      assert.equal(res.headers['content-length'], undefined)
    }
  })

  it('sends a WWW-Authenticate challenge with 401', async () => {
    const res = await inject(
      handle(() => sap.left(sap.rejection.unauthorized('Bearer realm="api"'))),
      { url: '/' },
    )
    assert.equal(res.status, 401)
    assert.equal(res.headers['www-authenticate'], 'Bearer realm="api"')
  })
})

describe('respondOrPass', () => {
  const app = sap.choose([
    sap.pipe(sap.get, sap.path('/users/:id'), sap.ok('user')),
    sap.pipe(
      sap.post,
      sap.path('/users'),
      sap.handle(async () => sap.created('made')),
    ),
    sap.pipe(
      sap.get,
      sap.path('/private'),
      sap.filter(() => false, sap.rejection.unauthorized('Bearer')),
      sap.ok('secret'),
    ),
  ])
  const handler = sap.respondOrPass(app)

  it('resolves to undefined where no branch matched, so that the host passes the request on', async () => {
    assert.equal(await handler(conn('GET', '/elsewhere')), undefined)
    assert.equal(await handler(conn('HEAD', '/elsewhere')), undefined)
    assert.equal(await handler(conn('OPTIONS', '/elsewhere')), undefined)
  })

  it('answers every other outcome as respond does: a match, 405 with Allow, 401, OPTIONS and HEAD', async () => {
    const table: readonly [string, string][] = [
      ['GET', '/users/1'],
      ['DELETE', '/users/1'],
      ['POST', '/users'],
      ['GET', '/private'],
      ['OPTIONS', '/users'],
      ['HEAD', '/users/1'],
    ]
    const plain = sap.respond(app)
    for (const [method, url] of table) {
      const passed = await handler(conn(method, url))
      assert.ok(passed !== undefined, `${method} ${url} was passed on`)
      const answered = await plain(conn(method, url))
      assert.equal(passed.status, answered.status, `${method} ${url}`)
      assert.deepEqual({ ...passed.respHeaders }, { ...answered.respHeaders }, `${method} ${url}`)
    }
  })

  it('passes a miss on without its decorations, and still lets them answer early (a CORS preflight)', async () => {
    const decorated = sap.respondOrPass(sap.cors(app, { origin: ['https://app.test'] }))
    assert.equal(await decorated(conn('GET', '/elsewhere', { headers: { origin: 'https://app.test' } })), undefined)
    const preflight = await decorated(
      conn('OPTIONS', '/users', {
        headers: { origin: 'https://app.test', 'access-control-request-method': 'POST' },
      }),
    )
    assert.equal(preflight?.status, 204)
    const hit = await decorated(conn('GET', '/users/2', { headers: { origin: 'https://app.test' } }))
    assert.equal(hit?.respHeaders['access-control-allow-origin'], 'https://app.test')
  })
})

describe('respond: handlerTimeout (issue #12)', () => {
  const never = pipe(
    get,
    path('/never'),
    handle(() => new Promise<never>(() => undefined)),
  )

  it('answers 503 when an async answer is not decided in time, tells onError, and fires the signal', async () => {
    const errors: unknown[] = []
    let signal: AbortSignal | undefined
    const app = pipe(
      get,
      path('/never'),
      handle((c) => {
        signal = c.signal
        return new Promise<never>(() => undefined)
      }),
    )
    const handler = sap.respond(app, { handlerTimeout: 50, onError: (e) => errors.push(e) })
    const started = performance.now()
    const answer = await handler(conn('GET', '/never'))
    const took = performance.now() - started
    assert.equal(answer.status, 503)
    assert.match(String(answer.respHeaders['content-type']), /problem\+json/)
    assert.match(answer.respBody as string, /did not answer in time/)
    assert.ok(took >= 45 && took < 2000, `answered after ${Math.round(took)} ms`)
    assert.equal(errors.length, 1)
    assert.equal((errors[0] as Error).name, 'HandlerTimeoutError')
    assert.match((errors[0] as Error).message, /50 ms/)
    assert.equal(signal?.aborted, true)
    assert.equal((signal?.reason as Error).name, 'HandlerTimeoutError')
  })

  it('drops an answer that comes after the 503; a late failure is still reported', async () => {
    const errors: unknown[] = []
    let finish: (ok: boolean) => void = () => undefined
    const app = pipe(
      get,
      path('/late'),
      handle(
        () =>
          new Promise<ReturnType<typeof ok>>((resolve, reject) => {
            finish = (good) => (good ? resolve(ok('late')) : reject(new Error('late')))
          }),
      ),
    )
    const handler = sap.respond(app, { handlerTimeout: 20, onError: (e) => errors.push(e) })
    const first = await handler(conn('GET', '/late'))
    assert.equal(first.status, 503)
    finish(false)
    await new Promise((r) => setTimeout(r, 10))
    assert.deepEqual(
      errors.map((e) => (e as Error).name),
      ['HandlerTimeoutError', 'Error'],
    )
    const second = await handler(conn('GET', '/late'))
    assert.equal(second.status, 503)
    finish(true)
    await new Promise((r) => setTimeout(r, 10))
    assert.equal(errors.length, 3, 'a late answer is dropped silently')
  })

  it('does not bound an answer decided in time, nor the stream it sends afterwards', async () => {
    const app = pipe(
      get,
      path('/slow-stream'),
      handle(async () => {
        await new Promise((r) => setTimeout(r, 5))
        return sap.stream(async function* () {
          yield 'a'
          await new Promise((r) => setTimeout(r, 120))
          yield 'b'
        })
      }),
    )
    const res = await inject(app, { url: '/slow-stream' }, { handlerTimeout: 60 })
    assert.equal(res.status, 200)
    assert.equal(res.body, 'ab')
    assert.equal(res.complete, true)
  })

  it('makes no timer for an answer decided synchronously, nor with handlerTimeout: 0', async () => {
    const real = globalThis.setTimeout
    let timers = 0
    globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
      timers++
      return real(...args)
    }) as typeof setTimeout
    try {
      const sync = sap.respond(pipe(get, path('/'), ok('home')))
      assert.equal((sync(conn('GET', '/')) as sap.Conn).status, 200)
      assert.equal(timers, 0, 'a synchronous answer made a timer')
      const unbounded = sap.respond(
        pipe(
          get,
          path('/'),
          handle(async () => ok('home')),
        ),
        { handlerTimeout: 0 },
      )
      assert.equal((await unbounded(conn('GET', '/'))).status, 200)
      assert.equal(timers, 0, 'handlerTimeout: 0 made a timer')
    } finally {
      globalThis.setTimeout = real
    }
  })

  it('goes through the root decorations, as every answer does', async () => {
    const handler = sap.respond(sap.cors(never, { origin: ['https://app.test'] }), {
      handlerTimeout: 20,
      onError: () => undefined,
    })
    const answer = await handler(conn('GET', '/never', { headers: { origin: 'https://app.test' } }))
    assert.equal(answer.status, 503)
    assert.equal(answer.respHeaders['access-control-allow-origin'], 'https://app.test')
  })

  it('refuses a handlerTimeout that is not a whole number of ms', () => {
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 31]) {
      assert.throws(() => sap.respond(never, { handlerTimeout: bad }), RangeError, String(bad))
    }
  })
})
