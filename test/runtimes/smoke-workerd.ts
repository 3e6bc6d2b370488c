// Run by a Node from npm (miniflare needs Node >= 22) through test/runtimes/run.ts: bundles the
// BUILT package (dist/, argv[2]) into one Worker module with esbuild (workerd resolves no bare
// imports) and runs `toFetchHandler(app)` as a real Worker in workerd through miniflare (both
// from runtimes/, argv[3]); dispatches requests to it and prints one `OK` line.
import { existsSync, writeFileSync } from 'node:fs'
import { builtinModules, createRequire } from 'node:module'
import { join } from 'node:path'

/** The little of esbuild's and miniflare's APIs this smoke uses (their types live in runtimes/). */
interface Esbuild {
  build(options: Record<string, unknown>): Promise<{
    readonly outputFiles: readonly { readonly text: string }[]
    readonly warnings: readonly unknown[]
  }>
}
interface MiniflareResponse {
  readonly status: number
  text(): Promise<string>
}
interface MiniflareInstance {
  readonly ready: Promise<unknown>
  dispatchFetch(url: string): Promise<MiniflareResponse>
  dispose(): Promise<void>
}
interface MiniflareModule {
  Miniflare: new (options: Record<string, unknown>) => MiniflareInstance
}

const [, , dist, runtimes] = process.argv
if (dist === undefined || runtimes === undefined) {
  throw new Error('usage: node smoke-workerd.ts <dist dir> <runtimes dir>')
}
if (!existsSync(join(dist, 'fetch.js'))) {
  console.log('SKIP workerd: no dist/fetch.js yet (sapwood/fetch is not built)')
  process.exit(0)
}
const require = createRequire(join(runtimes, 'package.json'))
const esbuild = require('esbuild') as Esbuild
const { Miniflare } = require('miniflare') as MiniflareModule

// The Worker: the same app as the other smokes, behind sapwood/fetch.
const worker = `
import * as sap from './index.js'
import { toFetchHandler } from './fetch.js'
const { choose, get, ok, path, pipe } = sap
const app = choose([pipe(get, path('/hello'), ok('hello from sapwood'))])
export default { fetch: toFetchHandler(app) }
`
const options = {
  stdin: { contents: worker, resolveDir: dist, sourcefile: 'worker.js', loader: 'js' },
  bundle: true,
  format: 'esm',
  platform: 'browser',
  conditions: ['workerd', 'worker', 'browser'],
  target: 'es2022',
  write: false,
  logLevel: 'silent',
  logLimit: 0,
}
/**
 * Leaves node's modules to workerd (`nodejs_compat`): an `import` stays an import; a CommonJS
 * `require` (find-my-way, busboy...), which an ESM bundle cannot make, becomes an import of the
 * module's default export (workerd has no `require`).
 */
const nodeBuiltins = {
  name: 'node-builtins',
  setup(build: {
    onResolve(
      options: { filter: RegExp },
      run: (args: {
        path: string
        kind: string
      }) => { path: string; external?: boolean; namespace?: string } | undefined,
    ): void
    onLoad(options: { filter: RegExp; namespace: string }, run: (args: { path: string }) => { contents: string }): void
  }): void {
    const names = new Set(builtinModules)
    build.onResolve({ filter: /^[a-z_/:0-9]+$/ }, ({ path, kind }) => {
      const name = path.replace(/^node:/, '')
      if (!names.has(name)) return undefined
      return kind === 'require-call'
        ? { path: `node:${name}`, namespace: 'node-require' }
        : { path: `node:${name}`, external: true }
    })
    build.onLoad({ filter: /.*/, namespace: 'node-require' }, ({ path }) => ({
      contents: `import value from '${path}'\nmodule.exports = value\n`,
    }))
  },
}

// First without any node: module: what the package still reaches of node's (issue 11 scope 1 wants
// none); then, if any, with them left to workerd's `nodejs_compat`.
const reached = new Set<string>()
let bundled: Awaited<ReturnType<Esbuild['build']>>
try {
  bundled = await esbuild.build(options)
} catch (error) {
  const errors = (error as { errors?: readonly { text: string }[] }).errors ?? []
  for (const { text } of errors) {
    const match = /^Could not resolve "(node:[^"]+|[a-z_]+)"/.exec(text)
    if (match?.[1] === undefined) throw error
    reached.add(match[1].replace(/^node:/, ''))
  }
  if (reached.size === 0) throw error
  bundled = await esbuild.build({ ...options, plugins: [nodeBuiltins] })
}
const script = bundled.outputFiles[0]?.text
if (script === undefined) throw new Error('esbuild produced no output')
// WORKER_BUNDLE=<file> keeps the bundle, to read the lines workerd's errors point at
const keep = process.env['WORKER_BUNDLE']
if (keep !== undefined && keep !== '') writeFileSync(keep, script)
const compat = reached.size === 0 ? [] : ['nodejs_compat']
if (reached.size > 0) {
  console.log(`note: the bundle reaches node:${[...reached].sort().join(', node:')}; running with nodejs_compat`)
}

/** workerd's errors point at `script-0:<line>`: the file of the bundle that line comes from. */
const explain = (error: unknown): Error => {
  const message = error instanceof Error ? error.message : String(error)
  const lines = script.split('\n')
  const where = [...new Set(message.match(/script-0:\d+/g) ?? [])].map((at) => {
    const line = Number(at.slice('script-0:'.length))
    let file = '?'
    for (let i = line - 1; i >= 0; i--) {
      const match = /^\/\/ (\S+\.[cm]?js)$/.exec(lines[i] ?? '')
      if (match?.[1] !== undefined) {
        file = match[1].replace(/^.*?(dist[^/]*\/|node_modules\/)/, '$1')
        break
      }
    }
    return `${at} is in ${file}: ${(lines[line - 1] ?? '').trim()}`
  })
  const first = message.split('\n').find((l) => l.startsWith('service core:user')) ?? message.split('\n')[0]
  return new Error([first, ...where].join('\n'))
}

const mf = new Miniflare({ modules: true, script, compatibilityDate: '2026-07-01', compatibilityFlags: compat })
try {
  await mf.ready
  const hello = await mf.dispatchFetch('http://localhost/hello')
  const body = await hello.text()
  if (hello.status !== 200 || body !== 'hello from sapwood') {
    throw new Error(`GET /hello: ${hello.status} ${JSON.stringify(body)}`)
  }
  const missing = await mf.dispatchFetch('http://localhost/nope')
  await missing.text()
  if (missing.status !== 404) throw new Error(`GET /nope: ${missing.status}, expected 404`)
  console.log(
    `OK workerd (miniflare ${String((require('miniflare/package.json') as { version: string }).version)}): ` +
      `toFetchHandler as a Worker answered 200 and 404 (bundle ${Math.round(script.length / 1024)} KiB)`,
  )
} catch (error) {
  console.log(`FAIL workerd: ${explain(error).message}`)
  process.exitCode = 1
} finally {
  // after a failed start, dispose throws the same error again: the one above says more
  await mf.dispose().catch(() => undefined)
}
