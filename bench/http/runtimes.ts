// The HTTP benchmark on Bun and Deno (issue 11): sapwood's public `serve(app, { port, host })`
// against the runtime's own server with find-my-way by hand (the ceiling), sapwood's fetch handler
// under that server by hand (the core's cost apart from the adapter's), Hono, and Elysia on Bun.
// Every server is a script in servers/ (the same apps as the node benchmark: hello world, and the
// 302 GitHub-shaped routes with their 10-URL mix), run by the runtime from npm (runtimes/, as
// `npm run test:runtimes` installs it) against the BUILT package, a fresh process per run on core
// 1 and wrk on core 0. Each server's answers are checked first (status, content-type, body of
// every URL); a mismatch stops the run. Then, per runtime and scenario, the servers are
// interleaved for ROUNDS rounds (the order turned by one each round), and the tables give median
// req/s and sapwood's targets as the median of per-round ratios.
//
//   npm run bench:runtimes                    the tables (ROUNDS=5, DURATION=5 s after WARMUP=1 s)
//   npm run bench:runtimes -- --write         also record them in bench/README.md
//   npm run bench:runtimes -- --dist=DIR      time the package built in DIR (its index.js and fetch.js)
//   RUNTIMES=bun SERVERS=sapwood,bare SCENARIOS=github ROUNDS=1 DURATION=2 npm run bench:runtimes
//   CPU_PROF=bench/tmp/prof RUNTIMES=bun SERVERS=sapwood ...   Bun writes a .cpuprofile (and a
//       .md summary) per server run there
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type LoadResult, PINNED, type Running, runBench, runLoad, startProcess, stop } from './processes.js'
import { env, log, machine, median, pick, ratio, sapwoodVersion, thousands, writeSection } from './report.js'
import { type AppName, SCENARIOS, type Scenario, benchVersion, normalizeType, rootVersion } from './scenarios.js'
import { ensureWrk } from './wrk.js'

const ROUNDS = env('ROUNDS', 5)
const DURATION = env('DURATION', 5)
const WARMUP = env('WARMUP', 1)
const CONNECTIONS = env('CONNECTIONS', 50)
const CPU_PROF = process.env['CPU_PROF']

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const SERVERS_DIR = fileURLToPath(new URL('./servers/', import.meta.url))
const MODULES = join(ROOT, 'runtimes/node_modules')
const distArg = process.argv.find((a) => a.startsWith('--dist='))?.slice('--dist='.length)
const DIST = resolve(ROOT, distArg ?? 'dist')

/** A server of one runtime: its script in servers/, and the package whose version the table quotes. */
interface Server {
  readonly id: string
  readonly name: string
  readonly script: string
  readonly pkg?: string
}

/** sapwood's req/s must be at least `ratio` times the req/s of server `against` in the same round. */
interface Target {
  readonly against: string
  readonly ratio: number
}

interface Runtime {
  readonly id: string
  readonly name: string
  readonly binary: string
  /** The command line that runs a server script, after the binary. */
  readonly args: (script: string, app: AppName) => readonly string[]
  readonly servers: readonly Server[]
  readonly targets: readonly Target[]
}

const CEILING = 'bare'
const TARGETED = 'sapwood'

const profArgs = (name: string): string[] =>
  CPU_PROF === undefined || CPU_PROF === ''
    ? []
    : ['--cpu-prof', '--cpu-prof-md', `--cpu-prof-dir=${resolve(CPU_PROF)}`, `--cpu-prof-name=${name}`]

let profiled = 0

const RUNTIMES: readonly Runtime[] = [
  {
    id: 'bun',
    name: 'Bun',
    binary: join(MODULES, `@oven/bun-linux-${process.arch === 'arm64' ? 'aarch64' : 'x64'}/bin/bun`),
    args: (script, app) => [...profArgs(`bun-${script.replace(/\.mjs$/, '')}-${app}-${++profiled}`), script],
    servers: [
      { id: 'bare', name: 'Bun.serve + find-my-way', script: 'runtimes-bare.mjs' },
      { id: 'sapwood', name: 'sapwood serve', script: 'runtimes-sapwood.mjs' },
      { id: 'sapwood-fetch', name: 'Bun.serve + sapwood/fetch', script: 'runtimes-sapwood-fetch.mjs' },
      { id: 'hono', name: 'Hono', script: 'runtimes-hono.mjs', pkg: 'hono' },
      { id: 'elysia', name: 'Elysia', script: 'bun-elysia.mjs', pkg: 'elysia' },
    ],
    targets: [
      { against: CEILING, ratio: 0.95 },
      { against: 'hono', ratio: 1 },
      { against: 'elysia', ratio: 1 },
    ],
  },
  {
    id: 'deno',
    name: 'Deno',
    binary: join(MODULES, `@deno/linux-${process.arch === 'arm64' ? 'arm64' : 'x64'}-glibc/deno`),
    // npm packages resolve from node_modules folders (bench/ has a package.json: no download);
    // --allow-read for dist/ and node_modules, --allow-env for APP, PORT and what packages read
    args: (script) => ['run', '--allow-net=127.0.0.1', '--allow-read', '--allow-env', script],
    servers: [
      { id: 'bare', name: 'Deno.serve + find-my-way', script: 'runtimes-bare.mjs' },
      { id: 'sapwood', name: 'sapwood serve', script: 'runtimes-sapwood.mjs' },
      { id: 'sapwood-fetch', name: 'Deno.serve + sapwood/fetch', script: 'runtimes-sapwood-fetch.mjs' },
      { id: 'hono', name: 'Hono', script: 'runtimes-hono.mjs', pkg: 'hono' },
    ],
    targets: [
      { against: CEILING, ratio: 0.95 },
      { against: 'hono', ratio: 1 },
    ],
  },
]

const runtimes = pick(RUNTIMES, 'RUNTIMES')
const scenarios = pick(
  SCENARIOS.filter((s) => s.id === 'hello' || s.id === 'github'),
  'SCENARIOS',
)
const serversOf = (runtime: Runtime): readonly Server[] => {
  const raw = process.env['SERVERS']
  if (raw === undefined || raw === '') return runtime.servers
  const ids = raw.split(',').map((s) => s.trim())
  const known = new Set(RUNTIMES.flatMap((r) => r.servers.map((s) => s.id)))
  const unknown = ids.filter((id) => !known.has(id))
  if (unknown.length > 0) throw new Error(`SERVERS: unknown ${unknown.join(', ')} (known: ${[...known].join(', ')})`)
  return runtime.servers.filter((s) => ids.includes(s.id))
}

// --- processes -------------------------------------------------------------------------------

/** Starts a server script on a runtime, pinned to the server's core, and resolves once it printed its port. */
const startOn = (runtime: Runtime, server: Server, app: AppName): Promise<Running> =>
  startProcess(
    runtime.binary,
    runtime.args(server.script, app),
    {
      cwd: SERVERS_DIR,
      env: { ...process.env, APP: app, PORT: '0', SAPWOOD_DIST: join(DIST, 'index.js'), NODE_ENV: 'production' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
    `${runtime.id} ${server.script} (APP=${app})`,
  )

// --- the check -------------------------------------------------------------------------------

/** Every request of the scenario, once: what differs from the expected answer (empty when all match). */
const differences = async (running: Running, scenario: Scenario): Promise<string[]> => {
  const out: string[] = []
  for (let i = 0; i < scenario.requests.length; i++) {
    const r = scenario.requests[i]!
    const e = scenario.expected[i]!
    const at = `${r.method} ${r.path}`
    try {
      const res = await fetch(`${running.url}${r.path}`, {
        method: r.method,
        ...(r.headers === undefined ? {} : { headers: r.headers }),
        ...(r.body === undefined ? {} : { body: r.body }),
        signal: AbortSignal.timeout(5000),
      })
      const body = await res.text()
      const type = res.headers.get('content-type')
      if (res.status !== e.status) out.push(`${at}: status ${res.status}, expected ${e.status}`)
      else if (e.type !== undefined && (type === null || normalizeType(type) !== normalizeType(e.type)))
        out.push(`${at}: content-type ${JSON.stringify(type)}, expected ${JSON.stringify(e.type)}`)
      else if (e.body !== undefined && body !== e.body)
        out.push(`${at}: body ${JSON.stringify(body.slice(0, 200))}, expected ${JSON.stringify(e.body)}`)
    } catch (error) {
      out.push(`${at}: ${String(error)}`)
    }
  }
  return out
}

/** Checks every server of every runtime on every scenario; throws, listing them all, if any differs. */
const check = async (): Promise<void> => {
  const wrong: string[] = []
  for (const runtime of runtimes) {
    for (const server of serversOf(runtime)) {
      for (const scenario of scenarios) {
        let running: Running
        try {
          running = await startOn(runtime, server, scenario.app)
        } catch (error) {
          wrong.push(`${runtime.id} ${server.id} ${scenario.id}: did not start: ${String(error)}`)
          continue
        }
        try {
          for (const d of await differences(running, scenario)) wrong.push(`${runtime.id} ${server.id} ${d}`)
        } finally {
          await stop(running.child)
        }
      }
    }
  }
  if (wrong.length > 0) throw new Error(`check failed, nothing timed:\n  ${wrong.join('\n  ')}`)
  log('check: every server answers every URL of every scenario as expected')
}

// --- the timings -----------------------------------------------------------------------------

/** What went wrong in a timed run that the table should not hide. */
const flaw = (r: LoadResult): string | undefined =>
  r.errors > 0 || r.timeouts > 0 || r.unsuccessful > 0
    ? `${r.errors} errors, ${r.timeouts} timeouts, ${r.unsuccessful} answers outside 2xx-3xx`
    : undefined

interface Run {
  readonly round: number
  readonly result: LoadResult
}

type Results = Map<string, Run[]>

const key = (runtime: Runtime, server: string, scenario: Scenario): string => `${runtime.id}/${server}/${scenario.id}`

const time = async (): Promise<Results> => {
  const results: Results = new Map()
  for (let round = 1; round <= ROUNDS; round++) {
    for (const runtime of runtimes) {
      const servers = serversOf(runtime)
      // the order turns by one each round: no server is always the first after a cold start
      const order = servers.map((_, i) => servers[(i + round - 1) % servers.length]!)
      for (const scenario of scenarios) {
        const line: string[] = []
        for (const server of order) {
          try {
            const running = await startOn(runtime, server, scenario.app)
            try {
              const r = await runLoad(
                'wrk',
                {
                  url: running.url,
                  connections: CONNECTIONS,
                  warmup: WARMUP,
                  duration: DURATION,
                  requests: scenario.requests,
                },
                running,
              )
              const k = key(runtime, server.id, scenario)
              results.set(k, [...(results.get(k) ?? []), { round, result: r }])
              const bad = flaw(r)
              if (bad !== undefined) log(`  ! ${runtime.name} ${server.name}, ${scenario.name}: ${bad}`)
              line.push(
                `${server.id} ${Math.round(r.rps)}${r.serverCpu === undefined ? '' : ` (${(r.serverCpu * 100).toFixed(0)}% cpu)`}`,
              )
            } finally {
              await stop(running.child)
            }
          } catch (error) {
            log(`  ! ${runtime.name} ${server.name}, ${scenario.name}: ${String(error)}`)
            line.push(`${server.id} failed`)
          }
        }
        log(`round ${round}/${ROUNDS} ${runtime.id} ${scenario.id}: ${line.join(', ')}`)
      }
    }
  }
  return results
}

// --- the report ------------------------------------------------------------------------------

/** A runtime's version, as its `--version` prints it. */
const versionOf = (runtime: Runtime): string => {
  const out = spawnSync(runtime.binary, ['--version'], { encoding: 'utf8' })
  const first = (out.stdout ?? '').split('\n')[0]?.trim() ?? ''
  return /(\d+\.\d+\.\d+\S*)/.exec(first)?.[1] ?? (first || 'unknown version')
}

/**
 * Requests per second of server CPU (all its threads): on a machine shared with other work the
 * server is not always given its whole core, and then req/s measures the scheduler while this
 * still measures the server.
 */
const perCpu = (r: LoadResult): number | undefined =>
  r.serverCpu === undefined || r.serverCpu < 0.05 ? undefined : r.rps / r.serverCpu

/** sapwood's `measure` over `against`'s, one ratio per round in which both ran. */
const pairedRatios = (
  results: Results,
  runtime: Runtime,
  scenario: Scenario,
  against: string,
  measure: (r: LoadResult) => number | undefined,
): number[] => {
  const mine = results.get(key(runtime, TARGETED, scenario)) ?? []
  const theirs = results.get(key(runtime, against, scenario)) ?? []
  return mine.flatMap((m) => {
    const t = theirs.find((r) => r.round === m.round)
    const a = measure(m.result)
    const b = t === undefined ? undefined : measure(t.result)
    return a === undefined || b === undefined ? [] : [a / b]
  })
}

const section = (runtime: Runtime, version: string, results: Results): string[] => {
  const servers = serversOf(runtime)
  const runs = (server: string, scenario: Scenario): readonly LoadResult[] =>
    results.get(key(runtime, server, scenario))?.map((r) => r.result) ?? []
  const table = (f: (rs: readonly LoadResult[], scenario: Scenario) => string): string[] => [
    `| scenario | ${servers.map((s) => s.name).join(' | ')} |`,
    `|---|${servers.map(() => '---:').join('|')}|`,
    ...scenarios.map(
      (sc) =>
        `| ${sc.name} | ${servers
          .map((s) => {
            const rs = runs(s.id, sc)
            if (rs.length === 0) return '—'
            const flawed = rs.length < ROUNDS || rs.some((r) => flaw(r) !== undefined) ? ' ⚠' : ''
            return f(rs, sc) + flawed
          })
          .join(' | ')} |`,
    ),
  ]
  const rps = table((rs, sc) => {
    const m = median(rs.map((r) => r.rps))
    const ceiling = runs(CEILING, sc)
    return ceiling.length === 0 ? thousands(m) : `${thousands(m)} (${ratio(m / median(ceiling.map((r) => r.rps)))})`
  })
  const efficiency = table((rs, sc) => {
    const mine = rs.flatMap((r) => perCpu(r) ?? [])
    const ceiling = runs(CEILING, sc).flatMap((r) => perCpu(r) ?? [])
    if (mine.length === 0) return '?'
    const m = median(mine)
    return ceiling.length === 0 ? thousands(m) : `${thousands(m)} (${ratio(m / median(ceiling))})`
  })
  const cpu = table((rs) => {
    const s = rs.flatMap((r) => (r.serverCpu === undefined ? [] : [r.serverCpu]))
    const l = rs.flatMap((r) => (r.loadCpu === undefined ? [] : [r.loadCpu]))
    return s.length === 0
      ? '?'
      : `${(median(s) * 100).toFixed(0)} / ${l.length === 0 ? '?' : (median(l) * 100).toFixed(0)} %`
  })
  const name = (id: string): string => runtime.servers.find((s) => s.id === id)!.name
  const targets = scenarios.flatMap((scenario) =>
    runtime.targets.map((target) => {
      const goal = `≥ ${ratio(target.ratio)}`
      const ratios = pairedRatios(results, runtime, scenario, target.against, (r) => r.rps)
      if (ratios.length === 0) return `| ${scenario.name} | ${name(target.against)} | ${goal} | — | — | not run | — |`
      const m = median(ratios)
      const range = `${ratio(Math.min(...ratios))} – ${ratio(Math.max(...ratios))}`
      const cpuRatios = pairedRatios(results, runtime, scenario, target.against, perCpu)
      const perCpuCell =
        cpuRatios.length === 0
          ? '?'
          : `${ratio(median(cpuRatios))} (${ratio(Math.min(...cpuRatios))} – ${ratio(Math.max(...cpuRatios))})`
      return `| ${scenario.name} | ${name(target.against)} | ${goal} | ${ratio(m)} | ${range} | ${m >= target.ratio ? 'met' : 'missed'} | ${perCpuCell} |`
    }),
  )
  return [
    `#### ${runtime.name} ${version}`,
    '',
    `Requests per second (median), and the ratio to ${name(CEILING)}:`,
    '',
    ...rps,
    '',
    `Targets: sapwood serve's req/s over the peer's in the same round (the median of the rounds' ratios, and their range):`,
    '',
    '| scenario | against | target | ratio | rounds: lowest – highest | target | ratio per server CPU-second (range) |',
    '|---|---|---:|---:|---:|---|---:|',
    ...targets,
    '',
    `Requests per second of server CPU (median of the runs' req/s over the server's CPU share), and the ratio to ${name(CEILING)}:`,
    '',
    ...efficiency,
    '',
    'CPU during the timed runs, server / wrk (share of one core, median):',
    '',
    ...cpu,
  ]
}

const report = (wrk: string, versions: ReadonlyMap<string, string>, results: Results): string => {
  const pkgs = [...new Set(runtimes.flatMap((r) => serversOf(r).flatMap((s) => (s.pkg === undefined ? [] : [s.pkg]))))]
  const lines = [
    `Median of ${ROUNDS} interleaved rounds; every run a fresh server process; wrk ${wrk} (1 thread), ${CONNECTIONS} keep-alive connections, ${WARMUP} s warm-up then ${DURATION} s timed; ${
      PINNED ? 'wrk on core 0, server on core 1 (taskset)' : 'no taskset: processes not pinned'
    }.`,
    `Machine: ${machine()} (the driver's).`,
    `Versions: ${[
      `sapwood ${sapwoodVersion()}${distArg === undefined ? '' : ` built in ${distArg}`}`,
      ...runtimes.map((r) => `${r.name} ${versions.get(r.id) ?? '?'}`),
      `find-my-way ${rootVersion('find-my-way')}`,
      ...pkgs.map((p) => `${p} ${benchVersion(p)}`),
    ].join(', ')}.`,
  ]
  for (const runtime of runtimes) lines.push('', ...section(runtime, versions.get(runtime.id) ?? '?', results))
  if (lines.some((l) => l.includes('⚠'))) {
    lines.push('', '⚠: a run failed, or had errors, timeouts or answers outside 2xx-3xx (see the log).')
  }
  return lines.join('\n')
}

const main = async (): Promise<void> => {
  for (const runtime of runtimes) {
    if (!existsSync(runtime.binary)) {
      throw new Error(`${runtime.name} is not installed at ${runtime.binary}: run npm run test:runtimes -- --no-build`)
    }
  }
  for (const file of ['index.js', 'fetch.js']) {
    if (!existsSync(join(DIST, file))) throw new Error(`${join(DIST, file)} is missing: build the package first`)
  }
  for (const [name, value] of [
    ['DURATION', DURATION],
    ['WARMUP', WARMUP],
  ] as const) {
    if (!Number.isInteger(value)) throw new Error(`${name}=${value}: wrk runs for whole seconds`)
  }
  const wrk = ensureWrk(log)
  if (wrk === undefined) throw new Error('wrk is needed (apt-get install wrk)')
  if (CPU_PROF !== undefined && CPU_PROF !== '') mkdirSync(resolve(CPU_PROF), { recursive: true })
  const versions = new Map(runtimes.map((r) => [r.id, versionOf(r)]))
  log(
    `${runtimes.map((r) => `${r.name} ${versions.get(r.id)} (${serversOf(r).length} servers)`).join(', ')} × ${scenarios.length} scenarios × ${ROUNDS} rounds, ${WARMUP} + ${DURATION} s each, ${CONNECTIONS} connections, wrk ${wrk}${
      PINNED ? '' : ' (taskset not found: not pinned)'
    }`,
  )
  await check()
  const text = report(wrk, versions, await time())
  console.log(text)
  if (process.argv.includes('--write')) writeSection('runtimes', text)
}

await runBench(main)
