// In-process benchmark of the Express mount, for issue #11's target: a request that falls through
// a sapwood mount costs at most 1 µs more than Express's own 404. Two measures:
//
// - through Express: one URL that nothing takes, sent to three Express apps (Express alone;
//   with a middleware that only calls next(), mounted the same way; with the 302-route app
//   mounted by `toExpress`). Each request is a fresh node IncomingMessage/ServerResponse pair
//   with no socket (Express writes its 404 page into the response's buffer). An Express 404
//   costs tens of µs, mostly garbage collection, and varies by more than 1 µs from one batch to
//   the next, so the apps take turns in one process (a batch of 50 requests each, 200 turns) and
//   the table gives the median of the paired differences;
// - the mount alone: the middleware called directly on one request that it passes on (a miss
//   writes nothing, so the request is reused), against the no-op middleware: what sapwood itself
//   adds to a request that falls through, measured with mitata.
//
// Each scenario runs in its own process, ROUNDS times (default 3); the table reports medians.
//
//   npm run bench:mounts
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import * as http from 'node:http'
import type { Socket } from 'node:net'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import express from 'express'
import { do_not_optimize, measure } from 'mitata'
import type * as SapExpress from 'sapwood/express'
import { loadRoutes, sapwoodApp } from './github.js'

const entry = new URL('../dist/express.js', import.meta.url)
if (!existsSync(fileURLToPath(entry))) throw new Error('bench: run `npm run build` first (dist/ is missing)')
const { toExpress } = (await import(entry.href)) as typeof SapExpress

interface Scenario {
  readonly name: string
  /** Where the middleware is mounted ('' for `app.use(mw)`). */
  readonly base: string
  /** A URL below the mount that no branch of the app takes. */
  readonly url: string
}

const scenarios: readonly Scenario[] = [
  { name: 'mounted at the root, 302-route app', base: '', url: '/nothing/here/at/all' },
  { name: "mounted under '/api', 302-route app", base: '/api', url: '/api/nothing/here/at/all' },
]

type Side = 'express' | 'next' | 'sapwood'
const SIDES: readonly Side[] = ['express', 'next', 'sapwood']

const HEADERS = Object.freeze({ host: 'bench.test', accept: '*/*', 'user-agent': 'bench' })

type Middleware = (req: SapExpress.ExpressRequest, res: http.ServerResponse, next: () => void) => void

const noop: Middleware = (_req, _res, next) => next()

const server = (mw: Middleware | undefined, base: string): express.Express => {
  const app = express()
  if (mw === undefined) return app
  if (base === '') app.use(mw)
  else app.use(base, mw)
  return app
}

/** One request into an Express app (its router ends a request it passed on at the next setImmediate). */
const dispatch = (app: express.Express, url: string): http.ServerResponse => {
  const req = new http.IncomingMessage(null as unknown as Socket)
  req.method = 'GET'
  req.url = url
  req.headers = HEADERS
  const res = new http.ServerResponse(req)
  app(req, res)
  return res
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

interface Measured {
  /** Median ns per request through each Express app. */
  readonly through: Readonly<Record<Side, number>>
  /** Median of the paired differences, ns per request. */
  readonly overExpress: number
  readonly overNext: number
  /** p50 ns of the middleware alone on a miss, and of the no-op one. */
  readonly alone: number
  readonly aloneNoop: number
}

/** Measures one scenario in this process; prints its numbers as JSON. */
const worker = async (scenario: Scenario): Promise<void> => {
  const mounted = toExpress(sapwoodApp(loadRoutes()))
  const apps: Record<Side, express.Express> = {
    express: server(undefined, scenario.base),
    next: server(noop, scenario.base),
    sapwood: server(mounted, scenario.base),
  }
  // every app must answer Express's 404, and the sapwood one its own routes
  for (const side of SIDES) {
    const res = dispatch(apps[side], scenario.url)
    await tick()
    if (res.statusCode !== 404 || !res.writableEnded) throw new Error(`${side}: no 404 after one tick`)
  }
  const hit = dispatch(apps.sapwood, `${scenario.base}/user`)
  if (hit.statusCode !== 200 || !hit.writableEnded) throw new Error(`sapwood: GET ${scenario.base}/user gave no 200`)

  const batch = 50
  const run = async (app: express.Express): Promise<number> => {
    const started = process.hrtime.bigint()
    for (let i = 0; i < batch; i++) dispatch(app, scenario.url)
    await tick()
    return Number(process.hrtime.bigint() - started) / batch
  }
  for (let i = 0; i < 20; i++) for (const side of SIDES) await run(apps[side]) // warm-up
  const samples: Record<Side, number[]> = { express: [], next: [], sapwood: [] }
  for (let turn = 0; turn < 200; turn++) {
    // the order rotates, so that no side always follows the same one
    for (let k = 0; k < SIDES.length; k++) {
      const side = SIDES[(turn + k) % SIDES.length]!
      samples[side].push(await run(apps[side]))
    }
  }
  const paired = (a: Side, b: Side): number => median(samples[a].map((ns, turn) => ns - samples[b][turn]!))

  // the middleware alone: a miss reads the request and writes nothing, so one pair serves all
  const req = Object.assign(new http.IncomingMessage(null as unknown as Socket), {
    method: 'GET',
    url: scenario.url.slice(scenario.base.length),
    headers: HEADERS,
    baseUrl: scenario.base,
  })
  const res = new http.ServerResponse(req)
  // as Express makes them, so that reading them costs what it costs behind Express
  Object.setPrototypeOf(req, apps.sapwood.request)
  Object.setPrototypeOf(res, apps.sapwood.response)
  let passed = 0
  const next = (): void => {
    passed++
  }
  const n = 100
  const alone = async (mw: Middleware): Promise<number> => {
    const op = (): number => {
      for (let i = 0; i < n; i++) mw(req, res, next)
      return passed
    }
    const before = passed
    op()
    if (passed !== before + n) throw new Error('the middleware did not pass the request on')
    return (await measure(() => do_not_optimize(op()), { min_cpu_time: 400e6 })).p50 / n
  }
  const measured: Measured = {
    through: { express: median(samples.express), next: median(samples.next), sapwood: median(samples.sapwood) },
    overExpress: paired('sapwood', 'express'),
    overNext: paired('sapwood', 'next'),
    alone: await alone(mounted),
    aloneNoop: await alone(noop),
  }
  process.stdout.write(JSON.stringify(measured))
}

const fmt = (ns: number): string => (Math.abs(ns) >= 1000 ? `${(ns / 1000).toFixed(2)} µs` : `${ns.toFixed(0)} ns`)

/** The version of the package that this script imports under `name`. */
const version = (name: string): string => {
  const main = fileURLToPath(import.meta.resolve(name))
  const dir = main.slice(0, main.lastIndexOf(`/node_modules/${name}/`) + `/node_modules/${name}/`.length)
  return (JSON.parse(readFileSync(`${dir}package.json`, 'utf8')) as { version: string }).version
}

const main = (): void => {
  const rounds = Number(process.env['ROUNDS'] ?? 3)
  const self = fileURLToPath(import.meta.url)
  const results: Measured[][] = scenarios.map(() => [])
  for (let round = 0; round < rounds; round++) {
    for (let index = 0; index < scenarios.length; index++) {
      const out = execFileSync(process.execPath, ['--import', 'tsx', self, '--worker', String(index)], {
        encoding: 'utf8',
        timeout: 300_000,
      })
      results[index]!.push(JSON.parse(out) as Measured)
      process.stderr.write('.')
    }
  }
  process.stderr.write('\n')
  const of = (i: number, pick: (m: Measured) => number): number => median(results[i]!.map(pick))
  const lines = [
    "| scenario | Express's 404 | next() middleware + 404 | toExpress(app) + 404 | toExpress − Express (paired) | toExpress − next() (paired) | toExpress alone, on a miss | target ≤ 1 µs met? |",
    '|---|---:|---:|---:|---:|---:|---:|---|',
    ...scenarios.map((s, i) => {
      const over = of(i, (m) => m.overExpress)
      return `| ${s.name} | ${SIDES.map((side) => fmt(of(i, (m) => m.through[side]))).join(' | ')} | ${fmt(over)} | ${fmt(
        of(i, (m) => m.overNext),
      )} | ${fmt(of(i, (m) => m.alone))} (no-op: ${fmt(of(i, (m) => m.aloneNoop))}) | ${over <= 1000 ? 'yes' : 'no'} |`
    }),
  ]
  const machine = `${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}, ${os.platform()} ${os.release()}, Node ${
    process.version
  }, express ${version('express')}, mitata ${version('mitata')}`
  console.log(
    [
      `A request that falls through a mount to Express's 404, per request: medians of ${rounds} rounds (each its own process).`,
      `Machine: ${machine}.`,
      '',
      ...lines,
    ].join('\n'),
  )
}

const w = process.argv.indexOf('--worker')
if (w !== -1) await worker(scenarios[Number(process.argv[w + 1])]!)
else main()
