/**
 * Body decoders: Parts that check the request's media type, read its body under a limit, decode
 * it, and give it to the Parts after them as a typed `c.body`.
 *
 * @since 0.2.0
 */
import sjson from 'secure-json-parse'
import { type Assigns, type Conn, type Params, settingsOf, settingsWriter, update } from '../context/conn.js'
import {
  type Context,
  type Part,
  type Result,
  type Shape,
  isThenable,
  left,
  makeBuilder,
  part,
  right,
} from '../context/context.js'
import { badRequest, payloadTooLarge, problem, unprocessable, unsupportedMediaType } from '../context/rejection.js'
import { type MediaType, isTypePattern, isUtf8, requestMediaType, typeMatches } from '../internal/content-type.js'
import {
  type Check,
  type Checked,
  type CheckOptions,
  type Infer,
  type Schema,
  compileCheck,
} from '../internal/schema.js'
import { failure } from './compose.js'

/**
 * The limit of a body decoder that sets none, and that no `bodyLimit` above it set: 1 MiB.
 *
 * @example
 * import { DEFAULT_BODY_LIMIT } from 'sapwood'
 * DEFAULT_BODY_LIMIT // 1048576
 *
 * @category body
 * @since 0.2.0
 */
export const DEFAULT_BODY_LIMIT = 1_048_576

/**
 * Options of `jsonBody`.
 *
 * @category body
 * @since 0.2.0
 */
export interface JsonBodyOptions {
  /** The largest body read, in bytes; default: the `bodyLimit` above, else 1 MiB. */
  readonly limit?: number
  /** Coerce values to the schema's types (JSON Schema only; `'array'`: also a value to an array). Default off. */
  readonly coerce?: boolean | 'array'
  /** Ajv's `removeAdditional` (JSON Schema only). Default off: the body is checked, never silently changed. */
  readonly removeAdditional?: boolean | 'all' | 'failing'
  /** Fill in the schema's `default`s (JSON Schema only). Default off. */
  readonly useDefaults?: boolean
  /**
   * The deepest nesting of arrays and objects taken (`[[1]]` is 2 deep); a deeper body is a 400,
   * refused before it is parsed. Default 1000.
   */
  readonly maxDepth?: number
}

/**
 * Options of `textBody`.
 *
 * @category body
 * @since 0.2.0
 */
export interface TextBodyOptions {
  /** The largest body read, in bytes; default: the `bodyLimit` above, else 1 MiB. */
  readonly limit?: number
  /** The media type read: a type (`text/csv`) or all of a top-level type (`text/*`). Default `text/plain`. */
  readonly type?: string
}

/**
 * Options of `formBody`.
 *
 * @category body
 * @since 0.2.0
 */
export interface FormBodyOptions {
  /** The largest body read, in bytes; default: the `bodyLimit` above, else 1 MiB. */
  readonly limit?: number
  /** The most fields a form may have (a repeated name counts each time). Default 1000. */
  readonly maxFields?: number
}

/**
 * Options of `rawBody`.
 *
 * @category body
 * @since 0.2.0
 */
export interface RawBodyOptions {
  /** The largest body read, in bytes; default: the `bodyLimit` above, else 1 MiB. */
  readonly limit?: number
  /** The media types read (`image/*` allowed); default: any, and no Content-Type is needed. */
  readonly type?: string | readonly string[]
}

/**
 * Options of `bodyStream`.
 *
 * @category body
 * @since 0.2.0
 */
export interface BodyStreamOptions {
  /** The most bytes streamed; past it the stream throws `PayloadTooLargeError` (413). Default: no limit. */
  readonly limit?: number
}

/**
 * A decoded `application/x-www-form-urlencoded` body: each name once, a repeated name as an
 * array of its values in order; a null-prototype record, so a field cannot be an inherited key.
 *
 * @category body
 * @since 0.2.0
 */
export type FormFields = Record<string, string | string[]>

/** The Conn after a decoder: the body typed `B`, nothing else established. */
type Decoded<B> = Part<Conn, Conn<Params, Assigns, B>>

const OPAQUE: Shape = { _tag: 'Opaque' }

const checkLimit = (bytes: unknown, who: string, what = 'limit'): number => {
  if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes <= 0) {
    throw new RangeError(`sapwood: ${who}: the ${what} must be a positive whole number, not ${String(bytes)}`)
  }
  return bytes
}

const ownLimit = (bytes: number | undefined, who: string): number | undefined =>
  bytes === undefined ? undefined : checkLimit(bytes, who)

const limitOf = (c: Conn, own: number | undefined): number => own ?? settingsOf(c).bodyLimit ?? DEFAULT_BODY_LIMIT

const typeList = (type: string | readonly string[], who: string): readonly string[] => {
  const list = (typeof type === 'string' ? [type] : [...type]).map((t) => t.toLowerCase())
  if (list.length === 0) throw new TypeError(`sapwood: ${who}: the list of media types is empty`)
  for (const t of list) {
    if (!isTypePattern(t)) throw new TypeError(`sapwood: ${who}: "${t}" is not a media type`)
  }
  return Object.freeze(list)
}

// Fatal: a body that is not UTF-8 is refused rather than read with U+FFFD in it. One decoder
// serves every request: `decode` without `stream` keeps no state between calls.
const utf8 = new TextDecoder('utf-8', { fatal: true })

const NOT_UTF8 = left(badRequest('The body is not valid UTF-8'))

/** The body as text, or undefined when it is not UTF-8 (a leading BOM is dropped). */
const textOf = (bytes: Uint8Array): string | undefined => {
  try {
    return utf8.decode(bytes)
  } catch {
    return undefined
  }
}

/** Reads the whole body under the limit and goes on with `then`; a failed read is 413, 400 or 500. */
// One `then` on the read, not an async function: each await is a turn of the microtask queue.
const reading = (c: Conn, limit: number, then: (bytes: Uint8Array) => Result): PromiseLike<Context> =>
  c.source.read(limit).then(then, failure)

/** The Conn with its decoded body, or the 422 of a value the schema refuses. */
const settle = (c: Conn, checked: Checked<unknown>): Context =>
  checked.ok ? right(update(c, { body: checked.value })) : left(unprocessable(checked.errors))

/** The value checked by the schema, if any; a schema that throws (user code) is a failed handler. */
const validated = (c: Conn, value: unknown, check: Check<unknown> | undefined): Result => {
  if (check === undefined) return right(update(c, { body: value }))
  let checked: ReturnType<Check<unknown>>
  try {
    checked = check(value)
  } catch (error) {
    return failure(error)
  }
  return isThenable(checked) ? checked.then((r) => settle(c, r), failure) : settle(c, checked)
}

const schemaLabel = (who: string, schema: Schema | undefined): string =>
  schema === undefined ? `${who}()` : `${who}(schema)`

// ---------------------------------------------------------------------------------------------
// bodyLimit

/**
 * Sets the limit, in bytes, of the body decoders after it (those that set no `limit` of their
 * own): put it at the root for the whole app, or in a pipe for a subtree. Without it, decoders
 * read at most `DEFAULT_BODY_LIMIT` (1 MiB); `bodyStream` has no limit unless it sets one. A
 * limit that is not a positive whole number throws a RangeError when the Part is made.
 *
 * @example
 * import { bodyLimit, choose, pipe, post, path, jsonBody, handle, json } from 'sapwood'
 * const app = pipe(
 *   bodyLimit(64 * 1024),
 *   choose([pipe(post, path('/notes'), jsonBody(), handle((c) => json(c.body)))]),
 * )
 *
 * @category body
 * @since 0.2.0
 */
export const bodyLimit = (bytes: number): Part<Conn, Conn> => {
  const limit = checkLimit(bytes, `bodyLimit(${String(bytes)})`)
  return makeBuilder(
    settingsWriter((outer) => ({ ...outer, bodyLimit: limit })),
    `bodyLimit(${limit})`,
    'any',
    false,
  )
}

// ---------------------------------------------------------------------------------------------
// jsonBody

const NOT_JSON_TYPE = left(unsupportedMediaType(['application/json']))
const EMPTY_JSON = left(badRequest('The body is empty; a JSON value was expected'))
const NOT_JSON = left(badRequest('The body is not valid JSON'))
const POISONED = left(
  badRequest('The body has a "__proto__" or "constructor.prototype" key, which is refused (prototype poisoning)'),
)
const SECURE = { protoAction: 'error', constructorAction: 'error' } as const

// JSON.parse takes any depth (100,000 levels: ~60-100 ms of blocked event loop), but what is
// done with the value next recurses: on node 20's default stack JSON.stringify overflows past
// ~4,000 levels and structuredClone past ~2,000, and so would a recursive schema, a user's walk,
// a response that echoes the value. A client's deep value is refused here (400), by a scan
// before the parse; 1000 levels keeps that margin and is deeper than any document an API takes.
const DEFAULT_MAX_DEPTH = 1000

const tooDeep = (max: number): Context =>
  left(badRequest(`The body nests arrays and objects more than ${max} levels deep`))

const QUOTE = 0x22
const BACKSLASH = 0x5c

/** The index of the `"` that closes the JSON string opened at `open`, or the text's length. */
const stringEnd = (text: string, open: number): number => {
  let i = open
  for (;;) {
    i = text.indexOf('"', i + 1)
    if (i === -1) return text.length
    // escaped when an odd number of backslashes stands before it (each run is counted once)
    let b = i - 1
    while (text.charCodeAt(b) === BACKSLASH) b--
    if ((i - 1 - b) % 2 === 0) return i
  }
}

/**
 * True when a JSON text nests arrays and objects deeper than `max`. It stops at the first
 * bracket past `max`, so a 100,000-level body costs the scan of its first `max` characters.
 */
const textDeeperThan = (text: string, max: number): boolean => {
  // `max` levels of a valid text take 2 * max brackets: a shorter text is never too deep (and
  // a short invalid one is JSON.parse's to refuse), so small bodies skip the scan
  if (text.length <= 2 * max + 1) return false
  let depth = 0
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code === QUOTE) i = stringEnd(text, i)
    else if (code === 0x5b || code === 0x7b) {
      if (++depth > max) return true
    } else if (code === 0x5d || code === 0x7d) depth--
  }
  return false
}

/** True when a value (made by a parser in front of sapwood) nests deeper than `max`; no recursion. */
const valueDeeperThan = (value: unknown, max: number): boolean => {
  if (typeof value !== 'object' || value === null) return false
  const stack: unknown[] = [value]
  const depths: number[] = [1]
  while (stack.length > 0) {
    const node = stack.pop() as object
    const depth = depths.pop()!
    if (depth > max) return true
    for (const child of Object.values(node)) {
      if (typeof child === 'object' && child !== null) {
        stack.push(child)
        depths.push(depth + 1)
      }
    }
  }
  return false
}

/**
 * `application/json`, or an `application/…+json` type (RFC 6839), read as UTF-8 (RFC 8259 §8.1):
 * the rule of `contentType('application/json')`, so that a filter in front agrees with the decoder.
 */
const isJson = (media: MediaType | undefined): boolean =>
  media !== undefined && typeMatches('application/json', media.type) && isUtf8(media)

/** The value of a JSON text, or the 400 that refuses it. */
const parseJson = (text: string): { readonly value: unknown } | Context => {
  try {
    return { value: sjson.parse(text, null, SECURE) as unknown }
  } catch {
    // secure-json-parse throws a SyntaxError for both; what plain JSON.parse makes of the text
    // tells them apart without relying on its message
    try {
      JSON.parse(text)
    } catch {
      return NOT_JSON
    }
    return POISONED
  }
}

/** True when secure-json-parse finds a poisoning key in a value another parser made. */
const isPoisoned = (value: unknown): boolean => {
  if (typeof value !== 'object' || value === null) return false
  try {
    sjson.scan(value, SECURE)
    return false
  } catch {
    return true
  }
}

/**
 * Reads a JSON body (`application/json` or an `application/…+json` type, UTF-8) and sets
 * `c.body` to its value, checked by `schema` when one is given: a JSON Schema (TypeBox's `Type.*`
 * types `c.body`) compiled once, here, with Ajv, or a Standard Schema (zod, valibot, ArkType). It
 * answers:
 * - 415 when the Content-Type is missing, malformed, not JSON, or names a charset other than UTF-8;
 * - 413 past the limit (at once when the declared Content-Length is over it, without reading);
 * - 400 when the body is empty, not UTF-8, not JSON, nests arrays and objects deeper than
 *   `maxDepth` (default 1000; checked before the parse, so a 100,000-level body costs next to
 *   nothing), or has a `__proto__` or `constructor.prototype` key (secure-json-parse refuses
 *   them: prototype poisoning);
 * - 422 with every field error (`errors: [{ path, message }]`) when the schema refuses the value:
 *   the content was read and understood but says something wrong (RFC 9110 §15.5.21), whereas a
 *   body that does not parse is malformed, 400.
 *
 * The bytes are read once and kept, and each decoder parses them anew: with `coerce`,
 * `removeAdditional` or `useDefaults` Ajv changes the value it checks, and the next option of a
 * `choose` still gets the client's value. When a parser in front of sapwood has read the body
 * already (Express's `express.json()`), its value is taken as it is (copied first when the
 * options would change it), checked for poisoning keys and by the schema, without a read.
 *
 * @example
 * import { pipe, post, path, jsonBody, handle, json } from 'sapwood'
 * import { Type } from '@sinclair/typebox'
 * const Note = Type.Object({ text: Type.String({ minLength: 1 }) })
 * pipe(post, path('/notes'), jsonBody(Note), handle((c) => json({ saved: c.body.text })))
 * pipe(post, path('/echo'), jsonBody(undefined, { limit: 4096 }), handle((c) => json(c.body)))
 *
 * @category body
 * @since 0.2.0
 */
export function jsonBody(schema?: undefined, options?: JsonBodyOptions): Decoded<unknown>
export function jsonBody<S extends Schema>(schema: S, options?: JsonBodyOptions): Decoded<Infer<S>>
export function jsonBody(schema?: Schema, options: JsonBodyOptions = {}): Decoded<unknown> {
  const own = ownLimit(options.limit, 'jsonBody')
  const checkOptions: CheckOptions = {
    ...(options.coerce === undefined ? {} : { coerce: options.coerce }),
    ...(options.removeAdditional === undefined ? {} : { removeAdditional: options.removeAdditional }),
    ...(options.useDefaults === undefined ? {} : { useDefaults: options.useDefaults }),
  }
  const check = schema === undefined ? undefined : compileCheck(schema, checkOptions)
  const maxDepth =
    options.maxDepth === undefined ? DEFAULT_MAX_DEPTH : checkLimit(options.maxDepth, 'jsonBody', 'maxDepth')
  const deep = tooDeep(maxDepth)
  // A value that a parser in front made is shared by every reader: copied when Ajv may change it.
  const changes =
    check !== undefined &&
    (Boolean(options.coerce) || Boolean(options.removeAdditional) || options.useDefaults === true)
  const decode =
    (c: Conn) =>
    (bytes: Uint8Array): Result => {
      if (bytes.byteLength === 0) return EMPTY_JSON
      const text = textOf(bytes)
      if (text === undefined) return NOT_UTF8
      if (textDeeperThan(text, maxDepth)) return deep
      const parsed = parseJson(text)
      return 'value' in parsed ? validated(c, parsed.value, check) : parsed
    }
  return part(
    (c: Conn): Result => {
      if (!isJson(requestMediaType(c))) return NOT_JSON_TYPE
      const before = c.source.parsed
      if (before !== undefined) {
        if (valueDeeperThan(before, maxDepth)) return deep
        if (isPoisoned(before)) return POISONED
        let value = before
        if (changes) {
          try {
            value = structuredClone(before)
          } catch (error) {
            return failure(error)
          }
        }
        return validated(c, value, check)
      }
      return reading(c, limitOf(c, own), decode(c))
    },
    OPAQUE,
    schemaLabel('jsonBody', schema),
  )
}

// ---------------------------------------------------------------------------------------------
// textBody

/**
 * Reads a text body (`text/plain` unless `type` says another type, or `text/*`) and sets `c.body`
 * to it as a string. Only UTF-8 is read: a charset other than UTF-8, or a missing or malformed
 * Content-Type, is 415; bytes that are not UTF-8 are 400; past the limit, 413.
 *
 * @example
 * import { pipe, post, path, textBody, handle, ok } from 'sapwood'
 * pipe(post, path('/shout'), textBody(), handle((c) => ok(c.body.toUpperCase())))
 * pipe(post, path('/csv'), textBody({ type: 'text/csv', limit: 10_000 }), handle((c) => ok(`${c.body.length}`)))
 *
 * @category body
 * @since 0.2.0
 */
export const textBody = (options: TextBodyOptions = {}): Decoded<string> => {
  const own = ownLimit(options.limit, 'textBody')
  const [want] = typeList(options.type ?? 'text/plain', 'textBody') as [string]
  const wrongType = left(unsupportedMediaType([want]))
  const decode =
    (c: Conn) =>
    (bytes: Uint8Array): Result => {
      const text = textOf(bytes)
      return text === undefined ? NOT_UTF8 : right(update(c, { body: text }))
    }
  return part(
    (c: Conn): Result => {
      const media = requestMediaType(c)
      if (media === undefined || !typeMatches(want, media.type) || !isUtf8(media)) return wrongType
      return reading(c, limitOf(c, own), decode(c))
    },
    OPAQUE,
    `textBody('${want}')`,
  ) as unknown as Decoded<string>
}

// ---------------------------------------------------------------------------------------------
// formBody

const FORM = 'application/x-www-form-urlencoded'
const NOT_FORM_TYPE = left(unsupportedMediaType([FORM]))

/**
 * Reads an `application/x-www-form-urlencoded` body (UTF-8) into a null-prototype record of its
 * fields (`FormFields`: a repeated name gives an array) and sets `c.body` to it, or to the value
 * `schema` makes of it: the schema is compiled once, with strings coerced to its types (`"2"` to
 * `2`, `"true"` to `true`, one value to an array and back), and a refused form is 422 with every
 * field error. A missing, malformed or other Content-Type is 415; past the limit, 413; bytes that
 * are not UTF-8, 400.
 *
 * A form with more than `maxFields` fields is refused with 413, as body-parser does: the form is
 * well-formed (not a 400), only larger than the server will take, which is what 413 says (RFC
 * 9110 §15.5.14), counted in fields rather than bytes.
 *
 * @example
 * import { pipe, post, path, formBody, handle, json } from 'sapwood'
 * import { Type } from '@sinclair/typebox'
 * const Login = Type.Object({ user: Type.String(), remember: Type.Boolean() })
 * pipe(post, path('/login'), formBody(Login), handle((c) => json({ user: c.body.user, remember: c.body.remember })))
 * pipe(post, path('/search'), formBody(undefined, { maxFields: 20 }), handle((c) => json(c.body['q'] ?? null)))
 *
 * @category body
 * @since 0.2.0
 */
export function formBody(schema?: undefined, options?: FormBodyOptions): Decoded<FormFields>
export function formBody<S extends Schema>(schema: S, options?: FormBodyOptions): Decoded<Infer<S>>
export function formBody(schema?: Schema, options: FormBodyOptions = {}): Decoded<unknown> {
  const own = ownLimit(options.limit, 'formBody')
  const maxFields = options.maxFields === undefined ? 1000 : checkLimit(options.maxFields, 'formBody', 'maxFields')
  const check = schema === undefined ? undefined : compileCheck(schema, { coerce: 'array', useDefaults: true })
  const tooMany: Context = left(
    problem({ status: 413, title: 'Payload Too Large', detail: `The form has more than ${maxFields} fields` }),
  )
  const decode =
    (c: Conn) =>
    (bytes: Uint8Array): Result => {
      const text = textOf(bytes)
      if (text === undefined) return NOT_UTF8
      const fields = Object.create(null) as FormFields
      let count = 0
      for (const [name, value] of new URLSearchParams(text)) {
        if (++count > maxFields) return tooMany
        const seen = fields[name]
        if (seen === undefined) fields[name] = value
        else if (typeof seen === 'string') fields[name] = [seen, value]
        else seen.push(value)
      }
      return validated(c, fields, check)
    }
  return part(
    (c: Conn): Result => {
      const media = requestMediaType(c)
      if (media === undefined || media.type !== FORM || !isUtf8(media)) return NOT_FORM_TYPE
      return reading(c, limitOf(c, own), decode(c))
    },
    OPAQUE,
    schemaLabel('formBody', schema),
  )
}

// ---------------------------------------------------------------------------------------------
// rawBody

/**
 * Reads the body as bytes and sets `c.body` to them (a `Uint8Array`, shared with any other reader
 * of the same request: read it, do not change it). The Content-Type is checked only when `type`
 * names the types read (`image/*` allowed): then a missing, malformed or other one is 415. Past
 * the limit, 413.
 *
 * @example
 * import { pipe, put, path, rawBody, handle, json } from 'sapwood'
 * const image = rawBody({ type: ['image/png', 'image/jpeg'], limit: 2_000_000 })
 * pipe(put, path('/avatar'), image, handle((c) => json({ size: c.body.byteLength })))
 *
 * @category body
 * @since 0.2.0
 */
export const rawBody = (options: RawBodyOptions = {}): Decoded<Uint8Array> => {
  const own = ownLimit(options.limit, 'rawBody')
  const types = options.type === undefined ? undefined : typeList(options.type, 'rawBody')
  const wrongType = left(unsupportedMediaType(types ?? []))
  const decode =
    (c: Conn) =>
    (bytes: Uint8Array): Result =>
      right(update(c, { body: bytes }))
  return part(
    (c: Conn): Result => {
      if (types !== undefined) {
        const media = requestMediaType(c)
        if (media === undefined || !types.some((t) => typeMatches(t, media.type))) return wrongType
      }
      return reading(c, limitOf(c, own), decode(c))
    },
    OPAQUE,
    types === undefined ? 'rawBody()' : `rawBody('${types.join("', '")}')`,
  ) as unknown as Decoded<Uint8Array>
}

// ---------------------------------------------------------------------------------------------
// bodyStream

/**
 * Sets `c.body` to the body as it arrives, chunk by chunk (`for await (const chunk of c.body)`),
 * none of it kept: for uploads of any size. No limit unless `limit` sets one (`bodyLimit` does
 * not apply): a declared Content-Length over it is 413 at once, and a stream that goes past it
 * throws `PayloadTooLargeError`, which `handle` answers with 413. A client that leaves mid-upload
 * makes the stream throw `BodyAbortedError` (400, not logged).
 *
 * @example
 * import { pipe, put, path, bodyStream, handle, json } from 'sapwood'
 * pipe(put, path('/upload'), bodyStream(), handle(async (c) => {
 *   let size = 0
 *   for await (const chunk of c.body) size += chunk.byteLength
 *   return json({ size })
 * }))
 *
 * @category body
 * @since 0.2.0
 */
export const bodyStream = (options: BodyStreamOptions = {}): Decoded<AsyncIterable<Uint8Array>> => {
  const limit = ownLimit(options.limit, 'bodyStream')
  const tooLarge = left(payloadTooLarge(limit ?? Infinity))
  return part(
    (c: Conn): Result => {
      const declared = c.source.length
      if (limit !== undefined && declared !== undefined && declared > limit) return tooLarge
      return right(update(c, { body: c.source.stream(limit) }))
    },
    OPAQUE,
    limit === undefined ? 'bodyStream()' : `bodyStream(${limit})`,
  ) as unknown as Decoded<AsyncIterable<Uint8Array>>
}
