// Unit tests of every builder, called directly on a test Conn, plus a whole-app check through inject.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as sap from 'sapwood'
import type { Conn, Part } from 'sapwood'
import { conn, inject } from 'sapwood/testing'
import { expectRight, sync } from '../helpers.js'

/** Response headers as a plain object, so that deepEqual does not trip over null prototypes. */
const headersOf = (c: Conn): Record<string, string | readonly string[]> => ({ ...c.respHeaders })

/** A Conn with a response drafted already: status 201, two headers, a body and an assign. */
const drafted = async (): Promise<Conn> =>
  expectRight(
    sap.pipe(
      sap.setStatus(201),
      sap.setHeader('x-before', 'kept'),
      sap.setHeader('content-type', 'text/plain; charset=utf-8'),
      sap.setBody('before'),
      sap.assign('before', 1),
    )(conn('GET', '/things/1?x=1')),
  )

const INVALID_NAMES = ['', 'bad name', 'x:y', 'ü', 'a\r\nb', 'x\ty']

/** Values a header cannot hold, with what the TypeError says about them. */
const INVALID_VALUES: readonly (readonly [value: string, says: RegExp])[] = [
  ['a\rb', /a carriage return \(CR, U\+000D\) at index 1/],
  ['a\nb', /a line feed \(LF, U\+000A\) at index 1/],
  ['a\r\nset-cookie: admin=1', /CR/],
  ['a\0b', /a NUL \(U\+0000\)/],
  ['a\x01b', /the control character U\+0001/],
  ['a\x7fb', /the control character U\+007F/],
  ['price: 5 €', /the character U\+20AC, outside Latin-1/],
]

/** Values a header can hold: visible ASCII, space, tab, Latin-1 (obs-text), nothing. */
const VALID_VALUES = ['no-store', 'a b\tc', 'café', '\xff', '']

describe('response', () => {
  it('sets the status and the body', async () => {
    const out = await expectRight(sap.response(418, "I'm a teapot")(conn('GET', '/')))
    assert.equal(out.status, 418)
    assert.equal(out.respBody, "I'm a teapot")
  })

  it('keeps the previous body and headers when no body is given', async () => {
    const out = await expectRight(sap.response(202)(await drafted()))
    assert.equal(out.status, 202)
    assert.equal(out.respBody, 'before')
    assert.equal(out.respHeaders['x-before'], 'kept')
  })

  it('sets a null body (clears the previous one) when given null', async () => {
    const out = await expectRight(sap.response(204, null)(await drafted()))
    assert.equal(out.status, 204)
    assert.equal(out.respBody, null)
  })

  it('sets a bytes body', async () => {
    const bytes = new Uint8Array([1, 2, 3])
    const out = await expectRight(sap.response(200, bytes)(conn('GET', '/')))
    assert.equal(out.respBody, bytes)
  })

  it('throws a RangeError for an invalid status', () => {
    for (const status of [99, 1000, 200.5, Number.NaN]) {
      assert.throws(() => sap.response(status), RangeError, String(status))
    }
  })
})

describe('setStatus', () => {
  it('sets the status and keeps body and headers', async () => {
    const out = await expectRight(sap.setStatus(409)(await drafted()))
    assert.equal(out.status, 409)
    assert.equal(out.respBody, 'before')
    assert.deepEqual(headersOf(out), { 'x-before': 'kept', 'content-type': 'text/plain; charset=utf-8' })
  })

  it('accepts the bounds 100 and 999', async () => {
    assert.equal((await expectRight(sap.setStatus(100)(conn('GET', '/')))).status, 100)
    assert.equal((await expectRight(sap.setStatus(999)(conn('GET', '/')))).status, 999)
  })

  it('throws a RangeError for an invalid status', () => {
    for (const status of [0, 99, 1000, 200.5, Number.NaN, Number.POSITIVE_INFINITY, -200]) {
      assert.throws(() => sap.setStatus(status), RangeError, String(status))
    }
  })
})

describe('setBody', () => {
  it('sets a text body and keeps the status', async () => {
    const out = await expectRight(sap.setBody('hello')(await drafted()))
    assert.equal(out.respBody, 'hello')
    assert.equal(out.status, 201)
  })

  it('sets a bytes body', async () => {
    const bytes = new TextEncoder().encode('héllo')
    const out = await expectRight(sap.setBody(bytes)(conn('GET', '/')))
    assert.equal(out.respBody, bytes)
  })

  it('sets an empty body', async () => {
    const out = await expectRight(sap.setBody('')(await drafted()))
    assert.equal(out.respBody, '')
  })

  it('clears the body when given null', async () => {
    const out = await expectRight(sap.setBody(null)(await drafted()))
    assert.equal(out.respBody, null)
  })
})

describe('setHeader', () => {
  it('sets a header under its lower-case name', async () => {
    const out = await expectRight(sap.setHeader('Cache-Control', 'no-store')(conn('GET', '/')))
    assert.deepEqual(headersOf(out), { 'cache-control': 'no-store' })
  })

  it('replaces the value the header had, whatever the case of its name', async () => {
    const out = await expectRight(sap.pipe(sap.setHeader('x-a', 'one'), sap.setHeader('X-A', 'two'))(conn('GET', '/')))
    assert.deepEqual(headersOf(out), { 'x-a': 'two' })
  })

  it('replaces several values with one', async () => {
    const out = await expectRight(
      sap.pipe(
        sap.appendHeader('vary', 'accept'),
        sap.appendHeader('vary', 'origin'),
        sap.setHeader('vary', '*'),
      )(conn('GET', '/')),
    )
    assert.equal(out.respHeaders['vary'], '*')
  })

  it('sets several values', async () => {
    const out = await expectRight(sap.setHeader('set-cookie', ['a=1', 'b=2'])(conn('GET', '/')))
    assert.deepEqual(out.respHeaders['set-cookie'], ['a=1', 'b=2'])
  })

  it('keeps the other headers', async () => {
    const out = await expectRight(sap.setHeader('x-new', 'yes')(await drafted()))
    assert.deepEqual(headersOf(out), {
      'x-before': 'kept',
      'content-type': 'text/plain; charset=utf-8',
      'x-new': 'yes',
    })
  })

  it('throws a TypeError for an invalid name', () => {
    for (const name of INVALID_NAMES) assert.throws(() => sap.setHeader(name, 'v'), TypeError, JSON.stringify(name))
  })

  it('throws a TypeError naming the header and the character for a value it cannot hold (issue #8)', () => {
    for (const [value, says] of INVALID_VALUES) {
      assert.throws(() => sap.setHeader('X-Note', value), { name: 'TypeError', message: /header "x-note"/ })
      assert.throws(() => sap.setHeader('x-note', value), { name: 'TypeError', message: says }, JSON.stringify(value))
      assert.throws(() => sap.setHeader('set-cookie', ['a=1', value]), TypeError, JSON.stringify(value))
    }
  })

  it('accepts visible ASCII, space, tab, Latin-1 and an empty value', async () => {
    for (const value of VALID_VALUES) {
      const out = await expectRight(sap.setHeader('x-note', value)(conn('GET', '/')))
      assert.equal(out.respHeaders['x-note'], value)
    }
  })

  it('sends the values it checked, even when the array given is changed later', async () => {
    const values = ['a=1', 'b=2']
    const part = sap.setHeader('set-cookie', values)
    values[1] = 'b=2\r\nx: y'
    const out = await expectRight(part(conn('GET', '/')))
    assert.deepEqual(out.respHeaders['set-cookie'], ['a=1', 'b=2'])
  })
})

describe('appendHeader', () => {
  it('sets a single value as a string when the header is new', async () => {
    const out = await expectRight(sap.appendHeader('set-cookie', 'a=1')(conn('GET', '/')))
    assert.equal(out.respHeaders['set-cookie'], 'a=1')
  })

  it('builds an array as values are appended, whatever the case of the name', async () => {
    const two = await expectRight(
      sap.pipe(sap.appendHeader('set-cookie', 'a=1'), sap.appendHeader('Set-Cookie', 'b=2'))(conn('GET', '/')),
    )
    assert.deepEqual(two.respHeaders['set-cookie'], ['a=1', 'b=2'])
    const three = await expectRight(sap.appendHeader('SET-COOKIE', 'c=3')(two))
    assert.deepEqual(three.respHeaders['set-cookie'], ['a=1', 'b=2', 'c=3'])
    assert.deepEqual(two.respHeaders['set-cookie'], ['a=1', 'b=2'], 'the array it appended to is untouched')
  })

  it('appends to a value set by setHeader', async () => {
    const out = await expectRight(sap.appendHeader('x-before', 'more')(await drafted()))
    assert.deepEqual(out.respHeaders['x-before'], ['kept', 'more'])
    assert.equal(out.respHeaders['content-type'], 'text/plain; charset=utf-8')
  })

  it('throws a TypeError for an invalid name', () => {
    for (const name of INVALID_NAMES) assert.throws(() => sap.appendHeader(name, 'v'), TypeError, JSON.stringify(name))
  })

  it('throws a TypeError naming the header and the character for a value it cannot hold (issue #8)', () => {
    for (const [value, says] of INVALID_VALUES) {
      assert.throws(() => sap.appendHeader('Set-Cookie', value), { name: 'TypeError', message: /header "set-cookie"/ })
      assert.throws(() => sap.appendHeader('set-cookie', value), { name: 'TypeError', message: says })
    }
    for (const value of VALID_VALUES) assert.doesNotThrow(() => sap.appendHeader('x-note', value))
  })
})

describe('removeHeader', () => {
  it('removes the header, whatever the case of its name, and keeps the others', async () => {
    const out = await expectRight(sap.removeHeader('X-Before')(await drafted()))
    assert.deepEqual(headersOf(out), { 'content-type': 'text/plain; charset=utf-8' })
    assert.equal(out.status, 201)
    assert.equal(out.respBody, 'before')
  })

  it('removes every value of a repeated header', async () => {
    const out = await expectRight(
      sap.pipe(
        sap.appendHeader('vary', 'a'),
        sap.appendHeader('vary', 'b'),
        sap.removeHeader('vary'),
      )(conn('GET', '/')),
    )
    assert.equal('vary' in out.respHeaders, false)
  })

  it('passes the Conn on when the header is not there', async () => {
    const before = await drafted()
    const out = await expectRight(sap.removeHeader('x-absent')(before))
    assert.deepEqual(headersOf(out), headersOf(before))
  })

  it('throws a TypeError for an invalid name', () => {
    for (const name of INVALID_NAMES) assert.throws(() => sap.removeHeader(name), TypeError, JSON.stringify(name))
  })
})

describe('setMimeType', () => {
  it('sets Content-Type without a charset', async () => {
    const out = await expectRight(sap.setMimeType('text/csv')(conn('GET', '/')))
    assert.equal(out.respHeaders['content-type'], 'text/csv')
  })

  it('sets Content-Type with a charset', async () => {
    const out = await expectRight(sap.setMimeType('text/csv', 'utf-8')(conn('GET', '/')))
    assert.equal(out.respHeaders['content-type'], 'text/csv; charset=utf-8')
  })

  it('throws a TypeError for a type or charset a header cannot hold', () => {
    assert.throws(() => sap.setMimeType('text/html\r\nx: y'), { name: 'TypeError', message: /header "content-type"/ })
    assert.throws(() => sap.setMimeType('text/html', 'utf-8\n'), TypeError)
  })

  it('replaces the Content-Type set before', async () => {
    const out = await expectRight(sap.setMimeType('image/png')(await drafted()))
    assert.equal(out.respHeaders['content-type'], 'image/png')
    assert.equal(out.respHeaders['x-before'], 'kept')
  })
})

describe('respJson, respText, respHtml', () => {
  const table: readonly (readonly [name: string, builder: Part, type: string])[] = [
    ['respJson', sap.respJson, 'application/json'],
    ['respText', sap.respText, 'text/plain; charset=utf-8'],
    ['respHtml', sap.respHtml, 'text/html; charset=utf-8'],
  ]
  for (const [name, builder, type] of table) {
    it(`${name} sets Content-Type to ${type} and nothing else`, async () => {
      const before = await drafted()
      const out = await expectRight(builder(before))
      assert.deepEqual(headersOf(out), { 'x-before': 'kept', 'content-type': type })
      assert.equal(out.status, 201)
      assert.equal(out.respBody, 'before')
    })
  }
})

describe('json', () => {
  it('serialises the value and sets Content-Type application/json', async () => {
    const out = await expectRight(sap.json({ name: 'ada', tags: ['x'] })(conn('GET', '/')))
    assert.equal(out.respBody, '{"name":"ada","tags":["x"]}')
    assert.equal(out.respHeaders['content-type'], 'application/json')
  })

  it('keeps the status and the other headers, and replaces the body', async () => {
    const out = await expectRight(sap.json([1, 2])(await drafted()))
    assert.equal(out.status, 201)
    assert.equal(out.respBody, '[1,2]')
    assert.equal(out.respHeaders['x-before'], 'kept')
  })

  it('replaces a Content-Type that is not JSON', async () => {
    const out = await expectRight(sap.json(1)(await drafted()))
    assert.equal(out.respHeaders['content-type'], 'application/json')
  })

  const kept = ['application/json; charset=utf-8', 'application/vnd.api+json', 'application/problem+json']
  for (const type of kept) {
    it(`keeps a JSON Content-Type set already: ${type}`, async () => {
      const out = await expectRight(sap.pipe(sap.setMimeType(type), sap.json({ a: 1 }))(conn('GET', '/')))
      assert.equal(out.respHeaders['content-type'], type)
      assert.equal(out.respBody, '{"a":1}')
    })
  }

  it('does not take a type that merely contains "json" for JSON', async () => {
    for (const type of ['application/jsonx', 'text/x-json-ish']) {
      const out = await expectRight(sap.pipe(sap.setMimeType(type), sap.json(null))(conn('GET', '/')))
      assert.equal(out.respHeaders['content-type'], 'application/json', type)
    }
  })

  it('serialises once, on first use, and reuses the text', async () => {
    let calls = 0
    const value = { n: 1, toJSON: () => (calls++, { n: value.n }) }
    const part = sap.json(value)
    assert.equal(calls, 0)
    const a = await expectRight(part(conn('GET', '/')))
    value.n = 2
    const b = await expectRight(part(conn('GET', '/')))
    assert.equal(calls, 1)
    assert.equal(a.respBody, '{"n":1}')
    assert.equal(b.respBody, '{"n":1}')
  })

  it('sends null for undefined and for values JSON cannot hold', async () => {
    for (const value of [undefined, () => 1, Symbol('s')]) {
      const out = await expectRight(sap.json(value)(conn('GET', '/')))
      assert.equal(out.respBody, 'null', String(value))
      assert.equal(out.respHeaders['content-type'], 'application/json')
    }
  })

  it('serialises null, strings and numbers as JSON', async () => {
    const table: readonly (readonly [unknown, string])[] = [
      [null, 'null'],
      ['hi', '"hi"'],
      [42, '42'],
      [false, 'false'],
    ]
    for (const [value, body] of table) {
      assert.equal((await expectRight(sap.json(value)(conn('GET', '/')))).respBody, body)
    }
  })

  it('is a failed handler (500) for a value JSON.stringify rejects', async () => {
    const r = await sap.json({ n: 1n })(conn('GET', '/'))
    assert.ok(r._tag === 'Left' && r.left._tag === 'HandlerFailed')
    assert.ok(r.left.error instanceof TypeError)
  })
})

describe('assign', () => {
  it('adds the value to assigns', async () => {
    const user = { name: 'ada' }
    const out = await expectRight(sap.assign('user', user)(conn('GET', '/')))
    assert.equal(out.assigns['user'], user)
  })

  it('keeps the values assigned earlier', async () => {
    const out = await expectRight(sap.pipe(sap.assign('a', 1), sap.assign('b', 2))(conn('GET', '/')))
    assert.deepEqual({ ...out.assigns }, { a: 1, b: 2 })
  })

  it('replaces the value under the same key and leaves the earlier Conn its own', async () => {
    const first = await expectRight(sap.assign('a', 1)(conn('GET', '/')))
    const second = await expectRight(sap.assign('a', 2)(first))
    assert.equal(second.assigns['a'], 2)
    assert.equal(first.assigns['a'], 1)
  })

  it('leaves status, headers and body as they were', async () => {
    const before = await drafted()
    const out = await expectRight(sap.assign('user', 'ada')(before))
    assert.equal(out.status, 201)
    assert.equal(out.respBody, 'before')
    assert.deepEqual(headersOf(out), headersOf(before))
    assert.deepEqual({ ...out.assigns }, { before: 1, user: 'ada' })
  })

  it('types the value: c.assigns.user.name type-checks', () => {
    const ctx = sync(sap.assign('user', { name: 'ada' })(conn('GET', '/')))
    if (ctx._tag === 'Left') assert.fail('expected Right')
    const name: string = ctx.right.assigns.user.name
    assert.equal(name, 'ada')
    // @ts-expect-error -- 'age' was never assigned, so it is not part of the type
    assert.equal(ctx.right.assigns.user.age, undefined)
  })

  it('types the value for the Parts after it in a pipe', async () => {
    const app = sap.pipe(
      sap.assign('user', { name: 'ada' }),
      sap.handle((c) => sap.ok(c.assigns.user.name.toUpperCase())),
    )
    const out = await expectRight(app(conn('GET', '/')))
    assert.equal(out.respBody, 'ADA')
  })
})

describe('builders never mutate the Conn they are given', () => {
  const table: readonly (readonly [name: string, builder: Part])[] = [
    ['response', sap.response(500, 'after')],
    ['response without body', sap.response(500)],
    ['setStatus', sap.setStatus(500)],
    ['setBody', sap.setBody('after')],
    ['setBody null', sap.setBody(null)],
    ['setHeader new', sap.setHeader('x-after', 'v')],
    ['setHeader existing', sap.setHeader('x-before', 'changed')],
    ['appendHeader', sap.appendHeader('x-before', 'more')],
    ['removeHeader', sap.removeHeader('x-before')],
    ['setMimeType', sap.setMimeType('text/csv', 'utf-8')],
    ['respJson', sap.respJson],
    ['respText', sap.respText],
    ['respHtml', sap.respHtml],
    ['json', sap.json({ a: 1 })],
    ['assign new', sap.assign('after', 2)],
    ['assign existing', sap.assign('before', 2)],
  ]

  for (const [name, builder] of table) {
    it(`${name} leaves the original Conn's status, headers, body and assigns as they were`, async () => {
      const before = await drafted()
      const headers = before.respHeaders
      const assigns = before.assigns
      const out = await expectRight(builder(before))
      assert.notEqual(out, before, 'a new Conn is returned')
      assert.equal(before.status, 201)
      assert.equal(before.respBody, 'before')
      assert.equal(before.respHeaders, headers)
      assert.deepEqual({ ...before.respHeaders }, { 'x-before': 'kept', 'content-type': 'text/plain; charset=utf-8' })
      assert.equal(before.assigns, assigns)
      assert.deepEqual({ ...before.assigns }, { before: 1 })
      assert.equal(before.method, out.method)
      assert.equal(before.rest, out.rest)
      assert.equal(before.path, out.path)
    })
  }

  it('the same builder gives the same response on two Conns', async () => {
    const builder = sap.pipe(sap.appendHeader('set-cookie', 'a=1'), sap.json({ a: 1 }))
    const a = await expectRight(builder(conn('GET', '/')))
    const b = await expectRight(builder(conn('GET', '/')))
    assert.equal(a.respHeaders['set-cookie'], 'a=1')
    assert.equal(b.respHeaders['set-cookie'], 'a=1')
    assert.notEqual(a.respHeaders, b.respHeaders)
  })

  it('builders are synchronous', () => {
    const ctx = sync(sap.pipe(sap.setStatus(202), sap.json({}))(conn('GET', '/')))
    assert.equal(ctx._tag, 'Right')
  })
})

describe('builders in a whole app', () => {
  it('answer 500 through inject, as over a socket, when a handler sets a value a header cannot hold', async () => {
    const app = sap.handle(() => sap.setHeader('x-note', 'a\r\nb'))
    const errors: unknown[] = []
    const res = await inject(app, { url: '/' }, { onError: (error) => void errors.push(error) })
    assert.equal(res.status, 500)
    assert.equal(res.headers['x-note'], undefined)
    assert.match(String(errors[0]), /TypeError: sapwood: the value of header "x-note" contains a carriage return/)
  })

  it('send the drafted status, headers and body', async () => {
    const app = sap.pipe(
      sap.get,
      sap.path('/me'),
      sap.setStatus(203),
      sap.setHeader('Cache-Control', 'no-store'),
      sap.appendHeader('set-cookie', 'a=1'),
      sap.appendHeader('set-cookie', 'b=2'),
      sap.json({ name: 'ada' }),
    )
    const res = await inject(app, { url: '/me' })
    assert.equal(res.status, 203)
    assert.equal(res.headers['content-type'], 'application/json')
    assert.equal(res.headers['cache-control'], 'no-store')
    assert.deepEqual(res.headers['set-cookie'], ['a=1', 'b=2'])
    assert.equal(res.headers['content-length'], String(res.body.length))
    assert.deepEqual(res.json(), { name: 'ada' })
  })

  it('send a removed header nowhere', async () => {
    const app = sap.pipe(
      sap.setHeader('x-powered-by', 'sapwood'),
      sap.removeHeader('X-Powered-By'),
      sap.respHtml,
      sap.ok('<p>hi</p>'),
    )
    const res = await inject(app, { url: '/' })
    assert.equal(res.headers['x-powered-by'], undefined)
    assert.equal(res.headers['content-type'], 'text/html; charset=utf-8')
    assert.equal(res.body, '<p>hi</p>')
  })
})
