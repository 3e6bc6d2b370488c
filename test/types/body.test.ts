// The body type flows from a decoder to the Parts after it: what `npm run typecheck` must accept,
// and (`@ts-expect-error`) what it must refuse. The runtime tests check that the typed apps
// answer as their types say.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Type } from '@sinclair/typebox'
import { z } from 'zod'
import {
  assign,
  bodyStream,
  formBody,
  handle,
  json,
  jsonBody,
  ok,
  path,
  pipe,
  post,
  rawBody,
  respJson,
  textBody,
  type Assigns,
  type Conn,
  type FormFields,
  type Params,
} from 'sapwood'
import { inject } from 'sapwood/testing'

/** True when X and Y are the same type (not merely assignable either way). */
type Equal<X, Y> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? true : false
const expect = <T extends true>(): T => true as T

// ---------------------------------------------------------------------------------------------
// A schema types the body: TypeBox (a JSON Schema with a static type) and zod (a Standard Schema)

const Note = Type.Object({ text: Type.String(), tags: Type.Array(Type.String()) })
const viaTypeBox = pipe(
  post,
  path('/notes/:id'),
  jsonBody(Note),
  handle((c) => {
    expect<Equal<typeof c.body.text, string>>()
    expect<Equal<typeof c.body.tags, string[]>>()
    // the params established before the decoder stay
    expect<Equal<typeof c.params.id, string>>()
    return json({ id: c.params.id, text: c.body.text, tags: c.body.tags.length })
  }),
)

const Person = z.object({ name: z.string(), age: z.number().int() })
const viaZod = pipe(
  post,
  path('/people'),
  jsonBody(Person),
  handle((c) => {
    expect<Equal<typeof c.body, { name: string; age: number }>>()
    return json({ greeting: `${c.body.name} is ${c.body.age + 1} next year` })
  }),
)

// the body type stays through the Parts after the decoder, and an assign after it adds to it
const kept = pipe(
  post,
  path('/kept'),
  jsonBody(Person),
  respJson,
  assign('n', 1),
  handle((c) => {
    expect<Equal<typeof c.body, { name: string; age: number }>>()
    expect<Equal<typeof c.assigns.n, number>>()
    return json({ name: c.body.name, n: c.assigns.n })
  }),
)

// ---------------------------------------------------------------------------------------------
// Each decoder's body type

const viaText = pipe(
  post,
  path('/text'),
  textBody(),
  handle((c) => {
    expect<Equal<typeof c.body, string>>()
    return ok(c.body.toUpperCase())
  }),
)
pipe(
  post,
  jsonBody(),
  handle((c) => {
    expect<Equal<typeof c.body, unknown>>()
    return ok(String(c.body))
  }),
)
pipe(
  post,
  formBody(),
  handle((c) => {
    expect<Equal<typeof c.body, FormFields>>()
    return ok(String(c.body['q']))
  }),
)
pipe(
  post,
  formBody(Type.Object({ page: Type.Integer() })),
  handle((c) => {
    expect<Equal<typeof c.body.page, number>>()
    return ok(String(c.body.page + 1))
  }),
)
pipe(
  post,
  rawBody(),
  handle((c) => {
    expect<Equal<typeof c.body, Uint8Array>>()
    return ok(String(c.body.byteLength))
  }),
)
pipe(
  post,
  bodyStream(),
  handle((c) => {
    expect<Equal<typeof c.body, AsyncIterable<Uint8Array>>>()
    return ok(typeof c.body[Symbol.asyncIterator])
  }),
)

// ---------------------------------------------------------------------------------------------
// A field the schema does not have is a type error, and so is a body of another type

pipe(
  post,
  jsonBody(Note),
  // @ts-expect-error -- 'title' is not a field of Note
  handle((c) => ok(String(c.body.title))),
)
pipe(
  post,
  jsonBody(Person),
  handle((c) => {
    // @ts-expect-error -- `age` is a number, not a string
    const age: string = c.body.age
    return ok(age)
  }),
)

// A handler written apart says what body it needs; pipe accepts it after the decoder that gives it
const showName = (c: Conn<Params, Assigns, { name: string }>) => ok(c.body.name)
pipe(post, jsonBody(Person), handle(showName))
pipe(
  post,
  textBody(),
  // @ts-expect-error -- textBody gives a string, not a { name }
  handle(showName),
)
pipe(
  post,
  // @ts-expect-error -- no decoder gives a body
  handle(showName),
)

describe('body types flow through the tree', () => {
  it('answers as the types say', async () => {
    const note = await inject(viaTypeBox, { method: 'POST', url: '/notes/7', body: { text: 'hi', tags: ['a', 'b'] } })
    assert.deepEqual(note.json(), { id: '7', text: 'hi', tags: 2 })
    const person = await inject(viaZod, { method: 'POST', url: '/people', body: { name: 'Ada', age: 36 } })
    assert.deepEqual(person.json(), { greeting: 'Ada is 37 next year' })
    const text = await inject(viaText, {
      method: 'POST',
      url: '/text',
      headers: { 'content-type': 'text/plain' },
      body: 'quiet',
    })
    assert.equal(text.body, 'QUIET')
    assert.deepEqual((await inject(kept, { method: 'POST', url: '/kept', body: { name: 'Ada', age: 1 } })).json(), {
      name: 'Ada',
      n: 1,
    })
  })

  it('answers 422 when zod refuses the body', async () => {
    const res = await inject(viaZod, { method: 'POST', url: '/people', body: { name: 'Ada', age: 'old' } })
    assert.equal(res.status, 422)
    assert.deepEqual(
      res.json<{ errors: { path: string }[] }>().errors.map((e) => e.path),
      ['/age'],
    )
  })
})
