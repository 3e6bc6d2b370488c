import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as sap from 'sapwood'
import { conn } from 'sapwood/testing'
import { type Candidate, rank, verdict } from '../../src/context/ranking.js'

const r = sap.rejection
const at = (rejection: sap.Rejection, reach: Candidate['reach'], method = 'GET'): Candidate => ({
  rejection,
  method,
  reach,
})

describe('rank', () => {
  it('orders rejections from least to most specific', () => {
    const order = [
      r.noMatch,
      r.notFound(),
      r.methodNotAllowed(['GET']),
      r.unauthorized(),
      r.forbidden(),
      r.unsupportedMediaType([]),
      r.notAcceptable([]),
      r.badRequest('x'),
      r.unprocessable([]),
    ]
    for (let i = 1; i < order.length; i++) assert.ok(rank(order[i]!) > rank(order[i - 1]!))
  })
})

describe('verdict', () => {
  it('puts progress first: a route-level NoMatch beats a 405 of a branch whose method missed', () => {
    const v = verdict([
      at(r.methodNotAllowed(['DELETE']), [{ rest: '', methods: ['DELETE'] }]),
      at(r.noMatch, [{ rest: '', methods: null }]),
    ])
    assert.equal(v._tag, 'NoMatch')
  })

  it('turns a rejection whose branch cannot match the path into NoMatch', () => {
    assert.equal(verdict([at(r.unauthorized(), [])])._tag, 'NoMatch')
  })

  it('turns a rejection whose branch cannot take the method into 405', () => {
    const v = verdict([at(r.unauthorized(), [{ rest: '', methods: ['POST'] }])])
    assert.deepEqual(v, r.methodNotAllowed(['POST']))
  })

  it('keeps the more specific of two at the same progress, the earlier on a tie', () => {
    const first = r.badRequest('first')
    assert.equal(
      verdict([at(r.unauthorized(), [{ rest: '', methods: null }]), at(first, [{ rest: null, methods: null }])]),
      first,
    )
    assert.equal(
      verdict([at(first, [{ rest: '', methods: null }]), at(r.badRequest('second'), [{ rest: '', methods: null }])]),
      first,
    )
  })

  it('merges the Allow sets of 405s without duplicates', () => {
    const v = verdict([
      at(r.methodNotAllowed(['GET', 'POST']), [{ rest: '', methods: ['GET', 'POST'] }], 'PUT'),
      at(r.methodNotAllowed(['POST', 'DELETE']), [{ rest: '', methods: ['POST', 'DELETE'] }], 'PUT'),
    ])
    assert.deepEqual(v, r.methodNotAllowed(['GET', 'POST', 'DELETE']))
  })
})

describe('the standing of a Left travels through enclosing pipes', () => {
  it('narrows a 405 raised in an inner pipe by the path filters of the outer one', async () => {
    const inner = sap.pipe(sap.get, sap.prefix('/a'))
    const outer = sap.pipe(inner, sap.path('/b'))
    const miss = await outer(conn('DELETE', '/a/c'))
    assert.equal(miss._tag === 'Left' && miss.left._tag, 'NoMatch')
    const hit = await outer(conn('DELETE', '/a/b'))
    assert.equal(hit._tag === 'Left' && hit.left._tag, 'MethodNotAllowed')
  })

  it('is kept by a compiled sub-app: pipe(compile(sub), path) answers as pipe(sub, path)', async () => {
    const sub = sap.choose([
      sap.pipe(sap.get, sap.prefix('/a'), sap.ok('a')),
      sap.pipe(sap.post, sap.prefix('/a'), sap.ok('p')),
    ])
    const compiled = sap.pipe(sap.compile(sub, { onWarning: () => undefined }), sap.path('/b'))
    const interpreted = sap.pipe(sub, sap.path('/b'))
    for (const url of ['/a/b', '/a/c', '/x']) {
      const x = await interpreted(conn('DELETE', url))
      const y = await compiled(conn('DELETE', url))
      assert.deepEqual(y._tag === 'Left' && y.left, x._tag === 'Left' && x.left, url)
    }
  })
})
