// Issue #7: the branch that got furthest explains the failure, in both modes, through inject
// and through a real socket.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import * as sap from 'sapwood'
import { inject } from 'sapwood/testing'

const { choose, pipe, get, del, path, prefix, handle, filter, left, ok, noContent, rejection, accepts, recover } = sap
const quiet = { onWarning: () => undefined }

const itemsApp = choose([
  pipe(
    get,
    path('/items/:id'),
    handle(() => left(rejection.noMatch)),
  ),
  pipe(del, path('/items/:id'), noContent()),
])

const authed = (c: sap.Conn): boolean => c.headers['authorization'] === 'Bearer ok'
const apiApp = pipe(
  prefix('/api'),
  choose([
    pipe(filter(authed, rejection.unauthorized('Bearer')), choose([pipe(get, path('/private'), ok('p'))])),
    pipe(
      get,
      path('/files/:name'),
      handle(() => left(rejection.noMatch)),
    ),
  ]),
)

const requireAuth = filter(authed, rejection.unauthorized('Bearer'))
const articles: Record<string, string> = { hello: 'Hello' }
const articlesApp = choose([
  pipe(get, path('/articles/feed'), requireAuth, ok('feed')),
  pipe(
    get,
    path('/articles/:slug'),
    handle((c) => {
      const found = articles[c.params['slug'] ?? '']
      return found === undefined ? left(rejection.noMatch) : ok(found)
    }),
  ),
])

const negotiated = choose([
  pipe(get, path('/doc'), accepts('application/json'), sap.json({ doc: 1 })),
  pipe(get, path('/doc'), accepts('text/html'), sap.respHtml, ok('<p>doc</p>')),
])

const table: readonly [string, sap.Part, string, string, Record<string, string>, number, string?][] = [
  ['a handler\'s "not found" beats a DELETE branch\'s 405', itemsApp, 'GET', '/items/2', {}, 404],
  ['HEAD goes to the GET branch and says 404 too', itemsApp, 'HEAD', '/items/2', {}, 404],
  ['DELETE still answers', itemsApp, 'DELETE', '/items/2', {}, 204],
  ['PUT on the path is 405 with both methods', itemsApp, 'PUT', '/items/2', {}, 405, 'GET, HEAD, DELETE, OPTIONS'],
  ['a guard in front of a subtree leaves other paths a 404', apiApp, 'GET', '/api/nowhere', {}, 404],
  ['a sibling handler says 404 past the guard', apiApp, 'GET', '/api/files/x', {}, 404],
  ['the guard answers where its routes match', apiApp, 'GET', '/api/private', {}, 401],
  ['and lets credentials through', apiApp, 'GET', '/api/private', { authorization: 'Bearer ok' }, 200],
  ['a guard after its route matched beats a handler 404', articlesApp, 'GET', '/articles/feed', {}, 401],
  ['the other route still answers', articlesApp, 'GET', '/articles/hello', {}, 200],
  ['a missing article is a 404', articlesApp, 'GET', '/articles/nope', {}, 404],
  ['content negotiation: JSON', negotiated, 'GET', '/doc', { accept: 'application/json' }, 200],
  ['content negotiation: the second alternative serves HTML', negotiated, 'GET', '/doc', { accept: 'text/html' }, 200],
  ['content negotiation: neither is 406', negotiated, 'GET', '/doc', { accept: 'text/csv' }, 406],
]

describe('issue #7: the branch that got furthest explains the failure', () => {
  for (const [what, app, method, url, headers, status, allow] of table) {
    it(`${what}: ${method} ${url} → ${status} (interpreted and compiled)`, async () => {
      for (const compile of [false, true]) {
        const res = await inject(app, { method, url, headers }, { compile })
        assert.equal(res.status, status, `compile: ${compile}`)
        if (allow !== undefined) assert.equal(res.headers['allow'], allow)
        if (url === '/doc' && status === 200) {
          assert.match(String(res.headers['content-type']), headers['accept'] === 'text/html' ? /html/ : /json/)
        }
      }
    })
  }

  describe('through a real socket', () => {
    let server: sap.Listening
    before(async () => {
      server = await sap.serve(choose([itemsApp, apiApp, articlesApp, negotiated].map((a) => sap.compile(a, quiet))), {
        port: 0,
        host: '127.0.0.1',
      })
    })
    after(() => server.close())
    for (const [what, , method, url, headers, status] of table) {
      it(`${what}: ${method} ${url} → ${status}`, async () => {
        const res = await fetch(`${server.url}${url}`, { method, headers, signal: AbortSignal.timeout(5000) })
        await res.arrayBuffer()
        assert.equal(res.status, status)
      })
    }
  })
})

describe('issue #7: rejections raised in front of a path are provisional', () => {
  it('a method filter in front of a path says 404 where the path misses and 405 where it matches', async () => {
    const app = pipe(get, path('/a'), ok('a'))
    assert.equal((await inject(app, { method: 'DELETE', url: '/b' })).status, 404)
    const res = await inject(app, { method: 'DELETE', url: '/a' })
    assert.equal(res.status, 405)
    assert.equal(res.headers['allow'], 'GET, HEAD, OPTIONS')
  })

  it('a guard whose routes take another method says 405, not its own reason', async () => {
    const app = choose([
      pipe(requireAuth, get, path('/x'), ok('x')),
      pipe(
        del,
        path('/x'),
        handle(() => left(rejection.notFound('no x'))),
      ),
    ])
    for (const compile of [false, true]) {
      const res = await inject(app, { method: 'DELETE', url: '/x' }, { compile })
      assert.equal(res.status, 404, 'the DELETE branch got further')
      assert.equal(res.json<{ detail: string }>().detail, 'no x')
    }
  })

  it('a throwing predicate in front of a path that misses is a NoMatch, where it matches a 500', async () => {
    const boom = filter(() => {
      throw new Error('boom')
    })
    const app = choose([pipe(boom, get, path('/a'), ok('a')), pipe(get, path('/b'), ok('b'))])
    const errors: unknown[] = []
    for (const compile of [false, true]) {
      assert.equal((await inject(app, { url: '/b' }, { compile })).status, 200)
      assert.equal((await inject(app, { url: '/a' }, { compile, onError: (e) => void errors.push(e) })).status, 500)
    }
    assert.equal(errors.length, 2)
    // called directly, the Part returns a Left instead of throwing
    const direct = await boom(sap.makeConn({ method: 'GET', url: '/', headers: {} }))
    assert.equal(direct._tag === 'Left' && direct.left._tag, 'HandlerFailed')
  })
})

describe('issue #7: any reason can be said', () => {
  const app = choose([
    pipe(
      get,
      path('/forbidden'),
      handle(() => left(rejection.forbidden('no'))),
    ),
    pipe(
      get,
      path('/conflict'),
      handle(() => left(rejection.conflict('taken'))),
    ),
    pipe(
      get,
      path('/invalid'),
      handle(() => left(rejection.unprocessable([{ path: '/a', message: 'bad' }]))),
    ),
    pipe(
      get,
      path('/slow'),
      handle(() => left(rejection.tooManyRequests(7))),
    ),
    pipe(
      get,
      path('/pay'),
      handle(() => left(rejection.problem({ status: 402, title: 'Payment Required' }))),
    ),
    pipe(
      get,
      path('/gone'),
      handle(() => left(rejection.notFound('gone'))),
    ),
    pipe(del, path('/gone'), noContent()),
  ])
  const table: readonly [string, number, string?][] = [
    ['/forbidden', 403],
    ['/conflict', 409],
    ['/invalid', 422],
    ['/slow', 429, '7'],
    ['/pay', 402],
    ['/gone', 404],
  ]
  for (const [url, status, retry] of table) {
    it(`GET ${url} → ${status} application/problem+json, in both modes`, async () => {
      for (const compile of [false, true]) {
        const res = await inject(app, { url }, { compile })
        assert.equal(res.status, status)
        assert.equal(res.headers['content-type'], 'application/problem+json')
        assert.equal(res.json<{ status: number }>().status, status)
        if (retry !== undefined) assert.equal(res.headers['retry-after'], retry)
      }
    })
  }
})

describe('issue #7: HEAD and OPTIONS are routing, whatever the tree holds', () => {
  const routes = choose([pipe(get, path('/users/:id'), ok('user')), pipe(sap.post, path('/users'), sap.created())])
  const page = (r: sap.Rejection) =>
    r._tag === 'NoMatch' ? pipe(sap.respHtml, sap.notFound('<h1>nothing here</h1>')) : undefined
  const long = 'x'.repeat(120)

  it('a root recover keeps HEAD, OPTIONS and the 414 rule, in both modes', async () => {
    const app = recover(routes, (r) => (r._tag === 'BadRequest' ? sap.badRequest('custom') : undefined))
    for (const compile of [false, true]) {
      const get1 = await inject(app, { url: '/users/1' }, { compile })
      const head1 = await inject(app, { method: 'HEAD', url: '/users/1' }, { compile })
      assert.equal(head1.status, get1.status)
      assert.equal(head1.headers['content-length'], get1.headers['content-length'])
      const opts = await inject(app, { method: 'OPTIONS', url: '/users' }, { compile })
      assert.equal(opts.status, 204)
      assert.equal(opts.headers['allow'], 'POST, OPTIONS')
      assert.equal((await inject(app, { url: `/users/${long}` }, { compile })).status, 414)
    }
  })

  it('a root recover that answers every rejection still gives HEAD what GET gets', async () => {
    const app = recover(routes, page)
    for (const compile of [false, true]) {
      const miss = await inject(app, { url: '/nope' }, { compile })
      const headMiss = await inject(app, { method: 'HEAD', url: '/nope' }, { compile })
      assert.equal(miss.status, 404)
      assert.equal(headMiss.status, 404)
      assert.equal(headMiss.headers['content-length'], miss.headers['content-length'])
      assert.equal(headMiss.body, '')
      assert.equal((await inject(app, { method: 'OPTIONS', url: '/users/1' }, { compile })).status, 204)
    }
  })

  it('a catch-all handler makes HEAD answer as GET, and an explicit HEAD branch wins', async () => {
    const catchAll = choose([routes, handle(() => sap.notFound('none'))])
    assert.equal((await inject(catchAll, { method: 'HEAD', url: '/users/1' })).status, 200)
    assert.equal((await inject(catchAll, { method: 'HEAD', url: '/zz' })).status, 404)
    const own = choose([pipe(sap.head, path('/users/:id'), sap.noContent()), routes])
    assert.equal((await inject(own, { method: 'HEAD', url: '/users/1' })).status, 204)
    assert.equal((await inject(own, { method: 'HEAD', url: '/users' })).status, 405)
  })
})
