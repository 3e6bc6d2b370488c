import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Type } from '@sinclair/typebox'
import fc from 'fast-check'
import { type } from 'arktype'
import * as v from 'valibot'
import { z } from 'zod'
import * as sap from 'sapwood'
import { conn, inject } from 'sapwood/testing'
import { settingsOf } from '../../src/context/conn.js'
import { answerOf, expectRight } from '../helpers.js'

const { pipe, choose, get, post, path, handle, json, responds, setStatus, created, notFound, ok } = sap

const User = Type.Object({ id: Type.Integer(), name: Type.String() })
const Problem = Type.Object({ title: Type.String(), status: Type.Optional(Type.Integer()) })
const quiet = { onError: () => undefined }
const modes = [true, false] as const

const ada = { id: 1, name: 'ada', password: 'secret' }

describe('responds', () => {
  it('writes json with the schema of the status: fields outside it are dropped, in both modes', async () => {
    const app = pipe(
      get,
      path('/users/:id'),
      responds({ 200: User }),
      handle(() => json(ada)),
    )
    for (const compile of modes) {
      const res = await inject(app, { url: '/users/1' }, { compile })
      assert.equal(res.status, 200)
      assert.equal(res.body, '{"id":1,"name":"ada"}')
      assert.equal(res.headers['content-type'], 'application/json')
    }
  })

  it('picks the schema of the status drafted when json runs: 201 and 404 each their own', async () => {
    const app = choose([
      pipe(
        post,
        path('/users'),
        responds({ 201: User, 404: Problem }),
        handle(() => pipe(created(), json(ada))),
      ),
      pipe(
        get,
        path('/users/:id'),
        responds({ 201: User, 404: Problem }),
        handle(() => pipe(notFound(), json({ title: 'no such user', id: 1, name: 'ada' }))),
      ),
      pipe(get, path('/static'), responds({ 201: User }), setStatus(201), json(ada)),
    ])
    for (const compile of modes) {
      const made = await inject(app, { method: 'POST', url: '/users' }, { compile })
      assert.equal(made.status, 201)
      assert.equal(made.body, '{"id":1,"name":"ada"}')
      const missing = await inject(app, { url: '/users/2' }, { compile })
      assert.equal(missing.status, 404)
      assert.equal(missing.body, '{"title":"no such user"}')
      const fixed = await inject(app, { url: '/static' }, { compile })
      assert.equal(fixed.status, 201)
      assert.equal(fixed.body, '{"id":1,"name":"ada"}')
    }
  })

  it('uses the status json sees: in pipe(json(v), created()) that is 200, not 201', async () => {
    const app = pipe(responds({ 200: Type.Object({ id: Type.Integer() }), 201: User }), json(ada), created())
    const res = await inject(app, { url: '/' })
    assert.equal(res.status, 201)
    assert.equal(res.body, '{"id":1}')
  })

  it('writes a status with no schema, and json without responds, with JSON.stringify', async () => {
    const under = pipe(responds({ 200: User }), setStatus(202), json(ada))
    assert.equal((await inject(under, { url: '/' })).body, JSON.stringify(ada))
    assert.equal((await inject(json(ada), { url: '/' })).body, JSON.stringify(ada))
  })

  it('writes every other status with the default schema', async () => {
    const app = pipe(responds({ 200: User, default: Problem }), setStatus(409), json({ title: 'taken', id: 1 }))
    const res = await inject(app, { url: '/' })
    assert.equal(res.status, 409)
    assert.equal(res.body, '{"title":"taken"}')
  })

  it('keeps a JSON Content-Type drafted before json', async () => {
    const app = pipe(responds({ 200: User }), sap.setMimeType('application/vnd.api+json'), json(ada))
    const res = await inject(app, { url: '/' })
    assert.equal(res.headers['content-type'], 'application/vnd.api+json')
    assert.equal(res.body, '{"id":1,"name":"ada"}')
  })

  it('answers 500 problem+json for a value the schema cannot write, and goes on answering', async () => {
    const app = choose([
      pipe(
        get,
        path('/missing'),
        responds({ 200: User }),
        handle(() => json({ name: 'no id' })),
      ),
      pipe(get, path('/not-an-integer'), responds({ 200: User }), json({ id: 'abc', name: 'x' })),
      pipe(get, path('/fine'), responds({ 200: User }), json(ada)),
    ])
    for (const compile of modes) {
      for (const url of ['/missing', '/not-an-integer']) {
        const errors: unknown[] = []
        const res = await inject(app, { url }, { compile, onError: (e) => void errors.push(e) })
        assert.equal(res.status, 500, url)
        assert.equal(res.headers['content-type'], 'application/problem+json', url)
        assert.ok(!res.body.includes('"id"'), 'no part of the value is sent')
        assert.equal(errors.length, 1)
        assert.match(String(errors[0]), /does not fit the response schema for 200/)
      }
      assert.equal((await inject(app, { url: '/fine' }, { compile })).body, '{"id":1,"name":"ada"}')
    }
  })

  it('makes a value it cannot write a HandlerFailed rejection of the json Part, never a throw', async () => {
    const app = pipe(responds({ 200: User }), json({ name: 'no id' }))
    const ctx = await app(conn('GET', '/'))
    assert.equal(ctx._tag, 'Left')
    if (ctx._tag === 'Left') assert.equal(ctx.left._tag, 'HandlerFailed')
  })

  it('throws a TypeError when it is called with a schema that does not compile', () => {
    assert.throws(() => responds({ 200: { type: 'nope' } }), /response schema for 200 does not compile/)
    assert.throws(
      () => responds({ 404: { type: 'object', properties: { a: { $ref: '#/definitions/none' } } } }),
      /response schema for 404 does not compile/,
    )
    assert.throws(() => responds({ default: { type: 42 } }), TypeError)
  })

  it('refuses a Standard Schema validator, which cannot serialise, pointing at z.toJSONSchema', () => {
    const Todo = z.object({ id: z.number() })
    // @ts-expect-error -- a zod schema is no JSON Schema
    assert.throws(() => responds({ 200: Todo }), /z\.toJSONSchema/)
    const viaValibot = v.object({ id: v.number() }) as unknown as sap.ResponseSchemas[number]
    assert.throws(() => responds({ 200: viaValibot }), /Standard Schema validator/)
    assert.throws(() => responds({ 200: type({ id: 'number' }) as never }), TypeError)
    // zod's JSON Schema carries a hidden Standard Schema of its own: it is a JSON Schema all the same
    const out = responds({ 200: z.toJSONSchema(Todo) })
    assert.equal(sap.serializer(z.toJSONSchema(Todo))({ id: 1, extra: true } as { id: number }), '{"id":1}')
    assert.ok(out.schemas[200] !== undefined)
  })

  it('refuses keys that are neither a status nor default, and a value that is no object', () => {
    for (const key of ['abc', '99', '2XX', '1000', 'Default']) {
      assert.throws(() => responds({ [key]: User }), /neither an HTTP status/, key)
    }
    assert.throws(() => responds(null as unknown as sap.ResponseSchemas), TypeError)
    assert.throws(() => responds({ 200: 'string' as unknown as sap.ResponseSchemas[number] }), /JSON Schema object/)
  })

  it('compiles each schema once, when responds is called, never per request', async () => {
    let reads = 0
    const schema = {
      type: 'object',
      get properties() {
        reads++
        return { id: { type: 'integer' } }
      },
    }
    const out = responds({ 200: schema })
    const made = reads
    assert.ok(made > 0, 'the schema was read when responds was called')
    const seen = new Set<unknown>()
    const app = pipe(
      get,
      path('/'),
      out,
      handle((c) => {
        seen.add(settingsOf(c).serializerFor?.(200))
        return json({ id: 1, x: 2 })
      }),
    )
    for (let i = 0; i < 3; i++) assert.equal((await inject(app, { url: '/' })).body, '{"id":1}')
    assert.equal(reads, made, 'no schema read after the first compile')
    assert.equal(seen.size, 1, 'the same compiled serializer on every request')
  })

  it('adds an inner responds to an outer one: an exact status wins over default, the inner over the outer', async () => {
    const Small = Type.Object({ id: Type.Integer() })
    const outer = responds({ 404: Problem, default: Type.Object({ code: Type.String() }) })
    const app = pipe(
      outer,
      choose([
        pipe(path('/inner-200'), responds({ 200: Small }), json(ada)),
        pipe(path('/outer-404'), responds({ 200: Small, default: Small }), setStatus(404), json({ title: 't', id: 1 })),
        pipe(path('/outer-default'), responds({ 200: Small }), setStatus(500), json({ code: 'x', id: 1 })),
        pipe(path('/inner-default'), responds({ default: Small }), setStatus(500), json({ code: 'x', id: 1 })),
      ]),
    )
    const table: readonly (readonly [string, string])[] = [
      ['/inner-200', '{"id":1}'],
      ['/outer-404', '{"title":"t"}'],
      ['/outer-default', '{"code":"x"}'],
      ['/inner-default', '{"id":1}'],
    ]
    for (const compile of modes) {
      for (const [url, body] of table) assert.equal((await inject(app, { url }, { compile })).body, body, url)
    }
  })
})

describe('responds: typed json', () => {
  const userOut = responds({ 200: User, 404: Problem })

  it('sends status 200 with json(value), and the status given with json(status, value)', async () => {
    const app = choose([
      pipe(
        get,
        path('/users/:id'),
        userOut,
        handle((c) => (c.params.id === '1' ? userOut.json(ada) : userOut.json(404, { title: 'no such user' }))),
      ),
    ])
    for (const compile of modes) {
      const found = await inject(app, { url: '/users/1' }, { compile })
      assert.equal(found.status, 200)
      assert.equal(found.body, '{"id":1,"name":"ada"}')
      assert.equal(found.headers['content-type'], 'application/json')
      const missing = await inject(app, { url: '/users/2' }, { compile })
      assert.equal(missing.status, 404)
      assert.equal(missing.body, '{"title":"no such user"}')
    }
  })

  it('uses its own schemas wherever it stands, also outside its responds', async () => {
    const out = await expectRight(userOut.json(404, { title: 'gone', extra: 1 } as { title: string })(conn('GET', '/')))
    assert.equal(out.status, 404)
    assert.equal(out.respBody, '{"title":"gone"}')
  })

  it('throws when the Part is made for a value it cannot write: a 500 inside a handler', async () => {
    const bad = { name: 'no id' } as unknown as { id: number; name: string }
    assert.throws(() => userOut.json(bad), /does not fit the response schema for 200/)
    const res = await inject(
      handle(() => userOut.json(bad)),
      { url: '/' },
      quiet,
    )
    assert.equal(res.status, 500)
  })

  it('throws for a status with no schema and no default', () => {
    assert.throws(() => userOut.json(500 as 404, { title: 'x' }), /has no schema for 500/)
    assert.throws(() => responds({ 201: User }).json(ada as never), /has no schema for 200/)
  })

  it('writes any status with a default', async () => {
    const out = responds({ default: Problem })
    const c = await expectRight(out.json(503, { title: 'later' })(conn('GET', '/')))
    assert.equal(c.status, 503)
    assert.equal(c.respBody, '{"title":"later"}')
  })
})

describe('responds: compiled and interpreted answer alike', () => {
  const S = Type.Object({ a: Type.Integer() })
  const routes = (): sap.Part[] => [
    pipe(get, path('/static'), json({ a: 1, extra: true })),
    pipe(get, path('/created'), setStatus(201), json({ a: 2, extra: true })),
    pipe(get, path('/typed'), responds({ 200: S }).json({ a: 3 })),
    pipe(get, path('/bad'), json({ a: 'x' })),
    pipe(get, path('/after'), json({ a: 4, extra: true }), ok()),
  ]
  // responds right in front of the routes, and behind user code (the routes then get a trie of
  // their own, which must not answer with responses it drafted without the schemas)
  const apps: readonly (readonly [string, () => sap.Part])[] = [
    ['in front', () => pipe(responds({ 200: S, 201: S }), choose(routes()))],
    [
      'behind a handle',
      () =>
        pipe(
          handle((c: sap.Conn) => c),
          responds({ 200: S, 201: S }),
          choose(routes()),
        ),
    ],
    [
      'behind a throwing guard',
      () =>
        pipe(
          sap.filter(() => true),
          responds({ 200: S, 201: S }),
          choose(routes()),
        ),
    ],
  ]
  for (const [name, make] of apps) {
    it(`gives every request the same answer, ${name}`, async () => {
      const app = make()
      const compiled = sap.compile(app)
      for (const url of ['/static', '/created', '/typed', '/bad', '/after', '/none']) {
        const interpreted = await answerOf(() => app(conn('GET', url)))
        assert.deepEqual(await answerOf(() => compiled(conn('GET', url))), interpreted, url)
      }
      const body = await answerOf(() => compiled(conn('GET', '/static')))
      assert.ok('body' in body && body.body === '{"a":1}', 'the schema was used')
    })
  }
})

describe('responds over a socket', () => {
  it('writes with the schema, answers 500 for a value it cannot write, and keeps serving', async () => {
    const app = choose([
      pipe(
        get,
        path('/users/:id'),
        responds({ 200: User }),
        handle((c) => json({ id: Number(c.params.id), name: 'ada', password: 'secret' })),
      ),
      pipe(
        get,
        path('/broken'),
        responds({ 200: User }),
        handle(() => json({ name: 'no id' })),
      ),
    ])
    const errors: unknown[] = []
    const server = await sap.serve(app, { port: 0, host: '127.0.0.1', onError: (e) => void errors.push(e) })
    try {
      const one = await fetch(`${server.url}/users/7`)
      assert.equal(one.status, 200)
      assert.equal(await one.text(), '{"id":7,"name":"ada"}')
      const broken = await fetch(`${server.url}/broken`)
      assert.equal(broken.status, 500)
      assert.equal(broken.headers.get('content-type'), 'application/problem+json')
      await broken.text()
      assert.equal(errors.length, 1)
      const again = await fetch(`${server.url}/users/8`)
      assert.equal(await again.text(), '{"id":8,"name":"ada"}')
    } finally {
      await server.close()
    }
  })
})

describe('serializer', () => {
  it('writes a value with the schema, typed, fields outside it dropped', () => {
    const write = sap.serializer(User)
    assert.equal(write(ada), '{"id":1,"name":"ada"}')
    // @ts-expect-error -- `name` must be a string
    assert.equal(write({ id: 1, name: 2 }), '{"id":1,"name":"2"}')
  })

  it('throws a TypeError for a schema that does not compile, and for a value it cannot write', () => {
    assert.throws(() => sap.serializer({ type: 'nope' }), TypeError)
    const write = sap.serializer(User)
    assert.throws(() => write({ name: 'x' } as never), /"id" is required/)
  })

  it('writes null for undefined under an empty schema, as json does', () => {
    assert.equal(sap.serializer({})(undefined), 'null')
  })
})

describe('serializer: property', () => {
  const Item = Type.Object({
    id: Type.Integer(),
    name: Type.String(),
    score: Type.Number(),
    active: Type.Boolean(),
    tags: Type.Array(Type.String()),
    owner: Type.Optional(Type.Object({ login: Type.String() })),
  })
  const known = new Set(['id', 'name', 'score', 'active', 'tags', 'owner'])
  const write = sap.serializer(Item)

  const item = fc.record(
    {
      id: fc.integer(),
      name: fc.string({ unit: 'binary' }),
      score: fc.double({ noNaN: true, noDefaultInfinity: true }),
      active: fc.boolean(),
      tags: fc.array(fc.string(), { maxLength: 4 }),
      owner: fc.record({ login: fc.string() }, { noNullPrototype: true }),
    },
    { requiredKeys: ['id', 'name', 'score', 'active', 'tags'], noNullPrototype: true },
  )
  const extra = fc.dictionary(
    fc.string({ minLength: 1, maxLength: 6 }).filter((k) => !known.has(k) && k !== '__proto__'),
    fc.jsonValue(),
    { maxKeys: 3, noNullPrototype: true },
  )

  it('writes what parses back to the value projected on the schema', () => {
    fc.assert(
      fc.property(item, extra, (value, more) => {
        const projected: Record<string, unknown> = {}
        for (const key of known) if (key in value) projected[key] = (value as Record<string, unknown>)[key]
        // JSON has no -0: the projection is what JSON would hold
        const expected = JSON.parse(JSON.stringify(projected)) as unknown
        const out = write({ ...more, ...value })
        assert.deepEqual(JSON.parse(out), expected)
      }),
      { numRuns: 500 },
    )
  })
})
