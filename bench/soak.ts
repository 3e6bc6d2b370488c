// Soak: a million requests or more on loopback against one server process, across five
// scenarios (hello, JSON, a POST body, SSE connect/disconnect, a file range), with the server's
// memory (RSS, heap, external; after two forced collections) at the start, after a warm-up,
// every SOAK_CHECKPOINT requests and at the end. The question: does memory grow with the number of
// requests served, beyond the variation between checkpoints?
//
//   npm run bench:soak                    builds dist/, runs, prints the table
//   npm run bench:soak -- --write         also records it in bench/README.md (Soak (#12))
//   npm run bench:soak -- --dist=DIR      soaks another build (its index.js and node.js)
//
// The server (bench/soak/server.ts) runs on core 0; wrk (1 thread, SOAK_CONNECTIONS keep-alive
// connections) and this script's SSE client run on core 1 (taskset). Settings: SOAK_TOTAL
// (1 000 000), SOAK_WARMUP (50 000), SOAK_CHECKPOINT (200 000), SOAK_SECONDS per wrk run (2),
// SOAK_SSE connections per round (3 000), SOAK_CONNECTIONS (50).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { env, log, machine, sapwoodVersion, thousands, writeSection } from './http/report.js'
import type { Request } from './http/scenarios.js'
import { ensureWrk, parseWrk, wrkArgs, wrkScript } from './http/wrk.js'

const TOTAL = env('SOAK_TOTAL', 1_000_000)
const WARMUP = env('SOAK_WARMUP', 50_000)
const CHECKPOINT = env('SOAK_CHECKPOINT', 200_000)
const SECONDS = env('SOAK_SECONDS', 2)
const SSE_PER_ROUND = env('SOAK_SSE', 3_000)
const CONNECTIONS = env('SOAK_CONNECTIONS', 50)
/** SSE clients connected at once. */
const SSE_PARALLEL = 20
/** The longest an SSE client waits for its first event (ms): past it, the connection counts as failed. */
const SSE_TIMEOUT = 5_000
/** The whole run gives up after this long (ms). */
const DEADLINE = 40 * 60_000

const root = fileURLToPath(new URL('..', import.meta.url))
const distArg = process.argv.find((a) => a.startsWith('--dist='))?.slice('--dist='.length)
const dist = resolve(root, distArg ?? 'dist')
const SERVER_CORE = '0'
const LOAD_CORE = '1'

/** The scenarios wrk drives: name → the requests its script cycles through. */
const WRK_SCENARIOS: Readonly<Record<string, readonly Request[]>> = {
  hello: [{ method: 'GET', path: '/' }],
  json: [{ method: 'GET', path: '/json' }],
  post: [
    {
      method: 'POST',
      path: '/echo',
      headers: { 'Content-Type': 'application/json' },
      body: '{"hello":"world","n":42,"tags":["a","b","c"]}',
    },
  ],
  range: ['bytes=0-1023', 'bytes=4096-8191', 'bytes=-512', 'bytes=60000-', 'bytes=100-199'].map((range) => ({
    method: 'GET',
    path: '/file',
    headers: { Range: range },
  })),
}

interface Usage {
  readonly rss: number
  readonly heapUsed: number
  readonly heapTotal: number
  readonly external: number
  readonly arrayBuffers: number
  readonly connections: number
  readonly gc: boolean
}

interface Checkpoint {
  readonly label: string
  readonly requests: number
  readonly usage: Usage
}

interface Counts {
  requests: number
  failed: number
  seconds: number
}

const pinned = spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status === 0

const startServer = async (file: string): Promise<{ child: ChildProcess; port: number }> => {
  const args = ['--expose-gc', '--import', 'tsx', fileURLToPath(new URL('soak/server.ts', import.meta.url))]
  const child = pinned
    ? spawn('taskset', ['-c', SERVER_CORE, process.execPath, ...args], {
        cwd: root,
        env: { ...process.env, SOAK_FILE: file, SOAK_DIST: dist, NODE_ENV: 'production' },
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      })
    : spawn(process.execPath, args, {
        cwd: root,
        env: { ...process.env, SOAK_FILE: file, SOAK_DIST: dist, NODE_ENV: 'production' },
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      })
  let err = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    err = (err + chunk.toString('utf8')).slice(-4000)
  })
  const port = await new Promise<number>((ok, fail) => {
    let out = ''
    const timer = setTimeout(() => fail(new Error(`the soak server printed no port in 30 s\n${err}`)), 30_000)
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8')
      const nl = out.indexOf('\n')
      if (nl === -1) return
      clearTimeout(timer)
      ok(Number(out.slice(0, nl)))
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      fail(new Error(`the soak server exited (${signal ?? code}) before it listened\n${err}`))
    })
  })
  child.stdout?.resume()
  child.once('exit', (code, signal) => {
    if (!stopping) log(`! the soak server exited (${signal ?? code}) during the run\n${err}`)
  })
  return { child, port }
}

let stopping = false

const stopServer = async (child: ChildProcess): Promise<void> => {
  stopping = true
  if (child.exitCode !== null || child.signalCode !== null) return
  const gone = new Promise<void>((ok) => child.once('exit', () => ok()))
  child.kill('SIGTERM')
  if ((await Promise.race([gone.then(() => false), sleep(3_000).then(() => true)])) && child.exitCode === null) {
    child.kill('SIGKILL')
    await gone
  }
}

/** The server's memory after two full collections, once its connections have closed. */
const usage = async (child: ChildProcess): Promise<Usage> => {
  const ask = (): Promise<Usage> =>
    new Promise((ok, fail) => {
      const timer = setTimeout(() => fail(new Error('the soak server gave no memory answer in 10 s')), 10_000)
      child.once('message', (m) => {
        clearTimeout(timer)
        ok(m as Usage)
      })
      child.send('memory')
    })
  let u = await ask()
  for (let i = 0; i < 50 && u.connections > 0; i++) {
    await sleep(100)
    u = await ask()
  }
  if (!u.gc) throw new Error('the soak server runs without --expose-gc: its numbers would include garbage')
  return u
}

/** One wrk run of a scenario: what it counted. */
const runWrk = (port: number, requests: readonly Request[], seconds: number): Counts => {
  const args = wrkArgs({
    url: `http://127.0.0.1:${port}`,
    connections: CONNECTIONS,
    seconds,
    script: wrkScript(requests),
  })
  const out = pinned
    ? spawnSync('taskset', ['-c', LOAD_CORE, 'wrk', ...args], { encoding: 'utf8', timeout: (seconds + 30) * 1000 })
    : spawnSync('wrk', args, { encoding: 'utf8', timeout: (seconds + 30) * 1000 })
  if (out.error !== undefined || out.status !== 0) {
    throw new Error(`wrk failed (${out.error?.message ?? `exit ${String(out.status)}`}): ${out.stderr}`)
  }
  const r = parseWrk(out.stdout)
  return { requests: r.total, failed: r.errors + r.timeouts + r.unsuccessful, seconds: r.seconds }
}

const SSE_REQUEST = 'GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n'

/** Connects to GET /events, reads the head (200) and the first event, and disconnects: true if it got both. */
const sseOnce = (port: number): Promise<boolean> =>
  new Promise((done) => {
    const socket = connect(port, '127.0.0.1')
    let text = ''
    let settled = false
    const settle = (ok: boolean): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      done(ok)
    }
    const timer = setTimeout(() => settle(false), SSE_TIMEOUT)
    socket.setEncoding('latin1')
    socket.on('error', () => settle(false))
    socket.on('close', () => settle(false))
    socket.on('data', (chunk: string) => {
      text += chunk
      const head = text.indexOf('\r\n\r\n')
      if (head === -1) return
      if (!text.startsWith('HTTP/1.1 200 ')) return settle(false)
      if (
        text.indexOf('event: hello', head) !== -1 &&
        text.indexOf('\n\n', text.indexOf('event: hello', head)) !== -1
      ) {
        settle(true)
      }
    })
    socket.write(SSE_REQUEST)
  })

/** `count` SSE connect/disconnect cycles, SSE_PARALLEL at a time. */
const runSse = async (port: number, count: number): Promise<Counts> => {
  const started = performance.now()
  let next = 0
  let ok = 0
  let failed = 0
  const worker = async (): Promise<void> => {
    while (next < count) {
      next++
      if (await sseOnce(port)) ok++
      else failed++
    }
  }
  await Promise.all(Array.from({ length: Math.min(SSE_PARALLEL, count) }, worker))
  return { requests: ok + failed, failed, seconds: (performance.now() - started) / 1000 }
}

const MiB = (bytes: number): string => (bytes / 2 ** 20).toFixed(1)
const KiB = (bytes: number): string => thousands(bytes / 1024)
const signedKiB = (bytes: number): string => `${bytes >= 0 ? '+' : '−'}${KiB(Math.abs(bytes))}`

/** Least-squares slope of y over x. */
const slope = (xs: readonly number[], ys: readonly number[]): number => {
  const n = xs.length
  const mx = xs.reduce((a, b) => a + b, 0) / n
  const my = ys.reduce((a, b) => a + b, 0) / n
  let num = 0
  let den = 0
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my)
    den += (xs[i]! - mx) ** 2
  }
  return den === 0 ? 0 : num / den
}

const report = (
  checkpoints: readonly Checkpoint[],
  counts: ReadonlyMap<string, Counts>,
  wrk: string,
  seconds: number,
): string => {
  const total = [...counts.values()].reduce((a, c) => a + c.requests, 0)
  const lines = [
    `${thousands(total)} requests in ${Math.round(seconds)} s on loopback; one server process (\`serve\` from ${distArg === undefined ? 'dist/' : `${distArg}/`}, node:http defaults) on core 0${pinned ? '' : ' (not pinned: no taskset)'}; wrk ${wrk} (1 thread, ${CONNECTIONS} keep-alive connections, ${SECONDS} s per run) and the SSE client (${SSE_PARALLEL} at a time) on core 1. Memory after two forced collections (\`--expose-gc\`), once every connection had closed.`,
    `Machine: ${machine()}; shared with other jobs, so throughput varies between runs.`,
    `Versions: sapwood ${sapwoodVersion()}.`,
    '',
    '| scenario | requests | failed | req/s |',
    '|---|---:|---:|---:|',
    ...[...counts.entries()].map(
      ([name, c]) =>
        `| ${name} | ${thousands(c.requests)} | ${thousands(c.failed)} | ${thousands(c.requests / Math.max(c.seconds, 1e-9))} |`,
    ),
    '',
    '| checkpoint | requests | RSS MiB | heapUsed MiB | heapTotal MiB | external MiB | arrayBuffers MiB |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...checkpoints.map(
      ({ label, requests, usage: u }) =>
        `| ${label} | ${thousands(requests)} | ${MiB(u.rss)} | ${MiB(u.heapUsed)} | ${MiB(u.heapTotal)} | ${MiB(u.external)} | ${MiB(u.arrayBuffers)} |`,
    ),
  ]
  // From the warm-up on: the noise is how much the checkpoints before the end differ from one
  // another; the end is within noise when it exceeds the highest of them by no more than that.
  const after = checkpoints.slice(1)
  const warm = after[0]!
  const end = after[after.length - 1]!
  const middle = after.slice(0, -1)
  const served = end.requests - warm.requests
  lines.push('')
  for (const [name, of] of [
    ['RSS', (u: Usage) => u.rss],
    ['heapUsed', (u: Usage) => u.heapUsed],
    ['external', (u: Usage) => u.external],
  ] as const) {
    const values = middle.map((c) => of(c.usage))
    const lo = Math.min(...values)
    const hi = Math.max(...values)
    const growth = of(end.usage) - of(warm.usage)
    const over = of(end.usage) - hi
    const fitted = slope(
      after.map((c) => c.requests),
      after.map((c) => of(c.usage)),
    )
    lines.push(
      `- ${name}: ${signedKiB(growth)} KiB from the warm-up to the end, over ${thousands(served)} requests (${(growth / served).toFixed(2)} bytes per request; fitted slope ${fitted.toFixed(2)}); noise, the spread of the ${values.length} checkpoints before the end: ${KiB(hi - lo)} KiB; the end is ${over <= 0 ? 'within their range' : `${KiB(over)} KiB above their highest`}: ${over <= hi - lo ? 'within noise' : 'growth beyond noise'}.`,
    )
  }
  return lines.join('\n')
}

const main = async (): Promise<void> => {
  const deadline = Date.now() + DEADLINE
  const wrk = ensureWrk(log)
  if (wrk === undefined) {
    throw new Error('bench:soak needs wrk: install it (`apt-get install -y wrk` on Debian) and run again')
  }
  // this script's own SSE client belongs on the load generator's core
  if (pinned) spawnSync('taskset', ['-cp', LOAD_CORE, String(process.pid)], { stdio: 'ignore' })
  const dir = mkdtempSync(join(tmpdir(), 'sapwood-soak-'))
  const file = join(dir, 'file.bin')
  writeFileSync(file, randomBytes(64 * 1024))
  const { child, port } = await startServer(file)
  const killNow = (): void => {
    child.kill('SIGKILL')
    process.exit(130)
  }
  process.once('SIGINT', killNow)
  try {
    const started = performance.now()
    const counts = new Map<string, Counts>(
      [...Object.keys(WRK_SCENARIOS), 'sse'].map((k) => [k, { requests: 0, failed: 0, seconds: 0 }]),
    )
    const total = (): number => [...counts.values()].reduce((a, c) => a + c.requests, 0)
    const checkpoints: Checkpoint[] = [{ label: 'start (idle)', requests: 0, usage: await usage(child) }]
    const mark = async (label: string): Promise<void> => {
      const u = await usage(child)
      checkpoints.push({ label, requests: total(), usage: u })
      log(
        `${label}: ${thousands(total())} requests, RSS ${MiB(u.rss)} MiB, heapUsed ${MiB(u.heapUsed)} MiB, external ${MiB(u.external)} MiB`,
      )
    }
    let next = Number.POSITIVE_INFINITY
    /** A checkpoint each time the total passes the next multiple of CHECKPOINT past the warm-up. */
    const maybeMark = async (): Promise<void> => {
      if (total() < next || total() >= TOTAL) return
      await mark(`after ${thousands(Math.round(total() / 1000))}k`)
      while (next <= total()) next += CHECKPOINT
    }
    const add = (name: string, c: Counts): void => {
      const sum = counts.get(name)!
      sum.requests += c.requests
      sum.failed += c.failed
      sum.seconds += c.seconds
    }
    const round = async (seconds: number, sse: number): Promise<void> => {
      for (const [name, requests] of Object.entries(WRK_SCENARIOS)) {
        add(name, runWrk(port, requests, seconds))
        await maybeMark()
      }
      add('sse', await runSse(port, sse))
      await maybeMark()
      if (Date.now() > deadline) throw new Error(`the soak ran past ${DEADLINE / 60_000} minutes`)
      if (child.exitCode !== null || child.signalCode !== null) throw new Error('the soak server died')
    }
    while (total() < WARMUP) await round(1, Math.min(1_000, SSE_PER_ROUND))
    await mark('after warm-up')
    next = checkpoints[checkpoints.length - 1]!.requests + CHECKPOINT
    while (total() < TOTAL) await round(SECONDS, SSE_PER_ROUND)
    await mark('end')
    const text = report(checkpoints, counts, wrk, (performance.now() - started) / 1000)
    process.stdout.write(`${text}\n`)
    const failed = [...counts.values()].reduce((a, c) => a + c.failed, 0)
    if (failed > 0) log(`! ${failed} requests failed (see the scenario table)`)
    if (process.argv.includes('--write')) writeSection('soak', text)
  } finally {
    process.off('SIGINT', killNow)
    await stopServer(child)
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
