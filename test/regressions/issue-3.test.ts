// Issue #3: compile the tree into a find-my-way trie. The counterexamples that the property test
// (test/compile/equivalence.property.test.ts) found on the way; each one made a compiler that
// flattened or hoisted naively answer differently from the interpreted tree.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as sap from 'sapwood'
import { conn } from 'sapwood/testing'

const { choose, pipe, get, post, path, prefix } = sap

interface Case {
  readonly name: string
  readonly app: sap.Part
  readonly method: string
  readonly url: string
  readonly headers?: Readonly<Record<string, string>>
  readonly tag: sap.RejectionTag
  readonly allow?: readonly string[]
}

const cases: readonly Case[] = [
  {
    // A rejection in front of an empty choose is provisional, and no path gets through an empty
    // choose: NoMatch in both modes (issue #7's ranking; it said Unauthorized before).
    name: 'a filter in front of an empty choose rejects with NoMatch',
    app: pipe(
      sap.filter((c) => c.rest.length % 2 === 0, sap.rejection.unauthorized()),
      choose([]),
    ),
    method: 'GET',
    url: '/',
    tag: 'NoMatch',
  },
  {
    name: 'accepts in front of an empty choose rejects with NoMatch',
    app: pipe(sap.accepts('text/csv'), choose([])),
    method: 'GET',
    url: '/users',
    headers: { accept: 'application/json' },
    tag: 'NoMatch',
  },
  {
    // The 405 look-ahead walks into the empty choose, which no path can pass: NoMatch, not 405.
    name: 'the 405 look-ahead through an empty choose gives NoMatch',
    app: pipe(path('/users'), get, choose([])),
    method: 'DELETE',
    url: '/users',
    tag: 'NoMatch',
  },
  {
    // post rejects before the hoisted prefix('/users') and path('') were applied: the look-ahead
    // must start from the rest the interpreter would have (/users), not from a stale one.
    name: 'a 405 raised before the hoisted paths were applied keeps its Allow',
    app: pipe(
      prefix('/a'),
      post,
      prefix('/users'),
      sap.filter(() => true),
      path(''),
    ),
    method: 'GET',
    url: '/a/users',
    tag: 'MethodNotAllowed',
    allow: ['POST'],
  },
]

describe('issue #3: compile', () => {
  for (const c of cases) {
    it(`${c.name} (${c.method} ${c.url} → ${c.tag})`, async () => {
      const request = () => conn(c.method, c.url, { headers: c.headers ?? {} })
      const interpreted = await c.app(request())
      const compiled = await sap.compile(c.app, { onWarning: () => undefined })(request())
      for (const [mode, ctx] of [
        ['interpreted', interpreted],
        ['compiled', compiled],
      ] as const) {
        assert.ok(ctx._tag === 'Left', `${mode}: expected Left ${c.tag}, got Right`)
        assert.equal(ctx.left._tag, c.tag, `${mode}: ${JSON.stringify(ctx.left)}`)
        if (c.allow !== undefined) {
          assert.ok(ctx.left._tag === 'MethodNotAllowed')
          assert.deepEqual(ctx.left.allow, c.allow, mode)
        }
      }
      assert.deepEqual(compiled, interpreted)
    })
  }
})

describe('issue #3: a request target in absolute form', () => {
  // Node hands an absolute-form target (`GET http://host/api/users`, as sent to a proxy) over as
  // it came. find-my-way reads such a URL's path, but prefix() counted segments of the raw text,
  // so the compiled trie (joined pattern /api/users) matched where prefix('/api') did not.
  const app = pipe(prefix('/api'), choose([pipe(get, path('/users'), sap.ok('users'))]))

  it('is read as its path and query, in both modes', async () => {
    const c = conn('GET', 'http://example.com/api/users?x=1')
    assert.equal(c.path, '/api/users')
    assert.equal(c.query['x'], '1')
    const interpreted = await app(c)
    const compiled = await sap.compile(app)(c)
    assert.equal(interpreted._tag, 'Right')
    assert.equal(compiled._tag, 'Right')
  })
})
