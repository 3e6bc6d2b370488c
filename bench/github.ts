// The 302-route app shaped like the GitHub REST API (bench/data/github-routes.txt),
// built three ways: a sapwood tree, a raw find-my-way router, and the list of the 10-URL mix.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import FindMyWay from 'find-my-way'
import type * as Sap from 'sapwood'
import { sap } from './sapwood.js'

export interface RouteSet {
  readonly routes: readonly (readonly [method: string, path: string])[]
  readonly mix: readonly string[]
}

const candidates = [new URL('./data/github-routes.txt', import.meta.url)]

/** Reads the route set: `METHOD /path` lines and `# mix /path` lines. */
export const loadRoutes = (): RouteSet => {
  for (const url of candidates) {
    let text: string
    try {
      text = readFileSync(fileURLToPath(url), 'utf8')
    } catch {
      continue
    }
    const routes: [string, string][] = []
    const mix: string[] = []
    for (const line of text.split('\n')) {
      const m = /^# mix (\S+)/.exec(line)
      if (m !== null) mix.push(m[1]!)
      const r = /^([A-Z]+) (\S+)/.exec(line)
      if (r !== null) routes.push([r[1]!, r[2]!])
    }
    return { routes, mix }
  }
  throw new Error('github-routes.txt not found')
}

/** The body every route answers, the same on every side. */
export const bodyOf = (method: string, path: string): string => `${method} ${path}`

/** The route set as one sapwood `choose`, a branch per route, in file order. */
export const sapwoodApp = (set: RouteSet): Sap.Part =>
  sap.choose(set.routes.map(([m, p]) => sap.pipe(sap.method(m), sap.path(p), sap.ok(bodyOf(m, p)))))

/** The route set in a raw find-my-way router whose handlers return the body. */
export const rawRouter = (set: RouteSet): FindMyWay.Instance<FindMyWay.HTTPVersion.V1> => {
  const router = FindMyWay()
  for (const [m, p] of set.routes) {
    const body = bodyOf(m, p)
    router.on(m as FindMyWay.HTTPMethod, p, () => body)
  }
  return router
}
