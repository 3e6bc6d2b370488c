import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { StandardSchemaV1 } from '@standard-schema/spec'
import { Type } from '@sinclair/typebox'
import { z } from 'zod'
import { type Checked, compileCheck, isStandard } from '../../src/internal/schema.js'

/** The outcome of a synchronous check (fails the test when the check returned a promise). */
const now = <T>(r: Checked<T> | Promise<Checked<T>>): Checked<T> => {
  assert.ok(!(r instanceof Promise), 'expected a synchronous check')
  return r
}

const pathsOf = (r: Checked<unknown>): string[] => (r.ok ? [] : r.errors.map((e) => e.path))

/** A Standard Schema that reports the given issues for any value. */
const issuing = (issues: StandardSchemaV1.Issue[]): StandardSchemaV1 => ({
  '~standard': { version: 1, vendor: 'test', validate: () => ({ issues }) },
})

describe('compileCheck with a JSON Schema', () => {
  it('points at a missing required field with its JSON Pointer, nested ones too', () => {
    const check = compileCheck({
      type: 'object',
      required: ['name', 'address'],
      properties: { address: { type: 'object', required: ['city'] } },
    })
    assert.deepEqual(pathsOf(now(check({}))), ['/name', '/address'])
    assert.deepEqual(now(check({ name: 'a', address: {} })), {
      ok: false,
      errors: [{ path: '/address/city', message: "must have required property 'city'" }],
    })
  })

  it('points at array items by index, and at an additional property', () => {
    const check = compileCheck({
      type: 'object',
      properties: { tags: { type: 'array', items: { type: 'string' } } },
      additionalProperties: false,
    })
    assert.deepEqual(pathsOf(now(check({ tags: ['a', 1, 'b', 2], extra: true }))), ['/extra', '/tags/1', '/tags/3'])
  })

  it('escapes `~` as ~0 and `/` as ~1 in every segment', () => {
    const check = compileCheck({
      type: 'object',
      required: ['a/b', 'c~d'],
      properties: { 'x/y~z': { type: 'object', properties: { 'p/q': { type: 'integer' } } } },
      additionalProperties: { type: 'object' },
    })
    assert.deepEqual(pathsOf(now(check({ 'x/y~z': { 'p/q': 'no' }, 'e~/f': 1 }))), [
      '/a~1b',
      '/c~0d',
      '/e~0~1f',
      '/x~1y~0z/p~1q',
    ])
  })

  it('gives the whole value the empty pointer', () => {
    assert.deepEqual(now(compileCheck({ type: 'object' })('text')), {
      ok: false,
      errors: [{ path: '', message: 'must be object' }],
    })
  })

  const formats: readonly [string, string, string][] = [
    ['email', 'ada@example.com', 'ada@'],
    ['date-time', '2024-02-29T12:30:00Z', '2024-02-29'],
    ['uuid', '3f2504e0-4f89-11d3-9a0c-0305e82c3301', '3f2504e0-4f89-11d3'],
  ]
  for (const [format, good, bad] of formats) {
    it(`knows the format ${format}`, () => {
      const check = compileCheck({ type: 'object', properties: { v: { type: 'string', format } } })
      assert.equal(now(check({ v: good })).ok, true)
      assert.deepEqual(now(check({ v: bad })), {
        ok: false,
        errors: [{ path: '/v', message: `must match format "${format}"` }],
      })
    })
  }

  it('coerces nothing unless asked, and with `array` coerces strings and lone values', () => {
    const schema = {
      type: 'object',
      properties: { n: { type: 'integer' }, l: { type: 'array', items: { type: 'boolean' } } },
    }
    assert.deepEqual(pathsOf(now(compileCheck(schema)({ n: '1', l: 'true' }))), ['/n', '/l'])
    assert.deepEqual(now(compileCheck(schema, { coerce: 'array' })({ n: '1', l: 'true' })), {
      ok: true,
      value: { n: 1, l: [true] },
    })
  })

  it('fills in defaults only when asked', () => {
    const schema = Type.Object({ page: Type.Integer({ default: 1 }) })
    assert.deepEqual(pathsOf(now(compileCheck(schema)({}))), ['/page'])
    assert.deepEqual(now(compileCheck(schema, { useDefaults: true })({})), { ok: true, value: { page: 1 } })
  })

  it('throws a TypeError, when compiling, for a schema Ajv refuses', () => {
    assert.throws(() => compileCheck({ type: 'nope' }), TypeError)
    assert.throws(() => compileCheck({ $ref: '#/definitions/missing' }), /does not compile/)
  })

  it('compiles the same schema with an `$id` again, and refuses a different one with that `$id`', () => {
    const make = () => Type.Object({ n: Type.Integer() }, { $id: 'sapwood-test:Same' })
    const first = compileCheck(make())
    const again = compileCheck(make())
    assert.equal(now(first({ n: 1 })).ok, true)
    assert.deepEqual(pathsOf(now(again({ n: 'x' }))), ['/n'])
    assert.throws(() => compileCheck(Type.Object({ m: Type.String() }, { $id: 'sapwood-test:Same' })), /already exists/)
  })

  it('checks an `$async` schema with a promise that carries the errors', async () => {
    const check = compileCheck({ $async: true, type: 'object', required: ['q'] })
    const failed = check({})
    assert.ok(failed instanceof Promise)
    assert.deepEqual(await failed, { ok: false, errors: [{ path: '/q', message: "must have required property 'q'" }] })
    assert.deepEqual(await check({ q: 1 }), { ok: true, value: { q: 1 } })
  })
})

describe('compileCheck with a Standard Schema', () => {
  it('tells a Standard Schema from a JSON Schema', () => {
    assert.equal(isStandard(z.string()), true)
    assert.equal(isStandard(Type.String()), false)
    assert.equal(isStandard({ type: 'object', properties: { '~standard': { type: 'object' } } }), false)
  })

  it('turns issue paths into JSON Pointers: keys, indexes, `{ key }` segments, escapes', () => {
    const check = compileCheck(
      issuing([
        { message: 'a', path: ['user', 'emails', 2] },
        { message: 'b', path: [{ key: 'x/y' }, { key: 0 }, 'c~d'] },
        { message: 'c', path: [] },
        { message: 'd' },
      ]),
    )
    assert.deepEqual(now(check({})), {
      ok: false,
      errors: [
        { path: '/user/emails/2', message: 'a' },
        { path: '/x~1y/0/c~0d', message: 'b' },
        { path: '', message: 'c' },
        { path: '', message: 'd' },
      ],
    })
  })

  it('reports the paths zod gives', () => {
    const check = compileCheck(z.object({ a: z.object({ b: z.array(z.number()) }) }))
    assert.deepEqual(pathsOf(now(check({ a: { b: [1, 'x'] } }))), ['/a/b/1'])
    assert.deepEqual(now(check({ a: { b: [1] } })), { ok: true, value: { a: { b: [1] } } })
  })

  it('resolves to the outcome of an async validator', async () => {
    const check = compileCheck(z.object({ n: z.number() }).refine(async (o) => Promise.resolve(o.n > 0), 'positive'))
    const r = check({ n: -1 })
    assert.ok(r instanceof Promise)
    assert.deepEqual(await r, { ok: false, errors: [{ path: '', message: 'positive' }] })
    assert.deepEqual(await check({ n: 1 }), { ok: true, value: { n: 1 } })
  })
})
