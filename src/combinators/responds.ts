/**
 * Response schemas: JSON Schemas per status, compiled once with fast-json-stringify, that `json`
 * writes with and that `routes` lists.
 *
 * @since 0.2.0
 */
import build from 'fast-json-stringify'
import { type Conn, settingsWriter, withDraft } from '../context/conn.js'
import { type Part, makeBuilder } from '../context/context.js'
import { jsonHeaders } from './builders.js'
import { type Infer, type JsonSchema, isStandard } from '../internal/schema.js'

/**
 * What `responds` takes: a JSON Schema (a plain object, or TypeBox's `Type.*`) per response
 * status, and optionally one for every other status (`default`, as in OpenAPI).
 *
 * @category model
 * @since 0.2.0
 */
export type ResponseSchemas = { readonly [status: number]: JsonSchema; readonly default?: JsonSchema }

/**
 * The statuses a `responds(schemas)` value writes typed JSON for: those with a schema, or any
 * number when there is a `default`.
 *
 * @category model
 * @since 0.2.0
 */
export type StatusOf<S> = (keyof S & number) | (S extends { readonly default: JsonSchema } ? number : never)

/**
 * The type of the value sent with status `K` under `responds(schemas)`: its schema's type
 * (`Infer`: TypeBox's static type, `unknown` for a plain JSON Schema), else `default`'s, else `never`.
 *
 * @category model
 * @since 0.2.0
 */
export type BodyOf<S, K> = K extends keyof S ? Infer<S[K]> : S extends { readonly default: infer D } ? Infer<D> : never

/**
 * What `responds` returns: a Part that sets the response schemas for the Parts after it, and
 * typed writers that check a value against the schema of the status it is sent with.
 *
 * @category model
 * @since 0.2.0
 */
export interface Responds<S extends ResponseSchemas> extends Part<Conn, Conn> {
  /** The schemas, as given (a frozen copy): `routes` lists them per route. */
  readonly schemas: S
  /**
   * Status 200 and `value` written with the 200 schema, checked against its type. Serialised
   * once, when the Part is made: a value the schema cannot write throws then (in a `handle`, a
   * 500).
   */
  json(value: BodyOf<S, 200>): Part<Conn, Conn>
  /** Status `status` and `value` written with that status's schema (or `default`'s). */
  json<K extends StatusOf<S>>(status: K, value: BodyOf<S, K>): Part<Conn, Conn>
}

/** A compiled schema: writes a value as JSON, or throws when it cannot. */
type Serialize = (value: unknown) => string

/** The serializers a subtree uses, and the schemas they came from (for `routes`). */
interface Table {
  readonly exact: ReadonlyMap<number, Serialize>
  readonly fallback: Serialize | undefined
  readonly listed: Readonly<Record<string, JsonSchema>>
}

type SerializerFor = (status: number) => Serialize | undefined

// The table behind each `serializerFor` this module made: an inner `responds` merges with the
// outer one's table, so that an exact status anywhere above wins over a `default`.
const tables = new WeakMap<SerializerFor, Table>()
// The schemas of each `responds` Part, for `routes`.
const listings = new WeakMap<object, Readonly<Record<string, JsonSchema>>>()

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error))

/**
 * A Standard Schema validator (zod, valibot, ArkType), which cannot serialise, rather than a JSON
 * Schema that carries one: zod 4's `z.toJSONSchema` output has a hidden `~standard` of its own, a
 * validator has it on its prototype (zod, ArkType) or as a visible field (valibot).
 */
const isValidator = (schema: JsonSchema): boolean => {
  if (!isStandard(schema)) return false
  const proto: unknown = Object.getPrototypeOf(schema)
  return (
    (proto !== Object.prototype && proto !== null) || Object.prototype.propertyIsEnumerable.call(schema, '~standard')
  )
}

const compileSchema = (schema: JsonSchema, what: string): Serialize => {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    throw new TypeError(`sapwood: the response schema ${what} must be a JSON Schema object, not ${typeof schema}`)
  }
  if (isValidator(schema)) {
    throw new TypeError(
      `sapwood: the response schema ${what} is a Standard Schema validator, which cannot serialise: ` +
        'pass a JSON Schema (with zod 4: z.toJSONSchema(schema))',
    )
  }
  let write: (value: unknown) => unknown
  try {
    write = build(schema as unknown as Parameters<typeof build>[0])
  } catch (error) {
    throw new TypeError(`sapwood: the response schema ${what} does not compile: ${messageOf(error)}`, { cause: error })
  }
  return (value) => {
    let out: unknown
    try {
      out = write(value)
    } catch (error) {
      // a stack overflow says nothing about the schema: the value is too deep for the serializer
      const why =
        error instanceof RangeError && /call stack/i.test(error.message)
          ? `is nested too deeply to write with the response schema ${what}`
          : `does not fit the response schema ${what}`
      throw new TypeError(`sapwood: the value ${why}: ${messageOf(error)}`, { cause: error })
    }
    // fast-json-stringify writes what JSON.stringify gives for an empty schema (`{}`), which is
    // no JSON for undefined or a function: send null, as `json` does without a schema
    return typeof out === 'string' && out !== 'undefined' ? out : 'null'
  }
}

const finderOf = (table: Table): SerializerFor => {
  const { exact, fallback } = table
  const find: SerializerFor = (status) => exact.get(status) ?? fallback
  tables.set(find, table)
  return find
}

const merge = (outer: Table, own: Table): Table => ({
  exact: new Map([...outer.exact, ...own.exact]),
  fallback: own.fallback ?? outer.fallback,
  listed: listing({ ...outer.listed, ...own.listed }),
})

/** A null-prototype record of the schemas by key, statuses in ascending order, `default` last. */
const listing = (from: Readonly<Record<string, JsonSchema>>): Readonly<Record<string, JsonSchema>> => {
  const out = Object.create(null) as Record<string, JsonSchema>
  for (const key of Object.keys(from)) if (key !== 'default') out[key] = from[key]!
  if (from['default'] !== undefined) out['default'] = from['default']
  return Object.freeze(out)
}

const STATUS_KEY = /^[1-9][0-9]{2}$/

const checkStatus = (status: unknown): number => {
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 999) {
    throw new RangeError(`sapwood: ${String(status)} is not an HTTP status`)
  }
  return status
}

/**
 * Declares the JSON Schema of the response body per status, for the Parts after it: each schema
 * is compiled with fast-json-stringify once, here, and a schema that does not compile (or a
 * Standard Schema validator, which cannot serialise) throws a TypeError now, never on a request.
 * `routes(app)` lists the schemas of each route (`responses`).
 *
 * Under it, `json(value)` writes with the schema of the status drafted when `json` runs, so set
 * the status first: `pipe(setStatus(201), json(v))` or, in a handler, `pipe(created(), json(v))`
 * (in `pipe(json(v), created())`, `json` still sees 200). A status with no schema and no
 * `default` is written with `JSON.stringify`, as without `responds`. The schema writes only its
 * own fields: with `{ 200: Type.Object({ id: Type.Integer() }) }`, `json({ id: 1, password: 'x' })`
 * sends `{"id":1}`. It coerces where it can (`1.5` to `1` for an integer, `5` to `"5"` for a
 * string); a value it cannot write (a required field missing, `"abc"` for an integer) is a failed
 * handler: a 500 problem+json answer and `onError`, never a half-written body. The problem+json
 * answers of rejections are not written with these schemas.
 *
 * The value returned carries the types: a Part earlier in a pipe cannot constrain what a later
 * handler returns, so `out.json(value)` (status 200) and `out.json(status, value)` check the
 * value against the schema of that status at compile time, and set the status with the body in
 * one Part (the status is part of the call, so the type and the schema used always agree). They
 * use this `responds`'s own schemas wherever they stand; plain `json` uses the nearest ones.
 *
 * An inner `responds` adds to an outer one: a schema for the exact status wins over a `default`,
 * and the inner one's wins over the outer one's. Put `responds` after the path filters of its
 * routes, or in front of all of them: between two path filters it keeps the compiler from
 * joining them into one trie pattern.
 *
 * @example
 * import { Type } from '@sinclair/typebox'
 * import { z } from 'zod'
 * import { pipe, get, post, path, handle, responds, created, json } from 'sapwood'
 *
 * const User = Type.Object({ id: Type.Integer(), name: Type.String() })
 * const Problem = Type.Object({ title: Type.String() })
 * const userOut = responds({ 200: User, 404: Problem })
 *
 * pipe(get, path('/users/:id'), userOut, handle((c) =>
 *   c.params.id === '1'
 *     ? userOut.json({ id: 1, name: 'ada' }) // 200, checked against User
 *     : userOut.json(404, { title: 'no such user' }), // 404, checked against Problem
 * ))
 * // plain json: the 201 schema (status set first), untyped; sends {"id":2,"name":"bob"}
 * const bob = { id: 2, name: 'bob', password: 'x' }
 * pipe(post, path('/users'), responds({ 201: User }), handle(() => pipe(created(), json(bob))))
 * // zod 4: pass its JSON Schema (which keeps the zod type for `todoOut.json`)
 * const Todo = z.object({ id: z.number().int(), title: z.string() })
 * const todoOut = responds({ 200: z.toJSONSchema(Todo) })
 * pipe(get, path('/todos/1'), todoOut, todoOut.json({ id: 1, title: 'write docs' }))
 *
 * @category writers
 * @since 0.2.0
 */
export const responds = <S extends ResponseSchemas>(schemas: S): Responds<S> => {
  if (typeof schemas !== 'object' || schemas === null || Array.isArray(schemas)) {
    throw new TypeError('sapwood: responds() takes an object of JSON Schemas by status')
  }
  const exact = new Map<number, Serialize>()
  let fallback: Serialize | undefined
  const given: Record<string, JsonSchema> = Object.create(null) as Record<string, JsonSchema>
  for (const key of Object.keys(schemas)) {
    const schema = (schemas as Readonly<Record<string, JsonSchema>>)[key]!
    if (key === 'default') {
      fallback = compileSchema(schema, 'default')
    } else if (STATUS_KEY.test(key)) {
      exact.set(Number(key), compileSchema(schema, `for ${key}`))
    } else {
      throw new TypeError(`sapwood: responds() key "${key}" is neither an HTTP status (100-999) nor "default"`)
    }
    given[key] = schema
  }
  const own: Table = { exact, fallback, listed: listing(given) }
  const alone = finderOf(own)
  // one merged finder per outer one, made on the first request under it
  const merged = new WeakMap<SerializerFor, SerializerFor>()
  const under = (outer: SerializerFor): SerializerFor => {
    let find = merged.get(outer)
    if (find === undefined) {
      const table = tables.get(outer)
      find =
        table === undefined ? (status) => exact.get(status) ?? fallback ?? outer(status) : finderOf(merge(table, own))
      merged.set(outer, find)
    }
    return find
  }
  const statuses = [...exact.keys()].map(String)
  const label = `responds(${[...statuses, ...(fallback === undefined ? [] : ['default'])].join(', ')})`

  // With a serializer set, the compiler no longer answers with responses drafted ahead
  // (`isUndrafted`): the builders after it run, and see the schemas.
  const apply = settingsWriter((outer) => ({
    ...outer,
    serializerFor: outer.serializerFor === undefined ? alone : under(outer.serializerFor),
  }))
  // `any`: it sets what later Parts read, so the compiler never drafts the branch ahead
  const p = makeBuilder(apply, label, 'any', false) as Part<Conn, Conn> & {
    schemas: S
    json: (...args: unknown[]) => Part<Conn, Conn>
  }

  p.schemas = Object.freeze({ ...schemas })
  // made per request (a handler's answer): the label is made once per status, not per call
  const labels = new Map<number, string>()
  p.json = (...args: unknown[]): Part<Conn, Conn> => {
    const status = args.length < 2 ? 200 : checkStatus(args[0])
    const value = args.length < 2 ? args[0] : args[1]
    const write = exact.get(status) ?? fallback
    if (write === undefined) throw new TypeError(`sapwood: ${label} has no schema for ${status}`)
    const body = write(value)
    let name = labels.get(status)
    if (name === undefined) labels.set(status, (name = `${label}.json(${status})`))
    return makeBuilder(
      (c) => withDraft(c, c.params, c.rest, status, jsonHeaders(c.respHeaders), body),
      name,
      'response',
      false,
    )
  }
  listings.set(p, own.listed)
  return p as Responds<S>
}

/**
 * @internal The schemas a `responds` Part declares, by status (`default` last), or undefined for
 * any other Part.
 */
export const declaredSchemas = (p: unknown): Readonly<Record<string, JsonSchema>> | undefined =>
  typeof p === 'function' ? listings.get(p) : undefined

/**
 * Compiles a JSON Schema once into a function that writes a value as JSON, for code outside the
 * tree: typed with the schema's type (TypeBox; `unknown` for a plain JSON Schema), fields outside
 * the schema dropped. A schema that does not compile throws a TypeError here; a value it cannot
 * write (a required field missing) throws a TypeError when written.
 *
 * @example
 * import { Type } from '@sinclair/typebox'
 * import { serializer } from 'sapwood'
 * const writeUser = serializer(Type.Object({ id: Type.Integer(), name: Type.String() }))
 * writeUser({ id: 1, name: 'ada' }) // '{"id":1,"name":"ada"}'
 *
 * @category writers
 * @since 0.2.0
 */
export const serializer = <S extends JsonSchema>(schema: S): ((value: Infer<S>) => string) =>
  compileSchema(schema, 'given to serializer()')
