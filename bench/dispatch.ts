// In-process dispatch benchmark: raw find-my-way find() + a trivial handler, compile(app), and
// the interpreted app, on the same scenarios. Each (scenario, side) runs in its own process
// (so one side's JIT state never taxes another), rounds interleave the sides (A B C A B C ...),
// and the table reports the median of the rounds' p50 ns per request, and ratios. A second table
// compares the 302-route app behind a wrapper (a `handle` in front, a root `recover`) with the
// same app without it, compiled, paired by round.
//
//   npm run bench:dispatch            print the table
//   npm run bench:dispatch -- --write also record it in bench/README.md
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import FindMyWay from 'find-my-way'
import { do_not_optimize, measure } from 'mitata'
import type * as Sap from 'sapwood'
import { sap } from './sapwood.js'
import { bodyOf, loadRoutes, rawRouter, sapwoodApp } from './github.js'

type Side = 'raw' | 'compiled' | 'interpreted'
const SIDES: readonly Side[] = ['raw', 'compiled', 'interpreted']

interface Scenario {
  readonly name: string
  /** The requests one operation dispatches (the cost is reported per request). */
  readonly requests: readonly (readonly [string, string])[]
  readonly app: () => Sap.Part
  readonly raw: () => FindMyWay.Instance<FindMyWay.HTTPVersion.V1>
  /**
   * A wrapper around another scenario's app: the name of that scenario (same requests, same
   * answers) and the most the compiled wrapped app may cost against the compiled plain one.
   */
  readonly wraps?: { readonly plain: string; readonly within: number }
}

const github = loadRoutes()
const single = { routes: [['GET', '/user']] as const, mix: ['/user'] }
const nested = (() => {
  const leaves = ['users', 'teams', 'repos', 'issues', 'events'].flatMap((r) => [
    ['GET', `/${r}`],
    ['GET', `/${r}/:id`],
    ['POST', `/${r}`],
    ['DELETE', `/${r}/:id`],
  ])
  return leaves as [string, string][]
})()

const MIX = '302-route app, 10-URL mix'

const scenarios: readonly Scenario[] = [
  {
    name: 'static route, 1-route app',
    requests: [['GET', '/user']],
    app: () => sapwoodApp(single),
    raw: () => rawRouter(single),
  },
  {
    name: 'short param route',
    requests: [['GET', '/users/42']],
    app: () =>
      sap.pipe(
        sap.get,
        sap.path('/users/:id'),
        sap.handle((c) => sap.ok(`user ${c.params.id}`)),
      ),
    raw: () => {
      const r = FindMyWay()
      r.on('GET', '/users/:id', (_req, _res, params) => `user ${params['id']}`)
      return r
    },
  },
  {
    name: 'static route, 302-route app',
    requests: [['GET', '/user']],
    app: () => sapwoodApp(github),
    raw: () => rawRouter(github),
  },
  {
    name: MIX,
    requests: github.mix.map((u) => ['GET', u] as const),
    app: () => sapwoodApp(github),
    raw: () => rawRouter(github),
  },
  {
    name: '302-route mix behind a guard (401 if no key)',
    requests: github.mix.map((u) => ['GET', u] as const),
    app: () =>
      sap.pipe(
        sap.filter((c) => c.headers['x-key'] === undefined, sap.rejection.unauthorized()),
        sapwoodApp(github),
      ),
    raw: () => {
      const router = rawRouter(github)
      const find = router.find.bind(router)
      // the guard by hand: one header check before the lookup
      router.find = (m: FindMyWay.HTTPMethod, u: string) => (NO_HEADERS['x-key'] === undefined ? find(m, u) : null)
      return router
    },
  },
  {
    // an audit or logging step that looks at the Conn and passes it on, in front of every route
    name: '302-route mix behind a handle (passes the Conn on)',
    requests: github.mix.map((u) => ['GET', u] as const),
    app: () =>
      sap.pipe(
        sap.handle((c) => c),
        sapwoodApp(github),
      ),
    raw: () => rawRouter(github),
    wraps: { plain: MIX, within: 1.2 },
  },
  {
    // a root error page that answers nothing here: every rejection passes through
    name: '302-route mix behind a root recover',
    requests: github.mix.map((u) => ['GET', u] as const),
    app: () => sap.recover(sapwoodApp(github), () => undefined),
    raw: () => rawRouter(github),
    wraps: { plain: MIX, within: 1.2 },
  },
  {
    name: 'miss (404), 302-route app',
    requests: [['GET', '/nothing/here/at/all']],
    app: () => sapwoodApp(github),
    raw: () => rawRouter(github),
  },
  {
    name: 'method miss (405), 302-route app',
    requests: [['DELETE', '/user/starred']],
    app: () => sapwoodApp(github),
    raw: () => rawRouter(github),
  },
  {
    name: 'nested prefix scopes (/api/v1/...)',
    requests: [
      ['GET', '/api/v1/repos/7'],
      ['POST', '/api/v1/issues'],
    ],
    app: () =>
      sap.pipe(
        sap.prefix('/api'),
        sap.choose([
          sap.pipe(
            sap.prefix('/v1'),
            sap.choose(nested.map(([m, p]) => sap.pipe(sap.method(m), sap.path(p), sap.ok(bodyOf(m, p))))),
          ),
        ]),
      ),
    raw: () => {
      const r = FindMyWay()
      for (const [m, p] of nested) {
        const body = bodyOf(m, p)
        r.on(m as FindMyWay.HTTPMethod, `/api/v1${p}`, () => body)
      }
      return r
    },
  },
]

const NO_HEADERS = Object.freeze(Object.create(null) as Sap.RequestHeaders)

const scenarioNamed = (name: string): Scenario => {
  const found = scenarios.find((s) => s.name === name)
  if (found === undefined) throw new Error(`no scenario named ${name}`)
  return found
}

/** The answer of an app as far as this benchmark looks at it. */
type Answer =
  | { readonly _tag: 'Right'; readonly right: { readonly status: number; readonly respBody: unknown } }
  | { readonly _tag: 'Left'; readonly left: { readonly _tag: string } }

const isPromiseLike = (u: unknown): u is PromiseLike<unknown> =>
  typeof u === 'object' && u !== null && typeof (u as { then?: unknown }).then === 'function'

/** What an app answered, as text to compare: the status and body, or the rejection's tag. */
const answerOf = (result: unknown): string => {
  if (isPromiseLike(result)) throw new Error('the app answered asynchronously: dispatch would measure a promise')
  const r = result as Answer
  return r._tag === 'Right' ? `${r.right.status} ${String(r.right.respBody)}` : `rejected: ${r.left._tag}`
}

/**
 * Every request of the scenario answered alike by the compiled and the interpreted app, and, for
 * a wrapper, as the plain app answers it: a scenario that measured a different answer (a
 * rejection, a promise) would measure nothing worth comparing.
 */
const checkAnswers = (scenario: Scenario): void => {
  const apps: [string, Sap.Part][] = [
    ['compiled', sap.compile(scenario.app())],
    ['interpreted', scenario.app()],
  ]
  if (scenario.wraps !== undefined) apps.push(['plain app', scenarioNamed(scenario.wraps.plain).app()])
  for (const [method, url] of scenario.requests) {
    const answers = apps.map(([side, app]) => [side, answerOf(app(sap.makeConn({ method, url, headers: NO_HEADERS })))])
    if (answers.some(([, a]) => a !== answers[0]![1])) {
      throw new Error(`${scenario.name}, ${method} ${url}: ${answers.map(([s, a]) => `${s} → ${a}`).join('; ')}`)
    }
  }
}

/** Measures one side of one scenario in this process; prints the p50 ns per request. */
const worker = async (side: Side, scenario: Scenario): Promise<void> => {
  // One operation dispatches the scenario's requests repeated to about 100: mitata's own
  // per-iteration work then weighs nothing, and it measured one short operation bimodally
  // (65 or 170 ns for the same static route across processes; a plain loop: 65-75 ns always).
  const requests = Array.from({ length: Math.ceil(100 / scenario.requests.length) }, () => scenario.requests).flat()
  const n = requests.length
  let op: () => unknown
  if (side === 'raw') {
    const router = scenario.raw()
    op = () => {
      let out: unknown
      for (let i = 0; i < n; i++) {
        // no array destructuring here: it goes through the iterator protocol
        const request = requests[i]!
        const found = router.find(request[0] as FindMyWay.HTTPMethod, request[1])
        out =
          found === null
            ? 404
            : (found.handler as unknown as (a: null, b: null, p: unknown) => unknown)(null, null, found.params)
      }
      return out
    }
  } else {
    checkAnswers(scenario)
    const app = side === 'compiled' ? sap.compile(scenario.app()) : scenario.app()
    op = () => {
      let out: unknown
      for (let i = 0; i < n; i++) {
        const request = requests[i]!
        out = app(sap.makeConn({ method: request[0], url: request[1], headers: NO_HEADERS }))
      }
      return out
    }
  }
  // sanity: every side must actually answer
  const sample = op()
  if (sample === undefined) throw new Error(`${side} gave nothing`)
  const stats = await measure(() => do_not_optimize(op()), { min_cpu_time: 400e6 })
  process.stdout.write(JSON.stringify({ p50: stats.p50 / n }))
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

const fmt = (ns: number): string => (ns >= 1000 ? `${(ns / 1000).toFixed(2)} µs` : `${ns.toFixed(0)} ns`)

const main = (): void => {
  const rounds = Number(process.env['ROUNDS'] ?? 3)
  const self = fileURLToPath(import.meta.url)
  const results = new Map<string, number[]>()
  for (let round = 0; round < rounds; round++) {
    for (let index = 0; index < scenarios.length; index++) {
      for (const side of SIDES) {
        const out = execFileSync(process.execPath, ['--import', 'tsx', self, '--worker', side, String(index)], {
          encoding: 'utf8',
          timeout: 120_000,
        })
        const { p50 } = JSON.parse(out) as { p50: number }
        const key = `${index}:${side}`
        results.set(key, [...(results.get(key) ?? []), p50])
      }
      process.stderr.write('.')
    }
  }
  process.stderr.write('\n')
  const at = (i: number, side: Side): number => median(results.get(`${i}:${side}`)!)
  const lines = [
    '| scenario | raw find-my-way + handler | compile(app) | interpreted app | compiled / raw | interpreted / compiled |',
    '|---|---:|---:|---:|---:|---:|',
    ...scenarios.map((s, i) => {
      const raw = at(i, 'raw')
      const compiled = at(i, 'compiled')
      const interpreted = at(i, 'interpreted')
      return `| ${s.name} | ${fmt(raw)} | ${fmt(compiled)} | ${fmt(interpreted)} | ${(compiled / raw).toFixed(2)}× | ${(
        interpreted / compiled
      ).toFixed(1)}× |`
    }),
  ]
  // a wrapped app against the plain one: the ratio of each round's pair, then their median
  const wrapped = scenarios.flatMap((s, i) => {
    if (s.wraps === undefined) return []
    const plain = scenarios.indexOf(scenarioNamed(s.wraps.plain))
    const mine = results.get(`${i}:compiled`)!
    const theirs = results.get(`${plain}:compiled`)!
    const ratio = median(mine.map((ns, round) => ns / theirs[round]!))
    return [
      `| ${s.name} | ${fmt(at(i, 'compiled'))} | ${fmt(at(plain, 'compiled'))} | ${ratio.toFixed(2)}× | ≤ ${s.wraps.within.toFixed(
        1,
      )}× | ${ratio <= s.wraps.within ? 'yes' : 'no'} |`,
    ]
  })
  const flat = at(2, 'compiled') / at(0, 'compiled')
  const pkg = (name: string): string =>
    (
      JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), 'utf8')) as {
        version: string
      }
    ).version
  const machine = `${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}, ${os.platform()} ${os.release()}, Node ${
    process.version
  }, find-my-way ${pkg('find-my-way')}, mitata ${pkg('mitata')}`
  const table = [
    `Median of ${rounds} interleaved rounds, p50 per request, each side in its own process.`,
    `Machine: ${machine}.`,
    '',
    ...lines,
    '',
    `Compiled dispatch, 1 route → 302 routes (same static URL): ${flat.toFixed(2)}×.`,
    ...(wrapped.length === 0
      ? []
      : [
          '',
          'The 302-route app behind a wrapper, compiled, against the same app without it (the median of the rounds’ ratios):',
          '',
          '| scenario | compile(wrapped app) | compile(plain app) | wrapped / plain | target | target met? |',
          '|---|---:|---:|---:|---:|---|',
          ...wrapped,
        ]),
  ].join('\n')
  console.log(table)
  if (process.argv.includes('--write')) {
    const readme = fileURLToPath(new URL('./README.md', import.meta.url))
    const text = readFileSync(readme, 'utf8')
    const begin = '<!-- dispatch:begin -->'
    const end = '<!-- dispatch:end -->'
    const next = text.replace(new RegExp(`${begin}[\\s\\S]*${end}`), `${begin}\n${table}\n${end}`)
    writeFileSync(readme, next)
  }
}

const w = process.argv.indexOf('--worker')
if (w !== -1) await worker(process.argv[w + 1] as Side, scenarios[Number(process.argv[w + 2])]!)
else main()
