/**
 * `compile`: the same app, dispatched with one find-my-way lookup instead of trying every branch.
 *
 * @since 0.1.0
 */
import FindMyWay from 'find-my-way'
import { isReplayable } from '../context/response-body.js'
import {
  type Body,
  type Conn,
  type Params,
  type ResponseHeaders,
  emptyRecord,
  isUndrafted,
  makeConn,
  withDraft,
  withRoute,
} from '../context/conn.js'
import { type Context, type Part, type Result, isThenable, left, part } from '../context/context.js'
import { type Rejection, handlerFailed, methodNotAllowed } from '../context/rejection.js'
import {
  type Candidate,
  type Reach,
  MISSED,
  gather,
  isFatal,
  refuse,
  settleStep,
  shortcuts,
  walk,
} from '../context/ranking.js'
import { pipe, rescue } from '../combinators/compose.js'
import { decorated } from '../combinators/decorate.js'
import {
  type PathMatcher,
  exactMatcher,
  findPath,
  mergeParams,
  prefixMatcher,
  routerOptions,
} from '../internal/pattern.js'
import { type AnyPart, type Guard, type Leaf, declaredOf, flatten, guardOf } from './plan.js'
import { overlapTest } from './overlap.js'

type Run = (c: Conn) => Result

/** A leaf as the dispatcher runs it. */
interface Compiled extends Leaf {
  readonly runSteps: Run[]
  /** Step plans: hoisted paths decided; with the method filter too, for methods it allows. */
  readonly opsPaths: Ops
  readonly opsPathsAndMethod: Ops
  readonly applyAt: number
  readonly matcher: PathMatcher | null
  /** The 405 this leaf answers when only its method is wrong (its Allow set). */
  readonly notAllowed: Rejection | null
  /**
   * Where the look-ahead of that 405 goes on from, after the leaf's paths and method filter, or
   * -1 when only filters and builders follow (the way then ends with the rest of the path).
   */
  readonly tailFrom: number
}

const RUN = 0
const ALLOW = 1
/** Every leaf of the node says a static 405 for this method: `fixed` is the answer, made once. */
const FIXED = 2
/** One thing to do for a request routed to a trie node: run a leaf or count its static 405. */
interface Entry {
  readonly kind: typeof RUN | typeof ALLOW | typeof FIXED
  readonly fixed?: Context<never>
  readonly leaf: Compiled
  /** The trie did not prove this leaf's own pattern: match it again (overlaps, prefixes). */
  readonly recheck: boolean
  /** The leaf runs as written, path filters included (it runs for any path). */
  readonly whole: boolean
  /** How to run the leaf's steps for this entry (see `runLeaf`). */
  readonly ops: Ops
  /**
   * When every step left to run is a builder of the response draft, the response it drafts on
   * a fresh Conn, computed once: such a leaf then costs one Conn per request.
   */
  readonly draft: Draft | null
}

/** The candidates of one trie node, per method; `other` for methods no leaf names. */
interface Node {
  /** Every leaf that may match here, whatever the method (for the look-ahead through the trie). */
  readonly leaves: readonly Compiled[]
  readonly byMethod: Readonly<Record<string, readonly Entry[]>>
  readonly other: readonly Entry[]
}

/**
 * What `compile` found out about the tree, for `routes` and the warnings.
 *
 * @category compile
 * @since 0.1.0
 */
export interface Plan {
  readonly leaves: readonly Leaf[]
  readonly warnings: readonly string[]
}

/**
 * Options of `compile`.
 *
 * @category compile
 * @since 0.1.0
 */
export interface CompileOptions {
  /** Receives each warning (a branch shadowed by an earlier one). Default: `console.warn`. */
  readonly onWarning?: (message: string) => void
}

const plans = new WeakMap<AnyPart, Plan>()
const warnedOnConsole = new WeakSet<Plan>()

/** Gives the warnings to `onWarning` when there is one, else to the console, once per app. */
const report = (plan: Plan, options: CompileOptions): void => {
  if (options.onWarning !== undefined) {
    for (const w of plan.warnings) options.onWarning(w)
  } else if (!warnedOnConsole.has(plan)) {
    warnedOnConsole.add(plan)
    for (const w of plan.warnings) console.warn(w)
  }
}
const COMPILED = Symbol('sapwood.compiled')
// An app is compiled once, however many handlers are made from it (inject in tests, say).
const cache = new WeakMap<Part<Conn, Conn>, Part<Conn, Conn>>()

const toCompiled = (id: number, steps: readonly AnyPart[], hoist: boolean): Compiled => {
  const guard: Guard = hoist ? guardOf(steps) : { ...guardOf(steps), skippable: false }
  // always a pipe, even of one step: its Left then carries the standing the step's shape gives
  const run: Part<Conn, Conn> = pipe(...(steps as Part<Conn, Conn>[]))
  const applyAt = guard.hoisted.length === 0 ? -1 : guard.hoisted[guard.hoisted.length - 1]!
  const skipPaths = steps.map((_, i) => guard.hoisted.includes(i))
  const skipPathsAndMethod = steps.map((_, i) => guard.hoisted.includes(i) || i === guard.methodAt)
  const matcher =
    guard.pattern === null || !guard.skippable
      ? null
      : guard.mode === 'exact'
        ? exactMatcher(guard.pattern)
        : prefixMatcher(guard.pattern)
  return {
    id,
    steps,
    run,
    guard,
    runSteps: steps as unknown as Run[],
    opsPaths: opsFor(steps, skipPaths, applyAt),
    opsPathsAndMethod: opsFor(steps, skipPathsAndMethod, applyAt),
    applyAt,
    matcher,
    notAllowed: guard.methods === null ? null : methodNotAllowed(guard.methods),
    tailFrom: plainAfter(steps, Math.max(guard.methodAt, applyAt) + 1) ? -1 : Math.max(guard.methodAt, applyAt) + 1,
  }
}

/** True when only filters and builders stand from `from` on: the look-ahead passes over them. */
const plainAfter = (steps: readonly AnyPart[], from: number): boolean => {
  for (let i = from; i < steps.length; i++) {
    const tag = steps[i]!.shape._tag
    if (tag !== 'Pure' && tag !== 'Guard') return false
  }
  return true
}

// The request path: no closure is made per request while every step stays synchronous
// (a Promise or closure per request costs 3 to 7 % of a hello world).

// What runLeaf does at each step, decided when the app is compiled.
const SKIP = 0
const APPLY = 1
const BUILD = 2
const GUARD = 3
const CALL = 4

interface Draft {
  readonly status: number
  readonly headers: ResponseHeaders
  readonly body: Body
}

const template = makeConn({ method: 'GET', url: '/', headers: emptyRecord })

const draftOf = (leaf: { readonly steps: readonly AnyPart[] }, ops: Ops): Draft | null => {
  let c = template
  for (let i = 0; i < ops.kinds.length; i++) {
    const kind = ops.kinds[i]
    if (kind === SKIP || kind === APPLY) continue
    const shape = leaf.steps[i]!.shape
    if (kind !== BUILD || shape._tag !== 'Pure' || shape.reads !== 'response') return null
    try {
      c = shape.apply(c)
    } catch {
      // a builder that throws does so on every request: let it, where the interpreter would
      return null
    }
  }
  // a stream or a file is made per answer: only a body that is the same on every answer is kept
  return isReplayable(c.respBody) ? { status: c.status, headers: c.respHeaders, body: c.respBody } : null
}

/** The per-step plan of a leaf for one set of decided steps (see `opsFor`). */
interface Ops {
  readonly kinds: Uint8Array
  readonly builds: readonly ((c: Conn) => Conn)[]
  readonly tests: readonly ((c: Conn) => boolean)[]
  readonly fails: readonly Context[]
}

const opsFor = (steps: readonly AnyPart[], skip: readonly boolean[], applyAt: number): Ops => {
  const kinds = new Uint8Array(steps.length)
  const builds: ((c: Conn) => Conn)[] = []
  const tests: ((c: Conn) => boolean)[] = []
  const fails: Context[] = []
  steps.forEach((step, i) => {
    const shape = step.shape
    if (i === applyAt) kinds[i] = APPLY
    else if (skip[i]) kinds[i] = SKIP
    else if (shape._tag === 'Pure') {
      kinds[i] = BUILD
      builds[i] = shape.apply
    } else if (shape._tag === 'Guard') {
      kinds[i] = GUARD
      tests[i] = shape.test
      fails[i] = left(shape.rejection)
    } else kinds[i] = CALL
  })
  return { kinds, builds, tests, fails }
}

/**
 * Runs a hoisted leaf from step `from`: the path filters' work is done once, at `applyAt`, with
 * what the trie found; builders and guards are called directly (no Right is made for them).
 * Builders and guards are user functions too: a throw is a failed handler, as in the interpreter.
 */
const runLeaf = (
  leaf: Compiled,
  ops: Ops,
  c0: Conn,
  conn: Conn,
  from: number,
  params: Params,
  rest: string,
): Result => {
  const kinds = ops.kinds
  const n = kinds.length
  for (let i = from; i < n; i++) {
    let r: Result
    switch (kinds[i]) {
      case SKIP:
        continue
      case APPLY:
        conn = withRoute(conn, mergeParams(conn.params, params), rest)
        continue
      case BUILD:
        try {
          conn = ops.builds[i]!(conn)
        } catch (error) {
          return settleLeaf(leaf, c0, conn, { _tag: 'Left', left: handlerFailed(error) }, i)
        }
        continue
      case GUARD:
        try {
          if (ops.tests[i]!(conn)) continue
          r = ops.fails[i]!
        } catch (error) {
          r = left(handlerFailed(error))
        }
        return settleLeaf(leaf, c0, conn, r as Context & { _tag: 'Left' }, i)
      default:
        r = leaf.runSteps[i]!(conn)
    }
    if (isThenable(r)) {
      const given = conn
      return r.then((ctx) =>
        ctx._tag === 'Right'
          ? runLeaf(leaf, ops, c0, ctx.right, i + 1, params, rest)
          : settleLeaf(leaf, c0, given, ctx, i),
      )
    }
    if (r._tag === 'Left') return settleLeaf(leaf, c0, conn, r, i)
    conn = r.right
  }
  return { _tag: 'Right', right: conn }
}

/** The Left of a leaf whose step `i`, given `conn`, rejected: as the interpreter's pipe says it. */
const settleLeaf = (leaf: Compiled, c0: Conn, conn: Conn, ctx: Context & { _tag: 'Left' }, i: number): Result => {
  // Before the hoisted paths were applied, `conn` has not consumed them: the steps up to there
  // are filters and builders (a rejection is rare), so running the leaf as written is exact.
  if (i < leaf.applyAt) return leaf.run(c0)
  return settleStep(ctx, conn, leaf.steps, i)
}

/**
 * Runs one entry; `undefined` means the leaf's path does not match: it rejects with NoMatch
 * (whatever stands in front of its paths could only say something provisional there).
 */
const runEntry = (e: Entry, c: Conn, found: Params | null): Result | undefined => {
  const leaf = e.leaf
  if (e.whole) return leaf.run(c)
  let params = found!
  let rest = ''
  if (e.recheck) {
    const m = leaf.matcher!.match(c.rest)
    if (m === 'miss') return undefined
    // a malformed escape: let the leaf itself say which rejection comes first
    if (typeof m === 'string') return leaf.run(c)
    params = m.params
    rest = m.rest
  }
  if (e.kind === ALLOW) return refuse([notAllowedHere(leaf, c.method, rest)])
  const draft = e.draft
  if (draft !== null && isUndrafted(c)) {
    return {
      _tag: 'Right',
      right: withDraft(c, mergeParams(c.params, params), rest, draft.status, draft.headers, draft.body),
    }
  }
  return runLeaf(leaf, e.ops, c, c, 0, params, rest)
}

/**
 * The candidate of a leaf whose path matched (with `rest` left) and whose method did not: its
 * way goes on through the steps after its paths, as the interpreter's look-ahead walks them.
 */
const notAllowedHere = (leaf: Compiled, method: string, rest: string): Candidate => {
  const from: Reach = { rest, methods: leaf.guard.methods }
  let reach: Reach[]
  if (leaf.tailFrom === -1) reach = [from]
  else walk(leaf.steps, leaf.tailFrom, from, (reach = []))
  return { rejection: leaf.notAllowed!, method, reach }
}

// What a run of entries has rejected with so far: candidates, or a static-405 entry of the trie's
// own pattern whose candidate is made only if no later entry answers (the usual GET/POST pair).
type Seen = (Candidate | Entry)[]

const isEntry = (x: Candidate | Entry): x is Entry => 'kind' in x

const collect = (seen: Seen, ctx: Context & { _tag: 'Left' }, c: Conn, e: Entry): void => {
  const got: Candidate[] = []
  gather(got, ctx, c, e.leaf.run.shape)
  for (const x of got) seen.push(x)
}

const refuseSeen = (seen: Seen, c: Conn): Context<never> =>
  refuse(seen.map((x) => (isEntry(x) ? notAllowedHere(x.leaf, c.method, '') : x)))

/** Runs the candidates from `from` in declaration order: the first Right wins (choose semantics). */
const runEntries = (
  entries: readonly Entry[],
  c: Conn,
  found: Params | null,
  from: number,
  seen: Seen | null,
): Result => {
  for (let i = from; i < entries.length; i++) {
    const e = entries[i]!
    if (e.kind === FIXED) return e.fixed!
    if (e.kind === ALLOW && !e.recheck && (seen !== null || i < entries.length - 1)) {
      ;(seen ??= []).push(e)
      continue
    }
    const ctx = runEntry(e, c, found)
    if (ctx === undefined) continue
    // the last candidate with nothing to compare its rejection to: its answer is the answer
    // (one promise hop fewer for the usual async route, a single candidate)
    if (seen === null && i === entries.length - 1) return ctx
    if (isThenable(ctx)) {
      return ctx.then((x) => {
        if (x._tag === 'Right') return x
        const all = seen ?? []
        collect(all, x, c, e)
        return isFatal(x.left) ? x : runEntries(entries, c, found, i + 1, all)
      })
    }
    if (ctx._tag === 'Right' || isFatal(ctx.left)) return ctx
    collect((seen ??= []), ctx, c, e)
  }
  return seen === null ? MISSED : refuseSeen(seen, c)
}

const methodsOf = (leaves: readonly Compiled[]): string[] => {
  const out = new Set<string>()
  for (const l of leaves) for (const m of l.guard.methods ?? []) out.add(m)
  return [...out]
}

/** The entries of one method at one trie route, from the leaves that may match there. */
const entriesFor = (candidates: readonly Compiled[], route: string | null, method: string | null): Entry[] =>
  candidates.map((leaf) => {
    const g = leaf.guard
    if (leaf.matcher === null) return { kind: RUN, leaf, recheck: false, whole: true, ops: leaf.opsPaths, draft: null }
    const own = g.mode === 'exact' && g.pattern === route
    const allowed = method !== null && g.methods !== null && g.methods.includes(method)
    const kind = allowed || g.methods === null || !g.methodStatic ? RUN : ALLOW
    const ops = allowed ? leaf.opsPathsAndMethod : leaf.opsPaths
    return { kind, leaf, recheck: !own, whole: false, ops, draft: kind === RUN ? draftOf(leaf, ops) : null }
  })

/**
 * When every entry for a method is a static 405 of the trie's own pattern, the answer does not
 * depend on the request: one Left, made now. (The candidates' method only serves to say it is not
 * among their Allow sets, which holds for every method routed to this list.)
 */
const fixedIfStatic = (entries: Entry[]): Entry[] => {
  if (entries.length === 0 || !entries.every((e) => e.kind === ALLOW && !e.recheck)) return entries
  const fixed = refuse(entries.map((e) => notAllowedHere(e.leaf, '', '')))
  return [{ ...entries[0]!, kind: FIXED, fixed }]
}

const nodeFor = (
  leaves: readonly Compiled[],
  route: string | null,
  methods: readonly string[],
  overlaps: (route: string, leaf: Compiled) => boolean,
): Node => {
  const candidates = leaves.filter((leaf) => leaf.matcher === null || (route !== null && overlaps(route, leaf)))
  const byMethod: Record<string, readonly Entry[]> = Object.create(null) as Record<string, readonly Entry[]>
  for (const m of methods) byMethod[m] = fixedIfStatic(entriesFor(candidates, route, m))
  return { byMethod, other: fixedIfStatic(entriesFor(candidates, route, null)), leaves: candidates }
}

const shadowedBy = (earlier: Compiled, later: Compiled): boolean => {
  const e = earlier.guard
  const l = later.guard
  // `earlier` must answer every request `later` could get: same path, a superset of methods, and
  // nothing in it that can reject
  const alwaysRight = earlier.steps.every(
    (s, i) => s.shape._tag === 'Pure' || e.hoisted.includes(i) || (s.shape._tag === 'Method' && e.methods !== null),
  )
  if (!alwaysRight || earlier.steps.filter((s) => s.shape._tag === 'Method').length > 1) return false
  const methodsCover = e.methods === null || (l.methods !== null && l.methods.every((m) => e.methods!.includes(m)))
  if (!methodsCover) return false
  if (e.pattern === null) return true
  return l.pattern !== null && l.skippable && e.mode === l.mode && e.pattern === l.pattern
}

/** The param names of a pattern, in order (`:name`, `:name(regex)`; `::` is a literal colon). */
const paramNames = (pattern: string): string[] => {
  const out: string[] = []
  const re = /(^|[^:]):([A-Za-z0-9_$]+)/g
  let m: RegExpExecArray | null
  while ((m = re.exec(pattern)) !== null) out.push(m[2]!)
  return out
}

/**
 * What may be a mistake in one leaf: user code that runs before the path filters of its own
 * branch (it runs for requests the path will refuse), and a param name given twice (the later
 * value wins).
 */
const leafWarnings = (leaf: Leaf): string[] => {
  const out: string[] = []
  const opaque = leaf.steps.findIndex((s) => s.shape._tag === 'Opaque')
  if (opaque !== -1 && leaf.steps.slice(opaque + 1).some((s) => s.shape._tag === 'Path')) {
    out.push(
      `sapwood: ${leaf.steps[opaque]!.label} runs before the path filters of its branch ${describe(leaf)}: ` +
        'it runs for every request that reaches it, also those its path will refuse; put it after them',
    )
  }
  const patterns: string[] = []
  for (const s of leaf.steps) if (s.shape._tag === 'Path') patterns.push(s.shape.pattern)
  const names = paramNames(patterns.join(''))
  const twice = names.filter((n, i) => names.indexOf(n) !== i)
  if (twice.length > 0) {
    out.push(
      `sapwood: the path of ${describe(leaf)} names the param "${twice[0]}" twice (${patterns.join(' then ')}): ` +
        'the later value wins',
    )
  }
  return out
}

const describe = (leaf: Leaf): string => {
  const where = declaredOf(leaf)
  const steps = leaf.steps.map((s) => s.label).join(' > ')
  return `${leaf.guard.methods?.join('|') ?? '*'} ${leaf.guard.pattern ?? '(any path)'} (leaf #${leaf.id}: ${steps}${
    where === null ? '' : `, at ${where}`
  })`
}

/** A step kept whole by the flattening, compiled when it holds more than one leaf. */
const nested = (step: AnyPart, options: CompileOptions): AnyPart => {
  const shape = step.shape
  if (shape._tag === 'Recover') {
    const inner = nested(shape.part, options)
    if (inner === shape.part) return step
    return rescue(inner as unknown as Run, shape.onLeft, shape, step.label)
  }
  if (shape._tag === 'Decorate') {
    const inner = nested(shape.part, options)
    if (inner === shape.part) return step
    return decorated(inner as unknown as Run, shape, step.label)
  }
  if ((shape._tag !== 'Choose' && shape._tag !== 'Seq') || flatten(step).length < 2) return step
  return compile(step as unknown as Part<Conn, Conn>, options)
}

/**
 * Compiles an app into a Part with the same behaviour that finds its candidate branches with one
 * find-my-way lookup. Candidates still run in declaration order with `choose` semantics; the
 * 405 `Allow` sets are known ahead. `serve`, `toNodeHandler` and `inject` compile for you.
 *
 * @example
 * import { compile, choose, pipe, get, path, ok } from 'sapwood'
 * import { conn } from 'sapwood/testing'
 * const app = compile(choose([pipe(get, path('/'), ok('home')), pipe(get, path('/users/:id'), ok('user'))]))
 * app(conn('GET', '/users/1')) // Right, body 'user'
 *
 * @category compile
 * @since 0.1.0
 */
export const compile = (app: Part<Conn, Conn>, options: CompileOptions = {}): Part<Conn, Conn> => {
  if ((app as unknown as Record<symbol, unknown>)[COMPILED] === true) return app
  const cached = cache.get(app)
  if (cached !== undefined) {
    // compiled once per app; its warnings still reach every explicit onWarning, and the
    // console once
    const plan = plans.get(cached)!
    report(plan, options)
    return cached
  }
  const root = app as unknown as AnyPart
  // A subtree that stays whole inside a leaf (behind a `handle`, under a `recover`, or followed
  // by a step that may reject) gets a trie of its own: what stands in front of a `choose` costs
  // what it costs itself, and the `choose` is still dispatched by one lookup.
  const stepLists = flatten(root).map((steps) => steps.map((step) => nested(step, options)))
  // A pattern that find-my-way refuses in the combined trie (e.g. two names for one param)
  // does not fail the app: its leaves run for every path instead, as the interpreter would.
  const refused = new Set<number>()
  let leaves: Compiled[] = []
  let router = FindMyWay(routerOptions as unknown as FindMyWay.Config<FindMyWay.HTTPVersion.V1>)
  let methods: string[] = []
  const overlaps = overlapTest()
  for (let attempt = 0; attempt < 2; attempt++) {
    leaves = stepLists.map((steps, id) => toCompiled(id, steps, !refused.has(id)))
    methods = methodsOf(leaves)
    router = FindMyWay(routerOptions as unknown as FindMyWay.Config<FindMyWay.HTTPVersion.V1>)
    const routes = new Map<string, number[]>()
    for (const leaf of leaves) {
      if (leaf.matcher === null) continue
      const p = leaf.guard.pattern!
      for (const route of leaf.guard.mode === 'prefix' ? [p, `${p}/*`] : [p]) {
        routes.set(route, [...(routes.get(route) ?? []), leaf.id])
      }
    }
    let clean = true
    for (const [route, ids] of routes) {
      try {
        router.on('GET', route, () => undefined, nodeFor(leaves, route, methods, overlaps))
      } catch {
        clean = false
        for (const id of ids) refused.add(id)
      }
    }
    if (clean) break
  }

  const warnings: string[] = []
  for (let j = 0; j < leaves.length; j++) {
    for (let i = 0; i < j; i++) {
      if (shadowedBy(leaves[i]!, leaves[j]!)) {
        warnings.push(`sapwood: unreachable branch ${describe(leaves[j]!)} is shadowed by ${describe(leaves[i]!)}`)
        break
      }
    }
  }
  for (const leaf of leaves) warnings.push(...leafWarnings(leaf))
  // find-my-way's own code-generated lookup: the 302-route mix dispatches ~7 % faster with it
  router.compile()
  const miss = nodeFor(leaves, null, methods, overlaps)
  const interpret = app as unknown as Run

  // no leaf has a pattern (everything stands behind user code): no lookup to make
  const routed = leaves.some((leaf) => leaf.matcher !== null)
  const dispatch = (c: Conn): Result => {
    if (!routed) return runEntries(miss.byMethod[c.method] ?? miss.other, c, null, 0, null)
    // every pattern in the trie starts with "/": a path used up (inside a prefix) matches none of
    // them, though find-my-way would read "" as "/"
    const found = c.rest === '' ? null : findPath(router, c.rest)
    if (found === null) return runEntries(miss.byMethod[c.method] ?? miss.other, c, null, 0, null)
    // a malformed path (rare): let the tree say which rejection comes first
    if (found.store === null) return interpret(c)
    const node = found.store as Node
    return runEntries(node.byMethod[c.method] ?? node.other, c, found.params, 0, null)
  }

  // An app that is one step for every path (a root `recover` or `decorate` around the real tree,
  // compiled inside): that step, with no lookup and no pipe in front of it.
  // (only where that step stands for the app itself: a bare Left it returns is then read with the
  // app's own shape, as the tree's would be)
  const only =
    leaves.length === 1 &&
    leaves[0]!.matcher === null &&
    leaves[0]!.steps.length === 1 &&
    leaves[0]!.steps[0]!.shape === app.shape
  const compiled = part(
    only ? (c: Conn) => (leaves[0]!.steps[0] as unknown as Run)(c) : dispatch,
    app.shape,
    `compile(${app.label})`,
  )
  // the look-ahead through this subtree: only the leaves the trie finds for the path can match
  const missLeaves = miss.leaves
  shortcuts.set(compiled, (reach, out) => {
    const rest = reach.rest!
    const found = rest === '' ? null : findPath(router, rest)
    if (found !== null && found.store === null) {
      walk([app], 0, reach, out)
      return
    }
    for (const leaf of found === null ? missLeaves : (found.store as Node).leaves) walk(leaf.steps, 0, reach, out)
  })
  Object.defineProperty(compiled, COMPILED, { value: true })
  const plan = { leaves, warnings }
  plans.set(compiled, plan)
  cache.set(app, compiled)
  report(plan, options)
  return compiled
}

/** @internal the plan of a compiled app */
export const planOf = (app: Part<Conn, Conn>): Plan | undefined => plans.get(app)
