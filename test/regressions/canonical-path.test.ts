// Issue #12: one canonical path. The node adapter passes the request target as received; a
// fetch `Request` has parsed it already (dot segments resolved, `\` read as `/`). The same app
// gives the same answer through both, and through `inject`: each case below runs over a real
// socket, through the fetch handler and in memory.
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { type IncomingMessage, Agent, request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import * as sap from 'sapwood'
import { toFetchHandler } from 'sapwood/fetch'
import { serveDir } from 'sapwood/node'
import { inject } from 'sapwood/testing'

const { choose, pipe, get, path, prefix, handle, ok } = sap

// target → status and body (or, for a 301, the location); 400 is a malformed path
const cases: [string, number, string][] = [
  // an encoded separator is data inside its segment
  ['/a/x%2Fy', 200, 'x=x/y'],
  ['/a/x%5Cy', 200, 'x=x\\y'],
  ['/a/x%2Fy/', 404, ''],
  // a raw backslash is a separator, as a URL parser reads it
  ['/a/x\\y', 404, ''],
  ['/a\\b', 200, 'static'],
  // dot segments, in every spelling, are resolved within the path
  ['/a/./b', 200, 'static'],
  ['/a/c/../b', 200, 'static'],
  ['/a/../b', 404, ''],
  ['/%2e%2e/a/b', 200, 'static'],
  ['/a/%2E/b', 200, 'static'],
  ['/a/c/.%2e/b', 200, 'static'],
  ['/a/%252e%252e', 200, 'x=%2e%2e'],
  // decoded exactly once
  ['/a/%2525', 200, 'x=%25'],
  ['/a/caf%C3%A9', 200, 'x=café'],
  // malformed: a broken escape, bytes that are not UTF-8, NUL, an empty segment
  ['/a/%ZZ', 400, ''],
  ['/a/%', 400, ''],
  ['/a/%C0%AE', 400, ''],
  ['/a/%E0%80', 400, ''],
  ['/a/x%00y', 400, ''],
  ['/a//b', 400, ''],
  ['//a/b', 400, ''],
  ['/p/%ZZ', 400, ''],
  ['/p/x/%00', 400, ''],
  ['/p//x', 400, ''],
  ['/q/%ZZ', 400, ''],
  ['/q//x', 400, ''], // the empty segment is the one `prefix('/q/:x')` reads
  ['/q/x/%ZZ', 200, 'q x=x rest=/%ZZ'], // a prefix reads its own segments: the rest is for the Parts after it
  // the trailing slash is significant
  ['/a/b/', 404, ''],
  ['/p/x/', 200, 'p *=x/'],
  ['/p/./x', 200, 'p x=x'],
  ['/p/x%2Fy', 200, 'p x=x/y'],
  ['/p/x%2Fy/z', 200, 'p *=x/y/z'],
  // serveDir: never out of its root
  ['/s/hello.txt', 200, 'hello'],
  ['/s/./hello.txt', 200, 'hello'],
  ['/s/docs/../hello.txt', 200, 'hello'],
  ['/s/../secret.txt', 404, ''],
  ['/s/%2e%2e/secret.txt', 404, ''],
  ['/s/..%2fsecret.txt', 404, ''],
  ['/s/..%5csecret.txt', 404, ''],
  ['/s/..\\secret.txt', 404, ''],
  ['/s/docs/..%2f..%2fsecret.txt', 404, ''],
  ['/s/%252e%252e/secret.txt', 404, ''],
  ['/s/hello.txt%00.html', 400, ''],
  ['/s/%c0%ae%c0%ae/secret.txt', 400, ''],
  ['/s//secret.txt', 400, ''],
  ['/s/docs', 301, '/s/docs/'],
  ['/s/docs/../docs', 301, '/s/docs/'],
  ['/s/docs/', 200, 'docs index'],
]

describe('one canonical path through every adapter (#12)', () => {
  let dir = ''
  let app: sap.Part<sap.Conn, sap.Conn>
  let server: Awaited<ReturnType<typeof sap.serve>>
  let agent: Agent
  let fetchHandler: (request: Request) => Promise<Response>

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sapwood-canonical-'))
    const root = join(dir, 'root')
    mkdirSync(join(root, 'docs'), { recursive: true })
    writeFileSync(join(root, 'hello.txt'), 'hello')
    writeFileSync(join(root, 'docs', 'index.html'), 'docs index')
    writeFileSync(join(dir, 'secret.txt'), 'SECRET')
    app = choose([
      pipe(get, path('/a/b'), ok('static')),
      pipe(
        get,
        path('/a/:x'),
        handle((c) => ok(`x=${c.params.x}`)),
      ),
      pipe(
        get,
        prefix('/p'),
        choose([
          pipe(
            path('/:x'),
            handle((c) => ok(`p x=${c.params.x}`)),
          ),
          pipe(
            path('/*'),
            handle((c) => ok(`p *=${c.params['*']}`)),
          ),
        ]),
      ),
      pipe(
        get,
        prefix('/q/:x'),
        handle((c) => ok(`q x=${c.params.x} rest=${c.rest}`)),
      ),
      pipe(get, prefix('/s'), serveDir(root)),
    ])
    fetchHandler = toFetchHandler(app)
    server = await sap.serve(app, { port: 0, host: '127.0.0.1' })
    agent = new Agent({ keepAlive: true, maxSockets: 1 })
  })
  after(async () => {
    agent.destroy()
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const overSocket = (t: string): Promise<{ status: number; body: string; location: string | undefined }> =>
    new Promise((done, fail) => {
      const { port } = new URL(server.url)
      const req = request({ host: '127.0.0.1', port, path: t, agent, timeout: 5_000 }, (res: IncomingMessage) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (body += chunk))
        res.on('end', () => done({ status: res.statusCode ?? 0, body, location: res.headers.location }))
        res.on('error', fail)
      })
      req.on('timeout', () => req.destroy(new Error(`no answer to ${t}`)))
      req.on('error', fail)
      req.end()
    })

  const expect = (
    where: string,
    t: string,
    got: { status: number; body: string; location: unknown },
    status: number,
    body: string,
  ): void => {
    assert.equal(got.status, status, `${where} GET ${t}: status`)
    if (status === 301) assert.equal(got.location, body, `${where} GET ${t}: location`)
    else if (status === 200) assert.equal(got.body, body, `${where} GET ${t}: body`)
    else assert.doesNotMatch(got.body, /SECRET/, `${where} GET ${t}`)
    if (status === 400) assert.match(got.body, /malformed percent-escape, an escaped NUL or an empty segment/)
  }

  for (const [t, status, body] of cases) {
    it(`GET ${t} → ${status}${body === '' ? '' : ` ${body}`}, over node, fetch and inject`, async () => {
      const wire = await overSocket(t)
      expect('node', t, wire, status, body)
      const res = await fetchHandler(new Request(`http://app.test${t}`))
      expect(
        'fetch',
        t,
        { status: res.status, body: await res.text(), location: res.headers.get('location') ?? undefined },
        status,
        body,
      )
      for (const compile of [true, false]) {
        const mem = await inject(app, { url: t }, { compile })
        expect(`inject (compile: ${compile})`, t, { ...mem, location: mem.headers['location'] }, status, body)
      }
    })
  }

  it('gives the Conn the canonical path and url on both adapters, the query as sent', async () => {
    const echo = pipe(
      get,
      handle((c) => ok(JSON.stringify({ url: c.url, path: c.path }))),
    )
    const fetchEcho = toFetchHandler(echo)
    const node = await sap.serve(echo, { port: 0, host: '127.0.0.1' })
    try {
      for (const [t, want] of [
        ['/a/./b/../c%2Fd?x=/../y', { url: '/a/c%2Fd?x=/../y', path: '/a/c%2Fd' }],
        ['/a\\b"c?q', { url: '/a/b%22c?q', path: '/a/b%22c' }],
        ['/%2e%2e/%2E/x', { url: '/x', path: '/x' }],
      ] as const) {
        const viaFetch: unknown = await (await fetchEcho(new Request(`http://app.test${t}`))).json()
        assert.deepEqual(viaFetch, want, `fetch ${t}`)
        const viaNode = await new Promise<unknown>((done, fail) => {
          const { port } = new URL(node.url)
          request({ host: '127.0.0.1', port, path: t }, (res) => {
            let body = ''
            res.setEncoding('utf8')
            res.on('data', (chunk: string) => (body += chunk))
            res.on('end', () => done(JSON.parse(body)))
          })
            .on('error', fail)
            .end()
        })
        assert.deepEqual(viaNode, want, `node ${t}`)
      }
    } finally {
      await node.close()
    }
  })
})
