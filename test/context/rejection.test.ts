import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as sap from 'sapwood'

const r = sap.rejection

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
    [r.notFound('no such article'), 404],
    [r.forbidden(), 403],
    [r.conflict('taken'), 409],
    [r.unprocessable([{ path: '/email', message: 'must be an email' }]), 422],
    [r.tooManyRequests(30), 429],
    [r.problem({ status: 402, title: 'Payment Required' }), 402],
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

describe('the open rejections', () => {
  it('sends a 422 with every field error', () => {
    const res = r.rejectionResponse(
      r.unprocessable([
        { path: '/email', message: 'must be an email' },
        { path: '/age', message: 'must be a number' },
      ]),
    )
    const body = JSON.parse(res.body) as { errors: unknown[]; detail: string }
    assert.deepEqual(body.errors, [
      { path: '/email', message: 'must be an email' },
      { path: '/age', message: 'must be a number' },
    ])
    assert.equal(body.detail, '2 fields are invalid')
  })

  it('sends Retry-After with a 429', () => {
    assert.equal(r.rejectionResponse(r.tooManyRequests(30)).headers['retry-after'], '30')
    assert.equal(r.rejectionResponse(r.tooManyRequests()).headers['retry-after'], undefined)
    assert.throws(() => r.tooManyRequests(-1), /whole number of seconds/)
  })

  it('sends a problem with its type, title, detail, extensions and headers, never replacing the standard members', () => {
    const res = r.rejectionResponse(
      r.problem({
        status: 402,
        type: 'https://example.com/probs/credit',
        title: 'Payment Required',
        detail: 'Your balance is 0',
        extensions: { balance: 0, status: 999, __proto__: 1 },
        headers: { 'X-Credit': 'none' },
      }),
    )
    assert.equal(res.status, 402)
    assert.equal(res.headers['x-credit'], 'none')
    assert.deepEqual(JSON.parse(res.body), {
      type: 'https://example.com/probs/credit',
      title: 'Payment Required',
      status: 402,
      detail: 'Your balance is 0',
      balance: 0,
    })
  })

  it('refuses a problem status outside 4xx and 5xx, and header values with line breaks', () => {
    assert.throws(() => r.problem({ status: 200 }), /4xx or 5xx/)
    assert.throws(() => r.problem({ status: 400, headers: { 'x-a': 'b\r\nx: y' } }), /header/)
    assert.throws(() => r.unauthorized('Bearer\r\nx: y'), /header/)
  })

  it('says the detail of a 404, 403 and 409', () => {
    for (const rej of [r.notFound('gone'), r.forbidden('gone'), r.conflict('gone')]) {
      assert.equal((JSON.parse(r.rejectionResponse(rej).body) as { detail: string }).detail, 'gone')
    }
  })
})
