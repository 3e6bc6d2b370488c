import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import { mkdir, mkdtemp, rm, symlink, unlink, utimes, writeFile } from 'node:fs/promises'
import * as http from 'node:http'
import { syncBuiltinESMExports } from 'node:module'
import { tmpdir } from 'node:os'
import { join, resolve, sep } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { brotliCompressSync, brotliDecompressSync, gzipSync } from 'node:zlib'
import fc from 'fast-check'
import * as sap from 'sapwood'
import * as sapNode from 'sapwood/node'
import { conn, inject } from 'sapwood/testing'
import { rangeOf, segmentsOf } from '../../src/combinators/files.js'
import { acceptedEncodings } from '../../src/internal/accept-encoding.js'
import { expectLeft, expectRight } from '../helpers.js'

const { choose, pipe, get, path, prefix, ok, setHeader, update } = sap
const { sendFile, serveDir } = sapNode

let tmp = ''
let root = ''
let outside = ''
let server: sap.Listening | undefined
let port = 0
let app: sap.Part<sap.Conn, sap.Conn>

const HELLO = 'hello world\n'
const JS = 'export const answer = 42\n'.repeat(40)
const THOUSAND = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251))
const BIG = randomBytes(4 * 1024 * 1024 + 123)
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'sapwood-files-'))
  root = join(tmp, 'public')
  outside = join(tmp, 'outside')
  await mkdir(join(root, 'docs', 'guide'), { recursive: true })
  await mkdir(join(root, '.well-known'), { recursive: true })
  await mkdir(outside, { recursive: true })
  await writeFile(join(outside, 'secret.txt'), 'SECRET')
  await writeFile(join(root, 'hello.txt'), HELLO)
  await writeFile(join(root, 'page.html'), '<h1>page</h1>')
  await writeFile(join(root, 'data.json'), '{"a":1}')
  await writeFile(join(root, 'noext'), Buffer.from([0, 1, 2, 3]))
  await writeFile(join(root, 'empty.txt'), '')
  await writeFile(join(root, 'thousand.bin'), THOUSAND)
  await writeFile(join(root, 'big.bin'), BIG)
  await writeFile(join(root, 'space name.txt'), 'spaced')
  await writeFile(join(root, 'app.js'), JS)
  await writeFile(join(root, 'app.js.br'), brotliCompressSync(JS))
  await writeFile(join(root, 'app.js.gz'), gzipSync(JS))
  await writeFile(join(root, 'only-gz.css'), 'body{}')
  await writeFile(join(root, 'only-gz.css.gz'), gzipSync('body{}'))
  await writeFile(join(root, 'index.html'), '<h1>home</h1>')
  await writeFile(join(root, 'docs', 'index.html'), '<h1>docs</h1>')
  await writeFile(join(root, 'docs', 'guide', 'intro.txt'), 'intro')
  await writeFile(join(root, '.env'), 'SECRET=1')
  await writeFile(join(root, '.well-known', 'security.txt'), 'Contact: a@b.c')
  await symlink(join(outside, 'secret.txt'), join(root, 'link-out.txt'))
  await symlink(outside, join(root, 'dir-out'))
  await symlink(join(root, 'hello.txt'), join(root, 'link-in.txt'))
  // a precompressed sibling that is a symlink out of the root must not be sent
  await writeFile(join(root, 'leaky.txt'), 'leaky')
  await symlink(join(outside, 'secret.txt'), join(root, 'leaky.txt.br'))

  app = choose([
    pipe(get, path('/one'), sendFile(join(root, 'hello.txt'))),
    pipe(get, path('/cached'), sendFile(join(root, 'hello.txt'), { maxAge: 3600, immutable: true })),
    pipe(get, path('/no-cache-control'), sendFile(join(root, 'hello.txt'), { cacheControl: false })),
    pipe(get, path('/drafted'), setHeader('cache-control', 'no-store'), sendFile(join(root, 'hello.txt'))),
    pipe(get, path('/typed'), sendFile(join(root, 'hello.txt'), { type: 'text/markdown' })),
    pipe(get, path('/bare'), sendFile(join(root, 'hello.txt'), { etag: false, lastModified: false, ranges: false })),
    pipe(get, path('/thousand'), sendFile(join(root, 'thousand.bin'))),
    pipe(get, path('/empty'), sendFile(join(root, 'empty.txt'))),
    pipe(get, path('/big'), sendFile(join(root, 'big.bin'))),
    pipe(get, path('/device'), sendFile('/dev/null')),
    pipe(get, path('/missing'), sendFile(join(root, 'nope.txt'))),
    pipe(get, path('/app.js'), sendFile(join(root, 'app.js'), { precompressed: true })),
    pipe(get, path('/gz-only.js'), sendFile(join(root, 'app.js'), { precompressed: ['gzip'] })),
    pipe(
      get,
      path('/pick/:name'),
      sendFile((c) => join(root, c.params.name === 'a' ? 'hello.txt' : 'nope.txt')),
    ),
    pipe(
      get,
      path('/throws'),
      sendFile(() => {
        throw new Error('boom')
      }),
    ),
    pipe(get, path('/not-a-path'), sendFile((() => 42) as unknown as () => string)),
    pipe(get, prefix('/static'), serveDir(root, { precompressed: true })),
    pipe(get, path('/static/fallback'), ok('fallback')),
    pipe(get, prefix('/plain'), serveDir(root, { index: false })),
    pipe(get, prefix('/dots'), serveDir(root, { dotfiles: true })),
    pipe(get, prefix('/gone'), serveDir(join(tmp, 'no-such-root'))),
    pipe(get, serveDir(root)),
  ])
  server = await sap.serve(app, { port: 0, host: '127.0.0.1', onError: () => undefined })
  port = Number(new URL(server.url).port)
})

after(async () => {
  await server?.close()
  await rm(tmp, { recursive: true, force: true })
})

interface Answer {
  readonly status: number
  readonly headers: http.IncomingHttpHeaders
  readonly body: Buffer
}

/** One request over a real socket, the path sent exactly as given (no normalisation). */
const request = (method: string, target: string, headers: Record<string, string> = {}): Promise<Answer> =>
  new Promise((resolveAnswer, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: target, headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolveAnswer({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }))
      res.on('error', reject)
    })
    req.setTimeout(10_000, () => req.destroy(new Error(`timed out: ${method} ${target}`)))
    req.on('error', reject)
    req.end()
  })

const ASSERTED = [
  'content-type',
  'content-length',
  'content-range',
  'content-encoding',
  'etag',
  'last-modified',
  'cache-control',
  'accept-ranges',
  'vary',
  'location',
]

/** The same request over a socket and through `inject`: both must answer alike. */
const both = async (method: string, target: string, headers: Record<string, string> = {}): Promise<Answer> => {
  const [wire, mem] = await Promise.all([
    request(method, target, headers),
    inject(app, { method, url: target, headers }),
  ])
  assert.equal(mem.status, wire.status, `${method} ${target}: inject ${mem.status}, socket ${wire.status}`)
  for (const name of ASSERTED)
    assert.equal(mem.headers[name], wire.headers[name], `${method} ${target}: header ${name}`)
  assert.equal(Buffer.compare(Buffer.from(mem.rawBody), wire.body), 0, `${method} ${target}: bodies differ`)
  return wire
}

describe('sendFile', () => {
  it('sends the file with its type, length, validators and cache-control', async () => {
    const res = await both('GET', '/one')
    assert.equal(res.status, 200)
    assert.equal(res.body.toString(), HELLO)
    assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8')
    assert.equal(res.headers['content-length'], String(HELLO.length))
    assert.equal(res.headers['accept-ranges'], 'bytes')
    assert.equal(res.headers['cache-control'], 'public, max-age=0')
    assert.match(res.headers['etag'] ?? '', /^W\/"[0-9a-f]+-[0-9a-f]+"$/)
    const mtime = fs.statSync(join(root, 'hello.txt')).mtimeMs
    assert.equal(res.headers['last-modified'], new Date(mtime).toUTCString())
    assert.equal(res.headers['vary'], undefined)
  })

  it('takes the content type from the extension, with a charset for text types', async () => {
    const cases: [string, string][] = [
      ['/page.html', 'text/html; charset=utf-8'],
      ['/data.json', 'application/json'],
      ['/app.js', 'text/javascript; charset=utf-8'],
      ['/noext', 'application/octet-stream'],
      ['/space%20name.txt', 'text/plain; charset=utf-8'],
    ]
    for (const [target, type] of cases) {
      const res = await fetch(`http://127.0.0.1:${port}${target}`)
      assert.equal(res.status, 200, target)
      assert.equal(res.headers.get('content-type'), type, target)
      await res.arrayBuffer()
    }
    assert.equal((await both('GET', '/typed')).headers['content-type'], 'text/markdown')
  })

  it('sets cache-control from maxAge and immutable, none when asked, and keeps one drafted in front', async () => {
    assert.equal((await both('GET', '/cached')).headers['cache-control'], 'public, max-age=3600, immutable')
    assert.equal((await both('GET', '/no-cache-control')).headers['cache-control'], undefined)
    assert.equal((await both('GET', '/drafted')).headers['cache-control'], 'no-store')
  })

  it('sends no validators and ignores Range when told so', async () => {
    const res = await both('GET', '/bare', { range: 'bytes=0-1' })
    assert.equal(res.status, 200)
    assert.equal(res.headers['etag'], undefined)
    assert.equal(res.headers['last-modified'], undefined)
    assert.equal(res.headers['accept-ranges'], undefined)
    assert.equal(res.body.toString(), HELLO)
  })

  it('answers 304 to If-None-Match and to If-Modified-Since, with the validators and no body', async () => {
    const first = await both('GET', '/one')
    const etag = first.headers['etag']!
    const lastModified = first.headers['last-modified']!
    for (const headers of [
      { 'if-none-match': etag },
      { 'if-none-match': `"other", ${etag}` },
      { 'if-none-match': '*' },
      { 'if-modified-since': lastModified },
      { 'if-modified-since': new Date(Date.parse(lastModified) + 60_000).toUTCString() },
    ]) {
      const res = await both('GET', '/one', headers)
      assert.equal(res.status, 304, JSON.stringify(headers))
      assert.equal(res.body.byteLength, 0)
      assert.equal(res.headers['etag'], etag)
      assert.equal(res.headers['last-modified'], lastModified)
      assert.equal(res.headers['cache-control'], 'public, max-age=0')
      assert.equal(res.headers['content-length'], undefined)
    }
  })

  it('answers 200 when the client copy is stale, or when it asks not to be served from cache', async () => {
    const first = await both('GET', '/one')
    const etag = first.headers['etag']!
    const lastModified = first.headers['last-modified']!
    for (const headers of [
      { 'if-none-match': 'W/"0-0"' },
      { 'if-modified-since': new Date(Date.parse(lastModified) - 60_000).toUTCString() },
      { 'if-modified-since': 'not a date' },
      // If-None-Match decides alone when both are sent
      { 'if-none-match': '"other"', 'if-modified-since': lastModified },
      { 'if-none-match': etag, 'cache-control': 'no-cache' },
    ]) {
      const res = await both('GET', '/one', headers)
      assert.equal(res.status, 200, JSON.stringify(headers))
      assert.equal(res.body.toString(), HELLO)
    }
  })

  it('answers 412 when If-Match or If-Unmodified-Since fails', async () => {
    const { headers } = await both('GET', '/one')
    assert.equal((await both('GET', '/one', { 'if-match': '"nope"' })).status, 412)
    assert.equal((await both('GET', '/one', { 'if-match': headers['etag']! })).status, 200)
    assert.equal((await both('GET', '/one', { 'if-match': '*' })).status, 200)
    const before = new Date(Date.parse(headers['last-modified']!) - 60_000).toUTCString()
    const res = await both('GET', '/one', { 'if-unmodified-since': before })
    assert.equal(res.status, 412)
    assert.equal(res.headers['content-type'], 'application/problem+json')
    assert.equal((await both('GET', '/one', { 'if-unmodified-since': headers['last-modified']! })).status, 200)
  })

  it('gives a new ETag when the file changes, and a stale one gets 200', async () => {
    const file = join(tmp, 'changing.txt')
    await writeFile(file, 'v1')
    await utimes(file, new Date('2020-01-01T00:00:00Z'), new Date('2020-01-01T00:00:00Z'))
    const changing = pipe(get, path('/c'), sendFile(file))
    const a = await inject(changing, { url: '/c' })
    await writeFile(file, 'v2!')
    const b = await inject(changing, { url: '/c', headers: { 'if-none-match': a.headers['etag'] as string } })
    assert.equal(b.status, 200)
    assert.equal(b.body, 'v2!')
    assert.notEqual(b.headers['etag'], a.headers['etag'])
  })

  describe('ranges (curl -r)', () => {
    const cases: [string, number, string | undefined, number, number][] = [
      // range, status, content-range, first byte, length
      ['bytes=0-99', 206, 'bytes 0-99/1000', 0, 100],
      ['bytes=-100', 206, 'bytes 900-999/1000', 900, 100],
      ['bytes=100-', 206, 'bytes 100-999/1000', 100, 900],
      ['bytes=990-2000', 206, 'bytes 990-999/1000', 990, 10],
      ['bytes=-5000', 206, 'bytes 0-999/1000', 0, 1000],
      ['bytes=0-0', 206, 'bytes 0-0/1000', 0, 1],
      ['BYTES = 10-19', 206, 'bytes 10-19/1000', 10, 10],
      ['bytes=0-9, 5-19', 206, 'bytes 0-19/1000', 0, 20],
      ['bytes=0-9,10-19', 206, 'bytes 0-19/1000', 0, 20],
      ['bytes=0-9,50-59', 200, undefined, 0, 1000],
      ['bytes=5-1', 200, undefined, 0, 1000],
      ['bytes=abc', 200, undefined, 0, 1000],
      ['bytes=', 200, undefined, 0, 1000],
      ['items=0-9', 200, undefined, 0, 1000],
      ['bytes=1000-', 416, 'bytes */1000', 0, 0],
      ['bytes=-0', 416, 'bytes */1000', 0, 0],
      ['bytes=5000-6000', 416, 'bytes */1000', 0, 0],
    ]
    for (const [range, status, contentRange, start, length] of cases) {
      it(`Range: ${range} → ${status}${contentRange === undefined ? '' : ` ${contentRange}`}`, async () => {
        const res = await both('GET', '/thousand', { range })
        assert.equal(res.status, status)
        assert.equal(res.headers['content-range'], contentRange)
        if (status === 416) {
          assert.equal(res.headers['content-type'], 'application/problem+json')
          assert.equal(JSON.parse(res.body.toString()).status, 416)
          return
        }
        assert.equal(res.headers['content-length'], String(length))
        assert.equal(res.headers['accept-ranges'], 'bytes')
        assert.equal(Buffer.compare(res.body, THOUSAND.subarray(start, start + length)), 0)
      })
    }

    it('answers 416 to any range of an empty file, and 200 without one', async () => {
      const res = await both('GET', '/empty', { range: 'bytes=0-' })
      assert.equal(res.status, 416)
      assert.equal(res.headers['content-range'], 'bytes */0')
      const whole = await both('GET', '/empty')
      assert.equal(whole.status, 200)
      assert.equal(whole.headers['content-length'], '0')
    })

    it('honours If-Range: the same ETag or date gets the range, another gets the whole file', async () => {
      const { headers } = await both('GET', '/thousand')
      const etag = headers['etag']!
      const lastModified = headers['last-modified']!
      const range = 'bytes=0-99'
      assert.equal((await both('GET', '/thousand', { range, 'if-range': etag })).status, 206)
      assert.equal((await both('GET', '/thousand', { range, 'if-range': lastModified })).status, 206)
      const stale = await both('GET', '/thousand', { range, 'if-range': 'W/"3e8-1"' })
      assert.equal(stale.status, 200)
      assert.equal(stale.body.byteLength, 1000)
      const older = new Date(Date.parse(lastModified) - 1000).toUTCString()
      assert.equal((await both('GET', '/thousand', { range, 'if-range': older })).status, 200)
      assert.equal((await both('GET', '/thousand', { range, 'if-range': 'garbage' })).status, 200)
    })

    it('sends a range of a large file intact', async () => {
      const res = await both('GET', '/big', { range: 'bytes=1000000-3999999' })
      assert.equal(res.status, 206)
      assert.equal(sha(res.body), sha(BIG.subarray(1_000_000, 4_000_000)))
    })
  })

  it('streams a file of a few MB intact over a socket', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/big`)
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-length'), String(BIG.byteLength))
    const body = new Uint8Array(await res.arrayBuffer())
    assert.equal(body.byteLength, BIG.byteLength)
    assert.equal(sha(body), sha(BIG))
    const viaDir = new Uint8Array(await (await fetch(`http://127.0.0.1:${port}/static/big.bin`)).arrayBuffer())
    assert.equal(sha(viaDir), sha(BIG))
  })

  it('answers HEAD with the head of GET, and never opens the file', async () => {
    // a file is opened by `inject` (the body's stream) or by the node adapter (its own reads)
    const opened: string[] = []
    const original = fs.createReadStream
    fs.createReadStream = (...args: Parameters<typeof original>) => {
      opened.push(String(args[0]))
      return original(...args)
    }
    const originalOpen = fs.promises.open
    fs.promises.open = (...args: Parameters<typeof originalOpen>) => {
      opened.push(String(args[0]))
      return originalOpen(...args)
    }
    syncBuiltinESMExports()
    try {
      const head = await both('HEAD', '/big')
      assert.equal(head.status, 200)
      assert.equal(head.headers['content-length'], String(BIG.byteLength))
      assert.equal(head.body.byteLength, 0)
      const ranged = await both('HEAD', '/thousand', { range: 'bytes=0-99' })
      assert.equal(ranged.status, 206)
      assert.equal(ranged.headers['content-length'], '100')
      assert.equal((await request('HEAD', '/static/docs/')).headers['content-length'], '13')
      assert.equal(opened.length, 0, `opened: ${opened.join(', ')}`)
      // the spy sees a GET open the file: the check above can fail
      const got = await request('GET', '/thousand')
      assert.equal(got.body.byteLength, 1000)
      assert.ok(
        opened.some((p) => p.endsWith('thousand.bin')),
        `opened: ${opened.join(', ')}`,
      )
    } finally {
      fs.createReadStream = original
      fs.promises.open = originalOpen
      syncBuiltinESMExports()
    }
  })

  it('rejects with NoMatch for a missing file or one that is not a regular file', async () => {
    assert.equal((await both('GET', '/missing')).status, 404)
    assert.equal((await both('GET', '/device')).status, 404)
    await expectLeft(sendFile(join(root, 'nope'))(conn('GET', '/')), 'NoMatch')
    await expectLeft(sendFile(root)(conn('GET', '/')), 'NoMatch')
  })

  it('serves a file, then 404 once it is deleted', async () => {
    const file = join(tmp, 'doomed.txt')
    await writeFile(file, 'here')
    const doomed = pipe(get, path('/d'), sendFile(file))
    const server2 = await sap.serve(doomed, { port: 0, host: '127.0.0.1' })
    try {
      const a = await fetch(`${server2.url}/d`)
      assert.equal(a.status, 200)
      assert.equal(await a.text(), 'here')
      await unlink(file)
      const b = await fetch(`${server2.url}/d`)
      assert.equal(b.status, 404)
      await b.arrayBuffer()
    } finally {
      await server2.close()
    }
  })

  it('chooses the file per request with a function of the Conn; a throw or a non-path is a 500', async () => {
    assert.equal((await both('GET', '/pick/a')).body.toString(), HELLO)
    assert.equal((await both('GET', '/pick/b')).status, 404)
    const thrown = await both('GET', '/throws')
    assert.equal(thrown.status, 500)
    assert.doesNotMatch(thrown.body.toString(), /boom/)
    assert.equal((await both('GET', '/not-a-path')).status, 500)
  })

  it('sends the whole file with the status drafted in front, without 304 or ranges', async () => {
    const page = pipe(sap.setStatus(404), sendFile(join(root, 'page.html')))
    const first = await expectRight(page(conn('GET', '/')))
    const res = await inject(page, {
      url: '/',
      headers: { range: 'bytes=0-1', 'if-none-match': first.respHeaders['etag'] as string },
    })
    assert.equal(res.status, 404)
    assert.equal(res.body, '<h1>page</h1>')
  })

  it('refuses bad options when the Part is made', () => {
    assert.throws(() => sendFile(''), TypeError)
    assert.throws(() => sendFile('x', { maxAge: -1 }), RangeError)
    assert.throws(() => sendFile('x', { maxAge: 1.5 }), RangeError)
    assert.throws(() => sendFile('x', { type: 'text/plain\r\nx: y' }), TypeError)
    assert.throws(() => sendFile('x', { precompressed: ['zstd'] as unknown as ['br'] }), TypeError)
    assert.throws(() => serveDir(''), TypeError)
    assert.throws(() => serveDir('x', { index: '../index.html' }), TypeError)
    assert.throws(() => serveDir('x', { index: '' }), TypeError)
  })

  it('types the function form with the params the pipe established', () => {
    const part = pipe(
      get,
      path('/files/:name'),
      sendFile((c) => join(root, c.params.name)),
    )
    assert.equal(typeof part, 'function')
  })
})

describe('precompressed siblings', () => {
  const br = () => fs.readFileSync(join(root, 'app.js.br'))
  const gz = () => fs.readFileSync(join(root, 'app.js.gz'))
  const cases: [string | undefined, 'br' | 'gzip' | undefined][] = [
    ['gzip, deflate, br', 'br'],
    ['br', 'br'],
    ['gzip', 'gzip'],
    ['x-gzip', 'gzip'],
    ['br;q=0.5, gzip', 'gzip'],
    ['br;q=0, gzip', 'gzip'],
    ['gzip;q=0.8, br;q=0.9', 'br'],
    ['*', 'br'],
    ['*;q=0.5, br;q=0', 'gzip'],
    ['br;q=0, gzip;q=0', undefined],
    ['br;q=0.2, identity', undefined],
    ['identity', undefined],
    ['deflate', undefined],
    ['*;q=0', undefined],
    ['br;q=abc', undefined],
    [undefined, undefined],
    ['', undefined],
  ]
  for (const [accept, picked] of cases) {
    it(`Accept-Encoding: ${accept === undefined ? '(none)' : `"${accept}"`} → ${picked ?? 'identity'}`, async () => {
      const headers: Record<string, string> = accept === undefined ? {} : { 'accept-encoding': accept }
      for (const target of ['/app.js', '/static/app.js']) {
        const res = await both('GET', target, headers)
        assert.equal(res.status, 200)
        assert.equal(res.headers['content-encoding'], picked)
        assert.equal(res.headers['vary'], 'Accept-Encoding')
        assert.equal(res.headers['content-type'], 'text/javascript; charset=utf-8')
        const expected = picked === 'br' ? br() : picked === 'gzip' ? gz() : Buffer.from(JS)
        assert.equal(Buffer.compare(res.body, expected), 0, target)
        assert.equal(res.headers['content-length'], String(expected.byteLength))
      }
    })
  }

  it('decodes back to the file, and each coding has its own ETag', async () => {
    const plain = await both('GET', '/static/app.js')
    const b = await both('GET', '/static/app.js', { 'accept-encoding': 'br' })
    const g = await both('GET', '/static/app.js', { 'accept-encoding': 'gzip' })
    assert.equal(brotliDecompressSync(b.body).toString(), JS)
    assert.equal(new Set([plain.headers['etag'], b.headers['etag'], g.headers['etag']]).size, 3)
    // a 304 for the coded file, told apart by its ETag
    const again = await both('GET', '/static/app.js', { 'accept-encoding': 'br', 'if-none-match': b.headers['etag']! })
    assert.equal(again.status, 304)
    assert.equal(again.headers['vary'], 'Accept-Encoding')
    const switched = await both('GET', '/static/app.js', {
      'accept-encoding': 'gzip',
      'if-none-match': b.headers['etag']!,
    })
    assert.equal(switched.status, 200)
  })

  it('ranges apply to the coded file', async () => {
    const res = await both('GET', '/static/app.js', { 'accept-encoding': 'gzip', range: 'bytes=0-9' })
    assert.equal(res.status, 206)
    assert.equal(res.headers['content-encoding'], 'gzip')
    assert.equal(Buffer.compare(res.body, gz().subarray(0, 10)), 0)
  })

  it('offers only the codings given, sends identity when a file has no sibling', async () => {
    assert.equal(
      (await both('GET', '/gz-only.js', { 'accept-encoding': 'br, gzip' })).headers['content-encoding'],
      'gzip',
    )
    const css = await both('GET', '/static/only-gz.css', { 'accept-encoding': 'br, gzip' })
    assert.equal(css.headers['content-encoding'], 'gzip')
    assert.equal(css.headers['content-type'], 'text/css; charset=utf-8')
    const hello = await both('GET', '/static/hello.txt', { 'accept-encoding': 'br, gzip' })
    assert.equal(hello.headers['content-encoding'], undefined)
    assert.equal(hello.headers['vary'], 'Accept-Encoding')
    assert.equal(hello.body.toString(), HELLO)
  })

  it('never sends a sibling that is a symlink out of the root', async () => {
    const res = await both('GET', '/static/leaky.txt', { 'accept-encoding': 'br' })
    assert.equal(res.status, 200)
    assert.equal(res.headers['content-encoding'], undefined)
    assert.equal(res.body.toString(), 'leaky')
  })

  it('adds accept-encoding to a drafted Vary once', async () => {
    const part = pipe(setHeader('vary', 'origin'), sendFile(join(root, 'app.js'), { precompressed: true }))
    const c = await expectRight(part(conn('GET', '/')))
    assert.equal(c.respHeaders['vary'], 'origin, Accept-Encoding')
    const twice = pipe(setHeader('vary', 'Accept-Encoding'), sendFile(join(root, 'app.js'), { precompressed: true }))
    assert.equal((await expectRight(twice(conn('GET', '/')))).respHeaders['vary'], 'Accept-Encoding')
  })
})

describe('serveDir', () => {
  it('serves the files under the root for the rest of the path', async () => {
    assert.equal((await both('GET', '/static/hello.txt')).body.toString(), HELLO)
    assert.equal((await both('GET', '/static/docs/guide/intro.txt')).body.toString(), 'intro')
    assert.equal((await both('GET', '/static/space%20name.txt')).body.toString(), 'spaced')
    assert.equal((await both('GET', '/static/link-in.txt')).body.toString(), HELLO)
    assert.equal((await both('GET', '/hello.txt')).body.toString(), HELLO)
  })

  it('serves the index file of a directory asked with its trailing slash', async () => {
    const docs = await both('GET', '/static/docs/')
    assert.equal(docs.status, 200)
    assert.equal(docs.body.toString(), '<h1>docs</h1>')
    assert.equal(docs.headers['content-type'], 'text/html; charset=utf-8')
    assert.equal((await both('GET', '/static/')).body.toString(), '<h1>home</h1>')
    assert.equal((await both('GET', '/')).body.toString(), '<h1>home</h1>')
  })

  it('redirects a directory asked without its slash to the slash form, query kept', async () => {
    const cases: [string, string][] = [
      ['/static/docs', '/static/docs/'],
      ['/static', '/static/'],
      ['/static/docs?lang=en&x=1', '/static/docs/?lang=en&x=1'],
      ['/docs', '/docs/'],
    ]
    for (const [target, location] of cases) {
      const res = await both('GET', target)
      assert.equal(res.status, 301, target)
      assert.equal(res.headers['location'], location, target)
    }
  })

  it('never redirects off the host', async () => {
    // a Conn whose path starts with `//` (as a `//evil.com` request would) and names the root
    const evil = update(conn('GET', '//evil.com'), { rest: '' })
    await expectLeft(serveDir(root)(evil), 'NoMatch')
    const backslash = update(conn('GET', '/\\evil.com'), { rest: '' })
    await expectLeft(serveDir(root)(backslash), 'NoMatch')
    // an empty segment makes the path malformed (400); `\` is read as `/`
    for (const target of ['//evil.com', '//evil.com/', '///evil.com', '/\\evil.com', '/static//evil.com', '//docs']) {
      const res = await both('GET', target)
      assert.equal(res.status, 400, target)
      assert.equal(res.headers['location'], undefined, target)
    }
  })

  it('lists no directory: one without index is not found, and is not redirected', async () => {
    assert.equal((await both('GET', '/static/docs/guide/')).status, 404)
    assert.equal((await both('GET', '/static/docs/guide')).status, 404)
    assert.equal((await both('GET', '/plain/docs/')).status, 404)
    assert.equal((await both('GET', '/plain/docs')).status, 404)
    assert.equal((await both('GET', '/plain/hello.txt')).status, 200)
  })

  it('does not serve a file asked with a trailing slash', async () => {
    assert.equal((await both('GET', '/static/hello.txt/')).status, 404)
  })

  it('rejects with NoMatch, so that a later branch can answer', async () => {
    const res = await both('GET', '/static/fallback')
    assert.equal(res.status, 200)
    assert.equal(res.body.toString(), 'fallback')
    await expectLeft(serveDir(root)(conn('GET', '/nope.txt')), 'NoMatch')
    assert.equal((await both('GET', '/gone/hello.txt')).status, 404)
  })

  it("ranks a missing file as a path that does not match: another branch's 405 explains it", async () => {
    const mixed = choose([
      pipe(get, prefix('/s'), serveDir(root)),
      pipe(sap.post, path('/s/upload'), ok('uploaded')),
      pipe(get, path('/report'), sendFile(join(root, 'nope.pdf'))),
      pipe(sap.post, path('/report'), ok('made')),
    ])
    const upload = await inject(mixed, { url: '/s/upload' })
    assert.equal(upload.status, 405)
    assert.equal(upload.headers['allow'], 'POST, OPTIONS')
    assert.equal((await inject(mixed, { url: '/s/hello.txt' })).body, HELLO)
    assert.equal((await inject(mixed, { url: '/s/nope.txt' })).status, 404)
    assert.equal((await inject(mixed, { url: '/s/../outside/secret.txt' })).status, 404)
    assert.equal((await inject(mixed, { method: 'POST', url: '/s/upload' })).body, 'uploaded')
    // sendFile's route matched: its missing file is a 404, not the POST branch's 405
    assert.equal((await inject(mixed, { url: '/report' })).status, 404)
  })

  it('follows a root that is a symlink, re-pointed while serving, and still refuses what leaves it', async () => {
    const v1 = join(tmp, 'v1')
    const v2 = join(tmp, 'v2')
    const current = join(tmp, 'current')
    await mkdir(v1)
    await mkdir(v2)
    await writeFile(join(v1, 'version.txt'), 'one')
    await writeFile(join(v2, 'version.txt'), 'two')
    await symlink(join(v2, 'version.txt'), join(v1, 'peek.txt'))
    await symlink(v1, current)
    const site = pipe(get, prefix('/site'), serveDir(current))
    assert.equal((await inject(site, { url: '/site/version.txt' })).body, 'one')
    // v2 is outside the real root v1
    assert.equal((await inject(site, { url: '/site/peek.txt' })).status, 404)
    await unlink(current)
    await symlink(v2, current)
    assert.equal((await inject(site, { url: '/site/version.txt' })).body, 'two')
    assert.equal((await inject(site, { url: '/site/peek.txt' })).status, 404)
  })

  it('does not redirect in a loop when nothing is left of the path (after `path`)', async () => {
    const odd = pipe(get, path('/x/*'), serveDir(root))
    assert.equal((await inject(odd, { url: '/x/a' })).headers['location'], '/x/a/')
    const again = await inject(odd, { url: '/x/a/' })
    assert.equal(again.status, 200)
    assert.equal(again.body, '<h1>home</h1>')
  })

  it('hides dotfiles unless asked to serve them', async () => {
    assert.equal((await both('GET', '/static/.env')).status, 404)
    assert.equal((await both('GET', '/static/.well-known/security.txt')).status, 404)
    assert.equal((await both('GET', '/dots/.well-known/security.txt')).body.toString(), 'Contact: a@b.c')
    // dot segments are resolved in the path before serveDir sees it: `..` stays in the root
    assert.equal((await both('GET', '/dots/docs/../hello.txt')).body.toString(), HELLO)
    assert.equal(segmentsOf('/..', true), 'refused')
  })

  it('sends 304 and ranges as sendFile does', async () => {
    const first = await both('GET', '/static/thousand.bin')
    assert.equal((await both('GET', '/static/thousand.bin', { 'if-none-match': first.headers['etag']! })).status, 304)
    const part = await both('GET', '/static/thousand.bin', { range: 'bytes=-10' })
    assert.equal(part.status, 206)
    assert.equal(part.headers['content-range'], 'bytes 990-999/1000')
  })

  describe('traversal', () => {
    // every one names the secret (or the root's parent) in some spelling; all must be refused
    const attempts: [string, number][] = [
      ['/static/../outside/secret.txt', 404],
      ['/static/docs/../../outside/secret.txt', 404],
      ['/static/%2e%2e/outside/secret.txt', 404],
      ['/static/%2E%2E/outside/secret.txt', 404],
      ['/static/%2e%2E/outside/secret.txt', 404],
      ['/static/.%2e/outside/secret.txt', 404],
      ['/static/%2e./outside/secret.txt', 404],
      ['/static/docs/%2E%2e/%2e%2E/outside/secret.txt', 404],
      ['/static/..%2foutside%2fsecret.txt', 404],
      ['/static/..%2Foutside%2Fsecret.txt', 404],
      ['/static/%2e%2e%2foutside%2fsecret.txt', 404],
      ['/static/..%5coutside%5csecret.txt', 404],
      ['/static/..%5Coutside%5Csecret.txt', 404],
      ['/static/..\\outside\\secret.txt', 404],
      ['/static/docs\\..\\..\\outside\\secret.txt', 404],
      ['/static/hello.txt%00.html', 400],
      ['/static/%00', 400],
      ['/static//etc/passwd', 400],
      ['/static/' + resolve(tmp, 'outside/secret.txt'), 400],
      ['/static/%2f' + resolve(tmp, 'outside/secret.txt').slice(1).replaceAll('/', '%2f'), 404],
      ['/static//' + resolve(tmp, 'outside/secret.txt'), 400],
      ['/static/etc/passwd', 404],
      ['/static/link-out.txt', 404],
      ['/static/dir-out/secret.txt', 404],
      ['/static/dir-out/', 404],
      ['/static/%252e%252e/outside/secret.txt', 404],
      ['/static/%c0%ae%c0%ae/outside/secret.txt', 400],
      ['/static/%e0%80%ae/hello.txt', 400],
      ['/static/%zz', 400],
      ['/static/%', 400],
      ['/../outside/secret.txt', 404],
      ['/%2e%2e/outside/secret.txt', 404],
      ['//' + resolve(tmp, 'outside/secret.txt'), 400],
    ]

    it('the secret is one `..` away from the root (the attempts are real)', () => {
      assert.equal(fs.readFileSync(join(root, '..', 'outside', 'secret.txt'), 'utf8'), 'SECRET')
      assert.equal(fs.readFileSync(join(root, 'link-out.txt'), 'utf8'), 'SECRET')
    })

    for (const [target, status] of attempts) {
      it(`GET ${target} → ${status}`, async () => {
        const res = await both('GET', target)
        assert.equal(res.status, status)
        assert.doesNotMatch(res.body.toString(), /SECRET/)
        assert.equal(res.headers['content-type'], 'application/problem+json')
      })
    }

    it('refuses a NUL that reaches the path undecoded', async () => {
      const res = await inject(app, { url: '/static/hello.txt\0.html' })
      assert.equal(res.status, 400)
    })

    it('resolves dot segments within the path, whatever their spelling', async () => {
      for (const target of ['/static/./hello.txt', '/static/%2e/hello.txt', '/static/docs/%2E%2e/hello.txt']) {
        assert.equal((await both('GET', target)).body.toString(), HELLO, target)
      }
      // `/..` is `/`: the root's index
      assert.equal((await both('GET', '/..')).body.toString(), (await both('GET', '/')).body.toString())
    })

    it('never leaves the root, whatever the path (property)', async () => {
      const piece = fc.constantFrom(
        '/',
        '.',
        '..',
        '%2e',
        '%2E',
        '%2f',
        '%2F',
        '%5c',
        '\\',
        '%00',
        '%',
        '%25',
        'outside',
        'secret.txt',
        'docs',
        'dir-out',
        'link-out.txt',
        'hello.txt',
        '%c0%ae',
      )
      const top = root + sep
      await fc.assert(
        fc.asyncProperty(fc.array(piece, { maxLength: 12 }), async (pieces) => {
          const rest = '/' + pieces.join('')
          const parsed = segmentsOf(rest, true)
          if (typeof parsed !== 'string') {
            const full = resolve(root, ...parsed.segments)
            assert.ok(full === root || full.startsWith(top), `${rest} → ${full}`)
          }
          const res = await inject(app, { url: '/static' + rest })
          assert.doesNotMatch(res.body, /SECRET/, rest)
        }),
        { numRuns: 300 },
      )
    })
  })
})

describe('rangeOf', () => {
  it('reads one range, joins touching ones, and says which to ignore', () => {
    assert.deepEqual(rangeOf('bytes=0-99', 1000), { start: 0, end: 99 })
    assert.deepEqual(rangeOf('bytes=-100', 50), { start: 0, end: 49 })
    assert.deepEqual(rangeOf('bytes=0-9,20-29,10-19', 1000), { start: 0, end: 29 })
    assert.equal(rangeOf('bytes=0-9,20-29', 1000), undefined)
    assert.equal(rangeOf('bytes=1000-', 1000), 'unsatisfiable')
    assert.equal(rangeOf('bytes=0-', 0), 'unsatisfiable')
    assert.equal(rangeOf('bytes=0-1,x', 1000), undefined)
    assert.equal(rangeOf('bytes=1-2-3', 1000), undefined)
    assert.equal(rangeOf('bytes=+1-2', 1000), undefined)
    assert.equal(rangeOf('bytes 0-1', 1000), undefined)
    assert.deepEqual(rangeOf('bytes=0-99999999999999999999', 1000), { start: 0, end: 999 })
    assert.equal(rangeOf('bytes=99999999999999999999-', 1000), 'unsatisfiable')
  })
})

describe('acceptedEncodings', () => {
  it('orders the codings offered by q-value, then as offered', () => {
    assert.deepEqual(acceptedEncodings('gzip, br', ['br', 'gzip']), ['br', 'gzip'])
    assert.deepEqual(acceptedEncodings('gzip, br', ['gzip', 'br']), ['gzip', 'br'])
    assert.deepEqual(acceptedEncodings('br;q=0.1, gzip;q=0.5', ['br', 'gzip']), ['gzip', 'br'])
    assert.deepEqual(acceptedEncodings('BR;Q=1', ['br']), ['br'])
    assert.deepEqual(acceptedEncodings('br;q=1.5', ['br']), [])
    assert.deepEqual(acceptedEncodings(undefined, ['br']), [])
    assert.deepEqual(acceptedEncodings('br', []), [])
  })
})

describe('segmentsOf', () => {
  it('decodes once and refuses what could name a file outside the root', () => {
    assert.deepEqual(segmentsOf('', false), { segments: [], slash: false })
    assert.deepEqual(segmentsOf('/', false), { segments: [], slash: true })
    assert.deepEqual(segmentsOf('/a/b%20c/', false), { segments: ['a', 'b c'], slash: true })
    assert.deepEqual(segmentsOf('/%252e%252e', false), { segments: ['%2e%2e'], slash: false })
    for (const bad of ['a', '/./a', '/a/..', '/%2e%2e', '/a%2fb', '/a%5cb', '/a\\b', '/.env']) {
      assert.equal(segmentsOf(bad, false), 'refused', bad)
    }
    for (const bad of ['/a//b', '//a', '/a%00', '/%c0%ae']) assert.equal(segmentsOf(bad, false), 'malformed', bad)
    assert.deepEqual(segmentsOf('/.env', true), { segments: ['.env'], slash: false })
    assert.equal(segmentsOf('/%zz', false), 'malformed')
  })
})
