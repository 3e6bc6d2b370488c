// What the HTTP benchmark runs: the servers (one script each under servers/), the scenarios with
// the load each one sends, and the answer every server must give before it is timed.
import { readFileSync } from 'node:fs'
import { loadRoutes, rawRouter } from '../github.js'

/** The app a server script builds (its APP variable). */
export type AppName = 'basic' | 'github'

export interface Server {
  readonly id: string
  readonly name: string
  /** Its script in bench/http/servers/. */
  readonly script: string
  readonly apps: readonly AppName[]
  /** The package whose version the table quotes (in bench/node_modules), if any. */
  readonly pkg?: string
}

/** In the order of each round; the ceiling that ratios are taken against is `find-my-way`. */
export const SERVERS: readonly Server[] = [
  { id: 'node-http', name: 'node:http', script: 'node-http.mjs', apps: ['basic'] },
  { id: 'find-my-way', name: 'node:http + find-my-way', script: 'find-my-way.mjs', apps: ['basic', 'github'] },
  { id: 'sapwood', name: 'sapwood', script: 'sapwood.mjs', apps: ['basic', 'github'] },
  { id: 'fastify', name: 'Fastify', script: 'fastify.mjs', apps: ['basic', 'github'], pkg: 'fastify' },
  { id: 'hono', name: 'Hono', script: 'hono.mjs', apps: ['basic', 'github'], pkg: 'hono' },
  { id: 'express', name: 'Express', script: 'express.mjs', apps: ['basic', 'github'], pkg: 'express' },
]

export const CEILING = 'find-my-way'

/** The server the targets are set for. */
export const TARGETED = 'sapwood'

/** sapwood's req/s must be at least `ratio` times the req/s of server `against` in the same round. */
export interface Target {
  readonly against: string
  readonly ratio: number
}

export interface Request {
  readonly method: string
  readonly path: string
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: string
}

/** What a request must get back; a missing `type` or `body` is not checked. */
export interface Expected {
  readonly status: number
  readonly type?: string
  readonly body?: string
}

export interface Scenario {
  readonly id: string
  readonly name: string
  readonly app: AppName
  /** The load cycles through these; each has its expected answer at the same index. */
  readonly requests: readonly Request[]
  readonly expected: readonly Expected[]
  readonly targets?: readonly Target[]
}

const TEXT = 'text/plain; charset=utf-8'
const JSON_TYPE = 'application/json'
const ECHO = JSON.stringify({ hello: 'world' })

const github = loadRoutes()
const router = rawRouter(github)
const githubBody = (url: string): string => {
  const found = router.find('GET', url)
  if (found === null) throw new Error(`github mix: no route for ${url}`)
  return (found.handler as unknown as () => string)()
}

export const SCENARIOS: readonly Scenario[] = [
  {
    id: 'hello',
    name: 'hello world (GET /)',
    app: 'basic',
    requests: [{ method: 'GET', path: '/' }],
    expected: [{ status: 200, type: TEXT, body: 'hello world' }],
    targets: [{ against: CEILING, ratio: 0.97 }],
  },
  {
    id: 'json',
    name: 'JSON with a path param (GET /users/:id)',
    app: 'basic',
    requests: [{ method: 'GET', path: '/users/42' }],
    expected: [{ status: 200, type: JSON_TYPE, body: '{"id":"42","name":"user 42"}' }],
    targets: [
      { against: CEILING, ratio: 0.97 },
      { against: 'fastify', ratio: 1.05 },
    ],
  },
  {
    id: 'github',
    name: '302-route app, 10-URL mix',
    app: 'github',
    requests: github.mix.map((path) => ({ method: 'GET', path })),
    expected: github.mix.map((path) => ({ status: 200, type: TEXT, body: githubBody(path) })),
    targets: [
      { against: CEILING, ratio: 1 },
      { against: 'fastify', ratio: 1.25 },
      { against: 'hono', ratio: 1.25 },
    ],
  },
  {
    id: 'notfound',
    name: '404 (GET /nope)',
    app: 'basic',
    requests: [{ method: 'GET', path: '/nope' }],
    expected: [{ status: 404 }],
  },
  {
    id: 'echo',
    name: 'POST /echo, small JSON body validated by a schema',
    app: 'basic',
    requests: [{ method: 'POST', path: '/echo', headers: { 'content-type': 'application/json' }, body: ECHO }],
    expected: [{ status: 200, type: JSON_TYPE, body: ECHO }],
    targets: [{ against: 'fastify', ratio: 1 }],
  },
]

/**
 * A content-type compared by meaning: case and the spaces around `;` do not count, and neither
 * does `charset=utf-8` on JSON (RFC 8259 defines no charset parameter: JSON is UTF-8).
 */
export const normalizeType = (value: string): string => {
  const [type = '', ...params] = value
    .toLowerCase()
    .split(';')
    .map((s) => s.trim())
  const kept = type === 'application/json' ? params.filter((p) => p !== 'charset=utf-8') : params
  return [type, ...kept].join(';')
}

/** The version of a package installed for the benchmark (bench/node_modules). */
export const benchVersion = (pkg: string): string =>
  (
    JSON.parse(readFileSync(new URL(`../node_modules/${pkg}/package.json`, import.meta.url), 'utf8')) as {
      version: string
    }
  ).version

/** The version of a package of the root project (node_modules). */
export const rootVersion = (pkg: string): string =>
  (
    JSON.parse(readFileSync(new URL(`../../node_modules/${pkg}/package.json`, import.meta.url), 'utf8')) as {
      version: string
    }
  ).version
