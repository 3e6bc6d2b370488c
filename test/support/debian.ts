// Installs a Debian package for the tests that need a program the machine lacks (we run as root
// in CI): apt-get install, and when that fails, apt-get update and one more try. Every step is
// printed; where it cannot be done, the reason is returned so that the tests can skip with it.
import { spawnSync } from 'node:child_process'

export interface AptInstall {
  /** Debian's name of the package (`redis-server`, `chromium`). */
  readonly pkg: string
  /** What is installed now (a version line, a path), or undefined while it is missing. */
  readonly found: () => string | undefined
  /** Prints one line of what is being done. */
  readonly say: (line: string) => void
  /** How long one apt-get run may take; default 5 minutes. */
  readonly timeoutMs?: number
}

const tail = (text: string): string => text.trim().split('\n').slice(-5).join('\n')

const aptGet = (args: readonly string[], say: (line: string) => void, timeout: number) => {
  say(`running apt-get ${args.join(' ')}`)
  const run = spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=120', ...args], {
    encoding: 'utf8',
    timeout,
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  })
  const output = `${run.stdout ?? ''}${run.stderr ?? ''}${run.error !== undefined ? String(run.error) : ''}`
  return { ok: run.status === 0, output }
}

/**
 * Installs `pkg` with apt-get; returns undefined once `found()` sees it, else why it could not
 * be installed (not Linux, not root, no apt-get, or apt-get's last lines).
 */
export const aptInstall = ({ pkg, found, say, timeoutMs = 300_000 }: AptInstall): string | undefined => {
  if (process.platform !== 'linux') return `${pkg} is not installed and this is not Linux (install it by hand)`
  if (process.getuid?.() !== 0) return `${pkg} is not installed and installing it needs root (apt-get install ${pkg})`
  if (spawnSync('apt-get', ['--version'], { timeout: 10_000 }).status !== 0) {
    return `${pkg} is not installed and there is no apt-get to install it with`
  }
  say(`${pkg} is not installed: installing Debian's ${pkg} package`)
  let run = aptGet(['install', '-y', pkg], say, timeoutMs)
  if (!run.ok) {
    say('the install failed; refreshing the package lists first')
    const update = aptGet(['update'], say, timeoutMs)
    if (!update.ok) say(`apt-get update failed:\n${tail(update.output)}`)
    run = aptGet(['install', '-y', pkg], say, timeoutMs)
  }
  // another test process may have installed it meanwhile: what counts is whether it is there now
  const installed = found()
  if (installed === undefined) return `apt-get install -y ${pkg} failed:\n${tail(run.output)}`
  say(`installed: ${installed}`)
  return undefined
}
