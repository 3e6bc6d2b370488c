// Unit tests of every filter, called directly on a test Conn, plus a whole-app check through inject.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as sap from 'sapwood'
import type { Part, RejectionTag } from 'sapwood'
import { conn, inject } from 'sapwood/testing'
import { expectLeft, expectRight } from '../helpers.js'

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE'] as const

/** A request with the given headers (GET /). */
const withHeaders = (headers: Record<string, string>) => conn('GET', '/', { headers })

/** Params as a plain object, so that deepEqual does not trip over null prototypes. */
const plain = (params: sap.Params): Record<string, string | undefined> => ({ ...params })

/** A filter given a pattern, the URL it sees, and the rejection it must give. */
interface RejectCase {
  readonly it: string
  readonly pattern: string
  readonly url: string
  readonly tag: RejectionTag
}

const itRejects = (make: (pattern: string) => sap.Part, cases: readonly RejectCase[]): void => {
  for (const t of cases) {
    it(`${t.it}: ${t.pattern} on ${t.url.length > 40 ? `${t.url.slice(0, 40)}...` : t.url}`, async () => {
      await expectLeft(make(t.pattern)(conn('GET', t.url)), t.tag)
    })
  }
}

describe('method filters', () => {
  const table: readonly (readonly [name: string, filter: Part, method: (typeof METHODS)[number]])[] = [
    ['get', sap.get, 'GET'],
    ['post', sap.post, 'POST'],
    ['put', sap.put, 'PUT'],
    ['patch', sap.patch, 'PATCH'],
    ['del', sap.del, 'DELETE'],
    ['head', sap.head, 'HEAD'],
    ['options', sap.options, 'OPTIONS'],
    ['trace', sap.trace, 'TRACE'],
  ]

  for (const [name, filter, method] of table) {
    describe(name, () => {
      it(`passes ${method} requests and leaves the Conn as it was`, async () => {
        const out = await expectRight(filter(conn(method, '/users/42?x=1')))
        assert.equal(out.method, method)
        assert.equal(out.path, '/users/42')
        assert.equal(out.rest, '/users/42')
        assert.equal(out.status, 200)
        assert.equal(out.respBody, null)
      })

      it(`passes a lower-case ${method.toLowerCase()} request (the Conn upper-cases it)`, async () => {
        const out = await expectRight(filter(conn(method.toLowerCase(), '/')))
        assert.equal(out.method, method)
      })

      it(`rejects every other method with MethodNotAllowed allowing only ${method}`, async () => {
        for (const other of METHODS.filter((m) => m !== method)) {
          const r = await expectLeft(filter(conn(other, '/')), 'MethodNotAllowed')
          assert.deepEqual(r, { _tag: 'MethodNotAllowed', allow: [method] }, `${name} on ${other}`)
        }
      })

      it('describes itself as a Method shape for the compiler', () => {
        assert.deepEqual(filter.shape, { _tag: 'Method', methods: [method] })
      })
    })
  }

  it('sap.delete is the same filter as del', async () => {
    assert.equal(sap.delete, sap.del)
    await expectRight(sap.delete(conn('DELETE', '/')))
    await expectLeft(sap.delete(conn('GET', '/')), 'MethodNotAllowed')
  })

  it('get alone rejects HEAD (only respond retries HEAD as GET)', async () => {
    const r = await expectLeft(sap.get(conn('HEAD', '/')), 'MethodNotAllowed')
    assert.deepEqual(r, { _tag: 'MethodNotAllowed', allow: ['GET'] })
  })
})

describe('method', () => {
  it('passes any of several methods', async () => {
    const reads = sap.method('GET', 'HEAD')
    await expectRight(reads(conn('GET', '/')))
    await expectRight(reads(conn('HEAD', '/')))
  })

  it('rejects the other methods with MethodNotAllowed listing all of them', async () => {
    const r = await expectLeft(sap.method('GET', 'POST')(conn('PUT', '/')), 'MethodNotAllowed')
    assert.deepEqual(r, { _tag: 'MethodNotAllowed', allow: ['GET', 'POST'] })
  })

  it('upper-cases lower-case method names', async () => {
    const filter = sap.method('get', 'post')
    await expectRight(filter(conn('POST', '/')))
    await expectRight(filter(conn('get', '/')))
    const r = await expectLeft(filter(conn('DELETE', '/')), 'MethodNotAllowed')
    assert.deepEqual(r, { _tag: 'MethodNotAllowed', allow: ['GET', 'POST'] })
    assert.deepEqual(filter.shape, { _tag: 'Method', methods: ['GET', 'POST'] })
  })

  it('passes a custom method', async () => {
    await expectRight(sap.method('purge')(conn('PURGE', '/cache')))
  })

  it('throws a TypeError when given no method', () => {
    assert.throws(() => sap.method(), TypeError)
  })
})

describe('path', () => {
  const matches: readonly {
    readonly it: string
    readonly pattern: string
    readonly url: string
    readonly params: Record<string, string>
  }[] = [
    { it: 'matches a static path', pattern: '/users', url: '/users', params: {} },
    { it: 'matches the root', pattern: '/', url: '/', params: {} },
    { it: 'ignores the query string', pattern: '/users', url: '/users?sort=asc', params: {} },
    { it: 'captures a :name param', pattern: '/users/:id', url: '/users/42', params: { id: '42' } },
    {
      it: 'captures several params',
      pattern: '/users/:id/posts/:pid',
      url: '/users/42/posts/7',
      params: { id: '42', pid: '7' },
    },
    {
      it: 'captures a :name(regex) param that fits the regex',
      pattern: '/n/:id(^\\d+$)',
      url: '/n/42',
      params: { id: '42' },
    },
    {
      it: 'captures the rest of the path under a trailing *',
      pattern: '/files/*',
      url: '/files/a/b.txt',
      params: { '*': 'a/b.txt' },
    },
    { it: 'percent-decodes a param', pattern: '/users/:id', url: '/users/a%20b', params: { id: 'a b' } },
    {
      it: 'decodes %2F inside a param to "/" without splitting the segment',
      pattern: '/users/:id',
      url: '/users/a%2Fb',
      params: { id: 'a/b' },
    },
    {
      it: 'decodes a param only once (%252F gives %2F)',
      pattern: '/users/:id',
      url: '/users/a%252Fb',
      params: { id: 'a%2Fb' },
    },
    { it: 'decodes the wildcard once', pattern: '/files/*', url: '/files/a%20b/c%2520d', params: { '*': 'a b/c%20d' } },
    {
      it: 'accepts a param of exactly 100 characters',
      pattern: '/x/:id',
      url: `/x/${'a'.repeat(100)}`,
      params: { id: 'a'.repeat(100) },
    },
  ]

  for (const t of matches) {
    it(`${t.it}: ${t.pattern} on ${t.url.length > 40 ? `${t.url.slice(0, 40)}...` : t.url}`, async () => {
      const out = await expectRight(sap.path(t.pattern)(conn('GET', t.url)))
      assert.deepEqual(plain(out.params), t.params)
      assert.equal(out.rest, '', 'path consumes the whole rest')
    })
  }

  const rejects: readonly RejectCase[] = [
    { it: 'rejects with NoMatch when the path differs', pattern: '/users', url: '/posts', tag: 'NoMatch' },
    { it: 'matches exactly: a longer path does not match', pattern: '/users/:id', url: '/users/42/x', tag: 'NoMatch' },
    { it: 'matches exactly: a shorter path does not match', pattern: '/users/:id', url: '/users', tag: 'NoMatch' },
    { it: 'treats a trailing slash in the path as significant', pattern: '/users', url: '/users/', tag: 'NoMatch' },
    { it: 'treats a trailing slash in the pattern as significant', pattern: '/users/', url: '/users', tag: 'NoMatch' },
    { it: 'is case-sensitive', pattern: '/users', url: '/Users', tag: 'NoMatch' },
    { it: 'rejects a param that does not fit its regex', pattern: '/n/:id(^\\d+$)', url: '/n/4x', tag: 'NoMatch' },
    {
      it: 'rejects a malformed percent-escape with BadRequest',
      pattern: '/x/:id',
      url: '/x/%E0%A4%A',
      tag: 'BadRequest',
    },
    {
      it: 'rejects a malformed escape under a wildcard with BadRequest',
      pattern: '/x/*',
      url: '/x/a/%E0%A4%A',
      tag: 'BadRequest',
    },
    {
      it: 'does not match a param longer than 100 characters (the app answers 414 when nothing else does)',
      pattern: '/x/:id',
      url: `/x/${'a'.repeat(101)}`,
      tag: 'NoMatch',
    },
  ]

  itRejects(sap.path, rejects)

  it('says what was malformed in a BadRequest', async () => {
    const r = await expectLeft(sap.path('/x/:id')(conn('GET', '/x/%E0%A4%A')), 'BadRequest')
    assert.ok(r._tag === 'BadRequest' && r.details.length > 0)
  })

  it('path("") matches only the empty rest', async () => {
    const end = sap.path('')
    await expectRight(end(conn('GET', '')))
    await expectLeft(end(conn('GET', '/')), 'NoMatch')
    await expectLeft(end(conn('GET', '/x')), 'NoMatch')
    const out = await expectRight(sap.pipe(sap.prefix('/api'), end)(conn('GET', '/api')))
    assert.equal(out.rest, '')
  })

  it('a non-empty pattern never matches the empty rest', async () => {
    await expectLeft(sap.pipe(sap.prefix('/api'), sap.path('/'))(conn('GET', '/api')), 'NoMatch')
  })

  it('keeps the params captured before it', async () => {
    const out = await expectRight(
      sap.pipe(sap.prefix('/orgs/:org'), sap.path('/repos/:repo'))(conn('GET', '/orgs/acme/repos/sap')),
    )
    assert.deepEqual(plain(out.params), { org: 'acme', repo: 'sap' })
  })

  it('leaves path and url as they were (still encoded)', async () => {
    const out = await expectRight(sap.path('/users/:id')(conn('GET', '/users/a%20b?x=1')))
    assert.equal(out.path, '/users/a%20b')
    assert.equal(out.url, '/users/a%20b?x=1')
  })

  it('throws a TypeError at build time for a pattern without a leading slash', () => {
    assert.throws(() => sap.path('x'), TypeError)
  })

  it('throws a TypeError at build time for an invalid regex', () => {
    assert.throws(() => sap.path('/a/:id('), TypeError)
  })

  it('describes itself as an exact Path shape', () => {
    const p = sap.path('/users/:id')
    assert.equal(p.shape._tag, 'Path')
    assert.ok(p.shape._tag === 'Path' && p.shape.mode === 'exact' && p.shape.pattern === '/users/:id')
  })
})

describe('prefix', () => {
  const consumes: readonly {
    readonly it: string
    readonly pattern: string
    readonly url: string
    readonly rest: string
    readonly params: Record<string, string>
  }[] = [
    { it: 'consumes a leading segment', pattern: '/api', url: '/api/users', rest: '/users', params: {} },
    { it: 'leaves an empty rest when it consumes the whole path', pattern: '/api', url: '/api', rest: '', params: {} },
    { it: 'leaves a trailing slash in the rest', pattern: '/api', url: '/api/', rest: '/', params: {} },
    { it: 'consumes several segments', pattern: '/api/v1', url: '/api/v1/users/42', rest: '/users/42', params: {} },
    { it: 'ignores a trailing slash in the pattern', pattern: '/api/', url: '/api/users', rest: '/users', params: {} },
    { it: 'ignores the query string', pattern: '/api', url: '/api/users?x=/y', rest: '/users', params: {} },
    { it: 'captures params', pattern: '/orgs/:org', url: '/orgs/acme/repos', rest: '/repos', params: { org: 'acme' } },
    {
      it: 'captures a :name(regex) param',
      pattern: '/n/:id(^\\d+$)',
      url: '/n/42/x',
      rest: '/x',
      params: { id: '42' },
    },
    {
      it: 'decodes %2F in a param without splitting the segment',
      pattern: '/orgs/:org',
      url: '/orgs/a%2Fb/repos',
      rest: '/repos',
      params: { org: 'a/b' },
    },
    { it: 'prefix("") passes everything and consumes nothing', pattern: '', url: '/x/y', rest: '/x/y', params: {} },
  ]

  for (const t of consumes) {
    it(`${t.it}: ${JSON.stringify(t.pattern)} on ${t.url}`, async () => {
      const out = await expectRight(sap.prefix(t.pattern)(conn('GET', t.url)))
      assert.equal(out.rest, t.rest)
      assert.deepEqual(plain(out.params), t.params)
      assert.equal(out.path, t.url.split('?')[0], 'the path itself is not rewritten')
    })
  }

  const rejects: readonly RejectCase[] = [
    { it: 'consumes whole segments only: /api does not match /apix', pattern: '/api', url: '/apix', tag: 'NoMatch' },
    { it: 'rejects a path shorter than the prefix', pattern: '/api/v1', url: '/api', tag: 'NoMatch' },
    { it: 'rejects with NoMatch when the path differs', pattern: '/api', url: '/web/api', tag: 'NoMatch' },
    { it: 'is case-sensitive', pattern: '/api', url: '/API/users', tag: 'NoMatch' },
    { it: 'rejects a param that does not fit its regex', pattern: '/n/:id(^\\d+$)', url: '/n/4x/y', tag: 'NoMatch' },
    {
      it: 'rejects a malformed escape with BadRequest',
      pattern: '/orgs/:org',
      url: '/orgs/%E0%A4%A/repos',
      tag: 'BadRequest',
    },
    {
      it: 'does not match a param longer than 100 characters (the app answers 414 when nothing else does)',
      pattern: '/orgs/:org',
      url: `/orgs/${'a'.repeat(101)}/repos`,
      tag: 'NoMatch',
    },
  ]

  itRejects(sap.prefix, rejects)

  it('makes a nested path relative to it', async () => {
    const users = sap.pipe(sap.prefix('/api'), sap.path('/users/:id'))
    const out = await expectRight(users(conn('GET', '/api/users/42')))
    assert.deepEqual(plain(out.params), { id: '42' })
    assert.equal(out.rest, '')
    await expectLeft(users(conn('GET', '/users/42')), 'NoMatch')
    await expectLeft(sap.pipe(sap.prefix('/api'), sap.path('/api/users'))(conn('GET', '/api/users')), 'NoMatch')
  })

  it('nests in another prefix', async () => {
    const app = sap.pipe(sap.prefix('/api'), sap.prefix('/v1'), sap.path('/users'))
    await expectRight(app(conn('GET', '/api/v1/users')))
    await expectLeft(app(conn('GET', '/api/users')), 'NoMatch')
    await expectLeft(app(conn('GET', '/v1/users')), 'NoMatch')
  })

  it('gathers the params of nested prefixes and the path', async () => {
    const app = sap.pipe(sap.prefix('/orgs/:org'), sap.prefix('/teams/:team'), sap.path('/members/:member'))
    const out = await expectRight(app(conn('GET', '/orgs/acme/teams/core/members/ada')))
    assert.deepEqual(plain(out.params), { org: 'acme', team: 'core', member: 'ada' })
  })

  it('throws a TypeError at build time for a pattern with a wildcard', () => {
    assert.throws(() => sap.prefix('/a/*'), TypeError)
  })

  it('throws a TypeError at build time for a pattern without a leading slash', () => {
    assert.throws(() => sap.prefix('api'), TypeError)
  })

  it('describes itself as a prefix Path shape', () => {
    const p = sap.prefix('/api')
    assert.ok(p.shape._tag === 'Path' && p.shape.mode === 'prefix' && p.shape.pattern === '/api')
  })
})

describe('host', () => {
  it('passes a request for the host', async () => {
    await expectRight(sap.host('example.com')(withHeaders({ host: 'example.com' })))
  })

  it('ignores the port', async () => {
    await expectRight(sap.host('example.com')(withHeaders({ host: 'example.com:8080' })))
  })

  it('ignores the port of an IPv6 literal', async () => {
    await expectRight(sap.host('[::1]')(withHeaders({ host: '[::1]:8080' })))
  })

  it('compares case-insensitively', async () => {
    await expectRight(sap.host('Example.COM')(withHeaders({ host: 'EXAMPLE.com:443' })))
  })

  it('rejects with NoMatch when the host differs', async () => {
    await expectLeft(sap.host('example.com')(withHeaders({ host: 'api.example.com' })), 'NoMatch')
    await expectLeft(sap.host('example.com')(withHeaders({ host: 'example.com.evil' })), 'NoMatch')
  })

  it('rejects with NoMatch when there is no Host header', async () => {
    await expectLeft(sap.host('example.com')(conn('GET', '/')), 'NoMatch')
  })
})

describe('header', () => {
  it('passes when the header has the value', async () => {
    await expectRight(sap.header('x-api-version', '2')(withHeaders({ 'x-api-version': '2' })))
  })

  it('rejects with NoMatch when the value differs (values are case-sensitive)', async () => {
    await expectLeft(sap.header('x-api-version', '2')(withHeaders({ 'x-api-version': '3' })), 'NoMatch')
    await expectLeft(sap.header('x-mode', 'fast')(withHeaders({ 'x-mode': 'FAST' })), 'NoMatch')
  })

  it('passes when the predicate holds and rejects with NoMatch when it does not', async () => {
    const seen: string[] = []
    const numeric = sap.header('x-num', (v) => {
      seen.push(v)
      return /^\d+$/.test(v)
    })
    await expectRight(numeric(withHeaders({ 'x-num': '12' })))
    await expectLeft(numeric(withHeaders({ 'x-num': 'twelve' })), 'NoMatch')
    assert.deepEqual(seen, ['12', 'twelve'])
  })

  it('matches the header name case-insensitively', async () => {
    await expectRight(sap.header('X-Api-Version', '2')(withHeaders({ 'x-api-version': '2' })))
    await expectRight(sap.header('x-api-version', '2')(withHeaders({ 'X-API-VERSION': '2' })))
  })

  it('rejects with NoMatch when the header is missing, without calling the predicate', async () => {
    let called = false
    const any = sap.header('x-token', () => (called = true))
    await expectLeft(any(conn('GET', '/')), 'NoMatch')
    await expectLeft(sap.header('x-token', 'abc')(conn('GET', '/')), 'NoMatch')
    assert.equal(called, false)
  })
})

describe('query', () => {
  it('passes when the parameter has the value', async () => {
    await expectRight(sap.query('format', 'csv')(conn('GET', '/report?format=csv')))
  })

  it('rejects with NoMatch when the value differs', async () => {
    await expectLeft(sap.query('format', 'csv')(conn('GET', '/report?format=json')), 'NoMatch')
  })

  it('compares the decoded value', async () => {
    await expectRight(sap.query('q', 'a b')(conn('GET', '/?q=a+b')))
    await expectRight(sap.query('q', 'a/b')(conn('GET', '/?q=a%2Fb')))
  })

  it('passes when the predicate holds and rejects with NoMatch when it does not', async () => {
    const paged = sap.query('page', (v) => Number.isInteger(Number(v)))
    await expectRight(paged(conn('GET', '/?page=3')))
    await expectLeft(paged(conn('GET', '/?page=three')), 'NoMatch')
  })

  it('takes the first value of a repeated name', async () => {
    await expectRight(sap.query('a', '1')(conn('GET', '/?a=1&a=2')))
    await expectLeft(sap.query('a', '2')(conn('GET', '/?a=1&a=2')), 'NoMatch')
    const seen: string[] = []
    await expectRight(sap.query('a', (v) => (seen.push(v), true))(conn('GET', '/?a=1&a=2&a=3')))
    assert.deepEqual(seen, ['1'])
  })

  it('rejects with NoMatch when the parameter is missing, without calling the predicate', async () => {
    let called = false
    await expectLeft(sap.query('page', () => (called = true))(conn('GET', '/?other=1')), 'NoMatch')
    await expectLeft(sap.query('page', '1')(conn('GET', '/')), 'NoMatch')
    assert.equal(called, false)
  })
})

describe('accepts', () => {
  const json = sap.accepts('application/json')
  const passes: readonly (readonly [why: string, accept: string | undefined])[] = [
    ['passes when there is no Accept header', undefined],
    ['passes an empty Accept header', ''],
    ['passes the exact type', 'application/json'],
    ['passes */*', '*/*'],
    ['passes application/*', 'application/*'],
    ['passes a list holding the type with a lower q', 'text/html, application/json;q=0.5'],
    ['compares case-insensitively', 'Application/JSON'],
  ]
  for (const [why, accept] of passes) {
    it(`${why} (${accept === undefined ? 'none' : JSON.stringify(accept)})`, async () => {
      const c = accept === undefined ? conn('GET', '/') : withHeaders({ accept })
      await expectRight(json(c))
    })
  }

  const rejects: readonly (readonly [why: string, accept: string])[] = [
    ['rejects another type with NotAcceptable', 'text/html'],
    ['rejects another wildcard family with NotAcceptable', 'text/*'],
    ['rejects the type with q=0 with NotAcceptable', 'application/json;q=0'],
    ['rejects q=0 even when another type is acceptable', 'application/json;q=0, text/html'],
    ['rejects */*;q=0 with NotAcceptable', 'text/html, */*;q=0'],
  ]
  for (const [why, accept] of rejects) {
    it(`${why} (${JSON.stringify(accept)})`, async () => {
      const r = await expectLeft(json(withHeaders({ accept })), 'NotAcceptable')
      assert.deepEqual(r, { _tag: 'NotAcceptable', available: ['application/json'] })
    })
  }

  it('lists the type it offers, lower-cased, in available', async () => {
    const r = await expectLeft(sap.accepts('Text/CSV')(withHeaders({ accept: 'application/json' })), 'NotAcceptable')
    assert.deepEqual(r, { _tag: 'NotAcceptable', available: ['text/csv'] })
  })
})

describe('contentType', () => {
  const passes: readonly (readonly [why: string, want: string, got: string])[] = [
    ['passes the exact type', 'application/json', 'application/json'],
    ['ignores parameters', 'application/json', 'application/json; charset=utf-8'],
    ['compares case-insensitively', 'application/json', 'Application/JSON;Charset=UTF-8'],
    ['compares the wanted type case-insensitively', 'Application/Json', 'application/json'],
    ['understands a +json suffix', 'application/json', 'application/problem+json'],
    ['understands a +json suffix with parameters', 'application/json', 'application/vnd.api+json; charset=utf-8'],
    ['passes any subtype under text/*', 'text/*', 'text/csv'],
    ['passes text/* with parameters and case differences', 'TEXT/*', 'Text/Plain; charset=utf-8'],
  ]
  for (const [why, want, got] of passes) {
    it(`${why}: ${want} against ${got}`, async () => {
      await expectRight(sap.contentType(want)(conn('POST', '/', { headers: { 'content-type': got } })))
    })
  }

  const rejects: readonly (readonly [why: string, want: string, got: string | undefined])[] = [
    ['rejects another type with UnsupportedMediaType', 'application/json', 'text/plain'],
    ['rejects a longer subtype', 'application/json', 'application/jsonx'],
    ['rejects a suffix of another structure', 'application/json', 'application/vnd.x+xml'],
    ['rejects a +json suffix under another top-level type', 'application/json', 'text/x+json'],
    ['rejects another top-level type under text/*', 'text/*', 'application/json'],
    ['rejects a type that merely starts with "text" under text/*', 'text/*', 'textual/csv'],
    ['rejects an empty Content-Type', 'application/json', ''],
    ['rejects a missing Content-Type with UnsupportedMediaType', 'application/json', undefined],
  ]
  for (const [why, want, got] of rejects) {
    it(`${why}: ${want} against ${got === undefined ? 'none' : JSON.stringify(got)}`, async () => {
      const c = got === undefined ? conn('POST', '/') : conn('POST', '/', { headers: { 'content-type': got } })
      const r = await expectLeft(sap.contentType(want)(c), 'UnsupportedMediaType')
      assert.deepEqual(r, { _tag: 'UnsupportedMediaType', supported: [want.toLowerCase()] })
    })
  }

  it('contentType("*/*") passes any media type', async () => {
    await expectRight(sap.contentType('*/*')(conn('POST', '/', { headers: { 'content-type': 'image/png' } })))
  })
})

describe('filter', () => {
  it('passes when the predicate holds, with the Conn it was given', async () => {
    const c = conn('GET', '/x', { headers: { 'x-local': '1' } })
    let seen: sap.Conn | undefined
    const local = sap.filter((k) => {
      seen = k
      return k.headers['x-local'] === '1'
    })
    const out = await expectRight(local(c))
    assert.equal(seen, c)
    assert.equal(out.rest, '/x')
  })

  it('rejects with NoMatch by default', async () => {
    await expectLeft(sap.filter(() => false)(conn('GET', '/')), 'NoMatch')
  })

  it('rejects with the rejection it is given', async () => {
    const authed = sap.filter((c) => c.headers['authorization'] !== undefined, sap.rejection.unauthorized('Bearer'))
    const r = await expectLeft(authed(conn('GET', '/')), 'Unauthorized')
    assert.deepEqual(r, { _tag: 'Unauthorized', challenge: 'Bearer' })
    await expectRight(authed(withHeaders({ authorization: 'Bearer t' })))
  })
})

describe('filters in a whole app', () => {
  const app = sap.choose([
    sap.pipe(
      sap.post,
      sap.path('/items'),
      sap.contentType('application/json'),
      sap.accepts('application/json'),
      sap.respJson,
      sap.created('{"id":1}'),
    ),
    sap.pipe(sap.get, sap.path('/items/:id'), sap.ok('item')),
  ])
  const problem = { 'content-type': 'application/problem+json' }

  it('answers a request that passes every filter', async () => {
    const res = await inject(app, {
      method: 'POST',
      url: '/items',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: '{}',
    })
    assert.equal(res.status, 201)
    assert.equal(res.headers['content-type'], 'application/json')
    assert.deepEqual(res.json(), { id: 1 })
  })

  it('answers a wrong Content-Type with 415 application/problem+json', async () => {
    const res = await inject(app, {
      method: 'POST',
      url: '/items',
      headers: { 'content-type': 'text/plain' },
      body: 'x',
    })
    assert.equal(res.status, 415)
    assert.equal(res.headers['content-type'], problem['content-type'])
    assert.deepEqual(res.json(), {
      type: 'about:blank',
      title: 'Unsupported Media Type',
      status: 415,
      detail: 'Supported media types: application/json',
    })
  })

  it('answers an unacceptable Accept with 406 application/problem+json', async () => {
    const res = await inject(app, { method: 'POST', url: '/items', headers: { accept: 'text/html' }, body: { a: 1 } })
    assert.equal(res.status, 406)
    assert.equal(res.headers['content-type'], problem['content-type'])
    assert.deepEqual(res.json(), {
      type: 'about:blank',
      title: 'Not Acceptable',
      status: 406,
      detail: 'Available media types: application/json',
    })
  })

  it('answers a malformed escape with 400 and an over-long param with 414', async () => {
    const bad = await inject(app, { url: '/items/%E0%A4%A' })
    assert.equal(bad.status, 400)
    assert.equal(bad.headers['content-type'], problem['content-type'])
    const long = await inject(app, { url: `/items/${'a'.repeat(101)}` })
    assert.equal(long.status, 414)
    assert.equal(long.headers['content-type'], problem['content-type'])
  })

  it('answers a wrong method on a known path with 405 and Allow', async () => {
    const res = await inject(app, { method: 'PUT', url: '/items' })
    assert.equal(res.status, 405)
    assert.equal(res.headers['allow'], 'POST, OPTIONS')
  })
})
