import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { type IncomingMessage, Agent, request } from 'node:http'
import { tmpdir } from 'node:os'
import { join, resolve, sep } from 'node:path'
import { after, before, describe, it } from 'node:test'
import fc from 'fast-check'
import * as sap from 'sapwood'
import { toFetchHandler } from 'sapwood/fetch'
import { serveDir } from 'sapwood/node'
import { conn, inject } from 'sapwood/testing'
import { segmentsOf } from '../../src/combinators/files.js'
import { canonicalPath, decodeSegment, isMalformedPath } from '../../src/internal/canonical-path.js'

const { choose, pipe, get, path, prefix, handle, ok } = sap

describe('canonicalPath', () => {
  const cases: [string, string][] = [
    ['/', '/'],
    ['/a/b', '/a/b'],
    ['/a/b/', '/a/b/'],
    ['/a//b', '/a//b'], // kept: an empty segment is malformed, not rewritten
    ['/a/./b', '/a/b'],
    ['/a/../b', '/b'],
    ['/a/b/..', '/a/'],
    ['/a/b/.', '/a/b/'],
    ['/..', '/'],
    ['/../../x', '/x'],
    ['/%2e%2e/x', '/x'],
    ['/a/%2E/b', '/a/b'],
    ['/a/b/.%2e/c', '/a/c'],
    ['/a/b/%2e./c', '/a/c'],
    ['/a/b/%2E%2e', '/a/'],
    ['/a/%252e%252e/b', '/a/%252e%252e/b'], // decoded once, that is `%2e%2e`: data, not a dot segment
    ['/a/b%2e%2e', '/a/b%2e%2e'],
    ['/.well-known/x', '/.well-known/x'],
    ['/a\\b', '/a/b'],
    ['/a\\..\\b', '/b'],
    ['/a%2Fb', '/a%2Fb'], // escapes are kept as sent
    ['/a%5cb', '/a%5cb'],
    ['/a%00b', '/a%00b'],
    ['/%ZZ', '/%ZZ'],
    ['/a"b<c>d`e{f}', '/a%22b%3Cc%3Ed%60e%7Bf%7D'],
    ['/a b', '/a%20b'],
    ['/caf\u00e9', '/caf%C3%A9'],
    ['/\u{1f600}', '/%F0%9F%98%80'],
    ['/\ud800', '/%EF%BF%BD'],
    ['/a\0b', '/a%00b'],
    ['/a\tb\n', '/ab'],
    ['/a\x7f', '/a%7F'],
    ['/a|b^c~d', '/a|b^c~d'],
    ['*', '*'],
    ['', ''],
  ]
  for (const [raw, canonical] of cases) {
    it(`reads ${JSON.stringify(raw)} as ${JSON.stringify(canonical)}`, () => {
      assert.equal(canonicalPath(raw), canonical)
    })
  }

  it('returns the very string given for a path that is canonical already', () => {
    const p = '/users/42/posts'
    assert.equal(canonicalPath(p), p)
  })
})

describe('isMalformedPath', () => {
  const cases: [string, boolean][] = [
    ['/', false],
    ['', false],
    ['/a/b/', false],
    ['/a%2Fb', false],
    ['/a%5Cb', false],
    ['/caf%C3%A9', false],
    ['/%2500', false], // a `%00` as data, not NUL
    ['/a//b', true],
    ['//a', true],
    ['/a//', true],
    ['/a%00b', true],
    ['/%C0%AE', true], // overlong `.`
    ['/%C0%80', true], // overlong NUL
    ['/%E0%80', true], // truncated
    ['/%E0%80%AE', true], // overlong
    ['/%ED%A0%80', true], // a surrogate
    ['/%F4%90%80%80', true], // past U+10FFFF
    ['/%FF', true],
    ['/%ZZ', true],
    ['/%', true],
    ['/a%2', true],
  ]
  for (const [path, bad] of cases) {
    it(`says ${bad ? 'malformed' : 'well-formed'} for ${path === '' ? "''" : path}`, () => {
      assert.equal(isMalformedPath(path), bad)
    })
  }

  it('decodes a segment once', () => {
    assert.equal(decodeSegment('%2525'), '%25')
    assert.equal(decodeSegment('a%2Fb'), 'a/b')
    assert.equal(decodeSegment('plain'), 'plain')
  })
})

// ---------------------------------------------------------------------------------------------
// the laws, over paths made of the pieces that adapters, routers and file servers disagree on

/** Pieces a client can send on the wire as they are (no space, control or raw non-ASCII). */
const wirePiece = fc.constantFrom(
  '/',
  '/',
  '/',
  'a',
  'b',
  's',
  'p',
  'w',
  'hello.txt',
  'docs',
  'outside',
  'secret.txt',
  '.',
  '..',
  '%2e',
  '%2E',
  '%2f',
  '%2F',
  '%5c',
  '%5C',
  '\\',
  '%00',
  '%C0%AE',
  '%c0%ae',
  '%E0%80',
  '%ZZ',
  '%',
  '%25',
  '%2525',
  '%41',
  '%C3%A9',
  '"',
  '{',
  '`',
  '|',
  '~',
  ';',
  ':',
)

/** A request target: a path of pieces, sometimes with a query. */
const target = fc
  .tuple(fc.array(wirePiece, { maxLength: 10 }), fc.constantFrom('', '', '', '?q=1', '?next=/a/../b'))
  .map(([pieces, query]) => `/${pieces.join('')}${query}`)

describe('canonicalPath: laws', () => {
  it('is the path a URL parser gives (what a fetch Request holds), for any target a client sends', () => {
    fc.assert(
      fc.property(target, (t) => {
        const raw = t.split('?')[0]!
        assert.equal(canonicalPath(raw), new URL(`http://h${raw}`).pathname, t)
      }),
      { numRuns: 2000 },
    )
  })

  it('is idempotent, and the same from the raw target and from the parsed one', () => {
    const any = fc.array(fc.oneof(wirePiece, fc.constantFrom(' ', '\u00e9', '\u{1f600}', '<', '>', '}', '\t')), {
      maxLength: 10,
    })
    fc.assert(
      fc.property(any, (pieces) => {
        const raw = `/${pieces.join('')}`
        const once = canonicalPath(raw)
        assert.equal(canonicalPath(once), once, raw)
        // (a URL parser trims spaces at the end of the whole URL: no client sends a raw one)
        if (!/[ \t]$/.test(raw)) assert.equal(canonicalPath(new URL(`http://h${raw}`).pathname), once, raw)
        // never a dot segment left, in any spelling
        assert.ok(!once.split('/').some((s) => /^(\.|%2e){1,2}$/i.test(s)), once)
      }),
      { numRuns: 2000 },
    )
  })
})

describe('one canonical path: differential', () => {
  let dir = ''
  let root = ''
  let app: sap.Part<sap.Conn, sap.Conn>
  let fetchHandler: (request: Request) => Promise<Response>

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sapwood-canonical-'))
    root = join(dir, 'root')
    mkdirSync(join(root, 'docs'), { recursive: true })
    mkdirSync(join(dir, 'outside'))
    writeFileSync(join(root, 'hello.txt'), 'hello')
    writeFileSync(join(root, 'a'), 'file a')
    writeFileSync(join(root, 'docs', 'index.html'), 'docs index')
    writeFileSync(join(dir, 'outside', 'secret.txt'), 'SECRET')
    writeFileSync(join(dir, 'secret.txt'), 'SECRET')
    const show = (tag: string) => handle((c) => ok(`${tag} ${JSON.stringify(c.params)} ${c.rest} ${c.path}`))
    app = choose([
      pipe(get, path('/'), ok('root')),
      pipe(get, path('/a/b'), ok('static a/b')),
      pipe(get, path('/a/:x'), show('a/:x')),
      pipe(get, path('/a/:x/:y'), show('a/:x/:y')),
      pipe(get, prefix('/p'), choose([pipe(path('/:x'), show('p/:x')), pipe(path('/*'), show('p/*')), show('p')])),
      pipe(get, prefix('/s'), serveDir(root)),
      pipe(get, path('/w/*'), show('w/*')),
      pipe(sap.post, path('/a/:x'), ok('posted')),
    ])
    fetchHandler = toFetchHandler(app)
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  const answerOf = (r: { status: number; body: string; location: string | readonly string[] | undefined }): string =>
    `${r.status} ${JSON.stringify(r.location ?? '')} ${r.body}`

  it('the compiled app and the interpreted app answer every path alike', async () => {
    await fc.assert(
      fc.asyncProperty(target, async (t) => {
        const [compiled, interpreted] = await Promise.all([
          inject(app, { url: t }),
          inject(app, { url: t }, { compile: false }),
        ])
        assert.equal(
          answerOf({ ...compiled, location: compiled.headers['location'] }),
          answerOf({ ...interpreted, location: interpreted.headers['location'] }),
          t,
        )
        assert.doesNotMatch(compiled.body, /SECRET/, t)
      }),
      { numRuns: 1000 },
    )
  })

  it('no path serveDir accepts names a file outside its root', () => {
    const top = root + sep
    fc.assert(
      fc.property(target, (t) => {
        const c = conn('GET', t)
        for (const dotfiles of [false, true]) {
          const parsed = segmentsOf(c.path, dotfiles)
          if (typeof parsed === 'string') continue
          const full = resolve(root, ...parsed.segments)
          assert.ok(full === root || full.startsWith(top), `${t} → ${full}`)
        }
      }),
      { numRuns: 3000 },
    )
  })

  it('inject, the fetch handler and the node adapter over a socket give the same answer (200 paths)', async () => {
    const server = await sap.serve(app, { port: 0, host: '127.0.0.1' })
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    const { port } = new URL(server.url)
    const overSocket = (t: string): Promise<{ status: number; body: string; location: string | undefined }> =>
      new Promise((done, fail) => {
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
    let compared = 0
    try {
      await fc.assert(
        fc.asyncProperty(target, async (t) => {
          const memory = await inject(app, { url: t })
          const fetched = await fetchHandler(new Request(`http://app.test${t}`))
          const fetchedBody = await fetched.text()
          const wire = await overSocket(t)
          const expected = answerOf({ ...memory, location: memory.headers['location'] })
          const viaFetch = answerOf({
            status: fetched.status,
            body: fetchedBody,
            location: fetched.headers.get('location') ?? undefined,
          })
          assert.equal(viaFetch, expected, `fetch ${t}`)
          assert.equal(answerOf(wire), expected, `node ${t}`)
          compared++
        }),
        { numRuns: 200 },
      )
    } finally {
      agent.destroy()
      await server.close()
    }
    assert.equal(compared, 200)
  })
})
