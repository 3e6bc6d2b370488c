// Schemas of request values (bodies, query, params): a JSON Schema compiled once with Ajv, or any
// Standard Schema validator (zod, valibot, ArkType), behind one `Check` that the decoders call.
import type { StandardSchemaV1 } from '@standard-schema/spec'
import {
  Ajv,
  type AsyncValidateFunction,
  type ErrorObject,
  type Options as AjvOptions,
  type ValidateFunction,
  ValidationError,
} from 'ajv'
import addFormats from 'ajv-formats'
import type { FieldError } from '../context/rejection.js'

/** A JSON Schema (TypeBox's schemas are JSON Schemas too). */
export type JsonSchema = Readonly<Record<string, unknown>>

/**
 * What a validating combinator accepts: a JSON Schema (a plain object, or TypeBox's `Type.*`)
 * or a Standard Schema validator (zod 4, valibot, ArkType, ...).
 */
export type Schema = JsonSchema | StandardSchemaV1

/**
 * The type of the values a schema accepts: a Standard Schema's output type, TypeBox's static
 * type, `unknown` for a plain JSON Schema (pass a TypeBox schema to get a type).
 */
export type Infer<S> =
  S extends StandardSchemaV1<unknown, infer O> ? O : S extends { readonly static: infer T } ? T : unknown

/** The outcome of checking a value. */
export type Checked<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly errors: FieldError[] }

/** A compiled schema: checks (and, where asked, coerces) a value. Synchronous unless a Standard Schema is async. */
export type Check<T> = (value: unknown) => Checked<T> | Promise<Checked<T>>

/** How Ajv treats the value (JSON Schema only; a Standard Schema decides itself). */
export interface CheckOptions {
  /** Coerce strings to the schema's types (`'array'`: also a single value to an array). Default off. */
  readonly coerce?: boolean | 'array'
  /** Ajv's `removeAdditional`. Default off: a value is checked, never silently changed. */
  readonly removeAdditional?: boolean | 'all' | 'failing'
  /** Ajv's `useDefaults`. Default off. */
  readonly useDefaults?: boolean
}

const ajvs = new Map<string, Ajv>()

/** One Ajv per set of options, made on first use and shared: compiling is what costs. */
const ajvFor = (options: CheckOptions): Ajv => {
  const key = `${String(options.coerce ?? false)}|${String(options.removeAdditional ?? false)}|${String(options.useDefaults ?? false)}`
  let ajv = ajvs.get(key)
  if (ajv === undefined) {
    const init: AjvOptions = {
      allErrors: true,
      strict: false,
      coerceTypes: options.coerce ?? false,
      removeAdditional: options.removeAdditional ?? false,
      useDefaults: options.useDefaults ?? false,
      // A parsed JSON body is a plain object: without this, `required: ['constructor']` is met by
      // the inherited function and an optional `toString` is checked against it (a 422 for `{}`)
      ownProperties: true,
    }
    ajv = new Ajv(init)
    ;(addFormats as unknown as (a: Ajv) => Ajv)(ajv)
    ajvs.set(key, ajv)
  }
  return ajv
}

const pointerEscape = (key: string): string => key.replace(/~/g, '~0').replace(/\//g, '~1')

// Partial: an async schema's ValidationError types its errors so.
const fromAjv = (error: Partial<ErrorObject>): FieldError => {
  const p = (error.params ?? {}) as { missingProperty?: string; additionalProperty?: string }
  const child = p.missingProperty ?? p.additionalProperty
  const at = error.instancePath ?? ''
  return {
    path: child === undefined ? at : `${at}/${pointerEscape(child)}`,
    message: error.message ?? 'is invalid',
  }
}

const fromIssue = (issue: StandardSchemaV1.Issue): FieldError => ({
  path: (issue.path ?? []).map((seg) => `/${pointerEscape(String(typeof seg === 'object' ? seg.key : seg))}`).join(''),
  message: issue.message,
})

/**
 * Ajv keeps every schema with an `$id` and refuses a second one with that `$id`: the same schema
 * made again (a TypeBox schema built by a function that an app, or each test, calls) gets the
 * validator compiled the first time; a different schema with that `$id` still fails to compile.
 */
const compileOnce = (ajv: Ajv, schema: JsonSchema): ValidateFunction => {
  const id = schema['$id']
  if (typeof id === 'string') {
    const known = ajv.getSchema(id)
    if (known !== undefined && known.schema !== schema && JSON.stringify(known.schema) === JSON.stringify(schema)) {
      return known
    }
  }
  return ajv.compile(schema)
}

/** True when `schema` is a Standard Schema validator rather than a JSON Schema. */
export const isStandard = (schema: Schema): schema is StandardSchemaV1 =>
  typeof (schema as { '~standard'?: unknown })['~standard'] === 'object'

/**
 * Compiles `schema` once into a Check. A JSON Schema that Ajv cannot compile throws here, when
 * the tree is built, never on a request.
 */
export const compileCheck = <S extends Schema>(schema: S, options: CheckOptions = {}): Check<Infer<S>> => {
  if (isStandard(schema)) {
    const std = schema['~standard']
    const settle = (r: StandardSchemaV1.Result<unknown>): Checked<Infer<S>> =>
      r.issues === undefined ? { ok: true, value: r.value as Infer<S> } : { ok: false, errors: r.issues.map(fromIssue) }
    return (value) => {
      const r = std.validate(value)
      return r instanceof Promise ? r.then(settle) : settle(r)
    }
  }
  let validate: ValidateFunction
  try {
    validate = compileOnce(ajvFor(options), schema)
  } catch (error) {
    throw new TypeError(`sapwood: the JSON Schema does not compile: ${(error as Error).message}`, { cause: error })
  }
  if ((validate as Partial<AsyncValidateFunction>).$async === true) {
    // `$async: true`: Ajv answers with a promise, which rejects with the errors
    const run = validate as unknown as AsyncValidateFunction
    return (value) =>
      run(value).then(
        (): Checked<Infer<S>> => ({ ok: true, value: value as Infer<S> }),
        (error: unknown): Checked<Infer<S>> => {
          if (error instanceof ValidationError) return { ok: false, errors: error.errors.map(fromAjv) }
          throw error
        },
      )
  }
  return (value) =>
    validate(value)
      ? { ok: true, value: value as Infer<S> }
      : { ok: false, errors: (validate.errors ?? []).map(fromAjv) }
}
