import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as sap from 'sapwood'
import { conn, inject } from 'sapwood/testing'
import {
  isTypePattern,
  isUtf8,
  parseContentType,
  requestMediaType,
  typeMatches,
} from '../../src/internal/content-type.js'
import { expectLeft, expectRight } from '../helpers.js'

describe('parseContentType', () => {
  const good: readonly (readonly [value: string, type: string, parameters: Record<string, string>])[] = [
    ['application/json', 'application/json', {}],
    ['Application/JSON', 'application/json', {}],
    ['application/json; charset=utf-8', 'application/json', { charset: 'utf-8' }],
    ['application/json;charset=UTF-8', 'application/json', { charset: 'UTF-8' }],
    ['text/plain ; Charset=utf-8 ', 'text/plain', { charset: 'utf-8' }],
    ['\ttext/plain\t;\tformat=flowed', 'text/plain', { format: 'flowed' }],
    ['multipart/form-data; boundary="a b;c"', 'multipart/form-data', { boundary: 'a b;c' }],
    ['a/b; x="q\\"uo\\\\te"', 'a/b', { x: 'q"uo\\te' }],
    ['a/b; x=""', 'a/b', { x: '' }],
    ['a/b; x=1; y=2', 'a/b', { x: '1', y: '2' }],
    ['application/vnd.api+json', 'application/vnd.api+json', {}],
    ['a/b; x="caf\u00e9"', 'a/b', { x: 'caf\u00e9' }],
    // RFC 9110 allows empty parameters
    ['application/json;;', 'application/json', {}],
    ['application/json;', 'application/json', {}],
    ['text/plain; ; charset=utf-8;', 'text/plain', { charset: 'utf-8' }],
  ]
  for (const [value, type, parameters] of good) {
    it(`reads ${JSON.stringify(value)}`, () => {
      const media = parseContentType(value)
      assert.ok(media !== undefined, 'expected a media type')
      assert.equal(media.type, type)
      assert.deepEqual({ ...media.parameters }, parameters)
      assert.equal(Object.getPrototypeOf(media.parameters), null)
    })
  }

  const bad: readonly (readonly [why: string, value: string])[] = [
    ['an empty value', ''],
    ['only whitespace', '  '],
    ['a type without subtype', 'text'],
    ['a type with an empty subtype', 'text/'],
    ['an empty type', '/plain'],
    ['two slashes', 'a/b/c'],
    ['a space inside the type', 'text /plain'],
    ['a character that is not a token', 'text/pl@in'],
    ['garbage after a parameter', 'application/json; charset=utf-8 garbage'],
    ['garbage after the type', 'application/json garbage'],
    ['a parameter without value', 'text/plain; charset'],
    ['a parameter with an empty value', 'text/plain; charset='],
    ['a parameter without name', 'text/plain; =utf-8'],
    ['whitespace around =', 'text/plain; charset = utf-8'],
    ['an unterminated quoted string', 'a/b; x="open'],
    ['a quoted string followed by garbage', 'a/b; x="v"w'],
    ['a control character in a quoted string', 'a/b; x="a\u0001b"'],
    ['a backslash at the end', 'a/b; x="a\\'],
    ['a parameter named twice', 'a/b; x=1; X=2'],
    ['two media types', 'a/b, c/d'],
  ]
  for (const [why, value] of bad) {
    it(`refuses ${why}: ${JSON.stringify(value)}`, () => {
      assert.equal(parseContentType(value), undefined)
    })
  }

  it('gives a parameter named like an inherited key as a plain own value', () => {
    const media = parseContentType('a/b; constructor=x; __proto__=y')
    assert.ok(media !== undefined)
    assert.equal(media.parameters['constructor'], 'x')
    assert.equal(media.parameters['__proto__'], 'y')
    assert.ok(!('toString' in parseContentType('a/b')!.parameters))
  })
})

describe('typeMatches', () => {
  it('matches the same type, wildcards and structured syntax suffixes', () => {
    assert.ok(typeMatches('application/json', 'application/json'))
    assert.ok(typeMatches('*/*', 'image/png'))
    assert.ok(typeMatches('text/*', 'text/csv'))
    assert.ok(typeMatches('application/json', 'application/problem+json'))
  })

  it('does not match another type, a longer subtype or another top-level type', () => {
    assert.ok(!typeMatches('application/json', 'text/plain'))
    assert.ok(!typeMatches('application/json', 'application/jsonx'))
    assert.ok(!typeMatches('text/*', 'textual/csv'))
    assert.ok(!typeMatches('application/json', 'text/x+json'))
  })
})

describe('isTypePattern', () => {
  it('accepts a media type, major/* and the full wildcard, and nothing else', () => {
    for (const t of ['text/plain', 'text/*', '*/*', 'application/vnd.api+json']) assert.ok(isTypePattern(t), t)
    for (const t of ['text', 'text/', '/*', 'text/plain; charset=utf-8', 'a b/c', '']) assert.ok(!isTypePattern(t), t)
  })
})

describe('isUtf8', () => {
  it('holds without charset and for utf-8 in any case, not for another charset', () => {
    assert.ok(isUtf8(parseContentType('text/plain')!))
    assert.ok(isUtf8(parseContentType('text/plain; charset=UTF-8')!))
    assert.ok(isUtf8(parseContentType('text/plain; charset="utf-8"')!))
    assert.ok(!isUtf8(parseContentType('text/plain; charset=latin1')!))
  })
})

describe('contentType filter reads the header strictly', () => {
  const post = (type: string) => conn('POST', '/', { headers: { 'content-type': type } })

  it('passes a well-formed type with parameters', async () => {
    await expectRight(sap.contentType('application/json')(post('application/json; charset="utf-8"')))
  })

  it('rejects a malformed Content-Type with UnsupportedMediaType', async () => {
    for (const type of ['application/json; charset=utf-8 garbage', 'application/json;=', 'application/json x']) {
      const r = await expectLeft(sap.contentType('application/json')(post(type)), 'UnsupportedMediaType')
      assert.deepEqual(r, { _tag: 'UnsupportedMediaType', supported: ['application/json'] })
    }
  })

  it('answers 415 for a malformed Content-Type through inject', async () => {
    const app = sap.pipe(sap.post, sap.contentType('application/json'), sap.ok('yes'))
    const res = await inject(app, { method: 'POST', url: '/', headers: { 'content-type': 'application/json x' } })
    assert.equal(res.status, 415)
  })
})

describe('the Content-Type of a request, read strictly (issue #12, item 3)', () => {
  // One app for every case: the filter and each decoder answer from the same parsed value.
  const app = sap.choose([
    sap.pipe(
      sap.post,
      sap.path('/json'),
      sap.jsonBody(),
      sap.handle((c) => sap.json({ body: c.body })),
    ),
    sap.pipe(sap.post, sap.path('/filter'), sap.contentType('application/json'), sap.ok('json')),
    sap.pipe(
      sap.post,
      sap.path('/form'),
      sap.formBody(),
      sap.handle((c) => sap.json(c.body)),
    ),
  ])
  const send = (url: string, type: string, body = '{"a":1}') =>
    inject(app, { method: 'POST', url, headers: { 'content-type': type }, body })

  const cases: readonly (readonly [why: string, type: string, status: 200 | 415])[] = [
    ['a type and a charset in any case, the charset quoted', 'Application/JSON; Charset="utf-8"', 200],
    // RFC 9110 §5.6.6: parameters = *( OWS ";" OWS [ parameter ] ), the parameter is optional
    ['an empty parameter after the type (RFC 9110 allows it)', 'application/json;', 200],
    ['empty parameters among others', 'application/json; ; charset=utf-8;', 200],
    // RFC 9110 §5.5: a field value excludes the whitespace around it; node strips it, so does Fetch
    ['a trailing tab: whitespace around the field value, not part of it', 'application/json\t', 200],
    ['tabs as the optional whitespace around ";"', 'application/json\t;\tcharset=utf-8', 200],
    ['garbage after the type', 'application/json garbage', 415],
    ['a tab then garbage after the type', 'application/json\tgarbage', 415],
    ['a tab inside the type', 'application\t/json', 415],
    ['a tab instead of ";"', 'application/json\tcharset=utf-8', 415],
    ['a tab before a parameter value', 'application/json; charset=\tutf-8', 415],
    ['garbage after a parameter', 'application/json; a=b c', 415],
    ['a tab then garbage after a parameter', 'application/json; a=b\tc', 415],
    ['a parameter named twice (ambiguous)', 'application/json; charset=utf-8; charset=utf-8', 415],
    ['a parameter named twice in two cases', 'application/json; charset=utf-8; CHARSET=utf-8', 415],
    ['a NUL after the type', 'application/json\u0000', 415],
    ['a NUL inside the type', 'application/js\u0000on', 415],
    ['a NUL in a quoted parameter value', 'application/json; a="\u0000"', 415],
    ['a NUL in a parameter value', 'application/json; a=b\u0000', 415],
  ]
  for (const [why, type, status] of cases) {
    it(`${status === 200 ? 'takes' : 'refuses with 415'} ${why}: ${JSON.stringify(type)}`, async () => {
      const body = await send('/json', type)
      assert.equal(body.status, status, body.body)
      if (status === 200) assert.deepEqual(body.json(), { body: { a: 1 } })
      assert.equal((await send('/filter', type)).status, status)
      // the form decoder reads the same value: 415 for every one of them (not its type)
      assert.equal((await send('/form', type.replace(/json/i, 'x-www-form-urlencoded'), 'a=1')).status, status)
    })
  }

  it('takes 1000 parameters in bounded time, and refuses the 1001st when it repeats a name', async () => {
    const params = Array.from({ length: 1000 }, (_, i) => `; p${i}=v${i}`).join('')
    const started = performance.now()
    const media = parseContentType(`application/json${params}`)
    const ms = performance.now() - started
    assert.ok(media !== undefined)
    assert.equal(Object.keys(media.parameters).length, 1000)
    assert.ok(ms < 50, `took ${ms} ms`)
    assert.equal((await send('/json', `application/json${params}`)).status, 200)
    assert.equal((await send('/json', `application/json${params}; P0=again`)).status, 415)
    // linear: 100 times the parameters take about 100 times as long, not 10,000 times
    const many = `application/json${Array.from({ length: 100_000 }, (_, i) => `; p${i}=v${i}`).join('')}`
    const t = performance.now()
    assert.equal(Object.keys(parseContentType(many)!.parameters).length, 100_000)
    assert.ok(performance.now() - t < 1000, `100,000 parameters took ${performance.now() - t} ms`)
  })

  it('is parsed once per request: every copy of its Conn gets the same frozen value', () => {
    const c = conn('POST', '/', { headers: { 'content-type': 'application/json; charset=utf-8; id=once' } })
    const first = requestMediaType(c)
    assert.ok(first !== undefined)
    assert.ok(Object.isFrozen(first) && Object.isFrozen(first.parameters))
    // another request with another type, parsed in between, takes the cross-request cache
    const other = conn('POST', '/', { headers: { 'content-type': 'text/plain; id=other' } })
    assert.equal(requestMediaType(other)?.type, 'text/plain')
    // a new parse would make a new object: the same object is the proof there was none
    assert.equal(requestMediaType(sap.update(c, { status: 201 })), first)
    assert.equal(requestMediaType(c), first)
    assert.equal(requestMediaType(conn('POST', '/')), undefined)
    // a Conn made without a body has a frozen source that keeps nothing: still read, each time
    const bare = sap.makeConn({ method: 'POST', url: '/', headers: { 'content-type': 'a/b; x=1' } })
    assert.deepEqual({ ...requestMediaType(bare)?.parameters }, { x: '1' })
    assert.equal(requestMediaType(conn('POST', '/', { headers: { 'content-type': 'application/json x' } })), undefined)
  })

  it('is read by the filter and every decoder of a request through that one memo', async () => {
    const c = conn('POST', '/', { headers: { 'content-type': 'application/json; id=shared' }, body: '{"a":1}' })
    const memos = (): unknown[] =>
      Object.getOwnPropertySymbols(c.source)
        .filter((s) => s.description === 'sapwood.mediaType')
        .map((s) => (c.source as unknown as Record<symbol, unknown>)[s])
    await expectRight(sap.contentType('application/json')(c))
    const [memo] = memos()
    assert.ok(memo !== undefined, 'the filter keeps what it parsed on the request')
    requestMediaType(conn('POST', '/', { headers: { 'content-type': 'text/csv' } }))
    await expectRight(sap.pipe(sap.jsonBody(), sap.rawBody({ type: 'application/*' }))(c))
    await expectLeft(sap.textBody()(c), 'UnsupportedMediaType')
    await expectLeft(sap.formBody()(c), 'UnsupportedMediaType')
    assert.deepEqual(memos(), [memo], 'no reader parsed it again')
    assert.equal((memo as { media: unknown }).media, requestMediaType(c))
  })

  it('is parsed nowhere else: no module but content-type.ts calls parseContentType', async () => {
    const { readdir, readFile } = await import('node:fs/promises')
    const root = new URL('../../src/', import.meta.url)
    const files = (await readdir(root, { recursive: true })).filter((f) => f.endsWith('.ts'))
    assert.ok(files.length > 20)
    const callers: string[] = []
    for (const f of files) {
      const text = await readFile(new URL(f, root), 'utf8')
      if (/\bparseContentType\(/.test(text) && !f.endsWith('content-type.ts')) callers.push(f)
    }
    assert.deepEqual(callers, [])
  })

  it('agrees through a socket, where node strips the whitespace around the value and refuses a NUL', async () => {
    const { connect } = await import('node:net')
    const server = await sap.serve(app, { port: 0, host: '127.0.0.1' })
    try {
      const port = Number(new URL(server.url).port)
      const status = (type: string) =>
        new Promise<number>((resolve, reject) => {
          const socket = connect(port, '127.0.0.1')
          let text = ''
          const timer = setTimeout(() => socket.destroy(new Error('no answer in 5 s')), 5000)
          socket.setEncoding('latin1')
          socket.on('data', (d: string) => (text += d))
          socket.on('error', reject)
          socket.on('close', () => {
            clearTimeout(timer)
            resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0))
          })
          socket.end(
            `POST /json HTTP/1.1\r\nHost: a\r\nContent-Type: ${type}\r\nContent-Length: 7\r\nConnection: close\r\n\r\n{"a":1}`,
          )
        })
      assert.equal(await status('Application/JSON; Charset="utf-8"'), 200)
      assert.equal(await status('application/json\t'), 200)
      assert.equal(await status('application/json;'), 200)
      assert.equal(await status('application/json garbage'), 415)
      assert.equal(await status('application/json\tgarbage'), 415)
      assert.equal(await status('application/json; a=b c'), 415)
      assert.equal(await status('application/json; charset=utf-8; charset=utf-8'), 415)
      assert.equal(await status('application/json\u0000'), 400)
    } finally {
      await server.close()
    }
  })
})
