// The server side of the conformance suite on another runtime, run by Bun, Deno and Node from npm
// (22, 24, 26; type stripping runs this file as it is) for test/runtimes/conformance.ts: loads the
// BUILT package (dist/, argv's last argument), makes the suite's app (test/adapters/conformance-app.ts)
// with a directory for its file, serves it with the main entry's `serve` on 127.0.0.1:0 (whichever
// server `serve` picks on this runtime), and prints `{"url": ...}` as one line on stdout. It closes
// gracefully on SIGTERM or when its stdin ends, then exits.
import type * as Sapwood from 'sapwood'
import type * as SapwoodNode from 'sapwood/node'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import process from 'node:process'
import { pathToFileURL } from 'node:url'
import type * as ConformanceApp from '../adapters/conformance-app.js'

const dist = process.argv.at(-1)
if (dist === undefined || !existsSync(join(dist, 'index.js'))) {
  throw new Error(`usage: <runtime> serve-conformance.ts <dist dir> (got ${String(dist)})`)
}
const load = async <T>(file: string): Promise<T> => (await import(pathToFileURL(join(dist, file)).href)) as T
const sap = await load<typeof Sapwood>('index.js')
const node = await load<typeof SapwoodNode>('node.js')
// by its .ts name: Bun, Deno and Node's type stripping load it as it is, and none of them maps .js to .ts
const { LETTERS, LETTERS_FILE, appOf, freshState } = (await import(
  new URL('../adapters/conformance-app.ts', import.meta.url).href
)) as typeof ConformanceApp

const dir = await mkdtemp(join(tmpdir(), 'sapwood-conformance-'))
await writeFile(join(dir, LETTERS_FILE), LETTERS)
const state = freshState()
const server = await sap.serve(appOf({ sap, node }, state, dir), {
  port: 0,
  host: '127.0.0.1',
  onError: () => void state.errors++,
})
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`)

let closing: Promise<void> | undefined
const close = (): Promise<void> =>
  (closing ??= (async () => {
    try {
      await server.close()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
    process.exit(0)
  })())
process.once('SIGTERM', () => void close())
process.stdin.on('data', () => undefined)
process.stdin.once('end', () => void close())
process.stdin.resume()
