import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as sap from 'sapwood'
import { conn, inject } from 'sapwood/testing'
import { expectLeft, expectRight, sync } from '../helpers.js'

const { choose, pipe, get, post, path, prefix, ok, handle, recover, header } = sap

describe('pipe', () => {
  it('runs the Parts in order and keeps what each drafted', async () => {
    const c = await expectRight(pipe(get, sap.respJson, path('/x'), ok('{}'))(conn('GET', '/x')))
    assert.equal(c.status, 200)
    assert.equal(c.respBody, '{}')
    assert.equal(c.respHeaders['content-type'], 'application/json')
  })

  it('stops at the first Left and does not run the rest', async () => {
    let ran = false
    const spy = handle((c) => {
      ran = true
      return c
    })
    await expectLeft(pipe(path('/a'), spy)(conn('GET', '/b')), 'NoMatch')
    assert.equal(ran, false)
  })

  it('stays synchronous when every Part is synchronous', () => {
    const r = sync(pipe(get, path('/x'), ok('x'))(conn('GET', '/x')))
    assert.equal(r._tag, 'Right')
  })

  it('waits for an async Part and goes on after it', async () => {
    const slow = handle(async (c) => {
      await new Promise((r) => setTimeout(r, 1))
      return sap.assign('n', 1)(c)
    })
    const c = await expectRight(
      pipe(
        slow,
        handle((c) => ok(String(c.assigns['n']))),
      )(conn('GET', '/')),
    )
    assert.equal(c.respBody, '1')
  })

  it('throws a TypeError at build time for something that is not a Part', () => {
    assert.throws(() => pipe(get, (() => 1) as unknown as sap.Part), TypeError)
    assert.throws(() => (pipe as (...p: unknown[]) => unknown)(), TypeError)
  })
})

describe('pipe: the 405 look-ahead', () => {
  const table: readonly [string, sap.Part, string, string, sap.RejectionTag, string?][] = [
    ['pipe(get, path(/a))', pipe(get, path('/a')), 'DELETE', '/b', 'NoMatch'],
    ['pipe(get, path(/a))', pipe(get, path('/a')), 'DELETE', '/a', 'MethodNotAllowed', 'GET'],
    ['method after path', pipe(path('/a'), post), 'GET', '/a', 'MethodNotAllowed', 'POST'],
    ['through a builder', pipe(get, sap.respJson, path('/a')), 'PUT', '/a', 'MethodNotAllowed', 'GET'],
    ['through a header guard', pipe(get, header('x', 'y'), path('/a')), 'PUT', '/b', 'NoMatch'],
    ['through a nested choose', pipe(get, choose([path('/a'), path('/b')])), 'PUT', '/b', 'MethodNotAllowed', 'GET'],
    ['nested choose, no option matches', pipe(get, choose([path('/a'), path('/b')])), 'PUT', '/c', 'NoMatch'],
    ['through prefix', pipe(get, prefix('/api'), path('/users')), 'PUT', '/api/users', 'MethodNotAllowed', 'GET'],
    ['prefix then other path', pipe(get, prefix('/api'), path('/users')), 'PUT', '/api/teams', 'NoMatch'],
    [
      'method inside a prefix, path after the inner pipe',
      pipe(pipe(prefix('/api'), get), path('/users')),
      'PUT',
      '/api/users',
      'MethodNotAllowed',
      'GET',
    ],
    ['method inside a prefix, wrong path', pipe(pipe(prefix('/api'), get), path('/users')), 'PUT', '/api/x', 'NoMatch'],
    [
      'opaque handle after the method',
      pipe(
        get,
        handle((c) => c),
      ),
      'PUT',
      '/anything',
      'MethodNotAllowed',
      'GET',
    ],
  ]
  for (const [name, p, method, url, tag, allow] of table) {
    it(`${name}: ${method} ${url} → ${tag}`, async () => {
      const r = await expectLeft(p(conn(method, url)), tag)
      if (allow !== undefined) assert.deepEqual(r._tag === 'MethodNotAllowed' && r.allow, [allow])
    })
  }
})

describe('choose', () => {
  it('gives the first Right', async () => {
    const c = await expectRight(choose([pipe(path('/a'), ok('1')), pipe(path('/a'), ok('2'))])(conn('GET', '/a')))
    assert.equal(c.respBody, '1')
  })

  it('tries the next option after a Left', async () => {
    const c = await expectRight(choose([pipe(path('/a'), ok('1')), pipe(path('/b'), ok('2'))])(conn('GET', '/b')))
    assert.equal(c.respBody, '2')
  })

  it('rejects with NoMatch when empty', async () => {
    await expectLeft(choose([])(conn('GET', '/')), 'NoMatch')
  })

  it('keeps the best-ranked rejection of its options', async () => {
    const app = choose([path('/x'), pipe(path('/a'), sap.accepts('text/csv')), pipe(get, path('/a'))])
    const r = await expectLeft(app(conn('POST', '/a', { headers: { accept: 'application/json' } })), 'NotAcceptable')
    assert.deepEqual(r._tag === 'NotAcceptable' && r.available, ['text/csv'])
  })

  it('merges the Allow sets of MethodNotAllowed options', async () => {
    const app = choose([pipe(get, path('/a')), pipe(post, path('/a')), pipe(sap.put, path('/b'))])
    const r = await expectLeft(app(conn('DELETE', '/a')), 'MethodNotAllowed')
    assert.deepEqual(r._tag === 'MethodNotAllowed' && r.allow, ['GET', 'POST'])
  })

  it('stops at a HandlerFailed instead of trying the next option', async () => {
    let tried = false
    const app = choose([
      pipe(
        path('/a'),
        handle(() => {
          throw new Error('boom')
        }),
      ),
      handle((c) => {
        tried = true
        return c
      }),
    ])
    await expectLeft(app(conn('GET', '/a')), 'HandlerFailed')
    assert.equal(tried, false)
  })

  it('waits for async options in declaration order', async () => {
    const order: string[] = []
    const step = (name: string, pass: boolean) =>
      handle(async (c) => {
        order.push(name)
        await Promise.resolve()
        return pass ? c : sap.left(sap.rejection.noMatch)
      })
    await expectRight(choose([step('a', false), step('b', true), step('c', true)])(conn('GET', '/')))
    assert.deepEqual(order, ['a', 'b'])
  })
})

describe('handle', () => {
  it('accepts a returned Conn, Context or Part', async () => {
    assert.equal((await expectRight(handle((c) => sap.update(c, { status: 202 }))(conn('GET', '/')))).status, 202)
    assert.equal((await expectRight(handle((c) => sap.right(c))(conn('GET', '/')))).status, 200)
    assert.equal((await expectRight(handle(() => ok('hi'))(conn('GET', '/')))).respBody, 'hi')
    await expectLeft(handle(() => sap.left(sap.rejection.unauthorized()))(conn('GET', '/')), 'Unauthorized')
  })

  it('turns a throw into HandlerFailed', async () => {
    const r = await expectLeft(
      handle(() => {
        throw new Error('boom')
      })(conn('GET', '/')),
      'HandlerFailed',
    )
    assert.equal(r._tag === 'HandlerFailed' && (r.error as Error).message, 'boom')
  })

  it('turns a rejected promise into HandlerFailed', async () => {
    await expectLeft(handle(() => Promise.reject(new Error('late')))(conn('GET', '/')), 'HandlerFailed')
  })

  it('turns a body read past its limit into PayloadTooLarge', async () => {
    const r = await expectLeft(
      handle(async (c) => ok(new TextDecoder().decode(await c.source.read(2))))(conn('POST', '/', { body: 'abc' })),
      'PayloadTooLarge',
    )
    assert.equal(r._tag === 'PayloadTooLarge' && r.limit, 2)
  })

  it('turns a nonsense return value into HandlerFailed', async () => {
    await expectLeft(handle(() => 42 as unknown as sap.Conn)(conn('GET', '/')), 'HandlerFailed')
  })

  it('types params from the path before it', async () => {
    const p = pipe(
      path('/users/:id'),
      handle((c) => {
        const id: string = c.params.id
        return ok(id)
      }),
    )
    assert.equal((await expectRight(p(conn('GET', '/users/7')))).respBody, '7')
  })

  it('answers 500 without the error in the body, and logs it', async () => {
    const logged: unknown[] = []
    const app = pipe(
      path('/boom'),
      handle(() => {
        throw new Error('secret stack')
      }),
    )
    const res = await inject(app, { url: '/boom' }, { onError: (e) => logged.push(e) })
    assert.equal(res.status, 500)
    assert.equal(res.headers['content-type'], 'application/problem+json')
    assert.doesNotMatch(res.body, /secret|stack|at /)
    assert.equal(logged.length, 1)
  })
})

describe('recover', () => {
  const app = recover(pipe(path('/'), ok('home')), (r) =>
    r._tag === 'NoMatch' ? sap.notFound('custom 404') : undefined,
  )

  it('answers a rejection with what the function returns', async () => {
    const c = await expectRight(app(conn('GET', '/nope')))
    assert.equal(c.status, 404)
    assert.equal(c.respBody, 'custom 404')
  })

  it('passes the rejection on when the function returns undefined', async () => {
    await expectLeft(recover(pipe(get, path('/')), () => undefined)(conn('PUT', '/')), 'MethodNotAllowed')
  })

  it('leaves a Right alone', async () => {
    assert.equal((await expectRight(app(conn('GET', '/')))).respBody, 'home')
  })
})
