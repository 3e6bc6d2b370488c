import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { StandardSchemaV1 } from '@standard-schema/spec'
import { Type } from '@sinclair/typebox'
import { type } from 'arktype'
import * as v from 'valibot'
import { z } from 'zod'
import * as sap from 'sapwood'
import { conn, inject } from 'sapwood/testing'

const { choose, pipe, get, path, handle, json, queryParams, params, assign } = sap

const quiet = { onError: () => undefined }
const modes = [false, true] as const

/** Answers with what the Part before it assigned under `key`. */
const echo = (key: string) => handle((c) => json({ [key]: c.assigns[key] }))

const Search = Type.Object({
  page: Type.Integer({ minimum: 1, default: 1 }),
  draft: Type.Optional(Type.Boolean()),
  tag: Type.Optional(Type.Array(Type.String())),
  ids: Type.Optional(Type.Array(Type.Integer())),
})
const search = pipe(get, path('/search'), queryParams(Search), echo('query'))

describe('queryParams', () => {
  it('coerces the strings of the query to the numbers and booleans of a JSON Schema, in both modes', async () => {
    for (const compile of modes) {
      const res = await inject(search, { url: '/search?page=2&draft=true' }, { compile })
      assert.equal(res.status, 200)
      assert.deepEqual(res.json(), { query: { page: 2, draft: true } })
    }
  })

  it('makes an array of a repeated name and of a lone value where the schema wants one', async () => {
    for (const compile of modes) {
      const many = await inject(search, { url: '/search?tag=a&tag=b&ids=1&ids=2' }, { compile })
      assert.deepEqual(many.json(), { query: { tag: ['a', 'b'], ids: [1, 2], page: 1 } })
      const one = await inject(search, { url: '/search?tag=a&ids=7' }, { compile })
      assert.deepEqual(one.json(), { query: { tag: ['a'], ids: [7], page: 1 } })
    }
  })

  it('fills in the defaults of missing fields', async () => {
    const res = await inject(search, { url: '/search' })
    assert.equal(res.status, 200)
    assert.deepEqual(res.json(), { query: { page: 1 } })
  })

  it('answers 400 problem+json with every wrong field in `errors`, in both modes', async () => {
    const strict = pipe(
      get,
      path('/list'),
      queryParams({
        type: 'object',
        required: ['q'],
        properties: {
          q: { type: 'string' },
          page: { type: 'integer', minimum: 1 },
          sort: { enum: ['asc', 'desc'] },
          ids: { type: 'array', items: { type: 'integer' } },
        },
      }),
      echo('query'),
    )
    for (const compile of modes) {
      const res = await inject(strict, { url: '/list?page=0&sort=up&ids=1&ids=x' }, { compile })
      assert.equal(res.status, 400)
      assert.equal(res.headers['content-type'], 'application/problem+json')
      const body = res.json<{ title: string; detail: string; errors: { path: string; message: string }[] }>()
      assert.equal(body.title, 'Bad Request')
      assert.equal(body.detail, 'The query is invalid')
      assert.deepEqual(
        body.errors.map((e) => e.path),
        ['/q', '/page', '/sort', '/ids/1'],
      )
      assert.ok(body.errors.every((e) => typeof e.message === 'string' && e.message !== ''))
    }
  })

  it('refuses two values for a name whose schema wants one', async () => {
    const res = await inject(search, { url: '/search?page=1&page=2' })
    assert.equal(res.status, 400)
    assert.deepEqual(
      res.json<{ errors: { path: string }[] }>().errors.map((e) => e.path),
      ['/page'],
    )
  })

  it('keeps `__proto__` and `constructor` query names harmless', async () => {
    const open = pipe(
      get,
      path('/o'),
      queryParams({
        type: 'object',
        properties: { constructor: { type: 'string', default: 'none' }, n: { type: 'integer' } },
      }),
      handle((c) => {
        const q = c.assigns['query'] as Record<string, unknown>
        return json({ keys: Object.keys(q).sort(), proto: Object.getPrototypeOf(q) === null, n: q['n'] })
      }),
    )
    // no `constructor` in the query: the copy Ajv checks has no prototype to find one on
    const bare = await inject(open, { url: '/o?n=1' })
    assert.equal(bare.status, 200)
    assert.deepEqual(bare.json(), { keys: ['constructor', 'n'], proto: true, n: 1 })
    const hostile = await inject(open, { url: '/o?__proto__=x&constructor=y&__proto__[polluted]=1&n=2' })
    assert.equal(hostile.status, 200)
    assert.deepEqual(hostile.json(), {
      keys: ['__proto__', '__proto__[polluted]', 'constructor', 'n'],
      proto: true,
      n: 2,
    })
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined)
    assert.equal(Object.prototype.toString.call({}), '[object Object]')

    const closed = pipe(
      get,
      path('/c'),
      queryParams({ type: 'object', properties: { n: { type: 'integer' } }, additionalProperties: false }),
      echo('query'),
    )
    const refused = await inject(closed, { url: '/c?__proto__=x&constructor=y' })
    assert.equal(refused.status, 400)
    assert.deepEqual(
      refused
        .json<{ errors: { path: string }[] }>()
        .errors.map((e) => e.path)
        .sort(),
      ['/__proto__', '/constructor'],
    )
  })

  it('assigns under the key `as` names, keeping earlier assigns and the query strings', async () => {
    const app = pipe(
      assign('user', 'ada'),
      queryParams(Type.Object({ n: Type.Integer() }), { as: 'filters' }),
      handle((c) => json({ user: c.assigns.user, n: c.assigns.filters.n, raw: c.query['n'] })),
    )
    assert.deepEqual((await inject(app, { url: '/?n=3' })).json(), { user: 'ada', n: 3, raw: '3' })
  })

  describe('with each schema library', () => {
    it('compiles TypeBox with Ajv (it has no Standard Schema interface) and coerces', async () => {
      const schema = Type.Object({ page: Type.Integer(), q: Type.String() })
      assert.equal('~standard' in schema, false)
      const app = pipe(queryParams(schema), echo('query'))
      assert.deepEqual((await inject(app, { url: '/?page=2&q=hi' })).json(), { query: { page: 2, q: 'hi' } })
      const bad = await inject(app, { url: '/?page=x&q=hi' })
      assert.equal(bad.status, 400)
      assert.deepEqual(bad.json<{ errors: unknown }>().errors, [{ path: '/page', message: 'must be integer' }])
    })

    const standard: readonly [string, StandardSchemaV1][] = [
      ['zod', z.object({ page: z.coerce.number().int(), q: z.string() })],
      ['valibot', v.object({ page: v.pipe(v.string(), v.toNumber(), v.integer()), q: v.string() })],
      ['arktype', type({ page: 'string.integer.parse', q: 'string' })],
    ]
    for (const [vendor, schema] of standard) {
      it(`takes ${vendor} through its Standard Schema interface, which coerces itself`, async () => {
        assert.equal(schema['~standard'].version, 1)
        assert.equal(schema['~standard'].vendor, vendor)
        const app = pipe(queryParams(schema), echo('query'))
        for (const compile of modes) {
          const res = await inject(app, { url: '/?page=2&q=hi' }, { compile })
          assert.equal(res.status, 200)
          assert.deepEqual(res.json(), { query: { page: 2, q: 'hi' } })
          const bad = await inject(app, { url: '/?page=x&q=hi' }, { compile })
          assert.equal(bad.status, 400)
          const errors = bad.json<{ errors: { path: string; message: string }[] }>().errors
          assert.deepEqual(
            errors.map((e) => e.path),
            ['/page'],
          )
          assert.equal(typeof errors[0]!.message, 'string')
        }
      })
    }
  })

  describe('with an async Standard Schema', () => {
    const slow: StandardSchemaV1<unknown, { readonly n: number }> = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: async (value) => {
          await new Promise((r) => setImmediate(r))
          const n = Number((value as Record<string, unknown>)['n'])
          return Number.isInteger(n) ? { value: { n } } : { issues: [{ message: 'not a whole number', path: ['n'] }] }
        },
      },
    }

    it('returns a promise, and assigns what the validator resolves to', async () => {
      const r = queryParams(slow)(conn('GET', '/?n=4'))
      assert.equal(typeof (r as { then?: unknown }).then, 'function')
      const ctx = await r
      assert.equal(ctx._tag, 'Right')
      if (ctx._tag === 'Right') assert.deepEqual(ctx.right.assigns.query, { n: 4 })
    })

    it('answers 200 or 400 through the app, in both modes', async () => {
      const app = pipe(get, path('/slow'), queryParams(slow), echo('query'))
      for (const compile of modes) {
        assert.deepEqual((await inject(app, { url: '/slow?n=4' }, { compile })).json(), { query: { n: 4 } })
        const bad = await inject(app, { url: '/slow?n=x' }, { compile })
        assert.equal(bad.status, 400)
        assert.deepEqual(bad.json<{ errors: unknown }>().errors, [{ path: '/n', message: 'not a whole number' }])
      }
    })

    it('takes a zod schema with an async refinement', async () => {
      const taken = z.object({ name: z.string() }).refine(async (o) => Promise.resolve(o.name !== 'root'), {
        message: 'is taken',
        path: ['name'],
      })
      const app = pipe(queryParams(taken), echo('query'))
      assert.deepEqual((await inject(app, { url: '/?name=ada' })).json(), { query: { name: 'ada' } })
      const bad = await inject(app, { url: '/?name=root' })
      assert.equal(bad.status, 400)
      assert.deepEqual(bad.json<{ errors: unknown }>().errors, [{ path: '/name', message: 'is taken' }])
    })
  })

  it('answers 500 when a Standard Schema throws or its promise rejects, and reports the error', async () => {
    const boom = new Error('validator bug')
    const throwing: StandardSchemaV1 = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: () => {
          throw boom
        },
      },
    }
    const rejecting: StandardSchemaV1 = {
      '~standard': { version: 1, vendor: 'test', validate: () => Promise.reject(boom) },
    }
    for (const schema of [throwing, rejecting]) {
      const seen: unknown[] = []
      const res = await inject(
        pipe(queryParams(schema), echo('query')),
        { url: '/?a=1' },
        {
          onError: (e) => void seen.push(e),
        },
      )
      assert.equal(res.status, 500)
      assert.deepEqual(seen, [boom])
    }
  })

  it('leaves no trace when its branch fails: the next branch sees the original strings', async () => {
    // A coerces `n` and the items of `ids` and fills in `d` on the copy it checks, then fails on
    // the missing `must`; a hand-made Standard Schema coerces its input in place (as a careless one
    // may), and a filter after it then turns the branch down.
    const A = Type.Object({
      n: Type.Integer(),
      ids: Type.Array(Type.Integer()),
      d: Type.String({ default: 'filled' }),
      must: Type.String(),
    })
    const inPlace: StandardSchemaV1 = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: (value) => {
          const q = value as Record<string, unknown>
          q['n'] = Number(q['n'])
          q['added'] = true
          return { value: q }
        },
      },
    }
    const app = choose([
      pipe(queryParams(A), echo('query')),
      pipe(
        queryParams(inPlace),
        sap.filter(() => false),
        echo('query'),
      ),
      pipe(
        // zod checks the strings as they are (Ajv would coerce numbers back to strings)
        queryParams(z.object({ n: z.string(), tags: z.string(), x: z.string(), ids: z.array(z.string()) })),
        handle((c) => json({ raw: c.query, typed: c.assigns.query })),
      ),
    ])
    for (const compile of modes) {
      const res = await inject(app, { url: '/?n=5&tags=a&x=no&ids=1&ids=2' }, { compile })
      assert.equal(res.status, 200)
      assert.deepEqual(res.json(), {
        raw: { n: '5', tags: 'a', x: 'no', ids: ['1', '2'] },
        typed: { n: '5', tags: 'a', x: 'no', ids: ['1', '2'] },
      })
    }
  })

  it('throws a TypeError when the Part is made from a JSON Schema that does not compile', () => {
    assert.throws(() => queryParams({ type: 'nope' }), TypeError)
    assert.throws(() => params({ type: 'object', properties: { a: { $ref: '#/nowhere' } } }), TypeError)
    assert.throws(() => queryParams(Type.Object({}), { as: '' }), TypeError)
  })

  it('is labelled for routes and explain', () => {
    assert.equal(queryParams(Search).label, 'queryParams')
    assert.equal(queryParams(Search, { as: 'q' }).label, "queryParams({ as: 'q' })")
    assert.equal(params(Search).label, 'params')
    assert.equal(queryParams(Search).shape._tag, 'Opaque')
  })
})

describe('params', () => {
  const user = pipe(
    get,
    path('/users/:id'),
    params(Type.Object({ id: Type.Integer({ minimum: 1 }) })),
    handle((c) => json({ id: c.assigns.params.id, raw: c.params.id })),
  )

  it('coerces `:id` to an integer (200) and keeps c.params as strings, in both modes', async () => {
    for (const compile of modes) {
      const res = await inject(user, { url: '/users/42' }, { compile })
      assert.equal(res.status, 200)
      assert.deepEqual(res.json(), { id: 42, raw: '42' })
    }
  })

  it('answers 400 with the errors for `abc`, in both modes', async () => {
    for (const compile of modes) {
      const res = await inject(user, { url: '/users/abc' }, { compile })
      assert.equal(res.status, 400)
      assert.equal(res.headers['content-type'], 'application/problem+json')
      const body = res.json<{ detail: string; errors: unknown }>()
      assert.equal(body.detail, 'The path params are invalid')
      assert.deepEqual(body.errors, [{ path: '/id', message: 'must be integer' }])
    }
  })

  it('takes a Standard Schema and an `as` key', async () => {
    const app = pipe(
      get,
      path('/posts/:slug/:n'),
      params(z.object({ slug: z.string().min(2), n: z.coerce.number() }), { as: 'post' }),
      handle((c) => json(c.assigns.post)),
    )
    assert.deepEqual((await inject(app, { url: '/posts/hi/3' })).json(), { slug: 'hi', n: 3 })
    const bad = await inject(app, { url: '/posts/h/x' })
    assert.equal(bad.status, 400)
    assert.deepEqual(
      bad
        .json<{ errors: { path: string }[] }>()
        .errors.map((e) => e.path)
        .sort(),
      ['/n', '/slug'],
    )
  })
})

describe('queryParams and params through a real socket', () => {
  let server: sap.Listening
  before(async () => {
    server = await sap.serve(
      choose([search, pipe(get, path('/users/:id'), params(Type.Object({ id: Type.Integer() })), echo('params'))]),
      {
        port: 0,
        host: '127.0.0.1',
        ...quiet,
      },
    )
  })
  after(() => server.close())

  it('answers 200 with the typed values and 400 problem+json with the errors', async () => {
    const good = await fetch(`${server.url}/search?page=3&tag=x&draft=false`)
    assert.equal(good.status, 200)
    assert.deepEqual(await good.json(), { query: { page: 3, tag: ['x'], draft: false } })
    const bad = await fetch(`${server.url}/search?page=zero`)
    assert.equal(bad.status, 400)
    assert.equal(bad.headers.get('content-type'), 'application/problem+json')
    assert.deepEqual(((await bad.json()) as { errors: unknown }).errors, [
      { path: '/page', message: 'must be integer' },
    ])
    const id = await fetch(`${server.url}/users/7`)
    assert.deepEqual(await id.json(), { params: { id: 7 } })
    const notId = await fetch(`${server.url}/users/abc`)
    await notId.arrayBuffer()
    assert.equal(notId.status, 400)
  })
})
