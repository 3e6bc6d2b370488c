// Divergences the long fuzz profile (`npm run fuzz`) found after the first fixes of issue #8,
// each compared interpreted against compiled, through the Part and through respond.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as sap from 'sapwood'
import { conn, inject } from 'sapwood/testing'

const {
  pipe,
  choose,
  filter,
  get,
  post,
  del,
  head,
  header,
  recover,
  left,
  prefix,
  path,
  handle,
  ok,
  compile,
  options,
  rejection,
} = sap
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

  // seeds 1023337030 and 1023689970: a compiled sub-app that is one step (`compile(choose([get]))`)
  // returned that step's bare Left, read with the sub-app's Choose shape instead of the Method's
  const q = quiet
  const cases: [sap.Part, string, string][] = [
    [
      choose([
        compile(choose([get]), q),
        choose([pipe(get, path('/users'), ok('a')), pipe(del, path('/*'), ok('a'))]),
        prefix('/users'),
      ]),
      'PUT',
      '/',
    ],
    [choose([compile(choose([get]), q), header('x-v', '1')]), 'POST', '/'],
    [choose([header('x-v', '1'), compile(choose([post]), q)]), 'GET', '/'],
    [
      choose([
        choose([
          choose([
            pipe(
              get,
              path('/users'),
              handle(() => left(rejection.methodNotAllowed(['PATCH']))),
            ),
            pipe(get, path('/files/abc/def'), ok('a')),
          ]),
        ]),
        compile(choose([head]), q),
      ]),
      'GET',
      '/users',
    ],
    [
      choose([
        compile(choose([get]), q),
        recover(choose([pipe(get, path('/users'), ok('a')), pipe(post, path('/users'), ok('a'))]), () => undefined),
      ]),
      'PUT',
      '/users',
    ],
  ]
  it('a compiled one-step sub-app keeps the standing of its step, in a choose and through respond', async () => {
    for (const [app, m, u] of cases) {
      const x = await app(conn(m, u))
      const y = await compile(app, q)(conn(m, u))
      assert.deepEqual(y._tag === 'Left' && y.left, x._tag === 'Left' && x.left, `${m} ${u}`)
      const a = await inject(app, { method: m, url: u }, { compile: false })
      const b = await inject(app, { method: m, url: u })
      assert.equal(b.status, a.status)
      assert.equal(b.headers['allow'], a.headers['allow'])
    }
  })
})
