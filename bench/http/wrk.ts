// wrk, the load generator of the HTTP benchmark: installed with apt-get when it is missing, driven
// by a small Lua script written to bench/tmp/ (the scenario's requests, and a line of its own CPU
// time at the end), its text output parsed into a LoadResult. A C load generator leaves most of its
// core idle where autocannon saturated its own first, so the server is what the numbers measure.
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Request } from './scenarios.js'

/** `wrk -v` says `wrk 4.1.0 [epoll] ...` (and exits with 1): the version, or undefined if absent. */
export const wrkVersion = (): string | undefined => {
  const out = spawnSync('wrk', ['-v'], { encoding: 'utf8' })
  if (out.error !== undefined) return undefined
  return /^wrk (\S+)/m.exec(`${out.stdout}${out.stderr}`)?.[1] ?? 'unknown version'
}

const aptGet = (args: readonly string[]): { ok: boolean; tail: string } => {
  const out = spawnSync('apt-get', args, {
    encoding: 'utf8',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const text = `${out.error?.message ?? ''}${out.stdout ?? ''}${out.stderr ?? ''}`.trim()
  return { ok: out.error === undefined && out.status === 0, tail: text.split('\n').slice(-3).join(' | ') }
}

/**
 * wrk's version once it is there: found on the PATH, or installed with `apt-get install -y wrk`
 * (after an `apt-get update` if the first try fails). Undefined when it cannot be had; `log`
 * says what happened either way.
 */
export const ensureWrk = (log: (line: string) => void): string | undefined => {
  const found = wrkVersion()
  if (found !== undefined) return found
  log('wrk not found: installing it with `apt-get install -y wrk`')
  let install = aptGet(['install', '-y', 'wrk'])
  if (!install.ok) {
    log(`apt-get install failed (${install.tail}); trying again after apt-get update`)
    const update = aptGet(['update'])
    if (update.ok) install = aptGet(['install', '-y', 'wrk'])
    else install = { ok: false, tail: `apt-get update: ${update.tail}` }
  }
  const installed = install.ok ? wrkVersion() : undefined
  if (installed === undefined) {
    log(`! could not install wrk: ${install.tail}`)
    return undefined
  }
  log(`installed wrk ${installed} with apt-get`)
  return installed
}

/** A Lua string literal for any text: printable ASCII as is, every other byte as `\ddd`. */
const lua = (text: string): string => {
  let out = '"'
  for (const byte of Buffer.from(text, 'utf8')) {
    out +=
      byte >= 0x20 && byte < 0x7f && byte !== 0x22 && byte !== 0x5c
        ? String.fromCharCode(byte)
        : `\\${String(byte).padStart(3, '0')}`
  }
  return `${out}"`
}

const luaHeaders = (headers: Readonly<Record<string, string>> | undefined, extra: string): string =>
  `{ ${[extra, ...Object.entries(headers ?? {}).map(([k, v]) => `[${lua(k)}] = ${lua(v)}`)].join(', ')} }`

// The line done() prints, then the rest of /proc/self/stat: wrk's CPU time, read by the runner.
export const STAT_MARKER = 'proc-self-stat '

/**
 * The script for a scenario's requests. One request: set as wrk's request at load time, so that
 * wrk sends one prebuilt buffer and runs no Lua per request. Several: formatted once in init()
 * and cycled by request(), one cheap Lua call per request. No response() function either way:
 * it would make wrk parse every answer into Lua tables.
 */
const scriptText = (requests: readonly Request[]): string => {
  const done = [
    'function done(summary, latency, requests)',
    '  local f = io.open("/proc/self/stat", "r")',
    '  if f == nil then return end',
    `  io.write(${lua(STAT_MARKER)}, f:read("*l"), "\\n")`,
    '  f:close()',
    'end',
  ]
  if (requests.length === 1) {
    const r = requests[0]!
    return [
      `wrk.method = ${lua(r.method)}`,
      `wrk.path = ${lua(r.path)}`,
      ...Object.entries(r.headers ?? {}).map(([k, v]) => `wrk.headers[${lua(k)}] = ${lua(v)}`),
      ...(r.body === undefined ? [] : [`wrk.body = ${lua(r.body)}`]),
      ...done,
      '',
    ].join('\n')
  }
  // wrk.init has put the Host header (with the port) in wrk.headers by the time init() runs.
  return [
    'local requests = {}',
    'local count = 0',
    'local at = 0',
    'function init(args)',
    '  local host = wrk.headers["Host"]',
    ...requests.map(
      (r) =>
        `  requests[#requests + 1] = wrk.format(${lua(r.method)}, ${lua(r.path)}, ${luaHeaders(r.headers, '["Host"] = host')}, ${
          r.body === undefined ? 'nil' : lua(r.body)
        })`,
    ),
    '  count = #requests',
    'end',
    'function request()',
    '  at = at + 1',
    '  if at > count then at = 1 end',
    '  return requests[at]',
    'end',
    ...done,
    '',
  ].join('\n')
}

const tmp = fileURLToPath(new URL('../tmp/', import.meta.url))

/** Writes the script for these requests to bench/tmp/ (named by its content) and returns its path. */
export const wrkScript = (requests: readonly Request[]): string => {
  const text = scriptText(requests)
  const path = `${tmp}wrk-${createHash('sha256').update(text).digest('hex').slice(0, 12)}.lua`
  if (!existsSync(path)) {
    mkdirSync(tmp, { recursive: true })
    writeFileSync(path, text)
  }
  return path
}

/** wrk's command line: one thread (it has one core), keep-alive connections, the latency percentiles. */
export const wrkArgs = (options: {
  readonly url: string
  readonly connections: number
  readonly seconds: number
  readonly script: string
}): string[] => {
  // wrk reads whole seconds only ("2s"; "1.5s" is an error).
  if (!Number.isInteger(options.seconds) || options.seconds < 1) {
    throw new Error(`wrk runs for whole seconds: ${options.seconds} s`)
  }
  return [
    '--threads',
    '1',
    '--connections',
    String(options.connections),
    '--duration',
    `${options.seconds}s`,
    '--timeout',
    '10s',
    '--latency',
    '--script',
    options.script,
    options.url,
  ]
}

/** What one timed run of any load generator counts. */
export interface LoadCounts {
  readonly total: number
  readonly seconds: number
  readonly rps: number
  /** ms */
  readonly p50: number
  readonly p99: number
  readonly errors: number
  readonly timeouts: number
  /** Answers with a status outside 2xx and 3xx (wrk counts no finer). */
  readonly unsuccessful: number
}

export interface WrkOutput extends LoadCounts {
  /** The line done() printed: wrk's /proc/self/stat at the end, if it could read it. */
  readonly stat?: string
}

const UNIT_MS: Readonly<Record<string, number>> = { us: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 }

/** wrk's `646.00us`, `1.17ms`, `2.00s` in ms. */
const ms = (value: string, unit: string): number => {
  const scale = UNIT_MS[unit]
  if (scale === undefined) throw new Error(`wrk: unknown time unit ${unit}`)
  return Number(value) * scale
}

/**
 * Reads wrk's `--latency` report:
 *
 *     Latency Distribution
 *        50%  646.00us
 *        99%    1.17ms
 *     146922 requests in 2.00s, 17.65MB read
 *     Non-2xx or 3xx responses: 146922            (only when there are some)
 *     Socket errors: connect 0, read 0, write 0, timeout 0   (likewise)
 *     Requests/sec:  73455.32
 */
export const parseWrk = (text: string): WrkOutput => {
  const need = (re: RegExp, what: string): RegExpExecArray => {
    const m = re.exec(text)
    if (m === null) throw new Error(`wrk: no ${what} in its output:\n${text.slice(-2000)}`)
    return m
  }
  const percentile = (p: number): number => {
    const m = need(new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s|m|h)\\s*$`, 'm'), `${p}% latency`)
    return ms(m[1]!, m[2]!)
  }
  const done = need(/^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h),/m, 'request count')
  const rps = need(/^Requests\/sec:\s+([\d.]+)/m, 'Requests/sec')
  const sockets = /^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/m.exec(text)
  const non = /^\s*Non-2xx or 3xx responses: (\d+)/m.exec(text)
  const stat = text
    .split('\n')
    .find((l) => l.startsWith(STAT_MARKER))
    ?.slice(STAT_MARKER.length)
  return {
    total: Number(done[1]),
    seconds: ms(done[2]!, done[3]!) / 1000,
    rps: Number(rps[1]),
    p50: percentile(50),
    p99: percentile(99),
    errors: sockets === null ? 0 : Number(sockets[1]) + Number(sockets[2]) + Number(sockets[3]),
    timeouts: sockets === null ? 0 : Number(sockets[4]),
    unsuccessful: non === null ? 0 : Number(non[1]),
    ...(stat === undefined ? {} : { stat }),
  }
}
