// Issue #8: small faults of the adapters and builders, one test each as reported. The ones about
// the socket (request headers, framing, close) run over real sockets in test/adapters/node.test.ts;
// the unit tests are in the test files of their modules.
import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, it } from 'node:test'
import * as sap from 'sapwood'
import { conn, inject } from 'sapwood/testing'
import { isThenable } from '../../src/context/context.js'
import { toWire } from '../../src/adapters/wire.js'

const { choose, pipe, get, path, ok } = sap

/** An adapter that listens nowhere and keeps the Handler that serve gave it. */
const recording = (): { adapter: sap.Adapter; handler: () => sap.Handler } => {
  let handler: sap.Handler | undefined
  return {
    adapter: {
      name: 'recording',
      listen: (h) => {
        handler = h
        return Promise.resolve({ url: 'memory:', native: null, close: () => Promise.resolve() })
      },
    },
    handler: () => handler ?? assert.fail('serve did not listen'),
  }
}

describe('issue #8', () => {
  let warned: string[] = []
  let warn: typeof console.warn
  beforeEach(() => {
    warned = []
    warn = console.warn
    console.warn = (message: string) => void warned.push(message)
  })
  afterEach(() => {
    console.warn = warn
  })

  it("reads ?x=1#top as x = '1': the fragment ends the query", async () => {
    const app = pipe(get, path('/'), sap.query('x', '1'), ok('one'))
    const res = await inject(app, { url: '/?x=1#top' })
    assert.equal(res.status, 200)
    assert.equal(conn('GET', '/?x=1#top').query['x'], '1')
  })

  it('serve(app, { compile: false }) runs the tree as written, and passes every respond option on', async () => {
    // compile warns about the shadowed branch; the tree as written never compiles, so never warns
    const shadowed = (): sap.Part => choose([pipe(get, path('/a'), ok('first')), pipe(get, path('/a'), ok('second'))])
    const interpreted = recording()
    const errors: unknown[] = []
    const failing = choose([shadowed(), sap.handle(() => Promise.reject(new Error('boom')))])
    await sap.serve(failing, { adapter: interpreted.adapter, compile: false, onError: (e) => void errors.push(e) })
    assert.deepEqual(warned, [])
    const answer = await interpreted.handler()(conn('GET', '/b'))
    assert.equal(answer.status, 500)
    assert.equal(errors.length, 1, 'onError went on too')

    const compiled = recording()
    await sap.serve(shadowed(), { adapter: compiled.adapter })
    assert.equal(warned.length, 1, 'compiled by default')
    assert.match(warned[0] ?? '', /unreachable branch/)
  })

  it('sends a drafted transfer-encoding nowhere: the body alone frames the answer', async () => {
    const app = pipe(sap.setHeader('transfer-encoding', 'chunked'), sap.setHeader('content-length', '99'), ok('hello'))
    const res = await inject(app, { url: '/' })
    assert.equal(res.headers['transfer-encoding'], undefined)
    assert.equal(res.headers['content-length'], '5')
    assert.equal(res.body, 'hello')
    const final = await sap.respond(app)(conn('GET', '/'))
    assert.deepEqual(toWire(final, true).headers, ['content-type', 'text/plain; charset=utf-8', 'content-length', '5'])
  })

  it('refuses a header value with CR, LF or NUL when the Part is made', () => {
    for (const value of ['a\rb', 'a\nb', 'a\0b']) {
      assert.throws(() => sap.setHeader('x-note', value), TypeError)
      assert.throws(() => sap.appendHeader('x-note', value), TypeError)
      assert.throws(() => sap.found(`/next${value}`), TypeError)
    }
  })

  it('keeps isThenable and toWire out of the main entry (they stay in their modules)', () => {
    assert.equal('isThenable' in sap, false)
    assert.equal('toWire' in sap, false)
    assert.equal(isThenable(Promise.resolve(1)), true)
    assert.equal(typeof toWire, 'function')
  })
})
