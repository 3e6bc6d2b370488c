// The server side of the conformance suite on workerd, run by a Node from npm (miniflare needs
// Node >= 22) for test/runtimes/conformance.ts: bundles the suite's app (test/adapters/
// conformance-app.ts) made of the BUILT package (dist/, argv[2]) behind `toFetchHandler`, at the
// Worker's top level (workerd refuses `new Function` during a request, and the router compiles
// with it), runs it in workerd through miniflare (runtimes/, argv[3]) on a real HTTP port of
// 127.0.0.1, and prints `{"url": ...}` as one line on stdout. A Worker has no file system: the app
// is made without sapwood/node. It closes on SIGTERM or when its stdin ends.
import { existsSync } from 'node:fs'
import { builtinModules, createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The little of esbuild's and miniflare's APIs used here (their types live in runtimes/). */
interface Esbuild {
  build(options: Record<string, unknown>): Promise<{ readonly outputFiles: readonly { readonly text: string }[] }>
}
interface MiniflareInstance {
  readonly ready: Promise<URL>
  dispose(): Promise<void>
}
interface MiniflareModule {
  Miniflare: new (options: Record<string, unknown>) => MiniflareInstance
}
interface Build {
  onResolve(
    options: { filter: RegExp },
    run: (args: { path: string; kind: string }) => { path: string; external?: boolean; namespace?: string } | undefined,
  ): void
  onLoad(options: { filter: RegExp; namespace: string }, run: (args: { path: string }) => { contents: string }): void
}

const [, , dist, runtimes] = process.argv
if (dist === undefined || runtimes === undefined || !existsSync(join(dist, 'fetch.js'))) {
  throw new Error('usage: node worker-conformance.ts <dist dir with fetch.js> <runtimes dir>')
}
const require = createRequire(join(runtimes, 'package.json'))
const esbuild = require('esbuild') as Esbuild
const { Miniflare } = require('miniflare') as MiniflareModule

const app = fileURLToPath(new URL('../adapters/conformance-app.ts', import.meta.url))
const worker = `
import * as sap from './index.js'
import { toFetchHandler } from './fetch.js'
import { appOf, freshState } from ${JSON.stringify(app)}
const state = freshState()
const fetch = toFetchHandler(appOf({ sap }, state, undefined), { onError: () => void state.errors++ })
export default { fetch }
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
/** Leaves node's modules to workerd's nodejs_compat: an import stays one; a CommonJS require imports the default export. */
const nodeBuiltins = {
  name: 'node-builtins',
  setup(build: Build): void {
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

// without node's modules first; with them left to nodejs_compat only if the package still reaches some
// enable_request_signal: `request.signal` aborts when the client leaves (off by default in workerd)
let compat: string[] = ['enable_request_signal']
let bundled: Awaited<ReturnType<Esbuild['build']>>
try {
  bundled = await esbuild.build(options)
} catch (error) {
  const errors = (error as { errors?: readonly { text: string }[] }).errors ?? []
  if (!errors.some(({ text }) => /^Could not resolve "(node:[^"]+|[a-z_]+)"/.test(text))) throw error
  process.stderr.write('note: the bundle reaches node: modules; running with nodejs_compat\n')
  compat = [...compat, 'nodejs_compat']
  bundled = await esbuild.build({ ...options, plugins: [nodeBuiltins] })
}
const script = bundled.outputFiles[0]?.text
if (script === undefined) throw new Error('esbuild produced no output')

const mf = new Miniflare({
  // the module given as it is: miniflare's own scan of `script` refuses a dynamic import(), which
  // the package may hold for code a Worker never runs (serve on node)
  modulesRoot: dist,
  modules: [{ type: 'ESModule', path: join(dist, 'conformance-worker.mjs'), contents: script }],
  compatibilityDate: '2026-07-01',
  compatibilityFlags: compat,
  host: '127.0.0.1',
  port: 0,
})
const url = await mf.ready
process.stdout.write(`${JSON.stringify({ url: url.origin })}\n`)

let closing: Promise<void> | undefined
const close = (): Promise<void> => (closing ??= mf.dispose().finally(() => process.exit(0)))
process.once('SIGTERM', () => void close())
process.stdin.on('data', () => undefined)
process.stdin.once('end', () => void close())
process.stdin.resume()
