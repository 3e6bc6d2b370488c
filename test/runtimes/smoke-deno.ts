// Run by Deno (from npm) through test/runtimes/run.ts: loads the BUILT package (dist/, given as
// the first argument; its npm imports resolve from node_modules because a package.json is
// there); serves `toFetchHandler(app)` with `Deno.serve` on 127.0.0.1:0 when dist/fetch.js exists,
// else the node adapter (`serve`, on Deno's node:http); fetches it and prints one `OK` line.
import type * as Sapwood from 'sapwood'
import type * as SapwoodFetch from 'sapwood/fetch'

/** The little of Deno's API this smoke uses (Deno's own types are not installed here). */
declare const Deno: {
  readonly args: readonly string[]
  readonly version: { readonly deno: string }
  statSync(path: string): unknown
  serve(
    options: { port: number; hostname: string; onListen?: () => void },
    handler: (request: Request) => Promise<Response>,
  ): { readonly addr: { readonly port: number }; shutdown(): Promise<void> }
}

const dist = Deno.args[0]
if (dist === undefined) throw new Error('usage: deno run smoke-deno.ts <dist dir>')
const url = (file: string): string => new URL(file, `file://${dist}/`).href
const sap = (await import(url('index.js'))) as typeof Sapwood
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

const hasFetch = ((): boolean => {
  try {
    Deno.statSync(`${dist}/fetch.js`)
    return true
  } catch {
    return false
  }
})()

if (hasFetch) {
  const { toFetchHandler } = (await import(url('fetch.js'))) as typeof SapwoodFetch
  const server = Deno.serve({ port: 0, hostname: '127.0.0.1', onListen: () => undefined }, toFetchHandler(app))
  try {
    await check(`http://127.0.0.1:${server.addr.port}`)
  } finally {
    await server.shutdown()
  }
  console.log(`OK deno ${Deno.version.deno}: Deno.serve + toFetchHandler answered 200 and 404`)
} else {
  const server = await sap.serve(app, { port: 0, host: '127.0.0.1' })
  try {
    await check(server.url)
  } finally {
    await server.close()
  }
  console.log(
    `OK deno ${Deno.version.deno}: no dist/fetch.js yet; serve() (node adapter on Deno's node:http) answered 200 and 404`,
  )
}
