// Run by a Node from npm (22, 24, 26; type stripping runs this file as it is) through
// test/runtimes/run.ts: loads the BUILT package (dist/index.js, given as argv[2]), serves an app
// with `serve` on 127.0.0.1:0, fetches it over a real socket and prints one `OK` line.
import type * as Sapwood from 'sapwood'
import type * as SapwoodFetch from 'sapwood/fetch'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const dist = process.argv[2]
if (dist === undefined) throw new Error('usage: node smoke-node.ts <dist dir>')
const sap = (await import(pathToFileURL(join(dist, 'index.js')).href)) as typeof Sapwood
const { choose, get, ok, path, pipe, serve } = sap

const app = choose([pipe(get, path('/hello'), ok('hello from sapwood'))])
const server = await serve(app, { port: 0, host: '127.0.0.1' })
try {
  const hello = await fetch(`${server.url}/hello`)
  const body = await hello.text()
  if (hello.status !== 200 || body !== 'hello from sapwood') {
    throw new Error(`GET /hello: ${hello.status} ${JSON.stringify(body)}`)
  }
  const missing = await fetch(`${server.url}/nope`)
  await missing.arrayBuffer()
  if (missing.status !== 404) throw new Error(`GET /nope: ${missing.status}, expected 404`)
  // sapwood/fetch on node's own Request and Response, when it is built
  let fetchToo = ''
  if (existsSync(join(dist, 'fetch.js'))) {
    const { toFetchHandler } = (await import(pathToFileURL(join(dist, 'fetch.js')).href)) as typeof SapwoodFetch
    const answer = await toFetchHandler(app)(new Request('http://localhost/hello'))
    const text = await answer.text()
    if (answer.status !== 200 || text !== 'hello from sapwood') {
      throw new Error(`toFetchHandler GET /hello: ${answer.status} ${JSON.stringify(text)}`)
    }
    fetchToo = '; toFetchHandler answered a Request'
  }
  console.log(`OK node ${process.version}: serve() answered 200 and 404 over 127.0.0.1${fetchToo}`)
} finally {
  await server.close()
}
