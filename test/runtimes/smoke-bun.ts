// Run by Bun (from npm) through test/runtimes/run.ts: loads the BUILT package (dist/, given as
// argv[2]); serves `toFetchHandler(app)` with `Bun.serve` on 127.0.0.1:0 when dist/fetch.js
// exists, else the node adapter (`serve`, on Bun's node:http); fetches it over a real socket and
// prints one `OK` line.
import type * as Sapwood from 'sapwood'
import type * as SapwoodFetch from 'sapwood/fetch'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

/** The little of Bun's API this smoke uses (Bun's own types are not installed here). */
declare const Bun: {
  readonly version: string
  serve(options: { port: number; hostname: string; fetch: (request: Request) => Promise<Response> }): {
    readonly port: number
    stop(closeActiveConnections?: boolean): Promise<void>
  }
}

const dist = process.argv[2]
if (dist === undefined) throw new Error('usage: bun smoke-bun.ts <dist dir>')
const sap = (await import(pathToFileURL(join(dist, 'index.js')).href)) as typeof Sapwood
const { choose, get, ok, path, pipe } = sap
const app = choose([pipe(get, path('/hello'), ok('hello from sapwood'))])

const check = async (base: string): Promise<void> => {
  const hello = await fetch(`${base}/hello`)
  const body = await hello.text()
  if (hello.status !== 200 || body !== 'hello from sapwood') {
    throw new Error(`GET /hello: ${hello.status} ${JSON.stringify(body)}`)
  }
  const missing = await fetch(`${base}/nope`)
  await missing.arrayBuffer()
  if (missing.status !== 404) throw new Error(`GET /nope: ${missing.status}, expected 404`)
}

if (existsSync(join(dist, 'fetch.js'))) {
  const { toFetchHandler } = (await import(pathToFileURL(join(dist, 'fetch.js')).href)) as typeof SapwoodFetch
  const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: toFetchHandler(app) })
  try {
    await check(`http://127.0.0.1:${server.port}`)
  } finally {
    await server.stop(true)
  }
  console.log(`OK bun ${Bun.version}: Bun.serve + toFetchHandler answered 200 and 404`)
} else {
  const server = await sap.serve(app, { port: 0, host: '127.0.0.1' })
  try {
    await check(server.url)
  } finally {
    await server.close()
  }
  console.log(
    `OK bun ${Bun.version}: no dist/fetch.js yet; serve() (node adapter on Bun's node:http) answered 200 and 404`,
  )
}
