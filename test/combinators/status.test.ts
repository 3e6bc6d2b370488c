// Every status builder as one table: its code, what it sets and what it keeps.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as sap from 'sapwood'
import type { Body, Conn, Part } from 'sapwood'
import { conn, inject } from 'sapwood/testing'
import * as status from '../../src/combinators/status.js'
import { expectRight } from '../helpers.js'

type Name = keyof typeof status
type Row =
  | { readonly kind: 'status'; readonly name: Name; readonly code: number; readonly build: (body?: Body) => Part }
  | { readonly kind: 'bodiless'; readonly name: Name; readonly code: number; readonly build: () => Part }
  | {
      readonly kind: 'redirect'
      readonly name: Name
      readonly code: number
      readonly build: (location: string) => Part
    }

const s = (name: Name, code: number, build: (body?: Body) => Part): Row => ({ kind: 'status', name, code, build })
const b = (name: Name, code: number, build: () => Part): Row => ({ kind: 'bodiless', name, code, build })
const r = (name: Name, code: number, build: (location: string) => Part): Row => ({
  kind: 'redirect',
  name,
  code,
  build,
})

const TABLE: readonly Row[] = [
  // successful
  s('ok', 200, status.ok),
  s('created', 201, status.created),
  s('accepted', 202, status.accepted),
  b('noContent', 204, status.noContent),
  // redirection
  r('movedPermanently', 301, status.movedPermanently),
  r('found', 302, status.found),
  r('seeOther', 303, status.seeOther),
  b('notModified', 304, status.notModified),
  r('temporaryRedirect', 307, status.temporaryRedirect),
  r('permanentRedirect', 308, status.permanentRedirect),
  // request errors
  s('badRequest', 400, status.badRequest),
  s('unauthorized', 401, status.unauthorized),
  s('forbidden', 403, status.forbidden),
  s('notFound', 404, status.notFound),
  s('methodNotAllowed', 405, status.methodNotAllowed),
  s('notAcceptable', 406, status.notAcceptable),
  s('proxyAuthenticationRequired', 407, status.proxyAuthenticationRequired),
  s('requestTimeout', 408, status.requestTimeout),
  s('conflict', 409, status.conflict),
  s('gone', 410, status.gone),
  s('lengthRequired', 411, status.lengthRequired),
  s('preconditionFailed', 412, status.preconditionFailed),
  s('payloadTooLarge', 413, status.payloadTooLarge),
  s('uriTooLong', 414, status.uriTooLong),
  s('unsupportedMediaType', 415, status.unsupportedMediaType),
  s('unprocessableEntity', 422, status.unprocessableEntity),
  s('requestedRangeNotSatisfiable', 416, status.requestedRangeNotSatisfiable),
  s('expectationFailed', 417, status.expectationFailed),
  s('upgradeRequired', 426, status.upgradeRequired),
  s('preconditionRequired', 428, status.preconditionRequired),
  s('tooManyRequests', 429, status.tooManyRequests),
  s('requestHeaderFieldsTooLarge', 431, status.requestHeaderFieldsTooLarge),
  s('unavailableForLegalReasons', 451, status.unavailableForLegalReasons),
  // server errors
  s('internalServerError', 500, status.internalServerError),
  s('notImplemented', 501, status.notImplemented),
  s('badGateway', 502, status.badGateway),
  s('serviceUnavailable', 503, status.serviceUnavailable),
  s('gatewayTimeout', 504, status.gatewayTimeout),
  s('httpVersionNotSupported', 505, status.httpVersionNotSupported),
  s('networkAuthenticationRequired', 511, status.networkAuthenticationRequired),
]

/** A Conn with a response drafted already: a body, a header and status 200. */
const drafted = (): Promise<Conn> =>
  expectRight(sap.pipe(sap.setHeader('x-before', 'kept'), sap.setBody('previous'))(conn('GET', '/old')))

describe('the status table', () => {
  it('covers every export of status.ts, once', () => {
    const names = TABLE.map((row) => row.name)
    assert.equal(new Set(names).size, names.length, 'no name twice')
    assert.deepEqual([...names].sort(), Object.keys(status).sort())
  })

  it('pairs each name with its own builder', () => {
    for (const row of TABLE) assert.equal(row.build, status[row.name], row.name)
  })

  it("has Sap's 4 success, 6 redirection, 22 client error and 7 server error builders, and 422 (40)", () => {
    const count = (lo: number) => TABLE.filter((row) => row.code >= lo && row.code < lo + 100).length
    assert.deepEqual([count(200), count(300), count(400), count(500)], [4, 6, 23, 7])
    assert.equal(TABLE.length, 40)
    assert.equal(new Set(TABLE.map((row) => row.code)).size, 40, 'no code twice')
  })

  it('re-exports every builder from sapwood', () => {
    const root: Record<string, unknown> = sap
    for (const row of TABLE) assert.equal(root[row.name], row.build, row.name)
  })
})

for (const row of TABLE) {
  describe(`${row.name} (${row.code})`, () => {
    if (row.kind === 'status') {
      const build = row.build

      it(`sets status ${row.code} and the body when given`, async () => {
        const out = await expectRight(build(`body of ${row.name}`)(await drafted()))
        assert.equal(out.status, row.code)
        assert.equal(out.respBody, `body of ${row.name}`)
        assert.equal(out.respHeaders['x-before'], 'kept')
      })

      it(`sets status ${row.code} and keeps the previous body when none is given`, async () => {
        const out = await expectRight(build()(await drafted()))
        assert.equal(out.status, row.code)
        assert.equal(out.respBody, 'previous')
        assert.equal('location' in out.respHeaders, false)
      })
    } else if (row.kind === 'bodiless') {
      const build = row.build

      it(`sets status ${row.code}, clears the drafted body and keeps the headers`, async () => {
        const out = await expectRight(build()(await drafted()))
        assert.equal(out.status, row.code)
        assert.equal(out.respBody, null)
        assert.equal(out.respHeaders['x-before'], 'kept')
      })
    } else {
      const build = row.build

      it(`sets status ${row.code}, Location and an empty body`, async () => {
        const out = await expectRight(build('/new?x=1')(await drafted()))
        assert.equal(out.status, row.code)
        assert.equal(out.respHeaders['location'], '/new?x=1')
        assert.equal(out.respBody, '')
        assert.equal(out.respHeaders['x-before'], 'kept')
      })

      it('replaces a Location set before', async () => {
        const out = await expectRight(sap.pipe(sap.setHeader('Location', '/first'), build('/second'))(conn('GET', '/')))
        assert.equal(out.respHeaders['location'], '/second')
      })

      it('throws a TypeError naming Location for a location with CR, LF, NUL or another control', () => {
        for (const location of ['/a\nb', '/a\r\nSet-Cookie: x=1', '/a\rb', '/a\0b', '/a\x7fb', '/€']) {
          assert.throws(
            () => build(location),
            { name: 'TypeError', message: /header "location"/ },
            JSON.stringify(location),
          )
        }
      })
    }
  })
}

describe('status builders', () => {
  it('never mutate the Conn they are given', async () => {
    for (const row of TABLE) {
      const before = await drafted()
      const headers = before.respHeaders
      const part =
        row.kind === 'status' ? row.build('after') : row.kind === 'bodiless' ? row.build() : row.build('/new')
      await expectRight(part(before))
      assert.equal(before.status, 200, row.name)
      assert.equal(before.respBody, 'previous', row.name)
      assert.equal(before.respHeaders, headers, row.name)
      assert.deepEqual({ ...before.respHeaders }, { 'x-before': 'kept' }, row.name)
    }
  })
})

describe('the types of the status builders (issue #8)', () => {
  it('give noContent and notModified no body argument', () => {
    assert.equal(status.noContent.length, 0)
    assert.equal(status.notModified.length, 0)
    // @ts-expect-error -- a 204 carries no body, so noContent takes none
    status.noContent('dropped')
    // @ts-expect-error -- a 304 carries no body, so notModified takes none
    status.notModified('dropped')
  })

  it('let ok() without an argument keep the body drafted so far', async () => {
    const out = await expectRight(sap.pipe(sap.setBody('drafted'), status.ok())(conn('GET', '/')))
    assert.equal(out.respBody, 'drafted')
    assert.equal((await inject(sap.pipe(sap.json({ a: 1 }), status.ok()), { url: '/' })).body, '{"a":1}')
  })
})

describe('status builders in a whole app', () => {
  const app = sap.choose([
    sap.pipe(sap.get, sap.path('/old'), status.movedPermanently('/new')),
    sap.pipe(sap.get, sap.path('/gone'), status.gone('it is gone')),
    sap.pipe(sap.get, sap.path('/cached'), sap.setBody('stale'), status.notModified()),
  ])

  it('sends a redirect with Location and an empty body', async () => {
    const res = await inject(app, { url: '/old' })
    assert.equal(res.status, 301)
    assert.equal(res.headers['location'], '/new')
    assert.equal(res.headers['content-length'], '0')
    assert.equal(res.body, '')
  })

  it('sends an error status with its text body', async () => {
    const res = await inject(app, { url: '/gone' })
    assert.equal(res.status, 410)
    assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8')
    assert.equal(res.body, 'it is gone')
  })

  it('sends no body with 304 even when one was drafted', async () => {
    const res = await inject(app, { url: '/cached' })
    assert.equal(res.status, 304)
    assert.equal(res.body, '')
    assert.equal(res.headers['location'], undefined)
  })
})
