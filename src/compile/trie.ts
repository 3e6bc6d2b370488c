/**
 * `compile`: the same app, dispatched with one find-my-way lookup instead of trying every branch.
 *
 * @since 0.1.0
 */
import FindMyWay from 'find-my-way'
import { type Conn, type Params, update } from '../context/conn.js'
import { type Context, type Part, type Result, isThenable, left, part } from '../context/context.js'
import { type Rejection, better, fromPending, isFatal, noMatch } from '../context/rejection.js'
import { lookAhead, pipe } from '../combinators/compose.js'
import { type PathMatcher, exactMatcher, mergeParams, prefixMatcher, routerOptions } from '../internal/pattern.js'
import { type AnyPart, type Guard, type Leaf, declaredOf, flatten, guardOf } from './plan.js'
import { mayOverlap } from './overlap.js'

type Run = (c: Conn) => Result

/** A leaf as the dispatcher runs it. */
interface Compiled extends Leaf {
  readonly runSteps: Run[]
  readonly skip: readonly boolean[]
  readonly applyAt: number
  readonly matcher: PathMatcher | null
  /** The 405 this leaf answers when only its method is wrong. */
  readonly notAllowed: Context | null
}

const RUN = 0
const ALLOW = 1
/** One thing to do for a request routed to a trie node: run a leaf or count its static 405. */
interface Entry {
  readonly kind: typeof RUN | typeof ALLOW
  readonly leaf: Compiled
  /** The trie did not prove this leaf's own pattern: match it again (overlaps, prefixes). */
  readonly recheck: boolean
  /** The leaf runs as written, path filters included (it runs for any path). */
  readonly whole: boolean
}

/** The candidates of one trie node, per method; `other` for methods no leaf names. */
interface Node {
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
const COMPILED = Symbol('sapwood.compiled')
// An app is compiled once, however many handlers are made from it (inject in tests, say).
const cache = new WeakMap<Part<Conn, Conn>, Part<Conn, Conn>>()

const toCompiled = (id: number, steps: readonly AnyPart[], hoist: boolean): Compiled => {
  const guard: Guard = hoist ? guardOf(steps) : { ...guardOf(steps), skippable: false }
  const run = (steps.length === 1 ? steps[0]! : pipe(...(steps as Part<Conn, Conn>[]))) as Part<Conn, Conn>
  const skip = steps.map((_, i) => guard.hoisted.includes(i))
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
    skip,
    applyAt: guard.hoisted.length === 0 ? -1 : guard.hoisted[guard.hoisted.length - 1]!,
    matcher,
    notAllowed: guard.methods === null ? null : left(fromPending([{ allow: guard.methods, rest: null }])),
  }
}

/** Runs a hoisted leaf: its path filters' work is done once, with what the trie found. */
const runLeaf = (leaf: Compiled, c: Conn, params: Params, rest: string): Result => {
  const steps = leaf.runSteps
  const n = steps.length
  const settle = (ctx: Context, i: number): Result => {
    if (ctx._tag === 'Right' || ctx.left._tag !== 'MethodNotAllowed' || i + 1 >= n) return ctx
    // A 405 before the paths were applied would look ahead from a stale rest; the steps before
    // them are synchronous filters and builders, so running the leaf as written is exact.
    if (i < leaf.applyAt) return leaf.run(c)
    return left(lookAhead(ctx.left, leaf.steps, i + 1))
  }
  const from = (conn: Conn, start: number): Result => {
    for (let i = start; i < n; i++) {
      if (leaf.skip[i]) {
        if (i === leaf.applyAt) conn = update(conn, { params: mergeParams(conn.params, params), rest })
        continue
      }
      const r = steps[i]!(conn)
      if (isThenable(r)) return r.then((ctx) => (ctx._tag === 'Right' ? from(ctx.right, i + 1) : settle(ctx, i)))
      if (r._tag === 'Left') return settle(r, i)
      conn = r.right
    }
    return { _tag: 'Right', right: conn }
  }
  return from(c, 0)
}

/** Runs one entry; `undefined` means the leaf rejects with NoMatch without running. */
const runEntry = (e: Entry, c: Conn, found: Params | null): Result | undefined => {
  const leaf = e.leaf
  if (e.whole) return leaf.run(c)
  let params = found
  let rest = ''
  if (e.recheck) {
    const m = leaf.matcher!.match(c.rest)
    if (m === 'miss') return undefined
    // a malformed or over-long segment: let the leaf itself say which rejection comes first
    if (typeof m === 'string') return leaf.run(c)
    params = m.params
    rest = m.rest
  }
  if (e.kind === ALLOW) return leaf.notAllowed!
  return runLeaf(leaf, c, params!, rest)
}

const runEntries = (entries: readonly Entry[], c: Conn, found: Params | null): Result => {
  const n = entries.length
  const from = (start: number, best: Rejection | null): Result => {
    for (let i = start; i < n; i++) {
      const ctx = runEntry(entries[i]!, c, found)
      if (ctx === undefined) continue
      if (isThenable(ctx)) {
        return ctx.then((x) => {
          if (x._tag === 'Right' || isFatal(x.left)) return x
          return from(i + 1, best === null ? x.left : better(best, x.left))
        })
      }
      if (ctx._tag === 'Right' || isFatal(ctx.left)) return ctx
      best = best === null ? ctx.left : better(best, ctx.left)
    }
    return left(best ?? noMatch)
  }
  return from(0, null)
}

const methodsOf = (leaves: readonly Compiled[]): string[] => {
  const out = new Set<string>()
  for (const l of leaves) for (const m of l.guard.methods ?? []) out.add(m)
  return [...out]
}

const entriesFor = (leaves: readonly Compiled[], route: string | null, method: string | null): Entry[] => {
  const out: Entry[] = []
  for (const leaf of leaves) {
    const g = leaf.guard
    if (leaf.matcher === null) {
      out.push({ kind: RUN, leaf, recheck: false, whole: true })
      continue
    }
    if (route === null || !mayOverlap(route, g.pattern!, g.mode)) continue
    const own = g.mode === 'exact' && g.pattern === route
    const allowed = g.methods === null || (method !== null && g.methods.includes(method))
    const kind = allowed || !g.methodStatic ? RUN : ALLOW
    out.push({ kind, leaf, recheck: !own, whole: false })
  }
  return out
}

const nodeFor = (leaves: readonly Compiled[], route: string | null, methods: readonly string[]): Node => {
  const byMethod: Record<string, readonly Entry[]> = Object.create(null) as Record<string, readonly Entry[]>
  for (const m of methods) byMethod[m] = entriesFor(leaves, route, m)
  return { byMethod, other: entriesFor(leaves, route, null) }
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

const describe = (leaf: Leaf): string => {
  const where = declaredOf(leaf)
  const steps = leaf.steps.map((s) => s.label).join(' > ')
  return `${leaf.guard.methods?.join('|') ?? '*'} ${leaf.guard.pattern ?? '(any path)'} (leaf #${leaf.id}: ${steps}${
    where === null ? '' : `, at ${where}`
  })`
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
  if (cached !== undefined) return cached
  const root = app as unknown as AnyPart
  const stepLists = flatten(root)
  // A pattern that find-my-way refuses in the combined trie (e.g. two names for one param)
  // does not fail the app: its leaves run for every path instead, as the interpreter would.
  const refused = new Set<number>()
  let leaves: Compiled[] = []
  let router = FindMyWay(routerOptions as unknown as FindMyWay.Config<FindMyWay.HTTPVersion.V1>)
  let methods: string[] = []
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
        router.on('GET', route, () => undefined, nodeFor(leaves, route, methods))
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
  const onWarning = options.onWarning ?? ((m: string) => console.warn(m))
  for (const w of warnings) onWarning(w)

  const miss = nodeFor(leaves, null, methods)
  const interpret = app as unknown as Run

  const dispatch = (c: Conn): Result => {
    const found = router.find('GET', c.rest) as { params: Params; store: Node | null } | null
    let node: Node
    let params: Params | null = null
    if (found === null) node = miss
    else if (found.store === null)
      return interpret(c) // a malformed or over-long path: rare
    else {
      node = found.store
      params = found.params
    }
    return runEntries(node.byMethod[c.method] ?? node.other, c, params)
  }

  const compiled = part(dispatch, app.shape, `compile(${app.label})`)
  Object.defineProperty(compiled, COMPILED, { value: true })
  plans.set(compiled, { leaves, warnings })
  cache.set(app, compiled)
  return compiled
}

/** @internal the plan of a compiled app */
export const planOf = (app: Part<Conn, Conn>): Plan | undefined => plans.get(app)
