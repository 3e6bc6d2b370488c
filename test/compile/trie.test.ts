// Unit tests of `compile`: every request runs through the interpreted tree (`app(c)`, the
// specification) and through the compiled trie (`compile(app)(c)`); both must give the same
// answer, and that answer must be the one written in the table.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as sap from 'sapwood'
import { conn, inject } from 'sapwood/testing'
import { isThenable } from '../../src/context/context.js'
import { sync } from '../helpers.js'

const { choose, pipe, get, post, put, del, path, prefix, header, handle, ok } = sap

const quiet = { onWarning: () => undefined }

/** A handler that answers with its name and the params it sees, e.g. `id id=42`. */
const said = (name: string): sap.Part =>
  handle((c) => ok([name, ...Object.entries(c.params).map(([k, v]) => `${k}=${v}`)].join(' ')))

/** One line per answer: `200 body` for a Right, the tag (and Allow) for a Left. */
const answer = (ctx: sap.Context): string => {
  if (ctx._tag === 'Right') return `${ctx.right.status} ${ctx.right.respBody as string}`
  const r = ctx.left
  return r._tag === 'MethodNotAllowed' ? `MethodNotAllowed ${r.allow.join(',')}` : r._tag
}

/** Runs one request through both modes, asserts they agree, and returns the answer. */
const both = async (
  app: sap.Part,
  method: string,
  url: string,
  headers: Record<string, string> = {},
): Promise<string> => {
  const interpreted = answer(await app(conn(method, url, { headers })))
  const compiled = answer(await sap.compile(app, quiet)(conn(method, url, { headers })))
  assert.equal(compiled, interpreted, `${method} ${url}: compiled and interpreted differ`)
  return compiled
}

type Row = readonly [method: string, url: string, expected: string]

const check = async (app: sap.Part, rows: readonly Row[], headers: Record<string, string> = {}): Promise<void> => {
  for (const [method, url, expected] of rows) {
    assert.equal(await both(app, method, url, headers), expected, `${method} ${url}`)
  }
}

describe('compile', () => {
  describe('overlapping patterns', () => {
    const cases: readonly { name: string; app: sap.Part; rows: readonly Row[] }[] = [
      {
        name: '/users/me before /users/:id',
        app: choose([pipe(get, path('/users/me'), said('me')), pipe(get, path('/users/:id'), said('id'))]),
        rows: [
          ['GET', '/users/me', '200 me'],
          ['GET', '/users/42', '200 id id=42'],
          ['GET', '/users', 'NoMatch'],
        ],
      },
      {
        name: '/users/:id before /users/me',
        app: choose([pipe(get, path('/users/:id'), said('id')), pipe(get, path('/users/me'), said('me'))]),
        rows: [
          ['GET', '/users/me', '200 id id=me'],
          ['GET', '/users/42', '200 id id=42'],
        ],
      },
      {
        name: '/files/* before /files/:name',
        app: choose([pipe(get, path('/files/*'), said('star')), pipe(get, path('/files/:name'), said('name'))]),
        rows: [
          ['GET', '/files/a', '200 star *=a'],
          ['GET', '/files/a/b', '200 star *=a/b'],
        ],
      },
      {
        name: '/files/:name before /files/*',
        app: choose([pipe(get, path('/files/:name'), said('name')), pipe(get, path('/files/*'), said('star'))]),
        rows: [
          ['GET', '/files/a', '200 name name=a'],
          ['GET', '/files/a/b', '200 star *=a/b'],
          ['GET', '/files', 'NoMatch'],
        ],
      },
      {
        name: '/users/:id(^\\d+$) before /users/:name',
        app: choose([
          pipe(get, path('/users/:id(^\\d+$)'), said('number')),
          pipe(get, path('/users/:name'), said('name')),
        ]),
        rows: [
          ['GET', '/users/42', '200 number id=42'],
          ['GET', '/users/bob', '200 name name=bob'],
        ],
      },
      {
        name: '/users/:name before /users/:id(^\\d+$)',
        app: choose([
          pipe(get, path('/users/:name'), said('name')),
          pipe(get, path('/users/:id(^\\d+$)'), said('number')),
        ]),
        rows: [
          ['GET', '/users/42', '200 name name=42'],
          ['GET', '/users/bob', '200 name name=bob'],
        ],
      },
    ]

    for (const { name, app, rows } of cases) {
      it(`runs overlapping candidates in declaration order: ${name}`, async () => {
        await check(app, rows)
      })
    }

    it("never lets find-my-way's static-over-param priority change the winner", async () => {
      // the trie routes /users/me to the static pattern; the param branch, declared first, must
      // still run first and win when its header is there, and fall through to /users/me when not
      const app = choose([
        pipe(get, path('/users/:id'), header('x-v', '1'), said('id')),
        pipe(get, path('/users/me'), said('me')),
      ])
      await check(app, [['GET', '/users/me', '200 id id=me']], { 'x-v': '1' })
      await check(app, [
        ['GET', '/users/me', '200 me'],
        ['GET', '/users/42', 'NoMatch'],
      ])
    })
  })

  it('answers any unknown path from a path-less final notFound() branch', async () => {
    const app = choose([
      pipe(get, path('/'), ok('home')),
      pipe(get, path('/users/:id'), said('id')),
      sap.notFound('nope'),
    ])
    await check(app, [
      ['GET', '/', '200 home'],
      ['GET', '/users/7', '200 id id=7'],
      ['GET', '/no/such/page', '404 nope'],
      ['DELETE', '/', '404 nope'],
      ['POST', '/users/7/more', '404 nope'],
    ])
  })

  it('runs a header filter that stands before any path', async () => {
    const app = choose([
      pipe(header('x-api', '2'), get, path('/users/:id'), said('v2')),
      pipe(get, path('/users/:id'), said('v1')),
    ])
    await check(app, [['GET', '/users/1', '200 v2 id=1']], { 'x-api': '2' })
    await check(app, [['GET', '/users/1', '200 v1 id=1']], { 'x-api': '1' })
    await check(app, [
      ['GET', '/users/1', '200 v1 id=1'],
      ['GET', '/teams/1', 'NoMatch'],
    ])
  })

  it('gives a leaf nested in prefixes the params of every prefix and of its path', async () => {
    const app = pipe(
      prefix('/orgs/:org'),
      choose([
        pipe(
          prefix('/repos/:repo'),
          choose([pipe(get, path('/issues/:n'), said('issue')), pipe(get, path(''), said('repo'))]),
        ),
        pipe(get, path(''), said('org')),
      ]),
    )
    await check(app, [
      ['GET', '/orgs/acme/repos/site/issues/3', '200 issue org=acme repo=site n=3'],
      ['GET', '/orgs/acme/repos/site', '200 repo org=acme repo=site'],
      ['GET', '/orgs/acme', '200 org org=acme'],
      ['GET', '/orgs/acme/', 'NoMatch'],
      ['GET', '/orgs/acme/teams', 'NoMatch'],
      ['POST', '/orgs/acme/repos/site/issues/3', 'MethodNotAllowed GET'],
    ])
  })

  it('merges the Allow sets of every branch, in declaration order, for a 405', async () => {
    const app = choose([
      pipe(get, path('/users/:id'), ok('read')),
      pipe(path('/users/:id'), choose([pipe(put, ok('replace')), pipe(del, ok('remove'))])),
      pipe(post, path('/users'), ok('create')),
      pipe(sap.method('GET', 'PATCH'), path('/users/:id'), ok('patch')),
    ])
    await check(app, [
      ['POST', '/users/1', 'MethodNotAllowed GET,PUT,DELETE,PATCH'],
      ['GET', '/users', 'MethodNotAllowed POST'],
      ['PATCH', '/users/1', '200 patch'],
    ])
  })

  it('rejects a path that no branch matches with NoMatch', async () => {
    const app = choose([pipe(get, path('/users'), ok('list')), pipe(post, prefix('/api'), ok('api'))])
    await check(app, [
      ['GET', '/teams', 'NoMatch'],
      ['DELETE', '/teams', 'NoMatch'],
      ['GET', '/users/1', 'NoMatch'],
      ['GET', '/apis', 'NoMatch'],
      ['PUT', '/api/x', 'MethodNotAllowed POST'],
    ])
  })

  it('answers HEAD from the GET branch and OPTIONS with Allow, through inject on a compiled app', async () => {
    const app = choose([
      pipe(
        get,
        path('/users/:id'),
        sap.respJson,
        handle((c) => ok(JSON.stringify({ id: c.params.id }))),
      ),
      pipe(del, path('/users/:id'), sap.noContent()),
    ])
    const compiled = sap.compile(app, quiet)
    const table: readonly (readonly [
      method: string,
      url: string,
      status: number,
      allow: string | undefined,
      body?: string,
    ])[] = [
      ['HEAD', '/users/1', 200, undefined, ''],
      ['GET', '/users/1', 200, undefined, '{"id":"1"}'],
      ['OPTIONS', '/users/1', 204, 'GET, HEAD, DELETE, OPTIONS', ''],
      ['PUT', '/users/1', 405, 'GET, HEAD, DELETE, OPTIONS'],
      ['HEAD', '/nope', 404, undefined, ''],
      ['OPTIONS', '/nope', 404, undefined],
    ]
    for (const [method, url, status, allow, body] of table) {
      const got = await inject(compiled, { method, url })
      const want = await inject(app, { method, url }, { compile: false })
      assert.deepEqual(
        { status: got.status, headers: { ...got.headers }, body: got.body },
        { status: want.status, headers: { ...want.headers }, body: want.body },
        `${method} ${url}`,
      )
      assert.equal(got.status, status, `${method} ${url}`)
      assert.equal(got.headers['allow'], allow, `${method} ${url}`)
      if (body !== undefined) assert.equal(got.body, body, `${method} ${url}`)
    }
    const head = await inject(compiled, { method: 'HEAD', url: '/users/1' })
    assert.equal(head.headers['content-length'], '10')
    assert.equal(head.headers['content-type'], 'application/json')
  })

  it('does not match an over-long param (414 from respond) and rejects a malformed escape with BadRequest, in both modes', async () => {
    const app = choose([pipe(get, path('/users/me'), ok('me')), pipe(get, path('/users/:id'), said('id'))])
    await check(app, [
      [`GET`, `/users/${'x'.repeat(100)}`, `200 id id=${'x'.repeat(100)}`],
      ['GET', `/users/${'x'.repeat(101)}`, 'NoMatch'],
      ['GET', '/users/%E0%A4%A', 'BadRequest'],
    ])
    const res = await inject(sap.compile(app, quiet), { url: `/users/${'x'.repeat(101)}` })
    assert.equal(res.status, 414)
    assert.equal((await inject(sap.compile(app, quiet), { url: '/users/%E0%A4%A' })).status, 400)
  })

  it('matches every path the one canonical way find-my-way does, in both modes', async () => {
    const app = choose([
      pipe(get, path('/users/:id'), said('id')),
      pipe(get, path('/users'), said('users')),
      pipe(get, path('/files/*'), said('files')),
    ])
    await check(app, [
      ['GET', '/users/a%2Fb', '200 id id=a/b'], // %2F does not split a segment, and decodes in the param
      ['GET', '/users/caf%C3%A9', '200 id id=café'],
      ['GET', '/users/%2541', '200 id id=%41'], // decoded once
      ['GET', '/files/a%2Fb/c', '200 files *=a/b/c'],
      ['GET', '/users/', '200 id id='], // the trailing slash is significant: an empty param
      ['GET', '/users//', 'BadRequest'], // an empty segment: a malformed path
      ['GET', '//users', 'BadRequest'],
      ['GET', '/USERS', 'NoMatch'],
      ['GET', '/users/1?next=/users/2', '200 id id=1'],
      ['GET', '/users/1#top', '200 id id=1'],
    ])
  })

  describe('synchronous results', () => {
    const app = choose([
      pipe(
        get,
        path('/slow'),
        handle(() => Promise.resolve(ok('slow'))),
      ),
      pipe(get, path('/users/:id'), said('id')),
      pipe(post, path('/users'), ok('made')),
    ])

    it('returns a Context, not a Promise, for an all-synchronous branch', () => {
      const compiled = sap.compile(app, quiet)
      const hit = sync(compiled(conn('GET', '/users/1')))
      assert.equal(answer(hit), '200 id id=1')
      assert.equal(answer(sync(compiled(conn('PUT', '/users')))), 'MethodNotAllowed POST')
      assert.equal(answer(sync(compiled(conn('GET', '/nowhere')))), 'NoMatch')
    })

    it('returns a Promise only when a handle is async', async () => {
      const r = sap.compile(app, quiet)(conn('GET', '/slow'))
      assert.ok(isThenable(r), 'expected a Promise')
      assert.equal(answer(await r), '200 slow')
    })
  })

  it('returns the compiled Part when compiled again, and the same Part for the same app', () => {
    const app = choose([pipe(get, path('/a'), ok('a'))])
    const compiled = sap.compile(app, quiet)
    assert.notEqual(compiled, app)
    assert.equal(sap.compile(compiled, quiet), compiled)
    assert.equal(sap.compile(app, quiet), compiled)
    assert.equal(compiled.shape, app.shape)
  })

  it('stops at a handler that throws, with HandlerFailed, and runs no later candidate', async () => {
    let later = 0
    const app = choose([
      pipe(get, path('/users/me'), ok('me')),
      pipe(
        get,
        path('/users/:id'),
        handle(() => {
          throw new Error('boom')
        }),
      ),
      pipe(
        get,
        path('/users/:name'),
        handle(() => {
          later++
          return ok('later')
        }),
      ),
    ])
    await check(app, [
      ['GET', '/users/1', 'HandlerFailed'],
      ['GET', '/users/me', '200 me'],
    ])
    assert.equal(later, 0)
  })

  it('runs a handle that stands before a choose once per request (leaves are not distributed past it)', async () => {
    let calls = 0
    const counted = handle(function count(c) {
      calls++
      return c
    })
    const app = pipe(
      counted,
      choose([pipe(get, path('/a'), ok('a')), pipe(get, path('/b'), ok('b')), pipe(get, path('/c'), ok('c'))]),
    )
    assert.deepEqual(
      sap.routes(app).map((r) => r.steps),
      [
        "handle(count) > get > path('/a') > ok",
        "handle(count) > get > path('/b') > ok",
        "handle(count) > get > path('/c') > ok",
      ],
    )
    const compiled = sap.compile(app, quiet)
    for (const [url, expected] of [
      ['/c', '200 c'],
      ['/a', '200 a'],
      ['/z', 'NoMatch'],
    ] as const) {
      calls = 0
      assert.equal(answer(await compiled(conn('GET', url))), expected)
      assert.equal(calls, 1, `compiled ${url}`)
      calls = 0
      assert.equal(answer(await app(conn('GET', url))), expected)
      assert.equal(calls, 1, `interpreted ${url}`)
    }
  })

  it('answers like the interpreter when find-my-way refuses two patterns in one trie', async () => {
    // find-my-way keeps one regex param node per position and one name per param: each pair
    // below throws "already declared" when registered in one router
    const app = choose([
      pipe(get, path('/users/:id(^\\d+$)'), said('number')),
      pipe(get, path('/users/:name(^[a-z]+$)'), said('word')),
      pipe(get, path('/users/:id/posts'), said('posts')),
      pipe(post, path('/users/:uid/posts'), said('post')),
    ])
    assert.deepEqual(
      sap.routes(app).map((r) => r.pattern),
      ['/users/:id(^\\d+$)', null, '/users/:id/posts', null],
      'the refused leaves run for any path',
    )
    await check(app, [
      ['GET', '/users/42', '200 number id=42'],
      ['GET', '/users/bob', '200 word name=bob'],
      ['GET', '/users/B0b', 'NoMatch'],
      ['GET', '/users/42/posts', '200 posts id=42'],
      ['POST', '/users/42/posts', '200 post uid=42'],
      ['PUT', '/users/42/posts', 'MethodNotAllowed GET,POST'],
      ['PUT', '/users/bob', 'MethodNotAllowed GET'],
    ])
  })

  describe('an over-long param', () => {
    const long = 'x'.repeat(101)

    // Once, a path filter said UriTooLong for an over-long segment whenever find-my-way saw one,
    // even for a pattern that could never match the path: the answer then depended on whether a
    // prefix was joined to the next one, or on which patterns the trie found overlapping. Now a
    // filter says NoMatch, and only the whole app turns an unmatched long segment into 414.
    it('is a NoMatch for a prefix joined to the prefix after it, in both modes', async () => {
      const app = choose([
        pipe(prefix('/orgs/:org'), choose([pipe(prefix('/repos'), ok('repos')), pipe(prefix('/teams'), ok('teams'))])),
        pipe(get, path('/*'), ok('static')),
      ])
      assert.equal(await both(app, 'POST', `/orgs/${long}`), 'MethodNotAllowed GET')
      assert.equal((await inject(app, { method: 'POST', url: `/orgs/${long}` })).status, 405)
    })

    it('is a NoMatch for a pattern the trie does not find overlapping, in both modes', async () => {
      const segment = `${'a'.repeat(60)}-${'b'.repeat(60)}`
      const app = choose([
        pipe(get, path('/users/:id/posts'), ok('posts')),
        pipe(post, path('/users/:from-:to/comments'), ok('comments')),
      ])
      assert.equal(await both(app, 'POST', `/users/${segment}/comments`), '200 comments')
      assert.equal(await both(app, 'GET', `/users/${segment}/comments`), 'MethodNotAllowed POST')
    })

    it('answers 414 only where a param was refused for its length, in both modes (#8)', async () => {
      const app = choose([pipe(get, path('/users/:id/posts'), ok('posts')), pipe(get, path('/static'), ok('s'))])
      for (const compile of [false, true]) {
        assert.equal((await inject(app, { url: `/users/${long}/posts` }, { compile })).status, 414)
        // the path would not match with a short param either, and a long static segment simply differs
        assert.equal((await inject(app, { url: `/users/${long}/comments` }, { compile })).status, 404)
        assert.equal((await inject(app, { url: `/${long}` }, { compile })).status, 404)
        // a segment that is short once decoded is a param like any other
        assert.equal((await inject(app, { url: `/users/${'%41'.repeat(40)}/posts` }, { compile })).status, 200)
      }
    })
  })
})

describe('compile: a guard with its own reason in front of the routes', () => {
  let calls = 0
  const noKey = sap.filter((c) => {
    calls++
    return c.headers['x-key'] === undefined
  }, sap.rejection.unauthorized())
  const routes = Array.from({ length: 50 }, (_, i) => pipe(get, path(`/r${i}/:id`), ok(`r${i}`)))
  const app = pipe(noKey, choose([...routes, pipe(post, path('/r0/:id'), ok('posted'))]))
  const compiled = sap.compile(app, quiet)

  const table: readonly [string, string, Record<string, string>, string][] = [
    ['GET', '/r7/1', {}, 'Right 200 r7'],
    ['GET', '/r7/1', { 'x-key': 'k' }, 'Left Unauthorized'],
    ['GET', '/nope', {}, 'Left NoMatch'],
    // the guard's reason counts only where a route's path matches
    ['GET', '/nope', { 'x-key': 'k' }, 'Left NoMatch'],
    ['DELETE', '/r0/1', {}, 'Left MethodNotAllowed GET,POST'],
    ['POST', '/r0/1', {}, 'Right 200 posted'],
  ]
  const show = (ctx: sap.Context): string =>
    ctx._tag === 'Right'
      ? `Right ${ctx.right.status} ${ctx.right.respBody as string}`
      : `Left ${ctx.left._tag}${ctx.left._tag === 'MethodNotAllowed' ? ` ${ctx.left.allow.join(',')}` : ''}`

  for (const [method, url, headers, want] of table) {
    it(`${method} ${url} ${JSON.stringify(headers)} → ${want}, in both modes`, async () => {
      const c = conn(method, url, { headers })
      assert.equal(show(await app(c)), want)
      assert.equal(show(await compiled(c)), want)
    })
  }

  // a `filter` may throw, so it runs once per request in front of its routes (a trie of their
  // own), as in the tree: never once per route
  it('asks the guard once per request, as the tree does', async () => {
    for (const url of ['/r42/1', '/nope']) {
      calls = 0
      await compiled(conn('GET', url, { headers: { 'x-key': 'k' } }))
      assert.equal(calls, 1, url)
      calls = 0
      await app(conn('GET', url, { headers: { 'x-key': 'k' } }))
      assert.equal(calls, 1, url)
    }
  })

  it('lists the guarded routes with their patterns', () => {
    const listed = sap.routes(app)
    assert.equal(listed.length, 51)
    assert.equal(listed[7]!.pattern, '/r7/:id')
  })
})
