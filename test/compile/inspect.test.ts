// Seeing the compiled tree: `routes` (what was compiled), `warnings` (what can never answer) and
// `explain` (the decision trace of one request).
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import * as sap from 'sapwood'
import { conn } from 'sapwood/testing'

const { choose, pipe, get, post, del, path, prefix, header, handle, ok } = sap

/** The 1-based line of this file that holds `text` (once). */
const lineOf = (text: string): number => {
  const lines = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n')
  const found = lines.flatMap((l, i) => (l.includes(text) ? [i + 1] : []))
  assert.equal(found.length, 1, `${text} should appear once in this file`)
  return found[0]!
}

describe('routes', () => {
  const app = choose([
    pipe(get, path('/users'), ok('[]')),
    pipe(
      prefix('/users/:id'),
      choose([
        pipe(get, path(''), ok('one')),
        pipe(del, path(''), sap.noContent()),
        pipe(get, path('/posts/:post'), ok('post')), // routes: the posts leaf
      ]),
    ),
    pipe(post, prefix('/api'), header('x-key', 'k')),
    sap.notFound('nope'),
  ])

  it('lists one entry per leaf, in declaration order, with methods, pattern, mode and steps', () => {
    assert.deepEqual(
      sap.routes(app).map(({ leaf, methods, pattern, mode, steps }) => ({ leaf, methods, pattern, mode, steps })),
      [
        { leaf: 0, methods: ['GET'], pattern: '/users', mode: 'exact', steps: "get > path('/users') > ok" },
        {
          leaf: 1,
          methods: ['GET'],
          pattern: '/users/:id',
          mode: 'exact',
          steps: "prefix('/users/:id') > get > path('') > ok",
        },
        {
          leaf: 2,
          methods: ['DELETE'],
          pattern: '/users/:id',
          mode: 'exact',
          steps: "prefix('/users/:id') > del > path('') > noContent",
        },
        {
          leaf: 3,
          methods: ['GET'],
          pattern: '/users/:id/posts/:post',
          mode: 'exact',
          steps: "prefix('/users/:id') > get > path('/posts/:post') > ok",
        },
        {
          leaf: 4,
          methods: ['POST'],
          pattern: '/api',
          mode: 'prefix',
          steps: "post > prefix('/api') > header('x-key')",
        },
        { leaf: 5, methods: null, pattern: null, mode: 'exact', steps: 'notFound' },
      ],
    )
  })

  it('says where each leaf was declared: the line of its last path filter in this file', () => {
    const all = sap.routes(app)
    for (const r of all.slice(0, 5)) {
      const declared = r.declared ?? ''
      assert.ok(declared.includes('inspect.test.ts:'), `leaf ${r.leaf}: ${r.declared}`)
      assert.match(declared, /:\d+:\d+$/)
    }
    const posts = all[3]!.declared!
    assert.equal(Number(/:(\d+):\d+$/.exec(posts)![1]), lineOf(['// routes', 'the posts leaf'].join(': ')))
    assert.equal(all[5]!.declared, null, 'a path-less leaf has no path filter to point at')
  })

  it('gives a path-less leaf the pattern null', () => {
    const only = sap.routes(choose([pipe(get, ok('any path')), handle(() => ok('fallback'))]))
    assert.deepEqual(
      only.map((r) => [r.methods, r.pattern]),
      [
        [['GET'], null],
        [null, null],
      ],
    )
  })
})

describe('warnings', () => {
  it('names the pattern of a branch fully shadowed by an earlier identical one', () => {
    const app = choose([
      pipe(get, path('/users/:id'), ok('first')),
      pipe(post, path('/users/:id'), ok('post')),
      pipe(get, path('/users/:id'), ok('second')),
    ])
    const found = sap.warnings(app)
    assert.equal(found.length, 1)
    assert.match(found[0]!, /unreachable branch GET \/users\/:id \(leaf #2/)
    assert.match(found[0]!, /shadowed by GET \/users\/:id \(leaf #0/)
    assert.ok(found[0]!.includes('inspect.test.ts:'), found[0])
  })

  it('does not warn when the earlier branch can still reject', () => {
    const app = choose([
      pipe(get, path('/users/:id'), header('x-v', '2'), ok('v2')),
      pipe(get, path('/users/:id'), ok('v1')),
    ])
    assert.deepEqual(sap.warnings(app), [])
  })

  it('says that a final notFound() shadows every branch after it', () => {
    const app = choose([
      pipe(get, path('/'), ok('home')),
      sap.notFound('nope'),
      pipe(get, path('/late'), ok('late')),
      pipe(post, prefix('/api'), ok('api')),
    ])
    const found = sap.warnings(app)
    assert.equal(found.length, 2)
    assert.match(found[0]!, /unreachable branch GET \/late .* is shadowed by \* \(any path\) \(leaf #1: notFound\)/)
    assert.match(found[1]!, /unreachable branch POST \/api .* is shadowed by \* \(any path\) \(leaf #1: notFound\)/)
  })

  it('gives none for an app without shadowed branches', () => {
    const app = choose([
      pipe(get, path('/users/me'), ok('me')),
      pipe(get, path('/users/:id'), ok('id')),
      pipe(del, path('/users/:id'), sap.noContent()),
      sap.notFound('nope'),
    ])
    assert.deepEqual(sap.warnings(app), [])
  })

  it('calls compile(app, { onWarning }) with the same messages', () => {
    const make = () => choose([pipe(get, path('/a'), ok('1')), pipe(get, path('/a'), ok('2'))])
    const seen: string[] = []
    sap.compile(make(), { onWarning: (m) => seen.push(m) })
    assert.equal(seen.length, 1)
    assert.deepEqual(seen, sap.warnings(make()))
  })

  it('calls onWarning even when the app was compiled before', () => {
    const app = choose([pipe(get, path('/a'), ok('1')), pipe(get, path('/a'), ok('2'))])
    assert.equal(sap.warnings(app).length, 1) // compiles the app, silently
    const seen: string[] = []
    sap.compile(app, { onWarning: (m) => seen.push(m) })
    assert.deepEqual(seen, sap.warnings(app))
    // and the console gets them once, at the first compile without an onWarning
    const printed: unknown[] = []
    const warn = console.warn
    console.warn = (m: unknown) => printed.push(m)
    try {
      sap.compile(app)
      sap.compile(app)
    } finally {
      console.warn = warn
    }
    assert.deepEqual(printed, seen)
  })
})

describe('explain', () => {
  const app = choose([pipe(get, path('/a'), ok('a')), pipe(post, path('/b'), ok('b'))])

  it('gives the result that the app gives', async () => {
    const table: readonly (readonly [method: string, url: string, expected: string])[] = [
      ['GET', '/a', 'Right 200'],
      ['GET', '/zz', 'NoMatch'],
      ['PUT', '/b', 'MethodNotAllowed POST'],
    ]
    const show = (ctx: sap.Context): string =>
      ctx._tag === 'Right'
        ? `Right ${ctx.right.status}`
        : ctx.left._tag === 'MethodNotAllowed'
          ? `MethodNotAllowed ${ctx.left.allow.join(',')}`
          : ctx.left._tag
    for (const [method, url, expected] of table) {
      const explained = await sap.explain(app, { method, url })
      assert.equal(show(explained.result), expected, `${method} ${url}`)
      assert.equal(show(await app(conn(method, url))), expected, `${method} ${url}`)
    }
  })

  it('lists every Part tried, with its depth and outcome', async () => {
    const explained = await sap.explain(app, { method: 'POST', url: '/b' })
    assert.equal(explained.request, 'POST /b')
    assert.deepEqual(explained.steps, [
      { depth: 0, label: 'choose', outcome: 'Right' },
      { depth: 1, label: 'pipe', outcome: 'NoMatch' },
      { depth: 2, label: 'get', outcome: 'MethodNotAllowed' },
      { depth: 1, label: 'pipe', outcome: 'Right' },
      { depth: 2, label: 'post', outcome: 'Right' },
      { depth: 2, label: "path('/b')", outcome: 'Right' },
      { depth: 2, label: 'ok', outcome: 'Right' },
    ])
  })

  it('reads the request headers', async () => {
    const guarded = pipe(header('x-key', 'k'), ok('in'))
    assert.equal((await sap.explain(guarded, { url: '/', headers: { 'X-Key': 'k' } })).result._tag, 'Right')
    assert.deepEqual((await sap.explain(guarded, { url: '/' })).steps, [
      { depth: 0, label: 'pipe', outcome: 'NoMatch' },
      { depth: 1, label: "header('x-key')", outcome: 'NoMatch' },
    ])
  })

  it('prints the request line, then each step with ✓ or ✗ and its rejection', async () => {
    const text = String(await sap.explain(app, { method: 'DELETE', url: '/a' }))
    assert.equal(
      text,
      [
        'DELETE /a',
        'choose ✗ MethodNotAllowed',
        '  pipe ✗ MethodNotAllowed',
        '    get ✗ MethodNotAllowed',
        '  pipe ✗ NoMatch',
        '    post ✗ MethodNotAllowed',
        '→ rejected: MethodNotAllowed',
      ].join('\n'),
    )
    const hit = String(await sap.explain(app, { method: 'POST', url: '/b' }))
    assert.ok(hit.startsWith('POST /b\n'), hit)
    assert.ok(hit.includes('  pipe ✗ NoMatch\n'), hit)
    assert.ok(hit.includes("    path('/b') ✓\n"), hit)
    assert.ok(hit.endsWith('→ 200'), hit)
  })
})

describe('warnings: user code in front of its own paths, and a param named twice (#7)', () => {
  it('warns about a handle that stands before the path filters of its branch', () => {
    const audit = sap.handle(function audit(c: sap.Conn) {
      return c
    })
    const w = sap.warnings(sap.choose([sap.pipe(audit, sap.get, sap.path('/a'), sap.ok('a'))]))
    assert.equal(w.length, 1)
    assert.match(w[0]!, /handle\(audit\) runs before the path filters/)
  })

  it('does not warn about a handle in front of a whole choose (the logging pattern)', () => {
    const audit = sap.handle((c: sap.Conn) => c)
    const app = sap.pipe(
      audit,
      sap.choose([sap.pipe(sap.get, sap.path('/a'), sap.ok('a')), sap.pipe(sap.get, sap.path('/b'), sap.ok('b'))]),
    )
    assert.deepEqual(sap.warnings(app), [])
  })

  it('warns about a param name given twice, across a prefix and a path', () => {
    const w = sap.warnings(sap.pipe(sap.prefix('/a/:id'), sap.get, sap.path('/:id'), sap.ok('a')))
    assert.equal(w.length, 1)
    assert.match(w[0]!, /names the param "id" twice/)
    assert.deepEqual(sap.warnings(sap.pipe(sap.get, sap.path('/a/:id/b/:pid'), sap.ok('a'))), [])
  })
})

describe('routes: response schemas (#9)', () => {
  const User = { type: 'object', properties: { id: { type: 'integer' } } } as const
  const Problem = { type: 'object', properties: { title: { type: 'string' } } } as const
  const Other = { type: 'object', properties: { code: { type: 'string' } } } as const

  it('lists the schemas of the responds on the way to each leaf, inner over outer, default last', () => {
    const app = pipe(
      prefix('/api'),
      sap.responds({ default: Problem, 404: Problem }),
      choose([
        pipe(get, path('/users/:id'), sap.responds({ 200: User }), ok('{}')),
        pipe(post, path('/users'), sap.responds({ 404: Other, 201: User }), ok('{}')),
        pipe(get, path('/health'), ok('up')),
      ]),
    )
    const listed = sap.routes(app)
    assert.deepEqual(
      listed.map((r) => [Object.keys(r.responses), r.responses]),
      [
        [['200', '404', 'default'], { 200: User, 404: Problem, default: Problem }],
        [['201', '404', 'default'], { 201: User, 404: Other, default: Problem }],
        [['404', 'default'], { 404: Problem, default: Problem }],
      ].map(([keys, record]) => [keys, Object.assign(Object.create(null) as object, record)]),
    )
    assert.equal(listed[0]!.responses['200'], User, 'the schema given, not a copy')
  })

  it('lists them for the routes of a subtree with a trie of its own, and none where there is no responds', () => {
    const inner = choose([pipe(get, path('/a'), ok('a')), pipe(get, path('/b'), sap.responds({ 200: User }), ok('b'))])
    const app = choose([
      pipe(
        handle((c: sap.Conn) => c),
        sap.responds({ 404: Problem }),
        inner,
      ),
      pipe(get, path('/c'), ok('c')),
    ])
    assert.deepEqual(
      sap.routes(app).map((r) => [r.pattern, { ...r.responses }]),
      [
        ['/a', { 404: Problem }],
        ['/b', { 200: User, 404: Problem }],
        ['/c', {}],
      ],
    )
  })
})
