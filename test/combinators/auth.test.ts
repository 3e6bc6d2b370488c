import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as sap from 'sapwood'
import { conn, inject } from 'sapwood/testing'

const { choose, pipe, prefix, get, post, path, ok, handle, json, bearer, basicAuth } = sap

interface User {
  readonly name: string
}
const tokens = new Map<string, User>([['good', { name: 'ada' }]])
const verifyToken = (token: string): User | undefined => tokens.get(token)
const quiet = { onError: () => undefined }

/** `Basic` credentials for user and password, encoded as UTF-8. */
const basic = (user: string, password: string): string =>
  `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`

describe('bearer', () => {
  // the tree of issue #9: a guard in front of a subtree, a sibling after it
  const app = choose([
    pipe(
      prefix('/admin'),
      bearer(verifyToken, { realm: 'admin' }),
      choose([
        pipe(
          get,
          path('/users'),
          handle((c) => ok(`u ${c.assigns.user.name}`)),
        ),
      ]),
    ),
    pipe(get, path('/public'), ok('p')),
  ])
  const challenge = 'Bearer realm="admin"'
  const invalid = 'Bearer realm="admin", error="invalid_token"'
  const table: readonly [string, string, string | undefined, number, string | undefined][] = [
    ['GET', '/public', undefined, 200, undefined],
    ['GET', '/admin/users', undefined, 401, challenge],
    ['GET', '/admin/users', 'Bearer bad', 401, invalid],
    ['GET', '/admin/users', 'Bearer good', 200, undefined],
    ['GET', '/admin/nope', 'Bearer good', 404, undefined],
    // the path cannot match: the guard's 401 does not hide the 404
    ['GET', '/admin/nope', undefined, 404, undefined],
    ['GET', '/admin/nope', 'Bearer bad', 404, undefined],
    ['GET', '/admin', undefined, 404, undefined],
    ['GET', '/nope', undefined, 404, undefined],
    ['GET', '/nope', 'Bearer good', 404, undefined],
    // the path matches but not the method: 405 explains more than 401
    ['POST', '/admin/users', undefined, 405, undefined],
  ]
  for (const [method, url, authorization, status, www] of table) {
    it(`answers ${status} to ${method} ${url} ${authorization ?? 'without a token'}, in both modes`, async () => {
      for (const compile of [false, true]) {
        const res = await inject(
          app,
          { method, url, headers: authorization === undefined ? {} : { authorization } },
          { compile },
        )
        assert.equal(res.status, status, `compile: ${compile}`)
        assert.equal(res.headers['www-authenticate'], www, `compile: ${compile}`)
        if (status === 200) assert.equal(res.body, url === '/public' ? 'p' : 'u ada')
        if (status === 401) assert.equal(res.headers['content-type'], 'application/problem+json')
      }
    })
  }

  it('matches the scheme case-insensitively and skips the spaces around the token', async () => {
    for (const authorization of ['bearer good', 'BEARER good', 'Bearer   good  ', 'Bearer\tgood']) {
      const res = await inject(app, { url: '/admin/users', headers: { authorization } })
      assert.equal(res.status, 200, authorization)
    }
  })

  it('treats another scheme, or the scheme with no token, as no credentials (no error code)', async () => {
    for (const authorization of ['Basic Z29vZA==', 'Bearer', 'Bearer   ', 'Bearergood', 'good', '']) {
      const res = await inject(app, { url: '/admin/users', headers: { authorization } })
      assert.equal(res.status, 401, authorization)
      assert.equal(res.headers['www-authenticate'], challenge, authorization)
    }
  })

  it('refuses a token with spaces or controls without asking verify', async () => {
    let asked = 0
    const guard = bearer((t: string) => {
      asked++
      return t
    })
    for (const authorization of ['Bearer go od', 'Bearer good\u00e9']) {
      const r = await guard(conn('GET', '/', { headers: { authorization } }))
      assert.deepEqual(r, sap.left(sap.rejection.unauthorized('Bearer error="invalid_token"')))
    }
    assert.equal(asked, 0)
  })

  it('passes the token and the Conn to verify, sync or async, and assigns its value', async () => {
    const seen: string[] = []
    const tree = pipe(
      prefix('/t/:tenant'),
      get,
      path('/me'),
      bearer(async (token, c) => {
        seen.push(`${token} ${c.params['tenant']}`)
        await Promise.resolve()
        return token === 'k' ? { id: 7 } : null
      }),
      handle((c) => json(c.assigns.user)),
    )
    const res = await inject(tree, { url: '/t/acme/me', headers: { authorization: 'Bearer k' } })
    assert.equal(res.status, 200)
    assert.deepEqual(res.json(), { id: 7 })
    assert.deepEqual(seen, ['k acme'])
    const refused = await inject(tree, { url: '/t/acme/me', headers: { authorization: 'Bearer x' } })
    assert.equal(refused.status, 401)
    assert.equal(refused.headers['www-authenticate'], 'Bearer error="invalid_token"')
  })

  it('refuses on undefined, null and false, and accepts any other value', async () => {
    for (const [value, status] of [
      [undefined, 401],
      [null, 401],
      [false, 401],
      [true, 200],
      [0, 200],
      ['', 200],
    ] as const) {
      const tree = pipe(
        bearer(() => value),
        handle((c) => ok(JSON.stringify(c.assigns.user))),
      )
      const res = await inject(tree, { url: '/', headers: { authorization: 'Bearer t' } })
      assert.equal(res.status, status, String(value))
      if (status === 200) assert.equal(res.body, JSON.stringify(value))
    }
  })

  it('answers 500 when verify throws or its promise rejects, and reports the error', async () => {
    for (const verify of [
      () => {
        throw new Error('db down')
      },
      () => Promise.reject(new Error('db down')),
    ]) {
      const errors: unknown[] = []
      const tree = pipe(bearer(verify), ok('never'))
      for (const compile of [false, true]) {
        const res = await inject(
          tree,
          { url: '/', headers: { authorization: 'Bearer t' } },
          { compile, onError: (e) => errors.push(e) },
        )
        assert.equal(res.status, 500)
        assert.equal(res.headers['www-authenticate'], undefined)
      }
      assert.equal(errors.length, 2)
      assert.match(String(errors[0]), /db down/)
    }
  })

  it('takes another scheme, assigns under `as`, and keeps the assigns made before it', async () => {
    const tree = pipe(
      sap.assign('tenant', 'acme'),
      bearer((t) => (t === 'abc' ? { name: 'bob' } : undefined), { scheme: 'Token', as: 'account' }),
      handle((c) => ok(`${c.assigns.tenant} ${c.assigns.account.name}`)),
    )
    const res = await inject(tree, { url: '/', headers: { authorization: 'token abc' } })
    assert.equal(res.body, 'acme bob')
    const none = await inject(tree, { url: '/', headers: { authorization: 'Bearer abc' } })
    assert.equal(none.status, 401)
    assert.equal(none.headers['www-authenticate'], 'Token')
  })

  it('quotes the realm, and refuses a realm with CR or LF or a bad scheme when the guard is made', async () => {
    const guard = bearer(() => undefined, { realm: 'say "hi" \\ bye' })
    const r = await guard(conn('GET', '/'))
    assert.deepEqual(r, sap.left(sap.rejection.unauthorized('Bearer realm="say \\"hi\\" \\\\ bye"')))
    assert.throws(() => bearer(() => 1, { realm: 'a\r\nSet-Cookie: x=1' }), /realm cannot hold a CR or LF/)
    assert.throws(() => bearer(() => 1, { realm: 'a\nb' }), /CR or LF/)
    assert.throws(() => bearer(() => 1, { realm: 'a\0b' }), /U\+0000/)
    assert.throws(() => bearer(() => 1, { realm: '☃' }), /U\+2603/)
    assert.throws(() => bearer(() => 1, { scheme: 'Bad Scheme' }), /scheme must be a token/)
    assert.throws(() => bearer(() => 1, { as: '' }), /`as` must be a non-empty string/)
    assert.throws(() => bearer(undefined as unknown as () => 1), /verify must be a function/)
  })

  it('is an Opaque Part, named after its function', () => {
    const p = bearer(verifyToken)
    assert.equal(p.shape._tag, 'Opaque')
    assert.equal(p.label, 'bearer(verifyToken)')
  })
})

describe('basicAuth', () => {
  const users = new Map([
    ['ada', 'pass:word'],
    ['zoë', 'pässwörd ☃'],
  ])
  const seen: [string, string][] = []
  const app = choose([
    pipe(
      get,
      path('/admin'),
      basicAuth((user, password) => {
        seen.push([user, password])
        return users.get(user) === password ? { name: user } : undefined
      }),
      handle((c) => ok(`hello ${c.assigns.user.name}`)),
    ),
    pipe(get, path('/public'), ok('p')),
  ])
  const challenge = 'Basic realm="Restricted", charset="UTF-8"'

  it('passes good credentials, with a password that holds a colon', async () => {
    for (const compile of [false, true]) {
      const res = await inject(
        app,
        { url: '/admin', headers: { authorization: basic('ada', 'pass:word') } },
        { compile },
      )
      assert.equal(res.status, 200)
      assert.equal(res.body, 'hello ada')
    }
  })

  it('decodes the credentials as UTF-8', async () => {
    const res = await inject(app, { url: '/admin', headers: { authorization: basic('zoë', 'pässwörd ☃') } })
    assert.equal(res.body, 'hello zoë')
  })

  it('answers 401 with the challenge to missing or wrong credentials', async () => {
    for (const headers of [{}, { authorization: basic('ada', 'nope') }, { authorization: 'Bearer good' }]) {
      for (const compile of [false, true]) {
        const res = await inject(app, { url: '/admin', headers }, { compile })
        assert.equal(res.status, 401)
        assert.equal(res.headers['www-authenticate'], challenge)
      }
    }
  })

  it('answers 401 to malformed credentials without asking verify', async () => {
    seen.length = 0
    const b64 = (bytes: readonly number[]) => `Basic ${Buffer.from(bytes).toString('base64')}`
    for (const authorization of [
      'Basic',
      'Basic !!!',
      'Basic YWRh', // 'ada', no colon
      'Basic YWRhO', // a length no base64 has
      'Basic YWRhOnBhc3M=x',
      b64([0x61, 0x3a, 0xff, 0xfe]), // not UTF-8
      basic('ada', 'pass\nword'), // a control character
      basic('a\u007fda', 'x'),
    ]) {
      const res = await inject(app, { url: '/admin', headers: { authorization } })
      assert.equal(res.status, 401, authorization)
      assert.equal(res.headers['www-authenticate'], challenge)
    }
    assert.deepEqual(seen, [])
  })

  it('accepts unpadded base64 and a lower-case scheme', async () => {
    const padded = basic('ada', 'pass:word')
    assert.ok(padded.endsWith('='))
    const unpadded = `basic ${padded.slice('Basic '.length).replace(/=+$/, '')}`
    assert.equal((await inject(app, { url: '/admin', headers: { authorization: unpadded } })).status, 200)
  })

  it('leaves the 404s of its siblings alone', async () => {
    assert.equal((await inject(app, { url: '/public' })).status, 200)
    assert.equal((await inject(app, { url: '/nope' })).status, 404)
    assert.equal((await inject(app, { url: '/admin', method: 'POST' })).status, 405)
  })

  it('takes a realm and an `as`, and async verify', async () => {
    const tree = pipe(
      basicAuth(
        (user, password, c) => Promise.resolve<string | false>(password === 'x' ? `${user}@${c.path}` : false),
        {
          realm: 'The "zone"',
          as: 'who',
        },
      ),
      handle((c) => ok(c.assigns.who)),
    )
    assert.equal((await inject(tree, { url: '/p', headers: { authorization: basic('bo', 'x') } })).body, 'bo@/p')
    const res = await inject(tree, { url: '/p', headers: { authorization: basic('bo', 'y') } })
    assert.equal(res.status, 401)
    assert.equal(res.headers['www-authenticate'], 'Basic realm="The \\"zone\\"", charset="UTF-8"')
  })

  it('answers 500 when verify throws', async () => {
    const tree = pipe(
      basicAuth(() => {
        throw new Error('ldap down')
      }),
      ok('never'),
    )
    const res = await inject(tree, { url: '/', headers: { authorization: basic('a', 'b') } }, quiet)
    assert.equal(res.status, 500)
  })

  it('refuses a realm with CR or LF when the guard is made', () => {
    assert.throws(() => basicAuth(() => 1, { realm: 'x\r\n' }), /realm cannot hold a CR or LF/)
    assert.throws(() => basicAuth(null as unknown as () => 1), /verify must be a function/)
  })
})

describe('auth over a real socket', () => {
  it('sends the challenge with the 401, and lets good credentials through', async () => {
    const app = choose([
      pipe(
        prefix('/api'),
        bearer(verifyToken, { realm: 'api' }),
        choose([
          pipe(
            get,
            path('/me'),
            handle((c) => ok(c.assigns.user.name)),
          ),
        ]),
      ),
      pipe(
        post,
        path('/login'),
        basicAuth((u, p) => (u === 'ada' && p === 'pw' ? u : null)),
        ok('in'),
      ),
    ])
    const server = await sap.serve(app, { port: 0, host: '127.0.0.1' })
    try {
      const none = await fetch(`${server.url}/api/me`)
      assert.equal(none.status, 401)
      assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="api"')
      assert.equal(none.headers.get('content-type'), 'application/problem+json')
      assert.equal(((await none.json()) as { status: number }).status, 401)
      const bad = await fetch(`${server.url}/api/me`, { headers: { authorization: 'Bearer nope' } })
      assert.equal(bad.headers.get('www-authenticate'), 'Bearer realm="api", error="invalid_token"')
      await bad.text()
      const good = await fetch(`${server.url}/api/me`, { headers: { authorization: 'Bearer good' } })
      assert.equal(good.status, 200)
      assert.equal(await good.text(), 'ada')
      const missing = await fetch(`${server.url}/api/nope`)
      assert.equal(missing.status, 404)
      await missing.text()
      const login = await fetch(`${server.url}/login`, { method: 'POST' })
      assert.equal(login.status, 401)
      assert.equal(login.headers.get('www-authenticate'), 'Basic realm="Restricted", charset="UTF-8"')
      await login.text()
      const inside = await fetch(`${server.url}/login`, {
        method: 'POST',
        headers: { authorization: basic('ada', 'pw') },
      })
      assert.equal(await inside.text(), 'in')
    } finally {
      await server.close()
    }
  })
})
