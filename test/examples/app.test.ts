// The example app answers what the README documents.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { inject } from 'sapwood/testing'
import { app } from '../../examples/app.js'

describe('examples/app', () => {
  const table: readonly [string, string, number, string?][] = [
    ['GET', '/', 200],
    ['GET', '/health', 200, '{"status":"up"}'],
    ['GET', '/api/users/1', 200, '{"id":"1","name":"Ada Lovelace"}'],
    ['GET', '/api/users/99', 404, '{"error":"no such user"}'],
    ['DELETE', '/', 405],
    ['GET', '/nope', 404],
  ]
  for (const [method, url, status, body] of table) {
    it(`${method} ${url} → ${status}`, async () => {
      const res = await inject(app, { method, url })
      assert.equal(res.status, status)
      if (body !== undefined) assert.equal(res.body, body)
    })
  }

  it('answers HEAD and OPTIONS', async () => {
    const head = await inject(app, { method: 'HEAD', url: '/api/users' })
    assert.equal(head.status, 200)
    assert.equal(head.body, '')
    const options = await inject(app, { method: 'OPTIONS', url: '/api/users' })
    assert.equal(options.status, 204)
    assert.equal(options.headers['allow'], 'GET, HEAD, POST, OPTIONS')
  })

  it('creates a user from JSON, and says why it will not', async () => {
    const created = await inject(app, { method: 'POST', url: '/api/users', body: { name: 'Alan Turing' } })
    assert.equal(created.status, 201)
    assert.match(String(created.headers['location']), /^\/api\/users\/\d+$/)
    const notJson = await inject(app, {
      method: 'POST',
      url: '/api/users',
      headers: { 'content-type': 'application/json' },
      body: '{',
    })
    assert.equal(notJson.status, 400)
    const text = await inject(app, {
      method: 'POST',
      url: '/api/users',
      headers: { 'content-type': 'text/plain' },
      body: 'x',
    })
    assert.equal(text.status, 415)
    const big = await inject(app, { method: 'POST', url: '/api/users', body: { name: 'x'.repeat(70_000) } })
    assert.equal(big.status, 413)
    const empty = await inject(app, { method: 'POST', url: '/api/users', body: { name: '', admin: true } })
    assert.equal(empty.status, 422)
    assert.deepEqual(empty.json<{ errors: unknown }>().errors, [
      { path: '/admin', message: 'must NOT have additional properties' },
      { path: '/name', message: 'must NOT have fewer than 1 characters' },
    ])
  })

  it('reads a typed query', async () => {
    const one = await inject(app, { url: '/api/users?limit=1' })
    assert.deepEqual(one.json(), [{ id: '1', name: 'Ada Lovelace' }])
    assert.equal((await inject(app, { url: '/api/users?limit=0' })).status, 400)
  })
})
