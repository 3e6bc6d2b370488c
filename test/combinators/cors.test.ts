import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import * as sap from 'sapwood'
import { inject } from 'sapwood/testing'

const { choose, pipe, get, post, path, ok, handle, filter, cors, rejection } = sap

const guard = filter((c) => c.headers['authorization'] === 'ok', rejection.unauthorized('Bearer'))
const tree = pipe(
  guard,
  choose([
    pipe(get, path('/items'), ok('[]')),
    pipe(
      post,
      path('/items'),
      handle((c) => c.source.read(4).then(() => sap.created())),
    ),
    pipe(
      get,
      path('/boom'),
      handle(() => {
        throw new Error('boom')
      }),
    ),
  ]),
)
const quiet = { onError: () => undefined }
const site = 'https://app.example.com'

describe('cors', () => {
  const app = cors(tree, { origin: [site], credentials: true, exposedHeaders: ['x-total'], maxAge: 600 })

  it('answers a preflight 204 before any guard runs, in both modes', async () => {
    for (const compile of [false, true]) {
      const res = await inject(
        app,
        {
          method: 'OPTIONS',
          url: '/items',
          headers: {
            origin: site,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'content-type',
          },
        },
        { compile },
      )
      assert.equal(res.status, 204)
      assert.equal(res.headers['access-control-allow-origin'], site)
      assert.equal(res.headers['access-control-allow-credentials'], 'true')
      assert.match(String(res.headers['access-control-allow-methods']), /POST/)
      assert.equal(res.headers['access-control-allow-headers'], 'content-type')
      assert.equal(res.headers['access-control-max-age'], '600')
      assert.match(String(res.headers['vary']), /Origin/)
    }
  })

  const table: readonly [string, string, Record<string, string>, number, string?][] = [
    ['GET', '/items', { authorization: 'ok' }, 200],
    ['GET', '/nope', { authorization: 'ok' }, 404],
    ['DELETE', '/items', { authorization: 'ok' }, 405],
    ['GET', '/items', {}, 401],
    ['POST', '/items', { authorization: 'ok' }, 413, 'too long'],
    ['GET', '/boom', { authorization: 'ok' }, 500],
  ]
  for (const [method, url, headers, status, body] of table) {
    it(`puts Access-Control-Allow-Origin and Vary: Origin on a ${status} (${method} ${url}), in both modes`, async () => {
      for (const compile of [false, true]) {
        const res = await inject(
          app,
          { method, url, headers: { ...headers, origin: site }, ...(body === undefined ? {} : { body }) },
          { ...quiet, compile },
        )
        assert.equal(res.status, status)
        assert.equal(res.headers['access-control-allow-origin'], site)
        assert.equal(res.headers['access-control-expose-headers'], 'x-total')
        assert.equal(res.headers['vary'], 'Origin')
      }
    })
  }

  it('gives an origin it does not allow no Access-Control-Allow-Origin', async () => {
    const res = await inject(app, { url: '/items', headers: { authorization: 'ok', origin: 'https://evil.example' } })
    assert.equal(res.status, 200)
    assert.equal(res.headers['access-control-allow-origin'], undefined)
    assert.equal(res.headers['vary'], 'Origin')
    const pre = await inject(app, {
      method: 'OPTIONS',
      url: '/items',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
    })
    assert.equal(pre.status, 204)
    assert.equal(pre.headers['access-control-allow-origin'], undefined)
  })

  it('takes origins as a list, a RegExp or a predicate; * without credentials', async () => {
    const cases: readonly [NonNullable<sap.CorsOptions['origin']>, string, string | undefined][] = [
      [/\.example\.com$/, 'https://a.example.com', 'https://a.example.com'],
      [/\.example\.com$/, 'https://example.org', undefined],
      [(o: string) => o.startsWith('https://'), 'https://x.dev', 'https://x.dev'],
      ['*', 'https://any.where', '*'],
    ]
    for (const [origin, from, want] of cases) {
      const res = await inject(cors(pipe(get, path('/'), ok('hi')), { origin }), {
        url: '/',
        headers: { origin: from },
      })
      assert.equal(res.headers['access-control-allow-origin'], want, String(origin))
    }
  })

  it('lets an OPTIONS request that is not a preflight reach the tree (automatic Allow)', async () => {
    const res = await inject(app, { method: 'OPTIONS', url: '/items', headers: { origin: site } })
    assert.equal(res.status, 204)
    assert.equal(res.headers['allow'], 'GET, HEAD, POST, OPTIONS')
  })

  it('refuses options that are not tokens or whole seconds', () => {
    assert.throws(() => cors(tree, { methods: ['GE T'] }), /not a token/)
    assert.throws(() => cors(tree, { maxAge: 1.5 }), /whole number/)
  })

  describe('through a real socket', () => {
    let server: sap.Listening
    before(async () => {
      server = await sap.serve(app, { port: 0, host: '127.0.0.1', onError: () => undefined })
    })
    after(() => server.close())
    it('sends the headers on a 404 and answers a preflight', async () => {
      const res = await fetch(`${server.url}/nope`, { headers: { origin: site, authorization: 'ok' } })
      await res.arrayBuffer()
      assert.equal(res.status, 404)
      assert.equal(res.headers.get('access-control-allow-origin'), site)
      const pre = await fetch(`${server.url}/items`, {
        method: 'OPTIONS',
        headers: { origin: site, 'access-control-request-method': 'POST' },
      })
      await pre.arrayBuffer()
      assert.equal(pre.status, 204)
      assert.equal(pre.headers.get('access-control-allow-origin'), site)
    })
  })
})
