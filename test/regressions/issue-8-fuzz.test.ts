// Divergences the long fuzz profile (`npm run fuzz`) found after the first fixes of issue #8,
// each compared interpreted against compiled, through the Part and through respond.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as sap from 'sapwood'
import { conn, inject } from 'sapwood/testing'

const { pipe, choose, filter, get, prefix, path, handle, ok, compile, options, rejection } = sap
const quiet = { onWarning: () => undefined }

describe('issue #8: divergences found by the long fuzz profile', () => {
  it('a static 405 looks ahead through a choose holding user code, as the tree does (seed 1022886384)', async () => {
    const app = pipe(
      choose([
        pipe(
          filter((c) => c.rest.length % 2 === 0, rejection.unauthorized()),
          get,
          prefix('/v1.2'),
          choose([handle((c) => c)]),
        ),
        prefix('/users'),
      ]),
      pipe(ok('a'), choose([pipe(compile(options, quiet), pipe(ok('a'), ok('a')), ok('a'))])),
    )
    const interpreted = await inject(app, { method: 'OPTIONS', url: '/v1.2' }, { compile: false })
    const compiled = await inject(app, { method: 'OPTIONS', url: '/v1.2' })
    assert.equal(interpreted.status, 204)
    assert.equal(compiled.status, interpreted.status)
    assert.equal(compiled.headers['allow'], interpreted.headers['allow'])
  })

  it('a throwing filter in front of a choose fails once for the whole choose (seed 1021122780)', async () => {
    const throwsOnB = filter((c) => {
      if (c.rest.includes('b')) throw new Error('predicate failed on b')
      return true
    }, rejection.unauthorized())
    const app = choose([
      choose([
        pipe(pipe(pipe(throwsOnB, ok('a'), choose([prefix('/files'), ok('a')])), path('/files/a*')), ok('a'), ok('a')),
      ]),
    ])
    const c = conn('GET', '/files/a.b.c')
    const interpreted = await app(c)
    const compiled = await compile(app, quiet)(c)
    assert.equal(interpreted._tag === 'Left' && interpreted.left._tag, 'HandlerFailed')
    assert.equal(compiled._tag === 'Left' && compiled.left._tag, 'HandlerFailed')
  })
})
