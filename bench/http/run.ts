// The end-to-end HTTP benchmark (issue 4): the same small apps on raw node:http, node:http +
// find-my-way by hand (the ceiling), sapwood's node adapter, Fastify, Hono and Express, each a
// standalone script in servers/ started fresh for every run and pinned to core 1, with wrk pinned
// to core 0 (installed with apt-get if missing; autocannon, load.mjs, if that fails). Every server
// is checked for correctness first; then the servers are interleaved (A B C ..., A B C ...) for
// ROUNDS rounds and the tables report medians, the ratio to the ceiling, and sapwood's targets
// against the ceiling and its peers, as ratios paired by round. Then the memory of sapwood and of
// the ceiling.
//
//   npm run bench                        the table (ROUNDS=5, DURATION=5 s after WARMUP=1 s)
//   npm run bench -- --write             also record it in bench/README.md
//   ROUNDS=1 DURATION=2 MEMORY_SECONDS=5 npm run bench    a smoke run
//   SERVERS=sapwood,find-my-way SCENARIOS=hello,github npm run bench    a subset
//   LOAD_GENERATOR=autocannon npm run bench    the old load generator, for comparison
import { type Failures, check, pairKey } from './check.js'
import { type MemoryResult, measureMemory } from './memory.js'
import {
  type LoadGenerator,
  type LoadResult,
  PINNED,
  type Running,
  runLoad,
  startServer,
  stop,
  runBench,
} from './processes.js'
import { env, kib, log, machine, median, mib, pick, ratio, sapwoodVersion, thousands, writeSection } from './report.js'
import {
  CEILING,
  SCENARIOS,
  SERVERS,
  TARGETED,
  type Scenario,
  type Server,
  benchVersion,
  rootVersion,
} from './scenarios.js'
import { ensureWrk } from './wrk.js'

const ROUNDS = env('ROUNDS', 5)
const DURATION = env('DURATION', 5)
const WARMUP = env('WARMUP', 1)
// 50 keep-alive connections keep the one server core saturated without queueing so deep that p99
// measures only the queue; see bench/README.md.
const CONNECTIONS = env('CONNECTIONS', 50)
const MEMORY_SECONDS = env('MEMORY_SECONDS', 60)
const MEMORY_REQUESTS = env('MEMORY_REQUESTS', 1_000_000)
const IDLE_CONNECTIONS = env('IDLE_CONNECTIONS', 500)
const ASKED_GENERATOR = process.env['LOAD_GENERATOR'] ?? 'wrk'
if (ASKED_GENERATOR !== 'wrk' && ASKED_GENERATOR !== 'autocannon') {
  throw new Error(`LOAD_GENERATOR=${ASKED_GENERATOR}: expected wrk or autocannon`)
}

const servers = pick(SERVERS, 'SERVERS')
const scenarios = pick(SCENARIOS, 'SCENARIOS')

/** What went wrong in a timed run that the table should not hide. */
const flaw = (scenario: Scenario, r: LoadResult): string | undefined => {
  // wrk tells apart only 2xx-3xx answers and the rest; the check before the timings saw the exact status
  const failing = scenario.expected[0]!.status >= 400
  const other = failing ? r.total - r.unsuccessful : r.unsuccessful
  if (r.errors > 0 || r.timeouts > 0 || other > 0) {
    return `${r.errors} errors, ${r.timeouts} timeouts, ${other} answers ${failing ? 'in' : 'outside'} 2xx-3xx`
  }
  return undefined
}

/** One timed run, with the round it belongs to: the targets pair runs of the same round. */
interface Run {
  readonly round: number
  readonly result: LoadResult
}

type Results = Map<string, Run[]>

const time = async (
  generator: LoadGenerator,
  eligible: (server: Server, scenario: Scenario) => boolean,
): Promise<Results> => {
  const results: Results = new Map()
  for (let round = 1; round <= ROUNDS; round++) {
    for (const scenario of scenarios) {
      const line: string[] = []
      for (const server of servers) {
        if (!eligible(server, scenario)) continue
        const key = pairKey(server, scenario)
        let running: Running
        try {
          running = await startServer(server.script, scenario.app)
        } catch (error) {
          log(`  ! ${server.name}, ${scenario.name}: did not start: ${String(error)}`)
          line.push(`${server.id} failed`)
          continue
        }
        try {
          const r = await runLoad(
            generator,
            {
              url: running.url,
              connections: CONNECTIONS,
              warmup: WARMUP,
              duration: DURATION,
              requests: scenario.requests,
            },
            running,
          )
          results.set(key, [...(results.get(key) ?? []), { round, result: r }])
          const bad = flaw(scenario, r)
          if (bad !== undefined) log(`  ! ${server.name}, ${scenario.name}: ${bad}`)
          line.push(`${server.id} ${Math.round(r.rps)}`)
        } catch (error) {
          log(`  ! ${server.name}, ${scenario.name}: ${String(error)}`)
          line.push(`${server.id} failed`)
        } finally {
          await stop(running.child)
        }
      }
      log(`round ${round}/${ROUNDS} ${scenario.id}: ${line.join(', ')}`)
    }
  }
  return results
}

/** The load generator of the timed runs, and the version the table quotes. */
interface LoadGeneratorInUse {
  readonly name: LoadGenerator
  readonly version: string
  /** Why it is not wrk, if it is not. */
  readonly why?: string
}

const versions = (generator: LoadGeneratorInUse, memory: boolean): string =>
  [
    `sapwood ${sapwoodVersion()}`,
    `find-my-way ${rootVersion('find-my-way')}`,
    ...SERVERS.filter((s) => s.pkg !== undefined).map((s) => `${s.name} ${benchVersion(s.pkg!)}`),
    `@hono/node-server ${benchVersion('@hono/node-server')}`,
    `${generator.name} ${generator.version}`,
    ...(generator.name !== 'autocannon' && memory ? [`autocannon ${benchVersion('autocannon')} (memory runs)`] : []),
  ].join(', ')

const serverById = (id: string): Server => SERVERS.find((s) => s.id === id)!

/** sapwood's req/s over `against`'s, one ratio per round in which both ran. */
const pairedRatios = (results: Results, scenario: Scenario, against: string): number[] => {
  const mine = results.get(pairKey(serverById(TARGETED), scenario)) ?? []
  const theirs = results.get(pairKey(serverById(against), scenario)) ?? []
  return mine.flatMap((m) => {
    const t = theirs.find((r) => r.round === m.round)
    return t === undefined ? [] : [m.result.rps / t.result.rps]
  })
}

const report = (
  generator: LoadGeneratorInUse,
  results: Results,
  failures: Failures,
  memory: ReadonlyMap<string, MemoryResult>,
): string => {
  const cell = (
    server: Server,
    scenario: Scenario,
    f: (runs: readonly LoadResult[], ceiling?: readonly LoadResult[]) => string,
  ): string => {
    if (!server.apps.includes(scenario.app)) return 'n/a'
    const failed = failures.get(pairKey(server, scenario))
    if (failed !== undefined) return 'failed check'
    const runs = results.get(pairKey(server, scenario))?.map((r) => r.result)
    if (runs === undefined || runs.length === 0) return '—'
    const ceiling = results.get(pairKey(serverById(CEILING), scenario))?.map((r) => r.result)
    const flawed = runs.length < ROUNDS || runs.some((r) => flaw(scenario, r) !== undefined) ? ' ⚠' : ''
    return f(runs, ceiling) + flawed
  }
  const header = `| scenario | ${servers.map((s) => s.name).join(' | ')} |`
  const rule = `|---|${servers.map(() => '---:').join('|')}|`
  const table = (f: (runs: readonly LoadResult[], ceiling?: readonly LoadResult[]) => string): string[] => [
    header,
    rule,
    ...scenarios.map((sc) => `| ${sc.name} | ${servers.map((s) => cell(s, sc, f)).join(' | ')} |`),
  ]
  const rps = table((runs, ceiling) => {
    const m = median(runs.map((r) => r.rps))
    const against =
      ceiling === undefined || ceiling.length === 0 ? '' : ` (${ratio(m / median(ceiling.map((r) => r.rps)))})`
    return `${thousands(m)}${against}`
  })
  const latency = table(
    (runs) => `${median(runs.map((r) => r.p50)).toFixed(2)} / ${median(runs.map((r) => r.p99)).toFixed(2)} ms`,
  )
  const cpu = table((runs) => {
    const s = runs.flatMap((r) => (r.serverCpu === undefined ? [] : [r.serverCpu]))
    const l = runs.flatMap((r) => (r.loadCpu === undefined ? [] : [r.loadCpu]))
    return s.length === 0
      ? '?'
      : `${(median(s) * 100).toFixed(0)} / ${l.length === 0 ? '?' : (median(l) * 100).toFixed(0)} %`
  })

  const targets = scenarios.flatMap((scenario) =>
    (scenario.targets ?? []).map((target) => {
      const peer = serverById(target.against)
      const goal = `≥ ${ratio(target.ratio)}`
      const missing = [serverById(TARGETED), peer].filter((s) => !servers.includes(s)).map((s) => s.name)
      const ratios = pairedRatios(results, scenario, target.against)
      if (missing.length > 0 || ratios.length === 0) {
        const why = missing.length > 0 ? `${missing.join(' and ')} not run` : 'no paired run'
        return `| ${scenario.name} | ${peer.name} | ${goal} | — | — | ${why} |`
      }
      const m = median(ratios)
      const range = `${ratio(Math.min(...ratios))} – ${ratio(Math.max(...ratios))}`
      return `| ${scenario.name} | ${peer.name} | ${goal} | ${ratio(m)} | ${range} | ${m >= target.ratio ? 'yes' : 'no'} |`
    }),
  )

  const load =
    generator.name === 'wrk'
      ? `wrk ${generator.version} (1 thread)`
      : `autocannon ${generator.version}${generator.why === undefined ? '' : ` (${generator.why})`}`
  const lines = [
    `Median of ${ROUNDS} interleaved rounds; every run a fresh server process; ${load}, ${CONNECTIONS} keep-alive connections, pipelining 1, ${WARMUP} s warm-up then ${DURATION} s timed; ${
      PINNED ? 'load generator on core 0, server on core 1 (taskset)' : 'no taskset: processes not pinned'
    }.`,
    `Machine: ${machine()}.`,
    `Versions: ${versions(generator, memory.size > 0)}.`,
    '',
    'Requests per second (median), and the ratio to node:http + find-my-way:',
    '',
    ...rps,
  ]
  if (targets.length > 0) {
    lines.push(
      '',
      `Targets: ${serverById(TARGETED).name}'s req/s over the peer's in the same round (the median of the rounds' ratios, and their range):`,
      '',
      '| scenario | against | target | ratio | rounds: lowest – highest | target met? |',
      '|---|---|---:|---:|---:|---|',
      ...targets,
    )
  }
  lines.push(
    '',
    'Latency, p50 / p99 (median of the rounds):',
    '',
    ...latency,
    '',
    'CPU during the timed runs, server / load generator (share of one core, median):',
    '',
    ...cpu,
  )
  if ([...rps, ...latency].some((l) => l.includes('⚠'))) {
    lines.push('', '⚠: a run failed, or had errors, timeouts or answers of an unexpected status class (see the log).')
  }
  if (failures.size > 0) {
    lines.push('', 'Failed the correctness check (not timed):', '')
    for (const [key, why] of failures) lines.push(`- ${key}: ${why.split('\n')[0]}`)
  }
  if (memory.size > 0) {
    const any = [...memory.values()][0]!
    lines.push(
      '',
      `Memory (hello-world app; RSS and heap after a full GC; ${any.idleConnections} idle keep-alive connections each after one request; then up to ${thousands(MEMORY_REQUESTS)} requests from autocannon on ${CONNECTIONS} connections within ${MEMORY_SECONDS} s):`,
      '',
      '| server | RSS idle | heap idle | heap per idle keep-alive connection | RSS per idle connection | requests sent | RSS after | heap after |',
      '|---|---:|---:|---:|---:|---:|---:|---:|',
    )
    for (const [id, m] of memory) {
      const name = SERVERS.find((s) => s.id === id)!.name
      const n = m.withIdle.connections
      const note = n === m.idleConnections ? '' : ` (${n} open)`
      lines.push(
        `| ${name} | ${mib(m.idle.rss)} | ${mib(m.idle.heapUsed)} | ${kib((m.withIdle.heapUsed - m.baseline.heapUsed) / m.idleConnections)}${note} | ${kib(
          (m.withIdle.rss - m.baseline.rss) / m.idleConnections,
        )} | ${thousands(m.requests)} in ${m.seconds.toFixed(0)} s | ${mib(m.after.rss)} | ${mib(m.after.heapUsed)} |`,
      )
    }
  }
  return lines.join('\n')
}

/** wrk, installed if need be; autocannon when asked for, or with a warning when wrk cannot be had. */
const chooseGenerator = (): LoadGeneratorInUse => {
  if (ASKED_GENERATOR === 'autocannon') {
    return { name: 'autocannon', version: benchVersion('autocannon'), why: 'LOAD_GENERATOR=autocannon' }
  }
  const wrk = ensureWrk(log)
  if (wrk !== undefined) {
    // wrk reads whole seconds only: say so now rather than after the correctness check
    for (const [name, value] of [
      ['DURATION', DURATION],
      ['WARMUP', WARMUP],
    ] as const) {
      if (!Number.isInteger(value)) throw new Error(`${name}=${value}: wrk runs for whole seconds`)
    }
    return { name: 'wrk', version: wrk }
  }
  log(
    '! WARNING: wrk is not available; falling back to autocannon, which saturates its own core first and squeezes every server towards the same req/s',
  )
  return { name: 'autocannon', version: benchVersion('autocannon'), why: 'wrk could not be installed' }
}

const main = async (): Promise<void> => {
  const generator = chooseGenerator()
  log(
    `${servers.length} servers × ${scenarios.length} scenarios × ${ROUNDS} rounds, ${WARMUP} + ${DURATION} s each, ${CONNECTIONS} connections, load from ${generator.name} ${generator.version}${
      PINNED ? '' : ' (taskset not found: not pinned)'
    }`,
  )
  const failures = await check(servers, scenarios)
  for (const [key, why] of failures) log(`check failed, left out: ${key}: ${why}`)
  if (failures.size === 0) log('check: every server answers every scenario as expected')
  const eligible = (server: Server, scenario: Scenario): boolean =>
    server.apps.includes(scenario.app) && !failures.has(pairKey(server, scenario))
  const results = await time(generator.name, eligible)
  const memory = new Map<string, MemoryResult>()
  if (MEMORY_SECONDS > 0) {
    for (const server of servers.filter((s) => s.id === CEILING || s.id === 'sapwood')) {
      log(`memory: ${server.name}`)
      memory.set(
        server.id,
        await measureMemory(server.script, {
          connections: CONNECTIONS,
          idle: IDLE_CONNECTIONS,
          requests: MEMORY_REQUESTS,
          seconds: MEMORY_SECONDS,
        }),
      )
    }
  }
  const text = report(generator, results, failures, memory)
  console.log(text)
  if (process.argv.includes('--write')) writeSection('http', text)
}

await runBench(main)
