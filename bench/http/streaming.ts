// The streaming benchmark (issue 10), three parts, each on the processes of the HTTP benchmark
// (a fresh server script pinned to core 1, the clients pinned to core 0):
//
//  sse    5,000 idle Server-Sent Events streams on sapwood (`sse` fed by a `channel`, and by a
//         Set of `send` functions) and on Fastify (a hand-written route): the server's memory
//         per stream, then the time from a broadcast's trigger to each client's receipt of the
//         event (p50, p99, and the last one); the servers interleaved for SSE_ROUNDS rounds.
//  slow   100 MB to a client that reads at SLOW_RATE MiB/s, from a generator (`stream`) and from
//         a file (`sendFile`): the server's RSS sampled every 200 ms against its RSS at idle.
//  file   a 1 MiB file over keep-alive, sapwood `sendFile` against Fastify + @fastify/static
//         `reply.sendFile` (as it comes, and reading 64 KiB at a time): wrk for DURATION s,
//         interleaved for ROUNDS rounds, req/s and the ratios paired by round.
//
//   npm run bench:streaming                 all three (3-4 minutes)
//   npm run bench:streaming -- --write      also record the tables in bench/README.md
//   SMOKE=1 npm run bench:streaming         a smoke run (under a minute)
//   PARTS=file ROUNDS=10 npm run bench:streaming    one part, more rounds
//   SAPWOOD_DIST=bench/tmp/dist/index.js ...         time another build than dist/
//   CPU_PROF=bench/tmp/prof PARTS=file ROUNDS=1 ...   a CPU profile of every server run
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import type { ChildProcess } from 'node:child_process'
import { request as httpRequest } from 'node:http'
import os from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { residentBytes, settled, usage, type Usage } from './memory.js'
import {
  PINNED,
  type LoadResult,
  type Running,
  cpuSeconds,
  runLoad,
  startClient,
  startServer,
  stop,
  runBench,
} from './processes.js'
import { env, kib, log, machine, median, mib, ratio, sapwoodVersion, thousands, writeSection } from './report.js'
import { benchVersion } from './scenarios.js'
import { ensureWrk } from './wrk.js'

const SMOKE = process.env['SMOKE'] === '1'
const PARTS = (process.env['PARTS'] ?? 'sse,slow,file').split(',').map((s) => s.trim())
for (const p of PARTS)
  if (!['sse', 'slow', 'file'].includes(p)) throw new Error(`PARTS: unknown ${p} (sse, slow, file)`)

const SSE_CONNECTIONS = env('SSE_CONNECTIONS', SMOKE ? 300 : 5000)
const SSE_ROUNDS = env('SSE_ROUNDS', SMOKE ? 1 : 3)
const BROADCASTS = env('BROADCASTS', SMOKE ? 5 : 20)
/** ms between one broadcast's last receipt and the next trigger. */
const SPACING = env('SPACING', 100)
const SLOW_MB = env('SLOW_MB', SMOKE ? 20 : 100)
const SLOW_RATE = env('SLOW_RATE', SMOKE ? 40 : 16)
const ROUNDS = env('ROUNDS', SMOKE ? 1 : 5)
const DURATION = env('DURATION', SMOKE ? 1 : 5)
const WARMUP = env('WARMUP', 1)
const CONNECTIONS = env('CONNECTIONS', 50)
const FILE_BYTES = 1 << 20
/** A directory: every server then writes a CPU profile there (node --cpu-prof) as it stops. */
const CPU_PROF = process.env['CPU_PROF'] ?? ''
const PROFILED: readonly string[] =
  CPU_PROF === ''
    ? []
    : [
        '--cpu-prof',
        `--cpu-prof-dir=${CPU_PROF}`,
        `--import=${pathToFileURL(fileURLToPath(new URL('./servers/exit-on-signal.mjs', import.meta.url))).href}`,
      ]

// ---------------------------------------------------------------------------------------------
// a client process, driven over IPC

interface Reply {
  readonly ok: boolean
  readonly result?: unknown
  readonly error?: string
}

/** Sends a command to a client script and resolves its answer (bounded by `timeout` ms). */
const ask = <T>(child: ChildProcess, message: object | undefined, timeout: number): Promise<T> =>
  new Promise((resolve, reject) => {
    const onExit = (): void => finish(new Error(`the client exited while answering ${JSON.stringify(message)}`))
    const onMessage = (m: Reply): void => finish(m.ok ? undefined : new Error(m.error), m.result)
    const timer = setTimeout(
      () => finish(new Error(`no answer to ${JSON.stringify(message)} in ${timeout} ms`)),
      timeout,
    )
    function finish(error: Error | undefined, result?: unknown): void {
      clearTimeout(timer)
      child.off('message', onMessage)
      child.off('exit', onExit)
      if (error === undefined) resolve(result as T)
      else reject(error)
    }
    child.on('message', onMessage)
    child.once('exit', onExit)
    if (message !== undefined) child.send(message)
  })

// ---------------------------------------------------------------------------------------------
// 1. idle SSE streams

interface SseServer {
  readonly id: string
  readonly name: string
  readonly script: string
  readonly env?: Readonly<Record<string, string>>
}

const SSE_SERVERS: readonly SseServer[] = [
  { id: 'sapwood', name: 'sapwood (`sse` + `channel`)', script: 'sse-sapwood.mjs' },
  {
    id: 'sapwood-set',
    name: 'sapwood (`sse` + a Set of `send`)',
    script: 'sse-sapwood.mjs',
    env: { FANOUT: 'set' },
  },
  { id: 'fastify', name: 'Fastify (hand-written SSE route)', script: 'sse-fastify.mjs' },
]

interface Delivery {
  readonly p50: number
  readonly p99: number
  /** The last receipt of each broadcast (ms after its trigger). */
  readonly max: readonly number[]
  readonly missing: number
  readonly samples: number
  readonly statuses: readonly number[]
}

interface SseRun {
  readonly round: number
  readonly baseline: Usage
  readonly loaded: Usage
  readonly open: number
  readonly failed: number
  readonly openMs: number
  readonly delivery: Delivery
  /** Server CPU seconds during the broadcasts. */
  readonly broadcastCpu: number | undefined
}

const WARM_STREAMS = 200

const sseRun = async (server: SseServer, round: number): Promise<SseRun> => {
  const running = await startServer(server.script, 'basic', true, { env: server.env ?? {}, nodeArgs: PROFILED })
  const client = startClient('sse-clients.mjs', [JSON.stringify({ port: running.port })])
  client.stdout?.resume()
  try {
    await ask(client, undefined, 10_000)
    // Warm the path (JIT, the parser and the event loop's structures) with a few streams and
    // broadcasts, so that the baseline is a server that has served, with no stream open.
    await ask(client, { cmd: 'open', count: WARM_STREAMS, batch: 100, timeout: 10_000 }, 60_000)
    await ask(client, { cmd: 'broadcast', count: 5, spacing: 20, timeout: 2000 }, 30_000)
    await ask(client, { cmd: 'close' }, 10_000)
    const baseline = await settled(running.child, 0)
    const opened = await ask<{ open: number; failed: number; ms: number }>(
      client,
      { cmd: 'open', count: SSE_CONNECTIONS, batch: 100, timeout: 10_000 },
      120_000,
    )
    if (opened.failed > 0) log(`  ! ${server.name}: ${opened.failed} of ${SSE_CONNECTIONS} streams did not open`)
    await sleep(500)
    const loaded = await usage(running.child)
    const cpu0 = cpuSeconds(running.child.pid)
    const delivery = await ask<Delivery>(
      client,
      { cmd: 'broadcast', count: BROADCASTS, spacing: SPACING, timeout: 5000 },
      BROADCASTS * 12_000,
    )
    const cpu1 = cpuSeconds(running.child.pid)
    if (delivery.missing > 0) log(`  ! ${server.name}: ${delivery.missing} events not received within 5 s`)
    if (delivery.statuses.some((s) => s !== 204))
      log(`  ! ${server.name}: broadcast answered ${delivery.statuses.join(', ')}`)
    await ask(client, { cmd: 'exit' }, 10_000).catch(() => undefined)
    return {
      round,
      baseline,
      loaded,
      open: opened.open,
      failed: opened.failed,
      openMs: opened.ms,
      delivery,
      broadcastCpu: cpu0 === undefined || cpu1 === undefined ? undefined : cpu1 - cpu0,
    }
  } finally {
    await stop(client)
    await stop(running.child)
  }
}

const perStream = (r: SseRun, what: 'rss' | 'heapUsed'): number => (r.loaded[what] - r.baseline[what]) / r.open

const sseSection = async (): Promise<string[]> => {
  const runs = new Map<string, SseRun[]>()
  for (let round = 1; round <= SSE_ROUNDS; round++) {
    const line: string[] = []
    for (const server of SSE_SERVERS) {
      try {
        const r = await sseRun(server, round)
        runs.set(server.id, [...(runs.get(server.id) ?? []), r])
        line.push(
          `${server.id} ${kib(perStream(r, 'rss'))}/stream, p50 ${r.delivery.p50.toFixed(1)} ms, p99 ${r.delivery.p99.toFixed(1)} ms`,
        )
      } catch (error) {
        log(`  ! ${server.name}: ${String(error)}`)
        line.push(`${server.id} failed`)
      }
    }
    log(`sse round ${round}/${SSE_ROUNDS}: ${line.join('; ')}`)
  }
  const row = (server: SseServer): string => {
    const rs = runs.get(server.id) ?? []
    if (rs.length === 0) return `| ${server.name} | failed | | | | | | |`
    const m = (f: (r: SseRun) => number): number => median(rs.map(f))
    const open = Math.min(...rs.map((r) => r.open))
    const flaw = rs.some((r) => r.failed > 0 || r.delivery.missing > 0) || rs.length < SSE_ROUNDS ? ' ⚠' : ''
    return `| ${server.name}${flaw} | ${thousands(open)} | ${mib(m((r) => r.baseline.rss))} | ${mib(m((r) => r.loaded.rss))} | ${kib(
      m((r) => perStream(r, 'rss')),
    )} | ${kib(m((r) => perStream(r, 'heapUsed')))} | ${m((r) => r.delivery.p50).toFixed(1)} / ${m((r) => r.delivery.p99).toFixed(1)} ms | ${m(
      (r) => median(r.delivery.max),
    ).toFixed(1)} ms | ${m((r) => ((r.broadcastCpu ?? Number.NaN) / BROADCASTS) * 1000).toFixed(0)} ms |`
  }
  const paired = (id: string, f: (r: SseRun) => number): string => {
    const mine = runs.get(id) ?? []
    const theirs = runs.get('fastify') ?? []
    const rs = mine.flatMap((m) => {
      const t = theirs.find((x) => x.round === m.round)
      return t === undefined ? [] : [f(m) / f(t)]
    })
    return rs.length === 0 ? '—' : `${ratio(median(rs))} (${ratio(Math.min(...rs))} – ${ratio(Math.max(...rs))})`
  }
  const ratios = (server: SseServer): string =>
    `| ${server.name} | ${paired(server.id, (r) => perStream(r, 'rss'))} | ${paired(server.id, (r) =>
      perStream(r, 'heapUsed'),
    )} | ${paired(server.id, (r) => r.delivery.p50)} | ${paired(server.id, (r) => r.delivery.p99)} |`
  return [
    `**${thousands(SSE_CONNECTIONS)} idle SSE streams** (median of ${SSE_ROUNDS} interleaved rounds; every round a fresh server; the streams opened 100 at a time by one client process on raw sockets, each counted once its head and first chunk are in; memory after two full GCs, against the same server after ${WARM_STREAMS} streams and 5 broadcasts came and went; then ${BROADCASTS} broadcasts of \`{"seq":n}\`, each triggered by the client process with a POST and timed there from the trigger to each stream's receipt, ${SPACING} ms apart):`,
    '',
    '| server | streams | RSS, none open | RSS, all open | RSS per stream | heap per stream | delivery p50 / p99 | last receipt (median per broadcast) | server CPU per broadcast |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...SSE_SERVERS.map(row),
    '',
    "Against Fastify, paired by round (median of the rounds' ratios, and their range):",
    '',
    '| server | RSS per stream | heap per stream | delivery p50 | delivery p99 |',
    '|---|---:|---:|---:|---:|',
    ...SSE_SERVERS.filter((s) => s.id !== 'fastify').map(ratios),
  ]
}

// ---------------------------------------------------------------------------------------------
// 2. a slow reader

interface SlowResult {
  readonly status: number
  readonly bytes: number
  readonly seconds: number
  readonly complete: boolean
}

interface SlowRun {
  readonly what: string
  readonly idle: number
  readonly max: number
  readonly samples: number
  readonly read: SlowResult
}

/** Reads the whole answer of GET `path` as fast as it comes; resolves its status and body length. */
const fetchAll = (running: Running, path: string): Promise<{ status: number; body: Buffer; type: string }> =>
  new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: running.port, path, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.once('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks),
          type: String(res.headers['content-type']),
        }),
      )
      res.once('error', reject)
    })
    req.setTimeout(10_000, () => req.destroy(new Error('no answer in 10 s')))
    req.once('error', reject)
    req.end()
  })

const runSlowReader = (port: number, path: string, timeout: number): Promise<SlowResult> =>
  new Promise((resolve, reject) => {
    const child = startClient('slow-reader.mjs', [JSON.stringify({ port, path, rate: SLOW_RATE * 2 ** 20, timeout })])
    let out = ''
    child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')))
    child.once('exit', () => {
      const line = out.split('\n').find((l) => l.startsWith('{'))
      if (line === undefined) reject(new Error(`slow-reader.mjs printed nothing: ${out.slice(-500)}`))
      else resolve(JSON.parse(line) as SlowResult)
    })
  })

const slowRun = async (what: string, path: string, files: Files): Promise<SlowRun> => {
  const bytes = SLOW_MB * 1e6
  const running = await startServer('files-sapwood.mjs', 'basic', false, {
    env: { FILE: files.small, BIG: files.big, STREAM_BYTES: String(bytes) },
    nodeArgs: PROFILED,
  })
  try {
    // one request through the adapter's stream path first: the idle figure is a server that has served
    await fetchAll(running, '/file')
    await sleep(500)
    const pid = running.child.pid
    const idle = residentBytes(pid) ?? Number.NaN
    let max = idle
    let samples = 0
    const sampler = setInterval(() => {
      const rss = residentBytes(pid)
      if (rss === undefined) return
      samples++
      if (rss > max) max = rss
    }, 200)
    let read: SlowResult
    try {
      // bounded: twice the time the pace needs, and at least 10 s more
      read = await runSlowReader(running.port, path, Math.round((2 * bytes) / (SLOW_RATE * 2 ** 20)) * 1000 + 10_000)
    } finally {
      clearInterval(sampler)
    }
    if (!read.complete || read.status !== 200) log(`  ! ${what}: status ${read.status}, complete ${read.complete}`)
    return { what, idle, max, samples, read }
  } finally {
    await stop(running.child)
  }
}

const slowSection = async (files: Files): Promise<string[]> => {
  const runs: SlowRun[] = []
  for (const [what, path] of [
    [`\`stream\` of a generator of 64 KiB chunks (chunked)`, '/stream'],
    [`\`sendFile\` of a ${SLOW_MB} MB file`, '/big'],
  ] as const) {
    try {
      const r = await slowRun(what, path, files)
      runs.push(r)
      log(
        `slow ${path}: ${mib(r.read.bytes)} in ${r.read.seconds.toFixed(1)} s, RSS idle ${mib(r.idle)}, max ${mib(r.max)} (+${mib(r.max - r.idle)})`,
      )
    } catch (error) {
      log(`  ! slow ${path}: ${String(error)}`)
    }
  }
  return [
    `**${SLOW_MB} MB to a client that reads at ${SLOW_RATE} MiB/s** (sapwood; one client process pausing and resuming a raw socket to keep that pace; the server's RSS from /proc every 200 ms; idle: after one 1 MiB \`sendFile\` and 0.5 s; target: max within 50 MB of idle):`,
    '',
    '| body | received | time (rate) | RSS idle | RSS max | max − idle | samples | within 50 MB? |',
    '|---|---:|---:|---:|---:|---:|---:|---|',
    ...runs.map(
      (r) =>
        `| ${r.what}${r.read.complete ? '' : ' ⚠ incomplete'} | ${(r.read.bytes / 1e6).toFixed(1)} MB | ${r.read.seconds.toFixed(1)} s (${(
          r.read.bytes /
          2 ** 20 /
          r.read.seconds
        ).toFixed(
          1,
        )} MiB/s) | ${mib(r.idle)} | ${mib(r.max)} | ${mib(r.max - r.idle)} | ${r.samples} | ${r.max - r.idle <= 50e6 ? 'yes' : 'no'} |`,
    ),
  ]
}

// ---------------------------------------------------------------------------------------------
// 3. a 1 MiB file over keep-alive

interface FileServer {
  readonly id: string
  readonly name: string
  readonly script: string
  readonly env?: Readonly<Record<string, string>>
}

const FILE_SERVERS: readonly FileServer[] = [
  { id: 'sapwood', name: 'sapwood `sendFile`', script: 'files-sapwood.mjs' },
  { id: 'fastify', name: 'Fastify + @fastify/static `reply.sendFile`', script: 'files-fastify.mjs' },
  {
    id: 'fastify-64k',
    name: 'the same, `highWaterMark: 65536`',
    script: 'files-fastify.mjs',
    env: { HIGH_WATER_MARK: '65536' },
  },
]

interface FileRun {
  readonly round: number
  readonly result: LoadResult
}

/** Both servers must send the file's bytes, 200, application/octet-stream, before they are timed. */
const checkFile = async (server: FileServer, files: Files): Promise<string | undefined> => {
  const running = await startServer(server.script, 'basic', false, { env: { ...server.env, FILE: files.small } })
  try {
    const a = await fetchAll(running, '/file')
    if (a.status !== 200) return `status ${a.status}`
    if (!a.body.equals(files.smallBytes)) return `body of ${a.body.length} bytes differs from the file`
    if (a.type !== 'application/octet-stream') return `content-type ${a.type}`
    return undefined
  } finally {
    await stop(running.child)
  }
}

const fileSection = async (files: Files): Promise<string[]> => {
  const wrk = ensureWrk(log)
  if (wrk === undefined) throw new Error('the file part needs wrk (apt-get install wrk)')
  for (const [name, value] of [
    ['DURATION', DURATION],
    ['WARMUP', WARMUP],
  ] as const) {
    if (!Number.isInteger(value) || (name === 'DURATION' && value < 1))
      throw new Error(`${name}=${value}: wrk runs for whole seconds`)
  }
  const eligible: FileServer[] = []
  for (const server of FILE_SERVERS) {
    const why = await checkFile(server, files)
    if (why === undefined) eligible.push(server)
    else log(`  ! ${server.name}: failed the check, left out: ${why}`)
  }
  const runs = new Map<string, FileRun[]>()
  for (let round = 1; round <= ROUNDS; round++) {
    const line: string[] = []
    for (const server of eligible) {
      const running = await startServer(server.script, 'basic', false, {
        env: { ...server.env, FILE: files.small },
        nodeArgs: PROFILED,
      })
      try {
        const result = await runLoad(
          'wrk',
          {
            url: running.url,
            connections: CONNECTIONS,
            warmup: WARMUP,
            duration: DURATION,
            requests: [{ method: 'GET', path: '/file' }],
          },
          running,
        )
        if (result.errors > 0 || result.timeouts > 0 || result.unsuccessful > 0) {
          log(
            `  ! ${server.name}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.unsuccessful} not 2xx-3xx`,
          )
        }
        runs.set(server.id, [...(runs.get(server.id) ?? []), { round, result }])
        line.push(`${server.id} ${Math.round(result.rps)}`)
      } catch (error) {
        log(`  ! ${server.name}: ${String(error)}`)
        line.push(`${server.id} failed`)
      } finally {
        await stop(running.child)
      }
    }
    log(`file round ${round}/${ROUNDS}: ${line.join(', ')}`)
  }
  const paired = (against: string): number[] => {
    const theirs = runs.get(against) ?? []
    return (runs.get('sapwood') ?? []).flatMap((m) => {
      const t = theirs.find((x) => x.round === m.round)
      return t === undefined ? [] : [m.result.rps / t.result.rps]
    })
  }
  const pct = (xs: readonly (number | undefined)[]): string => {
    const v = xs.flatMap((x) => (x === undefined ? [] : [x]))
    return v.length === 0 ? '?' : `${(median(v) * 100).toFixed(0)} %`
  }
  return [
    `**A 1 MiB file over keep-alive** (median of ${ROUNDS} interleaved rounds; every run a fresh server process; wrk ${wrk} (1 thread), ${CONNECTIONS} keep-alive connections, ${WARMUP} s warm-up then ${DURATION} s timed; ${
      PINNED ? 'wrk on core 0, server on core 1 (taskset)' : 'no taskset: processes not pinned'
    }):`,
    '',
    '| server | req/s | MiB/s | p50 / p99 | CPU, server / wrk |',
    '|---|---:|---:|---:|---:|',
    ...eligible.map((s) => {
      const rs = (runs.get(s.id) ?? []).map((r) => r.result)
      if (rs.length === 0) return `| ${s.name} | failed | | | |`
      const rps = median(rs.map((r) => r.rps))
      return `| ${s.name} | ${thousands(rps)} | ${thousands((rps * FILE_BYTES) / 2 ** 20)} | ${median(rs.map((r) => r.p50)).toFixed(2)} / ${median(
        rs.map((r) => r.p99),
      ).toFixed(2)} ms | ${pct(rs.map((r) => r.serverCpu))} / ${pct(rs.map((r) => r.loadCpu))} |`
    }),
    '',
    "sapwood over each Fastify, paired by round (the median of the rounds' ratios, and their range); the target is ≥ 1.00× Fastify with @fastify/static:",
    '',
    '| against | ratio | rounds: lowest – highest | ≥ 1.00×? |',
    '|---|---:|---:|---|',
    ...eligible
      .filter((s) => s.id !== 'sapwood')
      .map((s) => {
        const rs = paired(s.id)
        if (rs.length === 0) return `| ${s.name} | — | no paired round | |`
        const m = median(rs)
        return `| ${s.name} | **${ratio(m)}** | ${ratio(Math.min(...rs))} – ${ratio(Math.max(...rs))} | ${m >= 1 ? 'yes' : 'no'} |`
      }),
  ]
}

// ---------------------------------------------------------------------------------------------

interface Files {
  readonly dir: string
  readonly small: string
  readonly smallBytes: Buffer
  readonly big: string
}

/** A 1 MiB file of random bytes and a SLOW_MB MB one, in a directory of their own under the OS's tmp. */
const makeFiles = (): Files => {
  const dir = mkdtempSync(join(os.tmpdir(), 'sapwood-bench-'))
  const smallBytes = randomBytes(FILE_BYTES)
  const small = join(dir, 'file-1mib.bin')
  writeFileSync(small, smallBytes)
  const big = join(dir, 'big.bin')
  const block = randomBytes(1e6)
  writeFileSync(big, '')
  for (let i = 0; i < SLOW_MB; i++) writeFileSync(big, block, { flag: 'a' })
  return { dir, small, smallBytes, big }
}

const main = async (): Promise<void> => {
  const started = performance.now()
  log(
    `streaming benchmark: ${PARTS.join(', ')}${SMOKE ? ' (smoke)' : ''}${PINNED ? '' : ' (taskset not found: not pinned)'}`,
  )
  const files = makeFiles()
  const sections: string[][] = []
  try {
    if (PARTS.includes('sse')) sections.push(await sseSection())
    if (PARTS.includes('slow')) sections.push(await slowSection(files))
    if (PARTS.includes('file')) sections.push(await fileSection(files))
  } finally {
    rmSync(files.dir, { recursive: true, force: true })
  }
  const text = [
    `Machine: ${machine()}.`,
    `Versions: sapwood ${sapwoodVersion()}${process.env['SAPWOOD_DIST'] ? ` (from ${process.env['SAPWOOD_DIST']})` : ''}, Fastify ${benchVersion('fastify')}, @fastify/static ${benchVersion('@fastify/static')}.${
      SMOKE ? ' Smoke run (SMOKE=1): not for quoting.' : ''
    }`,
    '',
    ...sections.flatMap((s) => [...s, '']),
  ].join('\n')
  console.log(text)
  log(`done in ${((performance.now() - started) / 1000).toFixed(0)} s`)
  if (process.argv.includes('--write')) writeSection('streaming', text.trimEnd())
}

await runBench(main)
