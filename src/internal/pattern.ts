// One path pattern (find-my-way syntax) matched against the unconsumed part of a path.
// Every pattern is matched by find-my-way itself, through `findPath`, so that `path`, `prefix`
// and the compiled trie judge, decode and compare paths in exactly one way.
import FindMyWay from 'find-my-way'
import { MALFORMED_PATH, isMalformedPath } from './canonical-path.js'
import { type Params, emptyRecord } from '../context/conn.js'
import type { PathMatch as MatchOutcome } from '../context/context.js'
import { type Rejection, badRequest, noMatch } from '../context/rejection.js'

export interface PathMatcher {
  readonly pattern: string
  readonly mode: 'exact' | 'prefix'
  readonly match: (rest: string) => MatchOutcome
}

const NO_QUERY = Object.freeze({})
const BAD = Symbol('bad-url')
const MATCHED = Symbol('matched')

/** The options every find-my-way router in sapwood is built with. */
export const routerOptions = {
  caseSensitive: true,
  ignoreTrailingSlash: false,
  ignoreDuplicateSlashes: false,
  maxParamLength: 100,
  querystringParser: () => NO_QUERY,
  onBadUrl: () => BAD,
} as const

/** What find-my-way found for a path: a route, or (store null) a malformed path. */
export type Found = { readonly params: Params; readonly store: unknown } | null

const MALFORMED_FOUND: Found = Object.freeze({ params: emptyRecord, store: null })

/**
 * Looks a path up in a router built with `routerOptions`: a malformed path (see
 * `isMalformedPath`) is found as such before find-my-way decodes anything, since find-my-way
 * itself refuses broken escapes and bad UTF-8 but reads an escaped NUL and `//` as data.
 */
export const findPath = (router: { find: (method: 'GET', path: string) => unknown }, path: string): Found =>
  isMalformedPath(path) ? MALFORMED_FOUND : (router.find('GET', path) as Found)

/** The number of path segments a pattern spans: its slashes outside regex parentheses. */
const segmentCount = (pattern: string): number => {
  let depth = 0
  let n = 0
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern.charCodeAt(i)
    if (ch === 40 /* ( */) depth++
    else if (ch === 41 /* ) */) depth--
    else if (ch === 47 /* / */ && depth === 0) n++
  }
  return n
}

/** Checks a pattern and says clearly what is wrong with it. */
export const validatePattern = (pattern: string, mode: 'exact' | 'prefix'): string => {
  const what = mode === 'exact' ? 'path' : 'prefix'
  if (typeof pattern !== 'string') throw new TypeError(`sapwood: ${what}() takes a string pattern`)
  if (pattern !== '' && !pattern.startsWith('/')) {
    throw new TypeError(`sapwood: ${what}("${pattern}") must start with "/" (or be "" for the end of the path)`)
  }
  if (mode === 'prefix') {
    if (pattern.includes('*')) throw new TypeError(`sapwood: prefix("${pattern}") cannot hold a wildcard`)
    if (pattern.endsWith('/')) return pattern.slice(0, -1)
  }
  return pattern
}

const routerFor = (pattern: string, what: string): ((p: string) => Found) => {
  const router = FindMyWay(routerOptions as unknown as FindMyWay.Config<FindMyWay.HTTPVersion.V1>)
  try {
    router.on('GET', pattern, () => undefined, MATCHED)
  } catch (error) {
    throw new TypeError(`sapwood: ${what}("${pattern}") is not a valid pattern: ${(error as Error).message}`)
  }
  return (p) => findPath(router, p)
}

const outcome = (found: Found, rest: string): MatchOutcome => {
  if (found === null) return 'miss'
  if (found.store === MATCHED) return { params: found.params, rest }
  return 'bad-url'
}

const EMPTY_PARAMS: Params = Object.freeze(Object.create(null) as Params)

/** Builds the matcher of a `path` (the whole rest must match; it is consumed). */
export const exactMatcher = (raw: string): PathMatcher => {
  const pattern = validatePattern(raw, 'exact')
  if (pattern === '') {
    return { pattern, mode: 'exact', match: (rest) => (rest === '' ? { params: EMPTY_PARAMS, rest: '' } : 'miss') }
  }
  const find = routerFor(pattern, 'path')
  return { pattern, mode: 'exact', match: (rest) => (rest === '' ? 'miss' : outcome(find(rest), '')) }
}

/** Builds the matcher of a `prefix` (whole leading segments must match; they are consumed). */
export const prefixMatcher = (raw: string): PathMatcher => {
  const pattern = validatePattern(raw, 'prefix')
  if (pattern === '') return { pattern, mode: 'prefix', match: (rest) => ({ params: EMPTY_PARAMS, rest }) }
  const segments = segmentCount(pattern)
  const find = routerFor(pattern, 'prefix')
  return {
    pattern,
    mode: 'prefix',
    match: (rest) => {
      let end = 0
      for (let k = 0; k < segments; k++) {
        if (end >= rest.length || rest.charCodeAt(end) !== 47) return 'miss'
        const next = rest.indexOf('/', end + 1)
        end = next === -1 ? rest.length : next
      }
      // the segments read are judged, the rest is left to whoever reads it; the last one read
      // is empty (`/a/` of `/a//b`) only inside a `//`, which no slice of `end` chars shows
      if (end < rest.length && rest.charCodeAt(end - 1) === 47) return 'bad-url'
      return outcome(find(rest.slice(0, end)), rest.slice(end))
    },
  }
}

/** The rejection for a path that did not match. */
export const fromMiss = (m: 'miss' | 'bad-url'): Rejection => (m === 'miss' ? noMatch : badRequest(MALFORMED_PATH))

/** Params captured so far plus new ones (later names win), without copying when one side is empty. */
export const mergeParams = (base: Params, add: Params): Params => {
  if (base === emptyRecord) return add
  let empty = true
  for (const _ in add) {
    empty = false
    break
  }
  if (empty) return base
  let baseEmpty = true
  for (const _ in base) {
    baseEmpty = false
    break
  }
  if (baseEmpty) return add
  const out: Record<string, string | undefined> = Object.create(null) as Record<string, string | undefined>
  for (const k in base) out[k] = base[k]
  for (const k in add) out[k] = add[k]
  return out
}
