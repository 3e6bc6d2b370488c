import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as sap from 'sapwood'
import { conn } from 'sapwood/testing'

describe('makeConn', () => {
  it('splits path and query, upper-cases the method, starts at 200 with nothing drafted', () => {
    const c = conn('get', '/users/42?sort=asc&tag=a&tag=b')
    assert.equal(c.method, 'GET')
    assert.equal(c.path, '/users/42')
    assert.equal(c.rest, '/users/42')
    assert.equal(c.status, 200)
    assert.equal(c.respBody, null)
    assert.deepEqual({ ...c.query }, { sort: 'asc', tag: ['a', 'b'] })
    assert.equal(Object.getPrototypeOf(c.query), null)
  })

  it('gives an empty query when there is none', () => {
    assert.deepEqual({ ...conn('GET', '/x').query }, {})
  })

  it('ends the query at a fragment, as it ends the path (issue #8)', () => {
    const table: readonly (readonly [url: string, path: string, query: Record<string, string>])[] = [
      ['/a?x=1#top', '/a', { x: '1' }],
      ['/a?x=1&y=2#top?z=3', '/a', { x: '1', y: '2' }],
      ['/a?#top', '/a', {}],
      ['/a#top?x=1', '/a', {}],
      ['/a#top', '/a', {}],
      ['http://example.com/a?x=1#top', '/a', { x: '1' }],
    ]
    for (const [url, path, query] of table) {
      const c = sap.makeConn({ method: 'GET', url, headers: {} })
      assert.equal(c.path, path, url)
      assert.deepEqual({ ...c.query }, query, url)
    }
  })

  it('lower-cases test header names into a null-prototype record', () => {
    const c = conn('GET', '/', { headers: { 'X-Thing': '1' } })
    assert.equal(c.headers['x-thing'], '1')
    assert.equal(Object.getPrototypeOf(c.headers), null)
  })

  it('reads the body from its source, with a limit', async () => {
    const c = conn('POST', '/', { body: 'hello' })
    assert.equal(new TextDecoder().decode(await c.source.read(10)), 'hello')
    await assert.rejects(c.source.read(2), sap.PayloadTooLargeError)
  })
})

describe('update', () => {
  it('returns a new Conn and leaves the given one untouched', () => {
    const c = conn('GET', '/?a=1')
    const d = sap.update(c, { status: 201, respBody: 'x', assigns: { k: 1 } })
    assert.notEqual(c, d)
    assert.equal(c.status, 200)
    assert.equal(c.respBody, null)
    assert.equal(d.status, 201)
    assert.equal(d.respBody, 'x')
    assert.equal(d.query['a'], '1')
    assert.ok(sap.isConn(d))
  })

  it('can set the body back to null', () => {
    const d = sap.update(sap.update(conn('GET', '/'), { respBody: 'x' }), { respBody: null })
    assert.equal(d.respBody, null)
  })
})
