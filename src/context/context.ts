/**
 * Context and Part: the Either that flows through the tree, and the functions that make it.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Conn, Params } from './conn.js'
import { type Rejection, handlerFailed } from './rejection.js'

/**
 * Right: go on with this Conn (Sap's `:ok`). Left: this branch is out, with the reason.
 *
 * @category model
 * @since 0.1.0
 */
export type Context<C = Conn> = E.Either<Rejection, C>

/**
 * What a Part returns: a Context, or a promise of one when the Part had to wait.
 *
 * @category model
 * @since 0.1.0
 */
export type Result<C = Conn> = Context<C> | PromiseLike<Context<C>>

/**
 * What matching a path pattern against the unconsumed path gives: the params and what is still
 * to match, or why not: `miss`, or `bad-url` for a malformed path (a broken percent-escape, bytes
 * that are not UTF-8, overlong forms included, an escaped NUL, or an empty segment `//`), which a
 * path filter answers with 400. A param longer than find-my-way's 100 characters is a `miss`; the
 * app as a whole answers 414 for it (see `respond`).
 *
 * @category model
 * @since 0.1.0
 */
export type PathMatch = { readonly params: Params; readonly rest: string } | 'miss' | 'bad-url'

/**
 * The static description of a Part that the compiler and the 405 look-ahead read:
 * - `Pure`: never rejects and never touches method or path (builders);
 * - `Guard`: may reject, never rewrites method, path or params (`header`, `accepts`, ...);
 *   `reads` tells whether it may look at more than headers and query (a user `filter` may read
 *   params and the rest of the path), `throws` whether it runs user code that may throw;
 * - `Opaque`: anything else (`handle`, body decoders);
 * - `Method`, `Path`: the two filters the trie can decide;
 * - `Seq`, `Choose`, `Recover`, `Decorate`: composition, with the composed Parts.
 *
 * @category model
 * @since 0.1.0
 */
export type Shape =
  | {
      readonly _tag: 'Pure'
      /** The builder's change to the Conn, for the compiler to call without wrapping it in a Right. */
      readonly apply: (conn: Conn) => Conn
      /**
       * `response`: it reads and writes only status, response headers and body, so the compiler
       * may draft its response once, ahead of any request. `any`: it may read anything.
       */
      readonly reads: 'response' | 'any'
      /** It may throw (user code): the compiler then runs it once per request, never per leaf. */
      readonly throws: boolean
    }
  | {
      readonly _tag: 'Guard'
      readonly reads: 'request' | 'any'
      /** The guard's question and its answer when it fails, for the compiler to ask directly. */
      readonly test: (conn: Conn) => boolean
      readonly rejection: Rejection
      /** It may throw (user code): the compiler then runs it once per request, never per leaf. */
      readonly throws: boolean
    }
  | { readonly _tag: 'Opaque' }
  | { readonly _tag: 'Method'; readonly methods: readonly string[] }
  | {
      readonly _tag: 'Path'
      readonly pattern: string
      readonly mode: 'exact' | 'prefix'
      readonly match: (rest: string) => PathMatch
      /** Where the filter was made (`file:line:column`), formatted on demand. */
      readonly declared: () => string
    }
  | { readonly _tag: 'Seq'; readonly parts: readonly Part<never, unknown>[] }
  | { readonly _tag: 'Choose'; readonly options: readonly Part<never, unknown>[] }
  | {
      readonly _tag: 'Recover'
      readonly part: Part<never, unknown>
      readonly onLeft: (rejection: Rejection, conn: Conn) => Result
    }
  | {
      readonly _tag: 'Decorate'
      readonly part: Part<never, unknown>
      /** Answers a request before the tree runs (a CORS preflight), or says nothing. */
      readonly early: ((request: Conn) => Conn | undefined) | undefined
      /** Shapes an answer; at the root of an app, every answer (rejections included). */
      readonly finish: (answer: Conn, request: Conn) => Conn
    }

/**
 * A combinator: a plain function from a Conn to a Context, with its static `shape`.
 * Call it on a test Conn to unit-test a branch.
 *
 * @example
 * import { get, type Context } from 'sapwood'
 * import { conn } from 'sapwood/testing'
 * const r = get(conn('GET', '/')) as Context // synchronous: r._tag === 'Right'
 *
 * @category model
 * @since 0.1.0
 */
export interface Part<I = Conn, O = I> {
  (conn: I): Result<O>
  readonly shape: Shape
  /** How `routes` and `explain` name this Part, e.g. `path('/users/:id')`. */
  readonly label: string
}

/**
 * Attaches a shape to a function, making it a Part.
 *
 *
 * @example
 * import { part, right, type Conn } from 'sapwood'
 * const always = part((c: Conn) => right(c), { _tag: 'Opaque' }, 'always')
 *
 * @category constructors
 * @since 0.1.0
 */
export const part = <I extends Conn = Conn, O extends Conn = I>(
  fn: (conn: I) => Result<O>,
  shape: Shape,
  label: string = fn.name || 'part',
): Part<I, O> => {
  // Plain assignment, not defineProperties: handlers make Parts per request (`ok(...)`), and a
  // property definition costs about ten times more (short param route: 835 → ... ns).
  const p = fn as ((conn: I) => Result<O>) & { shape: Shape; label: string }
  p.shape = shape
  p.label = label
  return p
}

/**
 * Makes a builder: a Part that never rejects, from its change to the Conn. Say `reads:
 * 'response'` only when `apply` reads and writes nothing but status, response headers and body.
 *
 * @example
 * import { builder, update } from 'sapwood'
 * const teapot = builder((c) => update(c, { status: 418 }), 'teapot', 'response')
 *
 * @category constructors
 * @since 0.1.0
 */
export const builder = (
  apply: (conn: Conn) => Conn,
  label: string,
  reads: 'response' | 'any' = 'any',
): Part<Conn, Conn> => makeBuilder(apply, label, reads, true)

/**
 * @internal A builder whose function may throw (a user's: a throw is a failed handler, as in a
 * `handle`) or may not (sapwood's own, called without a try).
 */
export const makeBuilder = (
  apply: (conn: Conn) => Conn,
  label: string,
  reads: 'response' | 'any',
  throws: boolean,
): Part<Conn, Conn> =>
  part(
    throws
      ? (c: Conn) => {
          try {
            return { _tag: 'Right', right: apply(c) }
          } catch (error) {
            return { _tag: 'Left', left: handlerFailed(error) }
          }
        }
      : (c: Conn) => ({ _tag: 'Right', right: apply(c) }),
    { _tag: 'Pure', apply, reads, throws },
    label,
  )

/** @internal True when a Result is a promise (a Part had to wait); Parts stay synchronous otherwise. */
export const isThenable = <A>(u: A | PromiseLike<A>): u is PromiseLike<A> =>
  typeof (u as { then?: unknown } | null)?.then === 'function'

/** Right with the Conn. @internal */
export const right: <C>(c: C) => Context<C> = E.right
/** Left with the rejection: fits a Context of any Conn type. @internal */
export const left: (r: Rejection) => Context<never> = E.left
