// The processes of the HTTP benchmark: a server script per run (on core 1) and the load generator
// (wrk, or autocannon in load.mjs; on core 0), both pinned with taskset when it exists, and every
// one of them killed at the end.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import type { AppName, Request } from './scenarios.js'
import { type LoadCounts, parseWrk, wrkArgs, wrkScript } from './wrk.js'

/** Whether the processes are pinned (taskset found). */
export const PINNED = spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status === 0

const SERVER_CORE = 1
const LOAD_CORE = 0

const live = new Set<ChildProcess>()

const pinnedSpawn = (
  core: number,
  command: string,
  args: readonly string[],
  options: Parameters<typeof spawn>[2],
): ChildProcess =>
  PINNED ? spawn('taskset', ['-c', String(core), command, ...args], options) : spawn(command, [...args], options)

const track = (child: ChildProcess): ChildProcess => {
  live.add(child)
  child.once('exit', () => live.delete(child))
  return child
}

const exited = (child: ChildProcess): boolean => child.exitCode !== null || child.signalCode !== null

/** SIGTERM, then SIGKILL if the process is still there after `grace` ms. */
export const stop = async (child: ChildProcess, grace = 2000): Promise<void> => {
  if (exited(child)) return
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timedOut = await Promise.race([gone.then(() => false), sleep(grace).then(() => true)])
  if (timedOut && !exited(child)) {
    child.kill('SIGKILL')
    await gone
  }
}

/** Ends every process this benchmark started that is still running. */
export const stopAll = async (): Promise<void> => {
  await Promise.all([...live].map((child) => stop(child)))
}

/** The same, synchronously, for a signal handler: SIGKILL to whatever is left. */
export const killAllNow = (): void => {
  for (const child of live) if (!exited(child)) child.kill('SIGKILL')
}

const firstLine = (child: ChildProcess, what: string, timeout: number): Promise<string> =>
  new Promise((resolve, reject) => {
    let out = ''
    let err = ''
    const timer = setTimeout(() => fail(new Error(`${what}: no port after ${timeout} ms`)), timeout)
    const fail = (error: Error): void => {
      clearTimeout(timer)
      reject(new Error(`${error.message}${err === '' ? '' : `\n${err.slice(-2000)}`}`))
    }
    child.stderr?.on('data', (chunk: Buffer) => {
      err += chunk.toString('utf8')
    })
    const onData = (chunk: Buffer): void => {
      out += chunk.toString('utf8')
      const nl = out.indexOf('\n')
      if (nl === -1) return
      clearTimeout(timer)
      child.stdout?.off('data', onData)
      resolve(out.slice(0, nl).trim())
    }
    child.stdout?.on('data', onData)
    child.once('exit', (code, signal) => fail(new Error(`${what} exited (${signal ?? code}) before it listened`)))
  })

export interface Running {
  readonly child: ChildProcess
  readonly port: number
  readonly url: string
}

const serversDir = new URL('./servers/', import.meta.url)

/** More for a server script: variables of its environment, flags for node (`--cpu-prof`). */
export interface ServerExtras {
  readonly env?: Readonly<Record<string, string>>
  readonly nodeArgs?: readonly string[]
}

/**
 * Starts a server process on the server's core (`command` with `args`), and resolves once it
 * printed its port on its first line; a server that does not within 20 s is stopped. Tracked:
 * `stopAll` and `runBench` end it.
 */
export const startProcess = async (
  command: string,
  args: readonly string[],
  options: Parameters<typeof spawn>[2],
  what: string,
): Promise<Running> => {
  const child = track(pinnedSpawn(SERVER_CORE, command, args, options))
  try {
    const line = await firstLine(child, what, 20_000)
    const port = Number(line)
    if (!Number.isInteger(port) || port <= 0) throw new Error(`${what}: printed ${JSON.stringify(line)}, not a port`)
    // From here on its output is not read: keep the pipes drained.
    child.stdout?.resume()
    child.stderr?.resume()
    return { child, port, url: `http://127.0.0.1:${port}` }
  } catch (error) {
    await stop(child)
    throw error
  }
}

/**
 * Starts a server script with APP=app on 127.0.0.1, port 0, and resolves once it printed its
 * port. `memory` adds an IPC channel (the script then answers 'memory') and --expose-gc.
 */
export const startServer = (
  script: string,
  app: AppName,
  memory = false,
  extras: ServerExtras = {},
): Promise<Running> => {
  const path = fileURLToPath(new URL(script, serversDir))
  const args = [...(extras.nodeArgs ?? []), ...(memory ? ['--expose-gc'] : []), path]
  return startProcess(
    process.execPath,
    args,
    {
      env: { ...process.env, ...extras.env, APP: app, PORT: '0', NODE_ENV: 'production' },
      stdio: memory ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
    },
    `${script} (APP=${app})`,
  )
}

/**
 * Starts a client script of the benchmark (a node script in bench/http/) on the load generator's
 * core, with an IPC channel to drive it and its stdout piped; its stderr is kept for the error a
 * failure reports.
 */
export const startClient = (script: string, args: readonly string[] = []): ChildProcess => {
  const path = fileURLToPath(new URL(script, import.meta.url))
  const child = track(
    pinnedSpawn(LOAD_CORE, process.execPath, [path, ...args], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] }),
  )
  let err = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    err = (err + chunk.toString('utf8')).slice(-2000)
  })
  child.once('exit', (code, signal) => {
    if (code !== 0 && code !== null) process.stderr.write(`${script} exited (${code}): ${err}\n`)
    else if (signal !== null && signal !== 'SIGTERM' && signal !== 'SIGKILL')
      process.stderr.write(`${script}: ${signal}\n`)
  })
  return child
}

export interface LoadSpec {
  readonly url: string
  readonly connections: number
  /** Seconds of untimed load first. */
  readonly warmup: number
  /** Seconds of timed load; with `amount`, the bound on the run. */
  readonly duration: number
  readonly requests: readonly Request[]
  /** Requests to send instead of running for `duration` (autocannon only: wrk runs for a time). */
  readonly amount?: number
}

/** wrk, pinned to its own core; autocannon (load.mjs) where wrk is missing or a count is asked for. */
export type LoadGenerator = 'wrk' | 'autocannon'

export interface LoadResult extends LoadCounts {
  /** Share of one core the server (and the load generator) used during the timed run, if known. */
  readonly serverCpu?: number
  readonly loadCpu?: number
}

const ticksPerSecond = ((): number => {
  const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })
  const n = Number(out.stdout)
  return out.status === 0 && n > 0 ? n : 100
})()

/** utime + stime in seconds from a line of /proc/<pid>/stat. */
const statSeconds = (stat: string): number => {
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(rest[11]) + Number(rest[12])) / ticksPerSecond
}

/** utime + stime of a process in seconds, from /proc (Linux), or undefined. */
export const cpuSeconds = (pid: number | undefined): number | undefined => {
  if (pid === undefined) return undefined
  try {
    return statSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return undefined
  }
}

/** Runs a pinned load process to its end; resolves with its stdout, or rejects with its stderr. */
const runToEnd = (
  command: string,
  args: readonly string[],
  onStdout?: (out: string, child: ChildProcess) => void,
): Promise<string> =>
  new Promise((resolve, reject) => {
    const child = track(pinnedSpawn(LOAD_CORE, command, args, { stdio: ['ignore', 'pipe', 'pipe'] }))
    let out = ''
    let err = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8')
      onStdout?.(out, child)
    })
    child.stderr?.on('data', (chunk: Buffer) => {
      err += chunk.toString('utf8')
    })
    child.once('error', reject)
    // 'close', not 'exit': wrk prints its whole report as it ends, and 'exit' may come before the
    // last of stdout has been read
    child.once('close', (code, signal) => {
      if (code === 0) resolve(out)
      else reject(new Error(`${command} failed (${signal ?? code}): ${`${err}${out}`.slice(-2000)}`))
    })
  })

const share = (a: number | undefined, b: number | undefined, wall: number): number | undefined =>
  a === undefined || b === undefined || wall <= 0 ? undefined : (b - a) / wall

/**
 * A wrk run: the warm-up as a run of its own, then the timed run, sampling the server's CPU at
 * its start and end; wrk's own CPU is the line its script's done() prints.
 */
const runWrk = async (spec: LoadSpec, server?: Running): Promise<LoadResult> => {
  if (spec.amount !== undefined) throw new Error('wrk runs for a time, not a number of requests: use autocannon')
  const script = wrkScript(spec.requests)
  const args = (seconds: number): string[] => wrkArgs({ url: spec.url, connections: spec.connections, seconds, script })
  if (spec.warmup > 0) await runToEnd('wrk', args(spec.warmup))
  const before = cpuSeconds(server?.child.pid)
  const start = performance.now() / 1000
  const out = await runToEnd('wrk', args(spec.duration))
  const wall = performance.now() / 1000 - start
  const after = cpuSeconds(server?.child.pid)
  const { stat, ...result } = parseWrk(out)
  const serverCpu = share(before, after, wall)
  const loadCpu = stat === undefined ? undefined : share(0, statSeconds(stat), wall)
  return {
    ...result,
    ...(serverCpu === undefined ? {} : { serverCpu }),
    ...(loadCpu === undefined ? {} : { loadCpu }),
  }
}

const loadScript = fileURLToPath(new URL('./load.mjs', import.meta.url))

/**
 * An autocannon run (bench/http/load.mjs), measuring the CPU the server and the generator used
 * during the timed part: load.mjs prints `warm` when it starts it and a JSON line at its end.
 */
const runAutocannon = async (spec: LoadSpec, server?: Running): Promise<LoadResult> => {
  type Sample = { wall: number; server?: number; load?: number }
  let start: Sample | undefined
  let end: Sample | undefined
  const sample = (child: ChildProcess): Sample => {
    const s = cpuSeconds(server?.child.pid)
    const l = cpuSeconds(child.pid)
    return {
      wall: performance.now() / 1000,
      ...(s === undefined ? {} : { server: s }),
      ...(l === undefined ? {} : { load: l }),
    }
  }
  const out = await runToEnd(process.execPath, [loadScript, JSON.stringify(spec)], (text, child) => {
    if (start === undefined && text.includes('warm\n')) start = sample(child)
    if (end === undefined && /\}\s*$/.test(text)) end = sample(child)
  })
  const json = out.split('\n').find((l) => l.startsWith('{'))
  if (json === undefined) throw new Error(`load.mjs printed no result: ${out.slice(-2000)}`)
  const result = JSON.parse(json) as LoadResult
  const wall = start === undefined || end === undefined ? 0 : end.wall - start.wall
  const serverCpu = share(start?.server, end?.server, wall)
  const loadCpu = share(start?.load, end?.load, wall)
  return {
    ...result,
    ...(serverCpu === undefined ? {} : { serverCpu }),
    ...(loadCpu === undefined ? {} : { loadCpu }),
  }
}

/** Runs a load generator, pinned to its own core, against a server. */
export const runLoad = (generator: LoadGenerator, spec: LoadSpec, server?: Running): Promise<LoadResult> =>
  generator === 'wrk' ? runWrk(spec, server) : runAutocannon(spec, server)

/**
 * Runs a benchmark's `main`, stopping every process it started when it ends, fails, or is
 * interrupted (Ctrl-C kills them at once).
 */
export const runBench = async (main: () => Promise<void>): Promise<void> => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAllNow()
      process.exit(130)
    })
  }
  try {
    await main()
  } finally {
    await stopAll()
  }
}
