// Types of `queryParams` and `params`: the value a schema gives reaches `c.assigns` with its type.
// What `npm run typecheck` must accept, and (`@ts-expect-error`) what it must refuse; the runtime
// tests check that the typed apps answer as their types say.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Type } from '@sinclair/typebox'
import { type } from 'arktype'
import * as v from 'valibot'
import { z } from 'zod'
import { assign, get, handle, json, params, path, pipe, queryParams, type Conn, type Params, type Part } from 'sapwood'
import { inject } from 'sapwood/testing'

/** True when X and Y are the same type (not merely assignable either way). */
type Equal<X, Y> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? true : false
const expect = <T extends true>(): T => true as T

// ---------------------------------------------------------------------------------------------
// TypeBox: the static type of the schema

const page = pipe(
  get,
  path('/articles'),
  queryParams(Type.Object({ page: Type.Integer(), tag: Type.Optional(Type.Array(Type.String())) })),
  handle((c) => {
    expect<Equal<typeof c.assigns.query.page, number>>()
    expect<Equal<typeof c.assigns.query.tag, string[] | undefined>>()
    // @ts-expect-error -- 'size' is not a field of the schema
    void c.assigns.query.size
    // c.query keeps its strings
    expect<Equal<typeof c.query.page, string | readonly string[] | undefined>>()
    return json({ page: c.assigns.query.page + 1 })
  }),
)

// ---------------------------------------------------------------------------------------------
// Standard Schema: the validator's output type

const zodQuery = z.object({ q: z.string(), n: z.coerce.number() })
const searched = pipe(
  queryParams(zodQuery),
  handle((c) => {
    expect<Equal<typeof c.assigns.query, z.output<typeof zodQuery>>>()
    expect<Equal<typeof c.assigns.query.n, number>>()
    expect<Equal<typeof c.assigns.query.q, string>>()
    // @ts-expect-error -- 'r' is not a field of the zod schema
    void c.assigns.query.r
    return json(c.assigns.query)
  }),
)

pipe(
  queryParams(v.object({ n: v.pipe(v.string(), v.toNumber()) })),
  handle((c) => {
    expect<Equal<typeof c.assigns.query.n, number>>()
    return json(c.assigns.query)
  }),
)
pipe(
  queryParams(type({ n: 'string.integer.parse' })),
  handle((c) => {
    expect<Equal<typeof c.assigns.query.n, number>>()
    return json(c.assigns.query)
  }),
)

// a plain JSON Schema says nothing about its values
pipe(
  queryParams({ type: 'object', properties: { n: { type: 'integer' } } }),
  handle((c) => {
    expect<Equal<typeof c.assigns.query, unknown>>()
    return json(c.assigns.query)
  }),
)

// ---------------------------------------------------------------------------------------------
// params: the typed value under `params`, c.params still strings

const user = pipe(
  get,
  path('/users/:id'),
  params(Type.Object({ id: Type.Integer() })),
  handle((c) => {
    expect<Equal<typeof c.assigns.params.id, number>>()
    expect<Equal<typeof c.params.id, string>>()
    // @ts-expect-error -- 'uid' is not a field of the schema
    void c.assigns.params.uid
    return json({ next: c.assigns.params.id + 1 })
  }),
)

// ---------------------------------------------------------------------------------------------
// `as` names the key, and earlier assigns stay

const both = pipe(
  path('/things/:id'),
  assign('user', 'ada'),
  queryParams(Type.Object({ n: Type.Integer() }), { as: 'filters' }),
  params(z.object({ id: z.string() }), { as: 'ids' }),
  handle((c) => {
    expect<
      Equal<
        typeof c,
        Conn<
          { readonly id: string },
          { readonly user: string; readonly filters: { n: number }; readonly ids: { id: string } }
        >
      >
    >()
    // @ts-expect-error -- the query was assigned as 'filters'
    void c.assigns.query
    return json({ user: c.assigns.user, n: c.assigns.filters.n, id: c.assigns.ids.id })
  }),
)

// the Part's own type, written apart
const typed: Part<Conn, Conn<Params, { readonly query: { page: number } }>> = queryParams(
  Type.Object({ page: Type.Integer() }),
)
void typed

describe('types of queryParams and params', () => {
  it('runs the typed apps as their types say', async () => {
    assert.deepEqual((await inject(page, { url: '/articles?page=2' })).json(), { page: 3 })
    assert.deepEqual((await inject(searched, { url: '/?q=x&n=4' })).json(), { q: 'x', n: 4 })
    assert.deepEqual((await inject(user, { url: '/users/41' })).json(), { next: 42 })
    assert.deepEqual((await inject(both, { url: '/things/t?n=5' })).json(), { user: 'ada', n: 5, id: 't' })
  })
})
