/**
 * Composition: `pipe` (Sap's `~>>`), `choose`, `handle` and `recover`.
 *
 * @since 0.1.0
 */
import { BodyAbortedError, PayloadTooLargeError } from '../context/body-source.js'
import { type Conn, isConn } from '../context/conn.js'
import type {
  After1,
  After2,
  After3,
  After4,
  After5,
  After6,
  After7,
  After8,
  After9,
  After10,
  After11,
  After12,
  After13,
  After14,
  After15,
  After16,
  Pending,
} from '../internal/params.js'
import { type Context, type Part, type Result, type Shape, isThenable, left, part, right } from '../context/context.js'
import { type Rejection, badRequest, handlerFailed, payloadTooLarge } from '../context/rejection.js'
import { type Candidate, MISSED, gather, isFatal, refuse, settleStep } from '../context/ranking.js'

type AnyPart = Part<never, unknown>
type Run = (c: Conn) => Result

// ---------------------------------------------------------------------------------------------
// pipe

const seq = (parts: readonly AnyPart[]): Run => {
  const runs = parts as unknown as readonly Run[]
  const n = runs.length
  // Stays synchronous until a Part returns a thenable, then awaits once per such Part
  // (a Promise per Part costs 3 to 7 % of a hello world).
  const run = (c: Conn, from: number): Result => {
    for (let i = from; i < n; i++) {
      const r = runs[i]!(c)
      if (isThenable(r)) {
        const given = c
        return r.then((ctx) => (ctx._tag === 'Right' ? run(ctx.right, i + 1) : settleStep(ctx, given, parts, i)))
      }
      if (r._tag === 'Left') return settleStep(r, c, parts, i)
      // the last step's Right is the pipe's: no new one
      if (i === n - 1) return r
      c = r.right
    }
    return right(c)
  }
  return (c) => run(c, 0)
}

// `I`, the pipe's input, comes from where the pipe is used (e.g. the options of a `choose` after
// a `prefix`), and is `A`, what the first Part needs, when nothing says more. `Pending` (see
// there) lets TypeScript's first look at the call pass a Part that needs params.
/**
 * Sap's `~>>`: runs the Parts in order while they say Right; the first Left ends the branch.
 *
 * Types flow through it: each Part is given the params and assigns that the Parts before it
 * established, and those the tree above the pipe established (a `prefix` before the `choose`
 * the pipe is an option of, say); the output adds what the pipe's own Parts establish. A Part
 * that needs more than it is given (a handler typed `(c: Conn<{ id: string }>) => ...` after a
 * path without `:id`) is a type error. Up to 16 Parts are typed so; more are accepted as plain
 * Conn Parts.
 *
 * @example
 * import { pipe, get, path, ok } from 'sapwood'
 * const hello = pipe(get, path('/hello'), ok('hello'))
 *
 * @category composition
 * @since 0.1.0
 */
export function pipe<A extends Conn, O1 extends Conn = Pending, I extends A = A>(
  p1: Part<A, O1>,
): Part<I, After1<I, O1>>
export function pipe<A extends Conn, O1 extends Conn = Pending, O2 extends Conn = Pending, I extends A = A>(
  p1: Part<A, O1>,
  p2: Part<After1<I, O1>, O2>,
): Part<I, After2<I, O1, O2>>
export function pipe<
  A extends Conn,
  O1 extends Conn = Pending,
  O2 extends Conn = Pending,
  O3 extends Conn = Pending,
  I extends A = A,
>(p1: Part<A, O1>, p2: Part<After1<I, O1>, O2>, p3: Part<After2<I, O1, O2>, O3>): Part<I, After3<I, O1, O2, O3>>
export function pipe<
  A extends Conn,
  O1 extends Conn = Pending,
  O2 extends Conn = Pending,
  O3 extends Conn = Pending,
  O4 extends Conn = Pending,
  I extends A = A,
>(
  p1: Part<A, O1>,
  p2: Part<After1<I, O1>, O2>,
  p3: Part<After2<I, O1, O2>, O3>,
  p4: Part<After3<I, O1, O2, O3>, O4>,
): Part<I, After4<I, O1, O2, O3, O4>>
export function pipe<
  A extends Conn,
  O1 extends Conn = Pending,
  O2 extends Conn = Pending,
  O3 extends Conn = Pending,
  O4 extends Conn = Pending,
  O5 extends Conn = Pending,
  I extends A = A,
>(
  p1: Part<A, O1>,
  p2: Part<After1<I, O1>, O2>,
  p3: Part<After2<I, O1, O2>, O3>,
  p4: Part<After3<I, O1, O2, O3>, O4>,
  p5: Part<After4<I, O1, O2, O3, O4>, O5>,
): Part<I, After5<I, O1, O2, O3, O4, O5>>
export function pipe<
  A extends Conn,
  O1 extends Conn = Pending,
  O2 extends Conn = Pending,
  O3 extends Conn = Pending,
  O4 extends Conn = Pending,
  O5 extends Conn = Pending,
  O6 extends Conn = Pending,
  I extends A = A,
>(
  p1: Part<A, O1>,
  p2: Part<After1<I, O1>, O2>,
  p3: Part<After2<I, O1, O2>, O3>,
  p4: Part<After3<I, O1, O2, O3>, O4>,
  p5: Part<After4<I, O1, O2, O3, O4>, O5>,
  p6: Part<After5<I, O1, O2, O3, O4, O5>, O6>,
): Part<I, After6<I, O1, O2, O3, O4, O5, O6>>
export function pipe<
  A extends Conn,
  O1 extends Conn = Pending,
  O2 extends Conn = Pending,
  O3 extends Conn = Pending,
  O4 extends Conn = Pending,
  O5 extends Conn = Pending,
  O6 extends Conn = Pending,
  O7 extends Conn = Pending,
  I extends A = A,
>(
  p1: Part<A, O1>,
  p2: Part<After1<I, O1>, O2>,
  p3: Part<After2<I, O1, O2>, O3>,
  p4: Part<After3<I, O1, O2, O3>, O4>,
  p5: Part<After4<I, O1, O2, O3, O4>, O5>,
  p6: Part<After5<I, O1, O2, O3, O4, O5>, O6>,
  p7: Part<After6<I, O1, O2, O3, O4, O5, O6>, O7>,
): Part<I, After7<I, O1, O2, O3, O4, O5, O6, O7>>
export function pipe<
  A extends Conn,
  O1 extends Conn = Pending,
  O2 extends Conn = Pending,
  O3 extends Conn = Pending,
  O4 extends Conn = Pending,
  O5 extends Conn = Pending,
  O6 extends Conn = Pending,
  O7 extends Conn = Pending,
  O8 extends Conn = Pending,
  I extends A = A,
>(
  p1: Part<A, O1>,
  p2: Part<After1<I, O1>, O2>,
  p3: Part<After2<I, O1, O2>, O3>,
  p4: Part<After3<I, O1, O2, O3>, O4>,
  p5: Part<After4<I, O1, O2, O3, O4>, O5>,
  p6: Part<After5<I, O1, O2, O3, O4, O5>, O6>,
  p7: Part<After6<I, O1, O2, O3, O4, O5, O6>, O7>,
  p8: Part<After7<I, O1, O2, O3, O4, O5, O6, O7>, O8>,
): Part<I, After8<I, O1, O2, O3, O4, O5, O6, O7, O8>>
export function pipe<
  A extends Conn,
  O1 extends Conn = Pending,
  O2 extends Conn = Pending,
  O3 extends Conn = Pending,
  O4 extends Conn = Pending,
  O5 extends Conn = Pending,
  O6 extends Conn = Pending,
  O7 extends Conn = Pending,
  O8 extends Conn = Pending,
  O9 extends Conn = Pending,
  I extends A = A,
>(
  p1: Part<A, O1>,
  p2: Part<After1<I, O1>, O2>,
  p3: Part<After2<I, O1, O2>, O3>,
  p4: Part<After3<I, O1, O2, O3>, O4>,
  p5: Part<After4<I, O1, O2, O3, O4>, O5>,
  p6: Part<After5<I, O1, O2, O3, O4, O5>, O6>,
  p7: Part<After6<I, O1, O2, O3, O4, O5, O6>, O7>,
  p8: Part<After7<I, O1, O2, O3, O4, O5, O6, O7>, O8>,
  p9: Part<After8<I, O1, O2, O3, O4, O5, O6, O7, O8>, O9>,
): Part<I, After9<I, O1, O2, O3, O4, O5, O6, O7, O8, O9>>
export function pipe<
  A extends Conn,
  O1 extends Conn = Pending,
  O2 extends Conn = Pending,
  O3 extends Conn = Pending,
  O4 extends Conn = Pending,
  O5 extends Conn = Pending,
  O6 extends Conn = Pending,
  O7 extends Conn = Pending,
  O8 extends Conn = Pending,
  O9 extends Conn = Pending,
  O10 extends Conn = Pending,
  I extends A = A,
>(
  p1: Part<A, O1>,
  p2: Part<After1<I, O1>, O2>,
  p3: Part<After2<I, O1, O2>, O3>,
  p4: Part<After3<I, O1, O2, O3>, O4>,
  p5: Part<After4<I, O1, O2, O3, O4>, O5>,
  p6: Part<After5<I, O1, O2, O3, O4, O5>, O6>,
  p7: Part<After6<I, O1, O2, O3, O4, O5, O6>, O7>,
  p8: Part<After7<I, O1, O2, O3, O4, O5, O6, O7>, O8>,
  p9: Part<After8<I, O1, O2, O3, O4, O5, O6, O7, O8>, O9>,
  p10: Part<After9<I, O1, O2, O3, O4, O5, O6, O7, O8, O9>, O10>,
): Part<I, After10<I, O1, O2, O3, O4, O5, O6, O7, O8, O9, O10>>
export function pipe<
  A extends Conn,
  O1 extends Conn = Pending,
  O2 extends Conn = Pending,
  O3 extends Conn = Pending,
  O4 extends Conn = Pending,
  O5 extends Conn = Pending,
  O6 extends Conn = Pending,
  O7 extends Conn = Pending,
  O8 extends Conn = Pending,
  O9 extends Conn = Pending,
  O10 extends Conn = Pending,
  O11 extends Conn = Pending,
  I extends A = A,
>(
  p1: Part<A, O1>,
  p2: Part<After1<I, O1>, O2>,
  p3: Part<After2<I, O1, O2>, O3>,
  p4: Part<After3<I, O1, O2, O3>, O4>,
  p5: Part<After4<I, O1, O2, O3, O4>, O5>,
  p6: Part<After5<I, O1, O2, O3, O4, O5>, O6>,
  p7: Part<After6<I, O1, O2, O3, O4, O5, O6>, O7>,
  p8: Part<After7<I, O1, O2, O3, O4, O5, O6, O7>, O8>,
  p9: Part<After8<I, O1, O2, O3, O4, O5, O6, O7, O8>, O9>,
  p10: Part<After9<I, O1, O2, O3, O4, O5, O6, O7, O8, O9>, O10>,
  p11: Part<After10<I, O1, O2, O3, O4, O5, O6, O7, O8, O9, O10>, O11>,
): Part<I, After11<I, O1, O2, O3, O4, O5, O6, O7, O8, O9, O10, O11>>
export function pipe<
  A extends Conn,
  O1 extends Conn = Pending,
  O2 extends Conn = Pending,
  O3 extends Conn = Pending,
  O4 extends Conn = Pending,
  O5 extends Conn = Pending,
  O6 extends Conn = Pending,
  O7 extends Conn = Pending,
  O8 extends Conn = Pending,
  O9 extends Conn = Pending,
  O10 extends Conn = Pending,
  O11 extends Conn = Pending,
  O12 extends Conn = Pending,
  I extends A = A,
>(
  p1: Part<A, O1>,
  p2: Part<After1<I, O1>, O2>,
  p3: Part<After2<I, O1, O2>, O3>,
  p4: Part<After3<I, O1, O2, O3>, O4>,
  p5: Part<After4<I, O1, O2, O3, O4>, O5>,
  p6: Part<After5<I, O1, O2, O3, O4, O5>, O6>,
  p7: Part<After6<I, O1, O2, O3, O4, O5, O6>, O7>,
  p8: Part<After7<I, O1, O2, O3, O4, O5, O6, O7>, O8>,
  p9: Part<After8<I, O1, O2, O3, O4, O5, O6, O7, O8>, O9>,
  p10: Part<After9<I, O1, O2, O3, O4, O5, O6, O7, O8, O9>, O10>,
  p11: Part<After10<I, O1, O2, O3, O4, O5, O6, O7, O8, O9, O10>, O11>,
  p12: Part<After11<I, O1, O2, O3, O4, O5, O6, O7, O8, O9, O10, O11>, O12>,
): Part<I, After12<I, O1, O2, O3, O4, O5, O6, O7, O8, O9, O10, O11, O12>>
export function pipe<
  A extends Conn,
  O1 extends Conn = Pending,
  O2 extends Conn = Pending,
  O3 extends Conn = Pending,
  O4 extends Conn = Pending,
  O5 extends Conn = Pending,
  O6 extends Conn = Pending,
  O7 extends Conn = Pending,
  O8 extends Conn = Pending,
  O9 extends Conn = Pending,
  O10 extends Conn = Pending,
  O11 extends Conn = Pending,
  O12 extends Conn = Pending,
  O13 extends Conn = Pending,
  I extends A = A,
>(
  p1: Part<A, O1>,
  p2: Part<After1<I, O1>, O2>,
  p3: Part<After2<I, O1, O2>, O3>,
  p4: Part<After3<I, O1, O2, O3>, O4>,
  p5: Part<After4<I, O1, O2, O3, O4>, O5>,
  p6: Part<After5<I, O1, O2, O3, O4, O5>, O6>,
  p7: Part<After6<I, O1, O2, O3, O4, O5, O6>, O7>,
  p8: Part<After7<I, O1, O2, O3, O4, O5, O6, O7>, O8>,
  p9: Part<After8<I, O1, O2, O3, O4, O5, O6, O7, O8>, O9>,
  p10: Part<After9<I, O1, O2, O3, O4, O5, O6, O7, O8, O9>, O10>,
  p11: Part<After10<I, O1, O2, O3, O4, O5, O6, O7, O8, O9, O10>, O11>,
  p12: Part<After11<I, O1, O2, O3, O4, O5, O6, O7, O8, O9, O10, O11>, O12>,
  p13: Part<After12<I, O1, O2, O3, O4, O5, O6, O7, O8, O9, O10, O11, O12>, O13>,
): Part<I, After13<I, O1, O2, O3, O4, O5, O6, O7, O8, O9, O10, O11, O12, O13>>
export function pipe<
  A extends Conn,
  O1 extends Conn = Pending,
  O2 extends Conn = Pending,
  O3 extends Conn = Pending,
  O4 extends Conn = Pending,
  O5 extends Conn = Pending,
  O6 extends Conn = Pending,
  O7 extends Conn = Pending,
  O8 extends Conn = Pending,
  O9 extends Conn = Pending,
  O10 extends Conn = Pending,
  O11 extends Conn = Pending,
  O12 extends Conn = Pending,
  O13 extends Conn = Pending,
  O14 extends Conn = Pending,
  I extends A = A,
>(
  p1: Part<A, O1>,
  p2: Part<After1<I, O1>, O2>,
  p3: Part<After2<I, O1, O2>, O3>,
  p4: Part<After3<I, O1, O2, O3>, O4>,
  p5: Part<After4<I, O1, O2, O3, O4>, O5>,
  p6: Part<After5<I, O1, O2, O3, O4, O5>, O6>,
  p7: Part<After6<I, O1, O2, O3, O4, O5, O6>, O7>,
  p8: Part<After7<I, O1, O2, O3, O4, O5, O6, O7>, O8>,
  p9: Part<After8<I, O1, O2, O3, O4, O5, O6, O7, O8>, O9>,
  p10: Part<After9<I, O1, O2, O3, O4, O5, O6, O7, O8, O9>, O10>,
  p11: Part<After10<I, O1, O2, O3, O4, O5, O6, O7, O8, O9, O10>, O11>,
  p12: Part<After11<I, O1, O2, O3, O4, O5, O6, O7, O8, O9, O10, O11>, O12>,
  p13: Part<After12<I, O1, O2, O3, O4, O5, O6, O7, O8, O9, O10, O11, O12>, O13>,
  p14: Part<After13<I, O1, O2, O3, O4, O5, O6, O7, O8, O9, O10, O11, O12, O13>, O14>,
): Part<I, After14<I, O1, O2, O3, O4, O5, O6, O7, O8, O9, O10, O11, O12, O13, O14>>
export function pipe<
  A extends Conn,
  O1 extends Conn = Pending,
  O2 extends Conn = Pending,
  O3 extends Conn = Pending,
  O4 extends Conn = Pending,
  O5 extends Conn = Pending,
  O6 extends Conn = Pending,
  O7 extends Conn = Pending,
  O8 extends Conn = Pending,
  O9 extends Conn = Pending,
  O10 extends Conn = Pending,
  O11 extends Conn = Pending,
  O12 extends Conn = Pending,
  O13 extends Conn = Pending,
  O14 extends Conn = Pending,
  O15 extends Conn = Pending,
  I extends A = A,
>(
  p1: Part<A, O1>,
  p2: Part<After1<I, O1>, O2>,
  p3: Part<After2<I, O1, O2>, O3>,
  p4: Part<After3<I, O1, O2, O3>, O4>,
  p5: Part<After4<I, O1, O2, O3, O4>, O5>,
  p6: Part<After5<I, O1, O2, O3, O4, O5>, O6>,
  p7: Part<After6<I, O1, O2, O3, O4, O5, O6>, O7>,
  p8: Part<After7<I, O1, O2, O3, O4, O5, O6, O7>, O8>,
  p9: Part<After8<I, O1, O2, O3, O4, O5, O6, O7, O8>, O9>,
  p10: Part<After9<I, O1, O2, O3, O4, O5, O6, O7, O8, O9>, O10>,
  p11: Part<After10<I, O1, O2, O3, O4, O5, O6, O7, O8, O9, O10>, O11>,
  p12: Part<After11<I, O1, O2, O3, O4, O5, O6, O7, O8, O9, O10, O11>, O12>,
  p13: Part<After12<I, O1, O2, O3, O4, O5, O6, O7, O8, O9, O10, O11, O12>, O13>,
  p14: Part<After13<I, O1, O2, O3, O4, O5, O6, O7, O8, O9, O10, O11, O12, O13>, O14>,
  p15: Part<After14<I, O1, O2, O3, O4, O5, O6, O7, O8, O9, O10, O11, O12, O13, O14>, O15>,
): Part<I, After15<I, O1, O2, O3, O4, O5, O6, O7, O8, O9, O10, O11, O12, O13, O14, O15>>
export function pipe<
  A extends Conn,
  O1 extends Conn = Pending,
  O2 extends Conn = Pending,
  O3 extends Conn = Pending,
  O4 extends Conn = Pending,
  O5 extends Conn = Pending,
  O6 extends Conn = Pending,
  O7 extends Conn = Pending,
  O8 extends Conn = Pending,
  O9 extends Conn = Pending,
  O10 extends Conn = Pending,
  O11 extends Conn = Pending,
  O12 extends Conn = Pending,
  O13 extends Conn = Pending,
  O14 extends Conn = Pending,
  O15 extends Conn = Pending,
  O16 extends Conn = Pending,
  I extends A = A,
>(
  p1: Part<A, O1>,
  p2: Part<After1<I, O1>, O2>,
  p3: Part<After2<I, O1, O2>, O3>,
  p4: Part<After3<I, O1, O2, O3>, O4>,
  p5: Part<After4<I, O1, O2, O3, O4>, O5>,
  p6: Part<After5<I, O1, O2, O3, O4, O5>, O6>,
  p7: Part<After6<I, O1, O2, O3, O4, O5, O6>, O7>,
  p8: Part<After7<I, O1, O2, O3, O4, O5, O6, O7>, O8>,
  p9: Part<After8<I, O1, O2, O3, O4, O5, O6, O7, O8>, O9>,
  p10: Part<After9<I, O1, O2, O3, O4, O5, O6, O7, O8, O9>, O10>,
  p11: Part<After10<I, O1, O2, O3, O4, O5, O6, O7, O8, O9, O10>, O11>,
  p12: Part<After11<I, O1, O2, O3, O4, O5, O6, O7, O8, O9, O10, O11>, O12>,
  p13: Part<After12<I, O1, O2, O3, O4, O5, O6, O7, O8, O9, O10, O11, O12>, O13>,
  p14: Part<After13<I, O1, O2, O3, O4, O5, O6, O7, O8, O9, O10, O11, O12, O13>, O14>,
  p15: Part<After14<I, O1, O2, O3, O4, O5, O6, O7, O8, O9, O10, O11, O12, O13, O14>, O15>,
  p16: Part<After15<I, O1, O2, O3, O4, O5, O6, O7, O8, O9, O10, O11, O12, O13, O14, O15>, O16>,
): Part<I, After16<I, O1, O2, O3, O4, O5, O6, O7, O8, O9, O10, O11, O12, O13, O14, O15, O16>>
export function pipe(...parts: Part<Conn, Conn>[]): Part<Conn, Conn>
export function pipe(...parts: Part<never, unknown>[]): Part<never, unknown> {
  if (parts.length === 0) throw new TypeError('sapwood: pipe() needs at least one Part')
  for (const [i, p] of parts.entries()) {
    if (typeof p !== 'function' || !('shape' in p)) {
      throw new TypeError(`sapwood: pipe() argument ${i + 1} is not a Part (did you forget to call a combinator?)`)
    }
  }
  return part(seq(parts), { _tag: 'Seq', parts }, 'pipe')
}

// ---------------------------------------------------------------------------------------------
// choose

const alternatives = (options: readonly AnyPart[]): Run => {
  const runs = options as unknown as readonly Run[]
  const n = runs.length
  const run = (c: Conn, from: number, seen: Candidate[] | null): Result => {
    for (let i = from; i < n; i++) {
      const r = runs[i]!(c)
      if (isThenable(r)) {
        return r.then((ctx) => {
          if (ctx._tag === 'Right') return ctx
          const all = seen ?? []
          gather(all, ctx, c, options[i]!.shape)
          return isFatal(ctx.left) ? ctx : run(c, i + 1, all)
        })
      }
      if (r._tag === 'Right') return r
      // a failed handler ends the choice at once (a provisional one whose path cannot match has
      // already become NoMatch in its pipe)
      if (isFatal(r.left)) return r
      gather((seen ??= []), r, c, options[i]!.shape)
    }
    return seen === null ? MISSED : refuse(seen)
  }
  return (c) => run(c, 0, null)
}

/**
 * Tries each option in order on the same Conn; the first Right wins. When all reject, the
 * best-ranked rejection wins (`MethodNotAllowed` merge their `Allow`). A failed handler
 * (`HandlerFailed`) ends the choice at once.
 *
 * In a `pipe`, the options are given the params and assigns established before the `choose`.
 * A subtree written apart says what it needs as `I`: `choose<Conn<{ uid: string }>>([...])`.
 *
 * @example
 * import { choose, pipe, get, post, path, ok, created } from 'sapwood'
 * const users = choose([pipe(get, path('/users'), ok('[]')), pipe(post, path('/users'), created('{}'))])
 *
 * @category composition
 * @since 0.1.0
 */
export function choose<I extends Conn = Conn>(options: readonly Part<I, Conn>[]): Part<I, Conn> {
  if (!Array.isArray(options)) throw new TypeError('sapwood: choose() takes an array of Parts')
  for (const [i, p] of options.entries()) {
    if (typeof p !== 'function' || !('shape' in p)) {
      throw new TypeError(`sapwood: choose() option ${i + 1} is not a Part`)
    }
  }
  const opts = (options as readonly unknown[]).slice() as readonly AnyPart[]
  return part(alternatives(opts), { _tag: 'Choose', options: opts }, 'choose')
}

// ---------------------------------------------------------------------------------------------
// handle and recover

/**
 * What user code may return: a Conn, a Context, or a Part (a builder such as `ok('hi')`,
 * applied to the Conn the code received), or a promise of one of them.
 *
 * @category model
 * @since 0.1.0
 */
export type Returned<I, O> = O | Context<O> | Part<I, O> | PromiseLike<O | Context<O> | Part<I, O>>

/**
 * @internal A thrown error as a rejection: a body over its limit is the client's fault (413), a client that
 * left before sending its body is not a failure of the handler (400, not logged, read by nobody),
 * the rest a bug (500).
 */
export const failure = (error: unknown): Context =>
  left(
    error instanceof PayloadTooLargeError
      ? payloadTooLarge(error.limit)
      : error instanceof BodyAbortedError
        ? badRequest(error.message)
        : handlerFailed(error),
  )

const isContext = (u: unknown): u is Context<unknown> =>
  typeof u === 'object' &&
  u !== null &&
  ((u as { _tag?: unknown })._tag === 'Right' || (u as { _tag?: unknown })._tag === 'Left')

const fromReturned = (value: unknown, c: Conn): Result => {
  if (isConn(value)) return right(value)
  if (typeof value === 'function') {
    try {
      return (value as Run)(c)
    } catch (error) {
      return failure(error)
    }
  }
  if (isContext(value)) {
    if (value._tag === 'Left' || isConn(value.right)) return value as Context
  }
  return left(
    handlerFailed(new TypeError(`sapwood: a handler returned ${typeof value}; expected a Conn, a Context or a Part`)),
  )
}

const settleReturned = (value: unknown, c: Conn): Result => {
  if (isThenable(value)) {
    return Promise.resolve(value).then(
      (v) => fromReturned(v, c),
      (error: unknown) => failure(error),
    )
  }
  return fromReturned(value, c)
}

/**
 * The escape hatch: runs user code (sync or async) on the Conn. It returns a Conn, a Context
 * or a builder (`ok(...)`, `json(...)`). A throw or a rejected promise becomes a
 * `HandlerFailed` rejection (500): logged, never sent to the client, never a crash; a
 * `PayloadTooLargeError` from reading the body becomes `PayloadTooLarge` (413).
 *
 * In a `pipe`, `c` has the params and assigns established before it. A function written apart
 * says what it needs by its parameter's type, `Conn<{ id: string }>` (see `Conn`); `pipe` then
 * refuses it after a path that gives no `id`.
 *
 * @example
 * import { pipe, get, path, handle, json, ok, type Conn } from 'sapwood'
 * const user = pipe(get, path('/users/:id'), handle((c) => json({ id: c.params.id })))
 * const showTodo = (c: Conn<{ id: string }>) => ok(`todo ${c.params.id}`)
 * const todo = pipe(get, path('/todos/:id'), handle(showTodo))
 *
 * @category composition
 * @since 0.1.0
 */
export const handle = <I extends Conn = Conn, O extends Conn = I>(fn: (conn: I) => Returned<I, O>): Part<I, O> =>
  part<I, O>(
    ((c: Conn) => {
      let value: unknown
      try {
        value = fn(c as I)
      } catch (error) {
        return failure(error)
      }
      return settleReturned(value, c)
    }) as unknown as (c: I) => Result<O>,
    { _tag: 'Opaque' },
    `handle(${fn.name || 'fn'})`,
  )

/**
 * Lets you answer rejections yourself: when `inner` rejects, `fn` receives the rejection and
 * the Conn that `inner` was given and returns what a handler may return (return `left(r)` to
 * pass the rejection on).
 *
 * @example
 * import { recover, pipe, path, ok, notFound, respHtml } from 'sapwood'
 * const app = recover(pipe(path('/'), ok('home')), (r) =>
 *   r._tag === 'NoMatch' ? pipe(respHtml, notFound('<h1>Nothing here</h1>')) : undefined,
 * )
 *
 * @category composition
 * @since 0.1.0
 */
export const recover = <I extends Conn, O extends Conn>(
  inner: Part<I, O>,
  fn: (rejection: Rejection, conn: I) => Returned<I, O> | undefined,
): Part<I, O> => {
  const run = inner as unknown as Run
  const onLeft = (r: Rejection, c: Conn): Result => {
    let value: unknown
    try {
      value = fn(r, c as I)
    } catch (error) {
      return failure(error)
    }
    if (value === undefined) return left(r)
    return settleReturned(value, c)
  }
  return rescue(
    run,
    onLeft,
    { _tag: 'Recover', part: inner as unknown as AnyPart, onLeft },
    'recover',
  ) as unknown as Part<I, O>
}

/**
 * @internal `recover`'s run over any inner run: the compiler passes the compiled inner tree.
 * A rejection the function passes on keeps its standing (what follows may still narrow it).
 */
export const rescue = (
  run: Run,
  onLeft: (r: Rejection, c: Conn) => Result,
  shape: Shape,
  label: string,
): Part<Conn, Conn> => {
  const settle = (ctx: Context, c: Conn): Result => {
    if (ctx._tag === 'Right') return ctx
    const out = onLeft(ctx.left, c)
    return !isThenable(out) && out._tag === 'Left' && out.left === ctx.left ? ctx : out
  }
  return part(
    (c: Conn) => {
      const r = run(c)
      if (isThenable(r)) return r.then((ctx) => settle(ctx, c))
      return settle(r, c)
    },
    shape,
    label,
  )
}
