import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { describe, it } from 'node:test'
import * as sap from 'sapwood'
import { conn, inject } from 'sapwood/testing'
import { expectRight } from '../helpers.js'

const { choose, pipe, get, path, stream, handle } = sap

const lines = (n: number) =>
  async function* () {
    for (let i = 0; i < n; i++) yield `line ${i}\n`
  }

describe('stream', () => {
  it('drafts a stream body, and opens it only when the answer is written', async () => {
    let opened = 0
    const part = stream(() => {
      opened++
      return lines(2)()
    })
    const c = await expectRight(part(conn('GET', '/')))
    const body = c.respBody as sap.StreamBody
    assert.equal(body._tag, 'Stream')
    assert.equal(body.length, undefined)
    assert.equal(opened, 0)
  })

  it('is collected by inject, chunked (no content-length), octet-stream unless typed', async () => {
    const plain = await inject(pipe(get, path('/'), stream(lines(3))), { url: '/' })
    assert.equal(plain.status, 200)
    assert.equal(plain.body, 'line 0\nline 1\nline 2\n')
    assert.equal(plain.headers['content-length'], undefined)
    assert.equal(plain.headers['content-type'], 'application/octet-stream')
    assert.equal(plain.complete, true)
    const typed = await inject(pipe(get, path('/'), stream(lines(1), { type: 'text/plain' })), { url: '/' })
    assert.equal(typed.headers['content-type'], 'text/plain')
  })

  it('sends a known length as content-length', async () => {
    const res = await inject(pipe(get, path('/'), stream(lines(1), { length: 7 })), { url: '/' })
    assert.equal(res.headers['content-length'], '7')
    assert.equal(res.body, 'line 0\n')
  })

  it('takes a web ReadableStream and a node Readable', async () => {
    const web = stream(
      () =>
        new ReadableStream<Uint8Array | string>({
          start(controller) {
            controller.enqueue('a')
            controller.enqueue(new TextEncoder().encode('b'))
            controller.close()
          },
        }),
    )
    assert.equal((await inject(pipe(get, web), { url: '/' })).body, 'ab')
    const node = stream(() => Readable.from([Buffer.from('c'), Buffer.from('d')]))
    assert.equal((await inject(pipe(get, node), { url: '/' })).body, 'cd')
  })

  it('never opens the source for HEAD, yet answers with the same head', async () => {
    let opened = 0
    const app = pipe(
      get,
      path('/'),
      stream(
        () => {
          opened++
          return lines(1)()
        },
        { type: 'text/plain' },
      ),
    )
    const res = await inject(app, { method: 'HEAD', url: '/' })
    assert.equal(res.status, 200)
    assert.equal(res.headers['content-type'], 'text/plain')
    assert.equal(res.body, '')
    assert.equal(opened, 0)
  })

  it('makes a fresh source per answer in a compiled tree (a stream body is never drafted ahead)', async () => {
    const app = choose([pipe(get, path('/s'), stream(lines(2))), pipe(get, path('/'), sap.ok('home'))])
    for (let i = 0; i < 3; i++) assert.equal((await inject(app, { url: '/s' })).body, 'line 0\nline 1\n')
  })

  it('refuses a live source on its second answer, saying what to do', async () => {
    const errors: unknown[] = []
    const app = pipe(get, stream(lines(1)()))
    const options = { onError: (e: unknown) => void errors.push(e) }
    assert.equal((await inject(app, { url: '/' }, options)).body, 'line 0\n')
    const again = await inject(app, { url: '/' }, options)
    assert.equal(again.status, 500)
    assert.match(String(errors[0]), /stream\(\(c\) => source\)/)
  })

  it('accepts a live source made per request in a handle', async () => {
    const app = pipe(
      get,
      path('/users/:id'),
      handle((c) => stream(Readable.from([`user ${c.params.id}`]))),
    )
    assert.equal((await inject(app, { url: '/users/7' })).body, 'user 7')
    assert.equal((await inject(app, { url: '/users/8' })).body, 'user 8')
  })

  it('ends early with what was sent when the producer throws, and reports the error', async () => {
    const errors: unknown[] = []
    const app = pipe(
      get,
      stream(async function* () {
        yield 'partial'
        throw new Error('producer failed')
      }),
    )
    const res = await inject(app, { url: '/' }, { onError: (e) => void errors.push(e) })
    assert.equal(res.body, 'partial')
    assert.equal(res.complete, false)
    assert.equal((errors[0] as Error).message, 'producer failed')
  })

  it('gives the producer the signal: aborting the request stops it', async () => {
    const controller = new AbortController()
    let sawAbort = false
    const app = pipe(
      get,
      stream((c) =>
        (async function* () {
          yield 'first'
          controller.abort()
          await new Promise((r) => setTimeout(r, 5))
          sawAbort = c.signal.aborted
          if (!c.signal.aborted) yield 'second'
        })(),
      ),
    )
    const res = await inject(app, { url: '/', signal: controller.signal })
    assert.equal(res.body, 'first')
    assert.equal(res.complete, false)
    assert.equal(sawAbort, true)
  })

  it('refuses a bad length or source when the Part is made', () => {
    assert.throws(() => stream(lines(1), { length: -1 }), RangeError)
    assert.throws(() => stream(lines(1), { length: 1.5 }), RangeError)
    assert.throws(() => stream('text' as never), TypeError)
  })
})
