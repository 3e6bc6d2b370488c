import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as sap from 'sapwood'

const r = sap.rejection

describe('rank', () => {
  it('orders rejections from least to most specific', () => {
    const order = [
      r.noMatch,
      r.methodNotAllowed(['GET']),
      r.unauthorized(),
      r.unsupportedMediaType([]),
      r.notAcceptable([]),
      r.badRequest('x'),
    ]
    for (let i = 1; i < order.length; i++) assert.ok(r.rank(order[i]!) > r.rank(order[i - 1]!))
  })
})

describe('better', () => {
  it('keeps the higher rank, and the earlier one on a tie', () => {
    assert.equal(r.better(r.noMatch, r.badRequest('x'))._tag, 'BadRequest')
    const first = r.badRequest('first')
    assert.equal(r.better(first, r.badRequest('second')), first)
  })

  it('merges Allow sets without duplicates', () => {
    const m = r.better(r.methodNotAllowed(['GET', 'POST']), r.methodNotAllowed(['POST', 'PUT']))
    assert.deepEqual(m._tag === 'MethodNotAllowed' && m.allow, ['GET', 'POST', 'PUT'])
  })
})

describe('rejectionResponse', () => {
  const table: readonly [sap.Rejection, number][] = [
    [r.noMatch, 404],
    [r.methodNotAllowed(['GET']), 405],
    [r.unauthorized(), 401],
    [r.unsupportedMediaType(['application/json']), 415],
    [r.notAcceptable(['text/csv']), 406],
    [r.badRequest('bad'), 400],
    [r.payloadTooLarge(10), 413],
    [r.uriTooLong, 414],
    [r.handlerFailed(new Error('secret')), 500],
  ]
  for (const [rejection, status] of table) {
    it(`answers ${rejection._tag} with ${status} and a problem+json body`, () => {
      const res = r.rejectionResponse(rejection)
      assert.equal(res.status, status)
      assert.equal(res.headers['content-type'], 'application/problem+json')
      const body = JSON.parse(res.body) as { status: number; title: string }
      assert.equal(body.status, status)
      assert.equal(typeof body.title, 'string')
      assert.doesNotMatch(res.body, /secret/)
    })
  }

  it('sets Allow on 405', () => {
    assert.equal(r.rejectionResponse(r.methodNotAllowed(['GET', 'HEAD'])).headers['allow'], 'GET, HEAD')
  })
})
