/**
 * Typed query and path params: `queryParams` and `params` check them against a schema, coerce
 * them, and assign the typed value for the Parts after them.
 *
 * @since 0.2.0
 */
import { type Conn, type Params, assignKey, withAssign } from '../context/conn.js'
import { type Context, type Part, type Result, isThenable, left, part, right } from '../context/context.js'
import { badRequest } from '../context/rejection.js'
import { type Checked, type Infer, type Schema, compileCheck } from '../internal/schema.js'
import { failure } from './compose.js'

/**
 * What `queryParams` and `params` accept besides the schema.
 *
 * @category validation
 * @since 0.2.0
 */
export interface ValidateOptions<K extends string> {
  /** The key of `c.assigns` the typed value is put under (default `'query'`, or `'params'`). */
  readonly as?: K
}

type Source = Readonly<Record<string, string | readonly string[] | undefined>>

/**
 * A copy of a query or params record for the validator to work on: Ajv coerces (array items too)
 * and fills in defaults in place, and a Standard Schema is user code that may change what it is
 * given, while `c.query` and `c.params` are shared with every other branch the request tries.
 */
const copyOf = (record: Source): Record<string, unknown> => {
  const out = Object.create(null) as Record<string, unknown>
  for (const key of Object.keys(record)) {
    const value = record[key]
    out[key] = Array.isArray(value) ? [...(value as readonly string[])] : value
  }
  return out
}

const validating = (
  schema: Schema,
  as: unknown,
  read: (c: Conn) => Source,
  details: string,
  label: string,
): Part<Conn, Conn> => {
  const key = assignKey(label, as)
  // The query and params are strings: Ajv coerces them to the schema's numbers and booleans, and
  // a lone value to an array when the schema wants one; a Standard Schema coerces itself.
  const check = compileCheck(schema, { coerce: 'array', useDefaults: true })
  const settle = (c: Conn, checked: Checked<unknown>): Context =>
    checked.ok ? right(withAssign(c, key, checked.value)) : left(badRequest(details, checked.errors))
  return part(
    (c: Conn): Result => {
      let checked: Checked<unknown> | Promise<Checked<unknown>>
      try {
        checked = check(copyOf(read(c)))
      } catch (error) {
        // a Standard Schema is user code, and may throw: a failed handler (500), as in `handle`
        return failure(error)
      }
      return isThenable(checked) ? checked.then((r) => settle(c, r), failure) : settle(c, checked)
    },
    { _tag: 'Opaque' },
    label,
  )
}

/**
 * Checks the query (`c.query`) against a schema and assigns the typed value to
 * `c.assigns.query` (or the key `as` names); a query that does not pass is a 400 whose
 * problem+json lists every wrong field as `errors: [{ path, message }]`.
 *
 * The schema is a JSON Schema (a plain object or TypeBox's `Type.*`, compiled once with Ajv when
 * the Part is made; one that does not compile throws a TypeError then) or a Standard Schema
 * (zod 4, valibot, ArkType; async ones too). With a JSON Schema, the strings of the query are
 * coerced to the schema's numbers and booleans, a repeated name gives an array and a lone value
 * becomes one where the schema wants an array, and `default`s fill in missing fields. A Standard
 * Schema gets the strings as they are and coerces them itself (`z.coerce.number()`).
 *
 * The answer is 400, not 422: the query is part of the request target, and a target the server
 * cannot use is a malformed request; 422 is for content (a body) that is well-formed but wrong.
 * The check works on a copy: `c.query` keeps its strings, for the other branches too.
 *
 * @example
 * import { pipe, get, path, handle, json, queryParams } from 'sapwood'
 * import { Type } from '@sinclair/typebox'
 * pipe(
 *   get,
 *   path('/articles'),
 *   queryParams(Type.Object({ page: Type.Integer({ minimum: 1, default: 1 }), tag: Type.Optional(Type.Array(Type.String())) })),
 *   handle((c) => json({ page: c.assigns.query.page, tags: c.assigns.query.tag ?? [] })),
 * )
 *
 * @category validation
 * @since 0.2.0
 */
export const queryParams = <S extends Schema, K extends string = 'query'>(
  schema: S,
  options: ValidateOptions<K> = {},
): Part<Conn, Conn<Params, { readonly [k in K]: Infer<S> }>> => {
  const key = options.as ?? 'query'
  return validating(
    schema,
    key,
    (c) => c.query,
    'The query is invalid',
    key === 'query' ? 'queryParams' : `queryParams({ as: '${key}' })`,
  ) as unknown as Part<Conn, Conn<Params, { readonly [k in K]: Infer<S> }>>
}

/**
 * Checks the path params (`c.params`) against a schema and assigns the typed value to
 * `c.assigns.params` (or the key `as` names): `:id` as an integer, say. Params that do not pass
 * are a 400 with every wrong field in `errors`, as with `queryParams` (same schemas, same
 * coercion); `c.params` keeps its strings.
 *
 * @example
 * import { pipe, get, path, handle, json, params } from 'sapwood'
 * import { z } from 'zod'
 * pipe(
 *   get,
 *   path('/users/:id'),
 *   params(z.object({ id: z.coerce.number().int().positive() })),
 *   handle((c) => json({ id: c.assigns.params.id + 1 })),
 * )
 *
 * @category validation
 * @since 0.2.0
 */
export const params = <S extends Schema, K extends string = 'params'>(
  schema: S,
  options: ValidateOptions<K> = {},
): Part<Conn, Conn<Params, { readonly [k in K]: Infer<S> }>> => {
  const key = options.as ?? 'params'
  return validating(
    schema,
    key,
    (c) => c.params,
    'The path params are invalid',
    key === 'params' ? 'params' : `params({ as: '${key}' })`,
  ) as unknown as Part<Conn, Conn<Params, { readonly [k in K]: Infer<S> }>>
}
