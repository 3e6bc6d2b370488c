// What the HTTP benchmarks (run.ts, streaming.ts) share to read their settings and write their
// tables: numbers from the environment, medians and percentiles, the machine and sapwood's
// version, and the section of bench/README.md a `--write` replaces.
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { fileURLToPath } from 'node:url'

/** A number from the environment: `fallback` when unset or empty; anything else must be a number ≥ 0. */
export const env = (name: string, fallback: number): number => {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name}=${raw} is not a number`)
  return n
}

/** The items of `all` that the comma-separated ids of the variable name (all of them when it is unset). */
export const pick = <T extends { readonly id: string }>(all: readonly T[], variable: string): readonly T[] => {
  const raw = process.env[variable]
  if (raw === undefined || raw === '') return all
  const ids = raw.split(',').map((s) => s.trim())
  const unknown = ids.filter((id) => !all.some((x) => x.id === id))
  if (unknown.length > 0)
    throw new Error(`${variable}: unknown ${unknown.join(', ')} (known: ${all.map((x) => x.id).join(', ')})`)
  return all.filter((x) => ids.includes(x.id))
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

/** The `p` quantile (0..1) of sorted values, nearest rank. */
export const quantile = (sorted: ArrayLike<number>, p: number): number =>
  sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!

export const log = (line: string): void => {
  process.stderr.write(`${line}\n`)
}

export const thousands = (n: number): string => Math.round(n).toLocaleString('en-US')
export const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`
export const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`
export const ratio = (x: number): string => `${x.toFixed(2)}×`

export const machine = (): string => {
  let distro = ''
  try {
    distro = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? ''
  } catch {
    // not Linux, or no os-release: the kernel line says enough
  }
  const cpus = os.cpus()
  return `${cpus[0]?.model.trim() ?? 'cpu'} × ${cpus.length}, ${distro === '' ? '' : `${distro}, `}${os.platform()} ${os.release()}, Node ${process.version}`
}

export const sapwoodVersion = (): string => {
  const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string
  }
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim()
    // dist/ was built from the work tree: say so when src/ differs from the commit.
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim()
    return `${version} (${sha}${dirty === '' ? '' : ' + uncommitted src/ changes'})`
  } catch {
    return version
  }
}

/** Replaces what lies between `<!-- name:begin -->` and `<!-- name:end -->` in bench/README.md. */
export const writeSection = (name: string, text: string): void => {
  const readme = fileURLToPath(new URL('../README.md', import.meta.url))
  const before = readFileSync(readme, 'utf8')
  const begin = `<!-- ${name}:begin -->`
  const end = `<!-- ${name}:end -->`
  const at = before.indexOf(begin)
  const to = before.indexOf(end)
  if (at === -1 || to < at) throw new Error(`bench/README.md has no ${begin} ... ${end} markers`)
  writeFileSync(readme, `${before.slice(0, at + begin.length)}\n${text}\n${before.slice(to)}`)
}
