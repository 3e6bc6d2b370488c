/**
 * Seeing the tree: `routes` lists what `compile` made of it, `explain` traces one request.
 *
 * @since 0.1.0
 */
import { type Conn, makeConn } from '../context/conn.js'
import type { Context, Part, Result, Shape } from '../context/context.js'
import type { Rejection } from '../context/rejection.js'
import { declaredSchemas } from '../combinators/responds.js'
import type { JsonSchema } from '../internal/schema.js'
import { type Candidate, MISSED, gather, isFatal, refuse, settleStep } from '../context/ranking.js'
import { type AnyPart, declaredOf } from './plan.js'
import { type Plan, compile, planOf } from './trie.js'

/**
 * One leaf of a compiled app: the methods and path pattern the trie decides for it, and where
 * its path was declared. `pattern` is null for a leaf that runs for any path.
 *
 * @category compile
 * @since 0.1.0
 */
export interface Route {
  readonly leaf: number
  readonly methods: readonly string[] | null
  readonly pattern: string | null
  readonly mode: 'exact' | 'prefix'
  /** The leaf's steps by label, e.g. `get > path('/users/:id') > handle(fn)`. */
  readonly steps: string
  /** `file:line:column` of the leaf's last hoisted path filter, when it has one. */
  readonly declared: string | null
  /**
   * The response schemas declared by the `responds` on the way to the leaf, by status (`'200'`,
   * ..., `'default'` last; an inner `responds` overrides an outer one's key); empty without any.
   */
  readonly responses: Readonly<Record<string, JsonSchema>>
}

/**
 * Lists what `compile` made of the app, one entry per leaf, in declaration order.
 *
 * @example
 * import { routes, choose, pipe, get, post, path, ok } from 'sapwood'
 * routes(choose([pipe(get, path('/users'), ok('[]')), pipe(post, path('/users'), ok())]))
 * // [{ methods: ['GET'], pattern: '/users', ... }, { methods: ['POST'], pattern: '/users', ... }]
 *
 * @category compile
 * @since 0.1.0
 */
export const routes = (app: Part<Conn, Conn>): readonly Route[] => {
  const out: Route[] = []
  let next = 0
  const list = (
    plan: Plan,
    before: {
      methods: readonly string[] | null
      pattern: string
      steps: string[]
      responses: Readonly<Record<string, JsonSchema>>
    },
  ): void => {
    for (const leaf of plan.leaves) {
      const steps = [...before.steps]
      let responses = before.responses
      let inner: Plan | undefined
      for (const s of leaf.steps) {
        inner = planOf(s as unknown as Part<Conn, Conn>)
        if (inner !== undefined) break
        steps.push(s.label)
        const declared = declaredSchemas(s)
        if (declared !== undefined) responses = withResponses(responses, declared)
      }
      const own = leaf.guard.skippable ? leaf.guard.pattern : null
      const methods = leaf.guard.methods ?? before.methods
      if (inner !== undefined) {
        // a subtree with a trie of its own (behind a handle, a guard that may throw, a recover):
        // its routes, under what stands in front of it
        list(inner, { methods, pattern: before.pattern + (own ?? ''), steps, responses })
        continue
      }
      out.push({
        leaf: next++,
        methods,
        pattern: own === null ? (before.pattern === '' ? null : before.pattern) : before.pattern + own,
        mode: leaf.guard.mode,
        steps: steps.join(' > '),
        declared: declaredOf(leaf),
        responses,
      })
    }
  }
  list(planOf(compile(app, { onWarning: () => undefined }))!, {
    methods: null,
    pattern: '',
    steps: [],
    responses: NO_RESPONSES,
  })
  return out
}

const NO_RESPONSES: Readonly<Record<string, JsonSchema>> = Object.freeze(
  Object.create(null) as Record<string, JsonSchema>,
)

/** The schemas of an outer `responds` with an inner one's over them (`default` kept last). */
const withResponses = (
  outer: Readonly<Record<string, JsonSchema>>,
  inner: Readonly<Record<string, JsonSchema>>,
): Readonly<Record<string, JsonSchema>> => {
  const all = { ...outer, ...inner }
  const out = Object.create(null) as Record<string, JsonSchema>
  for (const key of Object.keys(all)) if (key !== 'default') out[key] = all[key]!
  if (all['default'] !== undefined) out['default'] = all['default']
  return Object.freeze(out)
}

/**
 * The warnings `compile` gives for an app (branches shadowed by earlier ones), without printing them.
 *
 * @example
 * import { warnings, choose, pipe, get, path, ok } from 'sapwood'
 * warnings(choose([pipe(get, path('/a'), ok('1')), pipe(get, path('/a'), ok('2'))])).length // 1
 *
 * @category compile
 * @since 0.1.0
 */
export const warnings = (app: Part<Conn, Conn>): readonly string[] =>
  planOf(compile(app, { onWarning: () => undefined }))!.warnings

/**
 * One step of a decision trace: which Part ran, how deep in the tree, and what it said.
 *
 * @category compile
 * @since 0.1.0
 */
export interface TraceStep {
  readonly depth: number
  readonly label: string
  readonly outcome: 'Right' | Rejection['_tag']
}

/**
 * The decision trace of one request: every branch tried and why it rejected, and the result.
 * `toString()` prints it for a human.
 *
 * @category compile
 * @since 0.1.0
 */
export interface Explanation {
  readonly request: string
  readonly steps: readonly TraceStep[]
  readonly result: Context<Conn>
  toString(): string
}

const describeShape = (shape: Shape): string | undefined =>
  shape._tag === 'Seq' ? 'pipe' : shape._tag === 'Choose' ? 'choose' : undefined

/**
 * Runs one request through the app as written, recording every Part tried and its answer.
 *
 * @example
 * import { explain, choose, pipe, get, path, ok } from 'sapwood'
 * const trace = await explain(choose([pipe(get, path('/a'), ok('a'))]), { method: 'DELETE', url: '/a' })
 * console.log(String(trace)) // choose ✗ MethodNotAllowed, with each step below it
 *
 * @category compile
 * @since 0.1.0
 */
export const explain = async (
  app: Part<Conn, Conn>,
  request: { readonly method?: string; readonly url: string; readonly headers?: Readonly<Record<string, string>> },
): Promise<Explanation> => {
  const method = (request.method ?? 'GET').toUpperCase()
  const steps: TraceStep[] = []
  const record = (depth: number, label: string, ctx: Context<Conn>): Context<Conn> => {
    steps.push({ depth, label, outcome: ctx._tag === 'Right' ? 'Right' : ctx.left._tag })
    return ctx
  }

  const trace = async (p: AnyPart, c: Conn, depth: number): Promise<Context<Conn>> => {
    const shape = p.shape
    const at = steps.length
    const placeholder = (): void => {
      steps.splice(at, 0, { depth, label: describeShape(shape) ?? p.label, outcome: 'Right' })
    }
    if (shape._tag === 'Seq') {
      placeholder()
      let current = c
      for (let i = 0; i < shape.parts.length; i++) {
        const ctx = await trace(shape.parts[i]!, current, depth + 1)
        if (ctx._tag === 'Left') {
          const settled: Context<Conn> = settleStep(ctx, current, shape.parts, i)
          steps[at] = { depth, label: 'pipe', outcome: settled._tag === 'Left' ? settled.left._tag : 'Right' }
          return settled
        }
        current = ctx.right
      }
      return { _tag: 'Right', right: current }
    }
    if (shape._tag === 'Choose') {
      placeholder()
      const seen: Candidate[] = []
      for (const option of shape.options) {
        const ctx = await trace(option, c, depth + 1)
        if (ctx._tag === 'Right' || isFatal(ctx.left)) {
          steps[at] = { depth, label: 'choose', outcome: ctx._tag === 'Right' ? 'Right' : ctx.left._tag }
          return ctx
        }
        gather(seen, ctx, c, option.shape)
      }
      const result: Context<Conn> & { _tag: 'Left' } = (seen.length === 0 ? MISSED : refuse(seen)) as Context<Conn> & {
        _tag: 'Left'
      }
      steps[at] = { depth, label: 'choose', outcome: result.left._tag }
      return result
    }
    if (shape._tag === 'Decorate') {
      placeholder()
      const inner = await trace(shape.part, c, depth + 1)
      const ctx: Context<Conn> = inner._tag === 'Right' ? { _tag: 'Right', right: shape.finish(inner.right, c) } : inner
      steps[at] = { depth, label: p.label, outcome: ctx._tag === 'Right' ? 'Right' : ctx.left._tag }
      return ctx
    }
    if (shape._tag === 'Recover') {
      placeholder()
      const inner = await trace(shape.part, c, depth + 1)
      const ctx = inner._tag === 'Right' ? inner : await shape.onLeft(inner.left, c)
      steps[at] = { depth, label: 'recover', outcome: ctx._tag === 'Right' ? 'Right' : ctx.left._tag }
      return ctx
    }
    return record(depth, p.label, await (p as unknown as (c: Conn) => Result<Conn>)(c))
  }

  const headers: Record<string, string> = Object.create(null) as Record<string, string>
  for (const [k, v] of Object.entries(request.headers ?? {})) headers[k.toLowerCase()] = v
  const c = makeConn({ method, url: request.url, headers })
  const result = await trace(app, c, 0)
  const line = `${method} ${request.url}`
  return {
    request: line,
    steps,
    result,
    toString: () =>
      [
        line,
        ...steps.map((s) => `${'  '.repeat(s.depth)}${s.label} ${s.outcome === 'Right' ? '✓' : `✗ ${s.outcome}`}`),
        result._tag === 'Right' ? `→ ${result.right.status}` : `→ rejected: ${result.left._tag}`,
      ].join('\n'),
  }
}
