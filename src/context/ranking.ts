// Which rejection explains a failure: the one rule that `pipe`, `choose`, the compiled trie,
// `explain` and `respond` all ask.
//
// A rejection is judged by how far its branch got, then by how specific it is:
// 1. Progress. A branch whose path cannot match said nothing (NoMatch). A branch whose path can
//    match but whose method cannot says 405 with the methods it has. A branch whose method and
//    path both match (or cannot be known) says what it raised.
// 2. Specificity, among rejections of the same progress (NoMatch < NotFound < 405 < 401 < ...).
// 3. The earlier branch on a tie; two 405s merge their Allow sets.
//
// A rejection raised in front of some of its branch's path or method filters (a method filter,
// a guard before a subtree) is provisional: every enclosing `pipe` walks the steps that follow
// it and keeps only the ways the branch could still go (`Reach`). So the standing of a Left is
// a list of candidates, one per branch that rejected, each with its reaches; its `left` is always
// the winner judged on what is known so far.
import type { Conn } from './conn.js'
import type { Context, Part, Shape } from './context.js'
import { type Rejection, type RejectionTag, methodNotAllowed, noMatch } from './rejection.js'

type AnyPart = Part<never, unknown>

/** One way the rest of a branch could still go: the path left to match and the methods it takes. */
export interface Reach {
  /** The unconsumed path at this point; null once a step that cannot be read ahead stands in the way. */
  readonly rest: string | null
  /** The methods every method filter on the way allows (their intersection); null for any. */
  readonly methods: readonly string[] | null
}

/** A rejection raised on one branch, the request method it saw, and where the branch could still go. */
export interface Candidate {
  readonly rejection: Rejection
  readonly method: string
  readonly reach: readonly Reach[]
}

/** How far a branch got. */
export const PATH = 0
export const METHOD = 1
export const ROUTE = 2

// Least specific first, among rejections of the same progress.
const RANK: Readonly<Record<RejectionTag, number>> = {
  NoMatch: 0,
  NotFound: 1,
  MethodNotAllowed: 2,
  Unauthorized: 3,
  Forbidden: 4,
  UnsupportedMediaType: 5,
  NotAcceptable: 6,
  BadRequest: 7,
  Unprocessable: 8,
  Conflict: 9,
  Problem: 10,
  TooManyRequests: 11,
  UriTooLong: 12,
  PayloadTooLarge: 13,
  HandlerFailed: 14,
}

/** Specificity: higher explains the failure better, among branches that got as far. */
export const rank = (r: Rejection): number => RANK[r._tag]

/** A failed handler is a bug to report, not a reason to answer from another branch: it ends `choose`. */
export const isFatal = (r: Rejection): boolean => r._tag === 'HandlerFailed'

// The candidates ride on the Left itself, in a private field stamped onto the plain object (a
// base constructor that returns its argument lets a subclass add its private field to any
// object): the Left keeps Object.prototype and its two own keys, so it still deep-equals
// `{ _tag: 'Left', left }` in a user's test. Measured per Left: ~15-35 ns; a non-enumerable
// symbol property (Object.defineProperty) ~400 ns; a WeakMap ~0.8-3 us, and GC cost with it.
class Stamp {
  constructor(o: object) {
    return o
  }
}

class Standing extends Stamp {
  readonly #candidates: readonly Candidate[]
  constructor(o: object, candidates: readonly Candidate[]) {
    super(o)
    this.#candidates = candidates
  }
  static of(o: object): readonly Candidate[] | undefined {
    return #candidates in o ? o.#candidates : undefined
  }
}

const standingOf = (ctx: object): readonly Candidate[] | undefined => Standing.of(ctx)

const union = (a: readonly string[], b: readonly string[]): readonly string[] => {
  let out: string[] | null = null
  for (const m of b) {
    if (!a.includes(m)) (out ??= [...a]).push(m)
  }
  return out ?? a
}

const intersect = (a: readonly string[] | null, b: readonly string[]): readonly string[] =>
  a === null ? b : a.filter((m) => b.includes(m))

/** A candidate's progress and what it says at that progress. */
const judge = (c: Candidate): { readonly progress: number; readonly rejection: Rejection } => {
  let allow: readonly string[] | null = null
  for (const r of c.reach) {
    if (r.methods === null || r.methods.includes(c.method)) return { progress: ROUTE, rejection: c.rejection }
    allow = allow === null ? r.methods : union(allow, r.methods)
  }
  return allow === null
    ? { progress: PATH, rejection: noMatch }
    : { progress: METHOD, rejection: methodNotAllowed(allow) }
}

/** The winning rejection of a list of candidates (declaration order), NoMatch when there is none. */
export const verdict = (candidates: readonly Candidate[]): Rejection => {
  let progress = -1
  let best: Rejection = noMatch
  for (const c of candidates) {
    const j = judge(c)
    if (j.progress > progress) {
      progress = j.progress
      best = j.rejection
    } else if (j.progress === progress) {
      if (best._tag === 'MethodNotAllowed' && j.rejection._tag === 'MethodNotAllowed') {
        best = methodNotAllowed(union(best.allow, j.rejection.allow))
      } else if (RANK[j.rejection._tag] > RANK[best._tag]) best = j.rejection
    }
  }
  return best
}

const NOWHERE: readonly Reach[] = []

/** The Left of a list of candidates: its `left` is their verdict, its standing the list. */
export const refuse = (candidates: readonly Candidate[]): Context<never> => {
  const ctx = { _tag: 'Left' as const, left: verdict(candidates) }
  new Standing(ctx, candidates)
  return ctx
}

/** The Left of a branch whose path cannot match: NoMatch, and nothing can revive it. */
export const MISSED: Context<never> = refuse([{ rejection: noMatch, method: '', reach: NOWHERE }])

/**
 * The candidates of a Left that a step returned when it was given `c`. A Left that sapwood made
 * carries them; any other Left (a filter's, a handler's, a user's) was raised right there: a
 * method filter says where the path could still go with its methods, a path filter's NoMatch
 * ends its branch, anything else counts where the rest of the branch can still match.
 */
export const candidatesOf = (ctx: Context<unknown> & { _tag: 'Left' }, c: Conn, shape: Shape): readonly Candidate[] => {
  const known = standingOf(ctx)
  if (known !== undefined) return known
  return [raised(ctx.left, c, shape)]
}

const raised = (r: Rejection, c: Conn, shape: Shape): Candidate => {
  if (shape._tag === 'Method' && r._tag === 'MethodNotAllowed') {
    return { rejection: r, method: c.method, reach: [{ rest: c.rest, methods: shape.methods }] }
  }
  if (shape._tag === 'Path' && r._tag === 'NoMatch') return { rejection: r, method: c.method, reach: NOWHERE }
  return { rejection: r, method: c.method, reach: [{ rest: c.rest, methods: null }] }
}

/** True when some candidate could still be narrowed by the steps that follow. */
const open = (candidates: readonly Candidate[]): boolean => {
  for (const c of candidates) for (const r of c.reach) if (r.rest !== null) return true
  return false
}

/**
 * Narrows candidates by the steps `parts[from..]` that follow the step that rejected: each reach
 * is walked through them (path filters match, method filters intersect, choices fan out) and
 * only the ways the branch could still go are kept.
 */
export const narrow = (
  candidates: readonly Candidate[],
  parts: readonly AnyPart[],
  from: number,
): readonly Candidate[] => {
  if (from >= parts.length || !open(candidates)) return candidates
  return candidates.map((c) => {
    if (c.reach.length === 0) return c
    const out: Reach[] = []
    for (const r of c.reach) {
      if (r.rest === null) add(out, r)
      else walk(parts, from, r, out)
    }
    return { rejection: c.rejection, method: c.method, reach: out }
  })
}

const add = (out: Reach[], r: Reach): void => {
  for (const x of out) {
    if (x.rest === r.rest && sameMethods(x.methods, r.methods)) return
  }
  out.push(r)
}

const sameMethods = (a: readonly string[] | null, b: readonly string[] | null): boolean =>
  a === b || (a !== null && b !== null && a.length === b.length && a.every((m) => b.includes(m)))

/**
 * A compiled subtree walks a reach with one trie lookup instead of through every option: the
 * compiler registers it here (the walk is the same, over the candidate leaves only).
 */
export const shortcuts = new WeakMap<object, (reach: Reach, out: Reach[]) => void>()

/** Walks one reach through `parts[from..]`, adding to `out` every way it could come out. */
export const walk = (parts: readonly AnyPart[], from: number, reach: Reach, out: Reach[]): void => {
  let methods = reach.methods
  let rest = reach.rest
  if (rest === null) {
    add(out, reach)
    return
  }
  for (let i = from; i < parts.length; i++) {
    const shape = parts[i]!.shape
    switch (shape._tag) {
      case 'Pure':
      case 'Guard':
        continue
      case 'Method':
        methods = intersect(methods, shape.methods)
        if (methods.length === 0) return
        continue
      case 'Opaque':
      case 'Recover':
        add(out, { rest: null, methods })
        return
      case 'Decorate': {
        // routing-transparent: its inner tree decides
        const inner: Reach[] = []
        walk([shape.part], 0, { rest, methods }, inner)
        for (const r of inner) walk(parts, i + 1, r, out)
        return
      }
      case 'Path': {
        const m = shape.match(rest)
        if (typeof m === 'string') return
        rest = m.rest
        continue
      }
      case 'Seq':
      case 'Choose': {
        const inner: Reach[] = []
        const fast = shortcuts.get(parts[i]!)
        if (fast !== undefined) fast({ rest, methods }, inner)
        else if (shape._tag === 'Seq') walk(shape.parts, 0, { rest, methods }, inner)
        else for (const o of shape.options) walk([o], 0, { rest, methods }, inner)
        for (const r of inner) {
          if (r.rest === null) add(out, r)
          else walk(parts, i + 1, r, out)
        }
        return
      }
    }
  }
  add(out, { rest, methods })
}

/**
 * The Left a pipe returns when its step `i` (given `c`) rejected: the step's candidates,
 * narrowed by the steps after it. Returns `ctx` itself when nothing changed.
 */
export const settleStep = (
  ctx: Context<unknown> & { _tag: 'Left' },
  c: Conn,
  parts: readonly AnyPart[],
  i: number,
): Context<never> => {
  const known = standingOf(ctx)
  if (known !== undefined && (i + 1 >= parts.length || !open(known))) return ctx
  const candidates = known ?? [raised(ctx.left, c, parts[i]!.shape)]
  return refuse(narrow(candidates, parts, i + 1))
}

/** The candidates of several options' Lefts, in order: what `choose` rejects with. */
export const gather = (into: Candidate[], ctx: Context<unknown> & { _tag: 'Left' }, c: Conn, shape: Shape): void => {
  for (const x of candidatesOf(ctx, c, shape)) {
    // branches whose path cannot match all say the same: keep one
    if (x.reach.length === 0 && into.some((y) => y.reach.length === 0)) continue
    into.push(x)
  }
}
