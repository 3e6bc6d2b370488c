// The types of `responds`: what `npm run typecheck` must accept, and (`@ts-expect-error`) what it
// must refuse. The runtime test checks that the typed app answers as its types say.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Type } from '@sinclair/typebox'
import { z } from 'zod'
import {
  get,
  handle,
  json,
  path,
  pipe,
  responds,
  serializer,
  type BodyOf,
  type Conn,
  type Part,
  type Responds,
  type StatusOf,
} from 'sapwood'
import { inject } from 'sapwood/testing'

/** True when X and Y are the same type (not merely assignable either way). */
type Equal<X, Y> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? true : false
const expect = <T extends true>(): T => true as T

const User = Type.Object({ id: Type.Integer(), name: Type.String() })
const Problem = Type.Object({ title: Type.String() })
const userOut = responds({ 200: User, 404: Problem })

// ---------------------------------------------------------------------------------------------
// The value's type comes from the schema of the status it is sent with

type UserOut = typeof userOut extends Responds<infer S> ? S : never
expect<Equal<BodyOf<UserOut, 200>, { id: number; name: string }>>()
expect<Equal<BodyOf<UserOut, 404>, { title: string }>>()
expect<Equal<BodyOf<UserOut, 500>, never>>()
expect<Equal<StatusOf<UserOut>, 200 | 404>>()

// Type-checked only, never run: a value of the wrong shape would throw when the writer is made
const typeChecks = (): void => {
  userOut.json({ id: 1, name: 'ada' })
  userOut.json(404, { title: 'no such user' })
  // @ts-expect-error -- `nmae` is not a field of User (and `name` is missing)
  userOut.json({ id: 1, nmae: 'ada' })
  // @ts-expect-error -- `id` must be a number
  userOut.json({ id: '1', name: 'ada' })
  // @ts-expect-error -- the 404 schema is Problem, not User
  userOut.json(404, { id: 1, name: 'ada' })
  // @ts-expect-error -- no schema for 500, and no default
  userOut.json(500, { title: 'oops' })

  // a default types every other status
  const withDefault = responds({ 200: User, default: Problem })
  withDefault.json(503, { title: 'later' })
  // @ts-expect-error -- the default schema is Problem
  withDefault.json(503, { id: 1, name: 'ada' })
  expect<Equal<StatusOf<typeof withDefault.schemas>, number>>()

  // with no 200 schema, json(value) takes nothing
  const createdOnly = responds({ 201: User })
  createdOnly.json(201, { id: 1, name: 'ada' })
  // @ts-expect-error -- no schema for 200
  createdOnly.json({ id: 1, name: 'ada' })

  // a plain JSON Schema gives `unknown`: any value is accepted, the schema still writes it
  const plain = responds({ 200: { type: 'object', properties: { id: { type: 'integer' } } } })
  expect<Equal<BodyOf<typeof plain.schemas, 200>, unknown>>()
  plain.json({ anything: true })
  // zod 4's JSON Schema carries the zod type (its hidden Standard Schema): typed too
  const zodOut = responds({ 200: z.toJSONSchema(z.object({ id: z.number() })) })
  expect<Equal<BodyOf<typeof zodOut.schemas, 200>, { id: number }>>()
  zodOut.json({ id: 1 })
  // @ts-expect-error -- `id` must be a number
  zodOut.json({ id: '1' })
  // @ts-expect-error -- a zod schema is a validator, not a JSON Schema
  responds({ 200: z.object({ id: z.number() }) })

  // `serializer` is typed the same way
  const writeUser = serializer(User)
  expect<Equal<Parameters<typeof writeUser>[0], { id: number; name: string }>>()
  // @ts-expect-error -- `name` must be a string
  writeUser({ id: 1, name: 2 })
}
void typeChecks

// ---------------------------------------------------------------------------------------------
// In a tree: responds is a Part like any builder, params flow past it, and handlers return its writers

const app = pipe(
  get,
  path('/users/:id'),
  userOut,
  handle((c) => {
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- nothing assigned
    expect<Equal<typeof c, Conn<{ readonly id: string }, {}>>>()
    return c.params.id === '1' ? userOut.json({ id: 1, name: 'ada' }) : userOut.json(404, { title: 'none' })
  }),
)
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- nothing assigned
expect<Equal<typeof app, Part<Conn, Conn<{ readonly id: string }, {}>>>>()
// plain json under responds stays untyped
pipe(get, path('/any'), userOut, json({ whatever: true }))

describe('responds types', () => {
  it('the typed app answers as its types say', async () => {
    assert.equal((await inject(app, { url: '/users/1' })).body, '{"id":1,"name":"ada"}')
    const missing = await inject(app, { url: '/users/2' })
    assert.equal(missing.status, 404)
    assert.deepEqual(missing.json(), { title: 'none' })
  })
})
