import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import * as http from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import * as zlib from 'node:zlib'
import fc from 'fast-check'
import * as sap from 'sapwood'
import * as sapNode from 'sapwood/node'
import { inject } from 'sapwood/testing'

const { choose, pipe, get, path, ok, handle, stream, setHeader, respJson, respHtml, response, update } = sap
const { compress } = sapNode

const items = JSON.stringify(Array.from({ length: 200 }, (_, id) => ({ id, name: `item ${id}`, tags: ['a', 'b'] })))
const page = `<!doctype html><title>t</title>${'<p>hello, compressed world</p>\n'.repeat(100)}`

/** node:zlib's zstd (node 22.15+), which the node 20 typings do not know. */
const zstdDecompressSync = (zlib as unknown as { zstdDecompressSync?: (b: Buffer, o?: object) => Buffer })
  .zstdDecompressSync
const hasZstd = typeof zstdDecompressSync === 'function'

/** The bytes of a whole answer, decoded as its content-encoding says. */
const decode = (coding: string | readonly string[] | undefined, bytes: Uint8Array): string => {
  const b = Buffer.from(bytes)
  switch (coding) {
    case undefined:
      return b.toString()
    case 'gzip':
      return zlib.gunzipSync(b).toString()
    case 'deflate':
      return zlib.inflateSync(b).toString()
    case 'br':
      return zlib.brotliDecompressSync(b).toString()
    case 'zstd':
      return zstdDecompressSync!(b).toString()
    default:
      throw new Error(`unexpected content-encoding ${String(coding)}`)
  }
}

/** What a client can decode from the start of a coded stream, before its end. */
const decodeSoFar = (coding: string, b: Buffer): string => {
  const { Z_SYNC_FLUSH, BROTLI_OPERATION_FLUSH } = zlib.constants
  if (coding === 'gzip') return zlib.gunzipSync(b, { finishFlush: Z_SYNC_FLUSH }).toString()
  if (coding === 'deflate') return zlib.inflateSync(b, { finishFlush: Z_SYNC_FLUSH }).toString()
  if (coding === 'br') return zlib.brotliDecompressSync(b, { finishFlush: BROTLI_OPERATION_FLUSH }).toString()
  throw new Error(`no partial decoder for ${coding}`)
}

const tree = choose([
  pipe(get, path('/items'), respJson, setHeader('etag', '"v1"'), setHeader('accept-ranges', 'bytes'), ok(items)),
  pipe(get, path('/page'), respHtml, ok(page)),
  pipe(get, path('/plain'), ok(page)),
  pipe(
    get,
    path('/lines'),
    stream(
      async function* () {
        for (let i = 0; i < 50; i++) yield `line ${i}: ${'x'.repeat(40)}\n`
      },
      { type: 'text/plain; charset=utf-8' },
    ),
  ),
])
const app = compress(tree)
const quiet = { onError: () => undefined }

/** A request over a real socket, read raw: node:http does not decode content codings. */
const request = (
  url: string,
  headers: Readonly<Record<string, string>> = {},
  method = 'GET',
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> =>
  new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }))
      res.on('error', reject)
    })
    req.setTimeout(5000, () => req.destroy(new Error('no answer within 5 s')))
    req.on('error', reject)
    req.end()
  })

describe('compress', () => {
  describe('choosing the coding from Accept-Encoding', () => {
    // Accept-Encoding → the coding sent (undefined: the answer as it is)
    const table: readonly [string | undefined, string | undefined][] = [
      [undefined, undefined],
      ['', undefined],
      ['gzip', 'gzip'],
      ['deflate', 'deflate'],
      ['br', 'br'],
      ['gzip, deflate, br', 'br'],
      ['deflate, gzip', 'gzip'],
      ['gzip;q=1, br;q=0.5', 'gzip'],
      ['br;q=0, gzip', 'gzip'],
      ['*', 'br'],
      ['*;q=0', undefined],
      ['*;q=0.1, gzip;q=0', 'br'],
      ['*;q=0.5, br;q=0.2', hasZstd ? 'zstd' : 'gzip'],
      ['identity', undefined],
      ['identity;q=0', undefined],
      ['identity;q=0, gzip;q=0.1', 'gzip'],
      ['gzip;q=0.2, identity', undefined],
      ['gzip;q=0.5, identity;q=0.5', 'gzip'],
      ['gzip;q=0.5', 'gzip'],
      ['gzip;q=0.001', 'gzip'],
      ['GZIP', 'gzip'],
      ['x-gzip', 'gzip'],
      ['Gzip ; Q=0.7 , Br ; q=0.3', 'gzip'],
      ['compress, sdch', undefined],
      ['zstd', hasZstd ? 'zstd' : undefined],
      // bogus headers weigh nothing
      ['gzip;q=abc', undefined],
      ['gzip;q=1.5', undefined],
      ['gzip;q=', undefined],
      ['gzip;q=-1', undefined],
      [';;;,,,', undefined],
      ['g zip', undefined],
      ['gzip\u00ff', undefined],
      ['"gzip"', undefined],
      ['gzip;q=0.5;q=abc', undefined],
      ['gzip;q=abc;q=1', undefined],
      ['gzip;level=9', 'gzip'],
      [',gzip,', 'gzip'],
    ]
    for (const [accept, coding] of table) {
      it(`Accept-Encoding ${accept === undefined ? '(none)' : JSON.stringify(accept)} → ${coding ?? 'identity'}`, async () => {
        for (const compile of [false, true]) {
          const res = await inject(
            app,
            { url: '/items', headers: accept === undefined ? {} : { 'accept-encoding': accept } },
            { compile },
          )
          assert.equal(res.status, 200)
          assert.equal(res.headers['content-encoding'], coding)
          assert.equal(res.headers['vary'], 'Accept-Encoding')
          assert.equal(decode(coding, res.rawBody), items)
          assert.equal(res.headers['content-type'], 'application/json')
        }
      })
    }

    it('follows the server order given in `encodings` when the q-values tie', async () => {
      const gzipFirst = compress(tree, { encodings: ['gzip', 'br'] })
      const cases: readonly [string, string | undefined][] = [
        ['br, gzip', 'gzip'],
        ['*', 'gzip'],
        ['br', 'br'],
        ['gzip;q=0.5, br', 'br'],
        ['deflate', undefined],
      ]
      for (const [accept, coding] of cases) {
        const res = await inject(gzipFirst, { url: '/items', headers: { 'accept-encoding': accept } })
        assert.equal(res.headers['content-encoding'], coding, accept)
        assert.equal(decode(coding, res.rawBody), items)
      }
    })

    it('sends any header, however malformed, either coded right or as it is (property)', async () => {
      const name = fc.constantFrom('gzip', 'br', 'deflate', 'zstd', 'identity', '*', 'x-gzip', 'compress', 'GZIP', '')
      const weight = fc.constantFrom('', ';q=0', ';q=1', ';q=0.5', ';q=abc', ';q=', ';q=1.0001', ';Q=0.3', ';', '=;q')
      const entry = fc.oneof(
        fc.tuple(name, weight).map(([n, w]) => n + w),
        fc.string({ maxLength: 12 }),
      )
      const header = fc
        .tuple(fc.array(entry, { maxLength: 6 }), fc.constantFrom(',', ', ', ' ,', ';'))
        .map(([e, sep]) => e.join(sep))
      await fc.assert(
        fc.asyncProperty(header, async (accept) => {
          const res = await inject(app, { url: '/items', headers: { 'accept-encoding': accept } })
          assert.equal(res.status, 200)
          const coding = res.headers['content-encoding']
          assert.ok(coding === undefined || ['br', 'gzip', 'deflate', 'zstd'].includes(coding as string))
          assert.equal(decode(coding, res.rawBody), items)
          assert.equal(res.headers['vary'], 'Accept-Encoding')
        }),
        { numRuns: 300 },
      )
    })

    it(
      'sends zstd where node:zlib has it',
      { skip: hasZstd ? false : `node ${process.version} has no zstd` },
      async () => {
        const res = await inject(compress(tree, { encodings: ['zstd'] }), {
          url: '/items',
          headers: { 'accept-encoding': 'zstd' },
        })
        assert.equal(res.headers['content-encoding'], 'zstd')
        assert.equal(decode('zstd', res.rawBody), items)
      },
    )

    it('leaves zstd out silently where node:zlib has none (the same app runs on node 20)', async () => {
      const res = await inject(compress(tree, { encodings: ['zstd', 'gzip'] }), {
        url: '/items',
        headers: { 'accept-encoding': 'zstd, gzip' },
      })
      assert.equal(res.headers['content-encoding'], hasZstd ? 'zstd' : 'gzip')
      assert.equal(decode(res.headers['content-encoding'], res.rawBody), items)
    })
  })

  describe('which answers', () => {
    const gzip = { 'accept-encoding': 'gzip' }

    it('compresses from the threshold on (1 KiB by default), counting UTF-8 bytes', async () => {
      const sized = (body: string) => compress(pipe(get, ok(body)))
      const below = await inject(sized('a'.repeat(1023)), { url: '/', headers: gzip })
      assert.equal(below.headers['content-encoding'], undefined)
      assert.equal(below.headers['vary'], undefined, 'no client would get it coded: no Vary')
      assert.equal(below.body, 'a'.repeat(1023))
      const at = await inject(sized('a'.repeat(1024)), { url: '/', headers: gzip })
      assert.equal(at.headers['content-encoding'], 'gzip')
      assert.equal(decode('gzip', at.rawBody), 'a'.repeat(1024))
      // 400 characters, 1 200 bytes
      const wide = await inject(sized('€'.repeat(400)), { url: '/', headers: gzip })
      assert.equal(wide.headers['content-encoding'], 'gzip')
      assert.equal(decode('gzip', wide.rawBody), '€'.repeat(400))
      const custom = compress(pipe(get, ok('hello hello hello')), { threshold: 10 })
      assert.equal((await inject(custom, { url: '/', headers: gzip })).headers['content-encoding'], 'gzip')
      const high = compress(tree, { threshold: 100_000 })
      assert.equal((await inject(high, { url: '/items', headers: gzip })).headers['content-encoding'], undefined)
    })

    it('keeps an exact content-length on a body compressed in memory, and types an untyped text body', async () => {
      const res = await inject(app, { url: '/plain', headers: gzip })
      assert.equal(res.headers['content-encoding'], 'gzip')
      assert.equal(res.headers['content-length'], String(res.rawBody.byteLength))
      assert.ok(res.rawBody.byteLength < Buffer.byteLength(page) / 5)
      assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8')
      assert.equal(decode('gzip', res.rawBody), page)
    })

    it('compresses a body over 64 KiB off the main thread, sent chunked', async () => {
      const large = JSON.stringify(Array.from({ length: 4000 }, (_, id) => ({ id, name: `item ${id}` })))
      assert.ok(large.length > 64 * 1024)
      const big = compress(pipe(get, respJson, ok(large)))
      for (const coding of ['br', 'gzip', 'deflate']) {
        const res = await inject(big, { url: '/', headers: { 'accept-encoding': coding } })
        assert.equal(res.headers['content-encoding'], coding)
        assert.equal(res.headers['content-length'], undefined)
        assert.equal(decode(coding, res.rawBody), large)
      }
      const bytes = new TextEncoder().encode(large)
      const asBytes = compress(pipe(get, respJson, ok(bytes)))
      const res = await inject(asBytes, { url: '/', headers: gzip })
      assert.equal(decode('gzip', res.rawBody), large)
    })

    const types: readonly [string, boolean][] = [
      ['text/html; charset=utf-8', true],
      ['text/css', true],
      ['text/event-stream', true],
      ['application/json', true],
      ['Application/JSON; charset=utf-8', true],
      ['application/problem+json', true],
      ['application/javascript', true],
      ['text/javascript', true],
      ['application/xml', true],
      ['image/svg+xml', true],
      ['application/wasm', true],
      ['font/ttf', true],
      ['image/png', false],
      ['image/jpeg', false],
      ['image/webp', false],
      ['video/mp4', false],
      ['audio/mpeg', false],
      ['application/zip', false],
      ['application/gzip', false],
      ['application/x-brotli', false],
      ['font/woff', false],
      ['font/woff2', false],
      ['application/pdf', false],
      ['application/octet-stream', false],
    ]
    for (const [type, coded] of types) {
      it(`${coded ? 'compresses' : 'leaves'} ${type}`, async () => {
        const typed = compress(pipe(get, setHeader('content-type', type), ok(items)))
        const res = await inject(typed, { url: '/', headers: gzip })
        assert.equal(res.headers['content-encoding'], coded ? 'gzip' : undefined)
        assert.equal(res.headers['vary'], coded ? 'Accept-Encoding' : undefined)
        assert.equal(decode(res.headers['content-encoding'], res.rawBody), items)
      })
    }

    it('leaves untyped bytes (application/octet-stream), and takes its own `compressible`', async () => {
      const bytes = new TextEncoder().encode(items)
      const untyped = await inject(compress(pipe(get, ok(bytes))), { url: '/', headers: gzip })
      assert.equal(untyped.headers['content-encoding'], undefined)
      const mine = compress(pipe(get, ok(bytes)), { compressible: (t) => t === 'application/octet-stream' })
      const res = await inject(mine, { url: '/', headers: gzip })
      assert.equal(res.headers['content-encoding'], 'gzip')
      assert.equal(res.headers['content-type'], 'application/octet-stream')
      assert.equal(decode('gzip', res.rawBody), items)
      const none = compress(tree, { compressible: () => false })
      assert.equal((await inject(none, { url: '/items', headers: gzip })).headers['content-encoding'], undefined)
    })

    it('leaves an answer with Cache-Control: no-transform', async () => {
      for (const value of ['no-transform', 'public, No-Transform, max-age=60']) {
        const res = await inject(compress(pipe(get, setHeader('cache-control', value), ok(page))), {
          url: '/',
          headers: gzip,
        })
        assert.equal(res.headers['content-encoding'], undefined)
        assert.equal(res.body, page)
      }
      const near = await inject(compress(pipe(get, setHeader('cache-control', 'no-transformation'), ok(page))), {
        url: '/',
        headers: gzip,
      })
      assert.equal(near.headers['content-encoding'], 'gzip')
    })

    it('leaves an answer that has a content-encoding already (a precompressed file)', async () => {
      const coded = zlib.brotliCompressSync(Buffer.from(page))
      const pre = compress(pipe(get, respHtml, setHeader('content-encoding', 'br'), ok(new Uint8Array(coded))))
      const res = await inject(pre, { url: '/', headers: { 'accept-encoding': 'gzip, br' } })
      assert.equal(res.headers['content-encoding'], 'br')
      assert.deepEqual(Buffer.from(res.rawBody), coded)
      assert.equal(decode('br', res.rawBody), page)
    })

    it('leaves 204, 304 and 206 answers, and HEAD gets the head a GET would without its length', async () => {
      const statuses = compress(
        choose([
          pipe(get, path('/204'), sap.noContent()),
          pipe(get, path('/304'), respJson, setHeader('etag', '"v1"'), sap.notModified()),
          pipe(
            get,
            path('/206'),
            respJson,
            setHeader('content-range', `bytes 0-1999/${items.length}`),
            response(206, items.slice(0, 2000)),
          ),
        ]),
      )
      const none = await inject(statuses, { url: '/204', headers: gzip })
      assert.equal(none.status, 204)
      assert.equal(none.headers['content-encoding'], undefined)
      const notModified = await inject(statuses, { url: '/304', headers: gzip })
      assert.equal(notModified.status, 304)
      assert.equal(notModified.headers['etag'], '"v1"')
      assert.equal(notModified.headers['content-encoding'], undefined)
      // a client holding the coded copy (tagged W/"v1") gets that tag and Vary back on the 304
      const coded = await inject(statuses, { url: '/304', headers: { ...gzip, 'if-none-match': 'W/"v1"' } })
      assert.equal(coded.status, 304)
      assert.equal(coded.headers['etag'], 'W/"v1"')
      assert.equal(coded.headers['vary'], 'Accept-Encoding')
      assert.equal(coded.headers['content-encoding'], undefined)
      const other = await inject(statuses, { url: '/304', headers: { ...gzip, 'if-none-match': '"v1", W/"v10"' } })
      assert.equal(other.headers['etag'], '"v1"')
      const partial = await inject(statuses, { url: '/206', headers: gzip })
      assert.equal(partial.status, 206)
      assert.equal(partial.headers['content-encoding'], undefined)
      assert.equal(partial.body, items.slice(0, 2000))

      for (const url of ['/items', '/lines']) {
        const full = await inject(app, { url, headers: gzip })
        const head = await inject(app, { method: 'HEAD', url, headers: gzip })
        assert.equal(head.status, 200)
        assert.equal(head.body, '')
        const { 'content-length': _, ...fullHead } = full.headers
        assert.deepEqual({ ...head.headers }, fullHead)
        assert.equal(head.headers['content-encoding'], 'gzip')
      }
    })

    it('makes a strong ETag weak and drops Accept-Ranges on a compressed answer only', async () => {
      const coded = await inject(app, { url: '/items', headers: gzip })
      assert.equal(coded.headers['etag'], 'W/"v1"')
      assert.equal(coded.headers['accept-ranges'], undefined)
      const plain = await inject(app, { url: '/items' })
      assert.equal(plain.headers['etag'], '"v1"')
      assert.equal(plain.headers['accept-ranges'], 'bytes')
      const weak = compress(pipe(get, setHeader('etag', 'W/"w"'), ok(page)))
      assert.equal((await inject(weak, { url: '/', headers: gzip })).headers['etag'], 'W/"w"')
    })

    it('merges Vary with the one drafted, and with cors', async () => {
      const cases: readonly [string | readonly string[], string][] = [
        ['Origin', 'Origin, Accept-Encoding'],
        ['origin, accept-encoding', 'origin, accept-encoding'],
        ['*', '*'],
        [['Origin', 'Cookie'], 'Origin, Cookie, Accept-Encoding'],
      ]
      for (const [drafted, sent] of cases) {
        const varied = compress(
          pipe(
            get,
            handle((c) => update(c, { respHeaders: { ...c.respHeaders, vary: drafted } })),
            ok(page),
          ),
        )
        for (const headers of [gzip, {}]) {
          const res = await inject(varied, { url: '/', headers })
          assert.equal(res.headers['vary'], sent)
        }
      }
      const both = sap.cors(compress(tree), { origin: ['https://app.example.com'] })
      const res = await inject(both, {
        url: '/items',
        headers: { ...gzip, origin: 'https://app.example.com' },
      })
      assert.equal(res.headers['vary'], 'Accept-Encoding, Origin')
      assert.equal(res.headers['content-encoding'], 'gzip')
    })

    it('compresses a rejection answer big enough, and leaves a small one', async () => {
      const res = await inject(app, { url: '/nope', headers: gzip })
      assert.equal(res.status, 404)
      assert.equal(res.headers['content-encoding'], undefined)
      const big = compress(pipe(get, path('/e'), response(500, page)))
      const failed = await inject(big, { url: '/e', headers: gzip })
      assert.equal(failed.status, 500)
      assert.equal(decode(failed.headers['content-encoding'], failed.rawBody), page)
    })
  })

  describe('streams and files', () => {
    const expected = Array.from({ length: 50 }, (_, i) => `line ${i}: ${'x'.repeat(40)}\n`).join('')

    it('compresses a stream in each coding, chunked', async () => {
      for (const coding of ['br', 'gzip', 'deflate']) {
        const res = await inject(app, { url: '/lines', headers: { 'accept-encoding': coding } })
        assert.equal(res.headers['content-encoding'], coding)
        assert.equal(res.headers['content-length'], undefined)
        assert.equal(res.complete, true)
        assert.equal(decode(coding, res.rawBody), expected)
      }
    })

    it('compresses a web ReadableStream, and a stream of known length loses it', async () => {
      const web = compress(
        pipe(
          get,
          stream(
            () =>
              new ReadableStream<string>({
                start(controller) {
                  controller.enqueue(page)
                  controller.enqueue(page)
                  controller.close()
                },
              }),
            { type: 'text/html', length: Buffer.byteLength(page) * 2 },
          ),
        ),
      )
      const res = await inject(web, { url: '/', headers: { 'accept-encoding': 'br' } })
      assert.equal(res.headers['content-encoding'], 'br')
      assert.equal(res.headers['content-length'], undefined)
      assert.equal(decode('br', res.rawBody), page + page)
      const tiny = async function* () {
        yield 'tiny'
      }
      const short = compress(pipe(get, stream(tiny, { type: 'text/plain', length: 4 })))
      const small = await inject(short, { url: '/', headers: { 'accept-encoding': 'br' } })
      assert.equal(small.headers['content-encoding'], undefined)
    })

    it('ends the coded answer early and reports the error when the producer throws', async () => {
      const errors: unknown[] = []
      const failing = compress(
        pipe(
          get,
          stream(
            async function* () {
              yield page
              throw new Error('producer failed')
            },
            { type: 'text/html' },
          ),
        ),
      )
      const res = await inject(
        failing,
        { url: '/', headers: { 'accept-encoding': 'gzip' } },
        {
          onError: (e) => void errors.push(e),
        },
      )
      assert.equal(res.complete, false)
      assert.equal((errors[0] as Error).message, 'producer failed')
    })

    describe('files', () => {
      let dir = ''
      let file = ''
      before(async () => {
        dir = await mkdtemp(join(tmpdir(), 'sapwood-compress-'))
        file = join(dir, 'page.html')
        await writeFile(file, page)
      })
      after(() => rm(dir, { recursive: true, force: true }))

      const fileBody = (length = Buffer.byteLength(page)): sap.FileBody => ({
        _tag: 'File',
        path: file,
        offset: 0,
        length,
        open: () => createReadStream(file, { start: 0, end: length - 1 }),
      })
      const served = (headers: Readonly<Record<string, string>>) =>
        compress(
          pipe(
            get,
            handle((c) =>
              update(c, {
                status: 200,
                respHeaders: { 'content-type': 'text/html', ...headers },
                respBody: fileBody(),
              }),
            ),
          ),
        )

      it('compresses a file, in memory and over a socket', async () => {
        const res = await inject(served({}), { url: '/', headers: { 'accept-encoding': 'gzip' } })
        assert.equal(res.headers['content-encoding'], 'gzip')
        assert.equal(decode('gzip', res.rawBody), page)
        const server = await sap.serve(served({}), { port: 0, host: '127.0.0.1' })
        try {
          const got = await request(`${server.url}/`, { 'accept-encoding': 'br' })
          assert.equal(got.headers['content-encoding'], 'br')
          assert.equal(decode('br', got.body), page)
          const plain = await request(`${server.url}/`)
          assert.equal(plain.headers['content-length'], String(Buffer.byteLength(page)))
          assert.equal(plain.body.toString(), page)
        } finally {
          await server.close()
        }
      })

      it('gives the 304 of a file it compressed the Vary of its 200 (sendFile)', async () => {
        const dir = await mkdtemp(join(tmpdir(), 'compress-304-'))
        try {
          await writeFile(join(dir, 'page.html'), page)
          const app = compress(pipe(get, sapNode.sendFile(join(dir, 'page.html'))))
          const first = await inject(app, { url: '/', headers: { 'accept-encoding': 'gzip' } })
          assert.equal(first.headers['content-encoding'], 'gzip')
          assert.equal(first.headers['vary'], 'Accept-Encoding')
          const again = await inject(app, {
            url: '/',
            headers: { 'accept-encoding': 'gzip', 'if-none-match': String(first.headers['etag']) },
          })
          assert.equal(again.status, 304)
          assert.equal(again.headers['etag'], first.headers['etag'])
          assert.equal(again.headers['vary'], 'Accept-Encoding')
        } finally {
          await rm(dir, { recursive: true })
        }
      })

      it('leaves a precompressed sibling (content-encoding set) as it is', async () => {
        const res = await inject(served({ 'content-encoding': 'gzip' }), {
          url: '/',
          headers: { 'accept-encoding': 'gzip' },
        })
        assert.equal(res.headers['content-encoding'], 'gzip')
        assert.equal(res.body, page, 'the file bytes go out untouched')
        assert.equal(res.headers['content-length'], String(Buffer.byteLength(page)))
      })
    })
  })

  describe('over a real socket', () => {
    it('sends bytes that zlib decodes, and that fetch decodes by itself', async () => {
      const server = await sap.serve(app, { port: 0, host: '127.0.0.1' })
      try {
        for (const coding of ['gzip', 'br', 'deflate']) {
          for (const url of ['/items', '/page', '/lines']) {
            const res = await request(`${server.url}${url}`, { 'accept-encoding': coding })
            assert.equal(res.status, 200)
            assert.equal(res.headers['content-encoding'], coding, url)
            assert.equal(res.headers['vary'], 'Accept-Encoding')
            const text = decode(coding, res.body)
            assert.equal(text.length > 1000, true)
          }
        }
        const fetched = await fetch(`${server.url}/items`, { headers: { 'accept-encoding': 'gzip, br' } })
        assert.equal(fetched.headers.get('content-encoding'), 'br')
        assert.equal(await fetched.text(), items)
        const head = await request(`${server.url}/page`, { 'accept-encoding': 'gzip' }, 'HEAD')
        assert.equal(head.headers['content-encoding'], 'gzip')
        assert.equal(head.headers['content-length'], undefined)
        assert.equal(head.body.byteLength, 0)
        const bogus = await request(`${server.url}/page`, { 'accept-encoding': 'gzip;q=nope, ;;, \t' })
        assert.equal(bogus.status, 200)
        assert.equal(bogus.headers['content-encoding'], undefined)
        assert.equal(bogus.body.toString(), page)
      } finally {
        await server.close()
      }
    })

    /**
     * A stream that sends one event and then waits for the client to leave: the client must be
     * able to decode that event while the stream is still open, so the coder flushed it.
     */
    const oneEventThenWait = (ended: { resolve: (aborted: boolean) => void }) =>
      compress(
        pipe(
          get,
          path('/events'),
          stream(
            (c) =>
              (async function* () {
                try {
                  yield 'data: first\n\n'
                  await new Promise<void>((resolve) => {
                    const timer = setTimeout(resolve, 10_000)
                    c.signal.addEventListener('abort', () => {
                      clearTimeout(timer)
                      resolve()
                    })
                  })
                  if (!c.signal.aborted) yield 'data: too late\n\n'
                } finally {
                  ended.resolve(c.signal.aborted)
                }
              })(),
            { type: 'text/event-stream' },
          ),
        ),
      )

    for (const coding of ['gzip', 'br', 'deflate']) {
      it(`flushes each chunk of a stream (${coding}): the first event is readable before the stream ends`, async () => {
        let resolveEnded!: (aborted: boolean) => void
        const ended = new Promise<boolean>((r) => (resolveEnded = r))
        const server = await sap.serve(oneEventThenWait({ resolve: resolveEnded }), { port: 0, host: '127.0.0.1' })
        try {
          const first = await new Promise<string>((resolve, reject) => {
            const timer = setTimeout(() => {
              req.destroy()
              reject(new Error('the first event did not arrive within 3 s'))
            }, 3000)
            const req = http.get(`${server.url}/events`, { headers: { 'accept-encoding': coding } }, (res) => {
              assert.equal(res.headers['content-encoding'], coding)
              const chunks: Buffer[] = []
              res.on('data', (chunk: Buffer) => {
                chunks.push(chunk)
                let text = ''
                try {
                  text = decodeSoFar(coding, Buffer.concat(chunks))
                } catch {
                  return // not a whole flushed block yet
                }
                if (text === 'data: first\n\n') {
                  clearTimeout(timer)
                  req.destroy()
                  resolve(text)
                }
              })
              res.on('error', () => undefined)
            })
            req.on('error', () => undefined)
          })
          assert.equal(first, 'data: first\n\n')
          // the client left: the producer's signal fires and it ends
          const aborted = await Promise.race([ended, new Promise<string>((r) => setTimeout(() => r('timeout'), 3000))])
          assert.equal(aborted, true)
        } finally {
          await server.close()
        }
      })
    }

    it('holds a fast producer back while the client does not read (bounded memory)', async () => {
      let produced = 0
      const chunk = 64 * 1024
      const firehose = compress(
        pipe(
          get,
          stream(
            (c) =>
              (async function* () {
                // random bytes do not compress: what is sent is as big as what is made
                for (let i = 0; i < 1600 && !c.signal.aborted; i++) {
                  produced++
                  yield randomBytes(chunk)
                }
              })(),
            { type: 'text/plain' },
          ),
        ),
        { encodings: ['gzip'] },
      )
      const server = await sap.serve(firehose, { port: 0, host: '127.0.0.1' })
      try {
        await new Promise<void>((resolve, reject) => {
          const req = http.get(server.url, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
            res.pause()
            setTimeout(() => {
              req.destroy()
              resolve()
            }, 500)
          })
          req.on('error', (e) => (req.destroyed ? undefined : reject(e)))
        })
        // 1 600 chunks are 100 MiB; the socket, the coder and the adapter hold a few MiB at most
        assert.ok(produced < 160, `the producer made ${produced} chunks of 64 KiB for a client that read none`)
      } finally {
        await server.close()
      }
    })
  })

  it('refuses bad options when the decoration is made', () => {
    assert.throws(() => compress(tree, { threshold: -1 }), RangeError)
    assert.throws(() => compress(tree, { threshold: 1.5 }), RangeError)
    assert.throws(() => compress(tree, { encodings: ['lzma' as never] }), TypeError)
    assert.throws(() => compress(tree, { level: { br: 12 } }), RangeError)
    assert.throws(() => compress(tree, { level: { gzip: -1 } }), RangeError)
    assert.throws(() => compress(tree, { level: { zstd: 0 } }), RangeError)
    assert.throws(() => compress(tree, { level: { lz4: 1 } as never }), TypeError)
    assert.throws(() => compress(tree, { compressible: 'text/*' as never }), TypeError)
  })

  it('takes levels: a higher brotli quality gives a smaller body', async () => {
    const low = await inject(compress(tree, { level: { br: 1 } }), {
      url: '/items',
      headers: { 'accept-encoding': 'br' },
    })
    const high = await inject(compress(tree, { level: { br: 11 } }), {
      url: '/items',
      headers: { 'accept-encoding': 'br' },
    })
    assert.ok(high.rawBody.byteLength < low.rawBody.byteLength)
    assert.equal(decode('br', high.rawBody), items)
  })

  it('never decodes what the client sends: a bogus coded request body is no concern of it', async () => {
    const echo = compress(
      pipe(
        sap.post,
        path('/'),
        handle((c) => c.source.read(1 << 20).then(() => ok(page))),
      ),
    )
    const res = await inject(
      echo,
      {
        method: 'POST',
        url: '/',
        headers: { 'content-encoding': 'gzip', 'accept-encoding': 'gzip' },
        body: 'definitely not gzip',
      },
      quiet,
    )
    assert.equal(res.status, 200)
    assert.equal(decode('gzip', res.rawBody), page)
  })
})
