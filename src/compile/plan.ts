// From a tree of Parts to an ordered list of leaves, each with the static guard that the trie
// can decide (methods and a concatenated path pattern) and the steps still to run.
//
// Flattening keeps `choose` semantics exactly:
// - choose([a, choose([b, c])]) is choose([a, b, c]), and pipe(a, pipe(b, c)) is pipe(a, b, c)
//   (the 405 look-ahead walks the same remaining steps either way);
// - pipe(a, choose([b, c])) becomes the leaves [a, b] and [a, c] only when the choose ends the
//   pipe or is followed by builders alone: pipe(a, choose([b, c]), d) with a `d` that may reject
//   does not backtrack into `c` when `d` rejects after `b`, so it stays one leaf;
// - nothing is distributed past user code (`handle`, `filter`, body decoders), which must run
//   once: such a step and everything after it stay inside the leaf, run as written.
import type { Conn } from '../context/conn.js'
import type { Part, Shape } from '../context/context.js'

export type AnyPart = Part<never, unknown>

/** One leaf of the tree: the steps a request goes through on this branch, in order. */
export interface Leaf {
  /** Declaration order: the index of this leaf in a depth-first walk of the tree. */
  readonly id: number
  readonly steps: readonly AnyPart[]
  /** The part that runs the whole leaf as the interpreter would. */
  readonly run: Part<Conn, Conn>
  readonly guard: Guard
}

/** What the trie may decide for a leaf; `pattern === null` means the leaf runs for any path. */
export interface Guard {
  /** The methods of the leaf's first method filter, or null when it has none the trie can use. */
  readonly methods: readonly string[] | null
  /** The index of that method filter among the steps, or -1. */
  readonly methodAt: number
  /** The concatenated pattern of the leaf's leading path filters, or null. */
  readonly pattern: string | null
  readonly mode: 'exact' | 'prefix'
  /** Indices of the path filters that the trie decides (their work is done once, at `applyAt`). */
  readonly hoisted: readonly number[]
  /**
   * The leaf need not run when its path does not match: it then rejects with NoMatch (what a
   * step in front of its paths says is provisional, and counts only where the path matches).
   */
  readonly skippable: boolean
  /** When the path matches and the method does not, the leaf certainly rejects with 405 {methods}. */
  readonly methodStatic: boolean
  /** The path filters the trie decided, in order (for `routes` and `explain`). */
  readonly labels: readonly string[]
}

/** The most leaves the compiler makes before it keeps a subtree whole (it stays correct). */
const MAX_LEAVES = 50_000

const isPureOnly = (parts: readonly AnyPart[], from: number): boolean => {
  for (let i = from; i < parts.length; i++) if (parts[i]!.shape._tag !== 'Pure') return false
  return true
}

// Filters and builders may run once per candidate leaf instead of once per request: they are
// pure functions of the Conn (a `filter` predicate must be too). User code may not, and neither
// may a step that can throw: its failure is one failure of the whole choose behind it (a fatal
// one ends the choose at once), not one per leaf it would be copied into.
const canRepeat = (shape: Shape): boolean =>
  shape._tag === 'Method' ||
  shape._tag === 'Path' ||
  ((shape._tag === 'Pure' || shape._tag === 'Guard') && !shape.throws)

/** Flattens a Part into its leaves' step lists, in declaration order. */
export const flatten = (root: AnyPart): AnyPart[][] => {
  let count = 0
  const go = (p: AnyPart): AnyPart[][] => {
    const shape = p.shape
    if (shape._tag === 'Choose') return shape.options.flatMap(go)
    if (shape._tag !== 'Seq') return [[p]]
    return seq(shape.parts)
  }
  const seq = (parts: readonly AnyPart[]): AnyPart[][] => {
    let leaves: AnyPart[][] = [[]]
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!
      const shape = p.shape
      const repeatable = leaves.every((steps) => steps.every((s) => canRepeat(s.shape)))
      if (shape._tag === 'Seq') {
        // pipe is associative: inline the inner pipe's parts
        const inner = seq(shape.parts)
        if (
          (inner.length === 1 && inner[0]!.length > 0) ||
          (repeatable && isPureOnly(parts, i + 1) && count + inner.length * leaves.length < MAX_LEAVES)
        ) {
          leaves = leaves.flatMap((prefix) => inner.map((steps) => [...prefix, ...steps]))
          count += leaves.length
          continue
        }
      } else if (shape._tag === 'Choose' && repeatable && isPureOnly(parts, i + 1)) {
        const options = shape.options.flatMap(go)
        // an empty choose rejects with NoMatch only if the steps before it pass: keep it whole
        if (options.length > 0 && count + options.length * leaves.length < MAX_LEAVES) {
          leaves = leaves.flatMap((prefix) => options.map((steps) => [...prefix, ...steps]))
          count += leaves.length
          continue
        }
      } else if (shape._tag !== 'Choose') {
        for (const steps of leaves) steps.push(p)
        continue
      }
      // keep the rest of the pipe as written, inside every leaf
      for (const steps of leaves) steps.push(...parts.slice(i))
      return leaves
    }
    return leaves
  }
  return go(root)
}

/** Could the look-ahead rule out a way at this step (a path or method filter, an empty choose)? */
const canNarrow = (p: AnyPart): boolean => {
  const shape = p.shape
  switch (shape._tag) {
    case 'Path':
    case 'Method':
      return true
    case 'Seq':
      return shape.parts.some(canNarrow)
    case 'Choose':
      return shape.options.length === 0 || shape.options.some(canNarrow)
    default:
      return false
  }
}

const NONE: Guard = {
  methods: null,
  methodAt: -1,
  pattern: null,
  mode: 'exact',
  hoisted: [],
  skippable: false,
  methodStatic: false,
  labels: [],
}

/**
 * Reads the guard of a leaf from its leading steps. The path filters are hoisted only while
 * nothing between them can observe the path or params (`applyAt`, the last of them, is where
 * their effect is applied at run time): a guard or builder that says it reads `any` ends them.
 * When its path does not match, the leaf rejects with NoMatch.
 */
export const guardOf = (steps: readonly AnyPart[]): Guard => {
  let methods: readonly string[] | null = null
  let methodIndex = -1
  let pattern: string | null = null
  let mode: 'exact' | 'prefix' = 'prefix'
  const hoisted: number[] = []
  const labels: string[] = []
  let i = 0
  scan: for (; i < steps.length; i++) {
    const s = steps[i]!
    const shape = s.shape
    switch (shape._tag) {
      case 'Pure':
        // a builder that may read the path or params must see them as the interpreter does
        if (pattern !== null && shape.reads === 'any') break scan
        continue
      case 'Method':
        if (methods === null) {
          methods = shape.methods
          methodIndex = i
        }
        continue
      case 'Guard':
        // between path filters, a user predicate may read the path: it must see it as the
        // interpreter would, so the joined pattern stops there. A guard that fails in front of
        // (some of) the paths is provisional, and the trie re-runs such a leaf as written.
        if (pattern !== null && shape.reads === 'any') break scan
        continue
      case 'Path':
        if (shape.mode === 'prefix' && shape.pattern === '') continue
        pattern = (pattern ?? '') + shape.pattern
        mode = shape.mode
        hoisted.push(i)
        labels.push(s.label)
        if (shape.mode === 'exact') {
          i++
          break scan
        }
        continue
      default:
        break scan
    }
  }
  if (pattern === null || pattern === '') {
    return methods === null ? NONE : { ...NONE, methods, methodAt: methodIndex }
  }
  // the first method filter may also stand right after the paths, before any other step
  for (; methods === null && i < steps.length; i++) {
    const shape = steps[i]!.shape
    if (shape._tag === 'Method') {
      methods = shape.methods
      methodIndex = i
    } else if (shape._tag !== 'Pure') break
  }
  const after = steps.slice(Math.max(methodIndex, hoisted[hoisted.length - 1]!) + 1)
  // When the path matches and the method does not, the leaf says 405 whatever its guards say
  // (a provisional rejection in front of the method filter counts as the method miss), unless
  // a later path or method filter could still rule the way out.
  const single = steps.filter((s) => s.shape._tag === 'Method').length === 1
  const methodStatic = methods !== null && single && !after.some(canNarrow)
  return { methods, methodAt: methodIndex, pattern, mode, hoisted, skippable: true, methodStatic, labels }
}

/** Where a leaf's last hoisted path filter was declared (`file:line:column`), if it has one. */
export const declaredOf = (leaf: Leaf): string | null => {
  const last = leaf.guard.hoisted[leaf.guard.hoisted.length - 1]
  const shape = last === undefined ? undefined : leaf.steps[last]!.shape
  return shape?._tag === 'Path' ? shape.declared() : null
}
