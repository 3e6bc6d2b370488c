// Issue #12, item 4 (deep JSON): a client's JSON nested 10,000 or 100,000 levels deep is a 400
// from the decoder, refused before it is parsed (JSON.parse would take it, and whatever recurses
// over the value next, such as the serializer echoing it, would overflow the stack: a 500). A deep
// value the server makes itself is the server's error: a clean 500, reported to onError.
import assert from 'node:assert/strict'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { after, before, describe, it } from 'node:test'
import {
  type BodySource,
  type Listening,
  bodyLimit,
  choose,
  get,
  handle,
  json,
  jsonBody,
  makeConn,
  path,
  pipe,
  post,
  responds,
  serve,
} from 'sapwood'
import { inject } from 'sapwood/testing'
import { expectLeft, expectRight } from '../helpers.js'

const arrays = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth)
const objects = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)

/** A value nested `depth` levels deep, made without recursion. */
const deepValue = (depth: number): unknown => {
  let v: unknown = []
  for (let i = 1; i < depth; i++) v = [v]
  return v
}

const DEEP = deepValue(100_000)
const anySchema = responds({ 200: {} })
const arraySchema = responds({ 200: { type: 'array' } })

const app = choose([
  pipe(
    post,
    path('/echo'),
    jsonBody(),
    handle((c) => json(c.body)),
  ),
  pipe(
    post,
    path('/huge'),
    bodyLimit(4 * 1024 * 1024),
    jsonBody(),
    handle(() => json({ read: true })),
  ),
  pipe(
    post,
    path('/shallow'),
    jsonBody(undefined, { maxDepth: 3 }),
    handle((c) => json(c.body)),
  ),
  pipe(
    get,
    path('/serialize/handler'),
    handle(() => json(DEEP)),
  ),
  pipe(get, path('/serialize/static'), json(DEEP)),
  pipe(
    get,
    path('/serialize/responds'),
    handle(() => anySchema.json(DEEP)),
  ),
  pipe(
    get,
    path('/serialize/under-responds'),
    arraySchema,
    handle(() => json(DEEP)),
  ),
  pipe(get, path('/fine'), json({ fine: true })),
])

const errors: unknown[] = []
const onError = (error: unknown): void => {
  errors.push(error)
}

const postJson = (url: string, body: string) =>
  inject(app, { method: 'POST', url, headers: { 'content-type': 'application/json' }, body }, { onError })

describe('jsonBody and deep JSON', () => {
  for (const depth of [10_000, 100_000]) {
    for (const [kind, text] of [
      ['arrays', arrays(depth)],
      ['objects', objects(depth)],
    ] as const) {
      it(`answers 400 to ${kind} nested ${depth} levels, at once, with nothing for onError`, async (t) => {
        errors.length = 0
        const started = performance.now()
        const r = await postJson('/echo', text)
        const ms = performance.now() - started
        t.diagnostic(`${kind} x ${depth}: ${ms.toFixed(1)} ms`)
        assert.equal(r.status, 400)
        assert.equal(r.headers['content-type'], 'application/problem+json')
        assert.equal(
          r.json<{ detail: string }>().detail,
          'The body nests arrays and objects more than 1000 levels deep',
        )
        assert.deepEqual(errors, [])
        // parsing 100,000 levels alone takes ~60-100 ms; the scan stops at level 1001
        assert.ok(ms < 250, `took ${ms} ms`)
      })
    }
  }

  it('refuses a million levels under a 4 MiB limit without parsing them (a parse takes seconds)', async (t) => {
    const started = performance.now()
    const r = await postJson('/huge', arrays(1_000_000))
    const ms = performance.now() - started
    t.diagnostic(`arrays x 1,000,000: ${ms.toFixed(1)} ms`)
    assert.equal(r.status, 400)
    assert.ok(ms < 500, `took ${ms} ms`)
  })

  it('takes 1000 levels, and the serializer writes them back', async () => {
    for (const text of [arrays(1000), objects(1000)]) {
      const r = await postJson('/echo', text)
      assert.equal(r.status, 200)
      assert.equal(r.body, text)
    }
    assert.equal((await postJson('/echo', arrays(1001))).status, 400)
    assert.equal((await postJson('/echo', objects(1001))).status, 400)
  })

  it('counts brackets outside strings only, escapes included (maxDepth: 3)', async () => {
    const padding = 'x'.repeat(20) // longer than 2 * maxDepth + 1: the text is scanned
    const fine = [
      `[[["${padding}"]]]`,
      `["[[[[[[${padding}", {"a": "}}}{{{{"}]`,
      `["\\"[[[[[${padding}", [[1]]]`,
      `["\\\\", [[1]], "${padding}"]`,
      `{"k\\"[[[[": [[1]], "p": "${padding}"}`,
    ]
    for (const text of fine) {
      const r = await postJson('/shallow', text)
      assert.equal(r.status, 200, text)
      assert.deepEqual(r.json(), JSON.parse(text))
    }
    for (const text of [
      `[[[[1]]], "${padding}"]`,
      `["\\\\", [[[1]]], "${padding}"]`,
      `{"a":{"b":{"c":{}}},"p":"${padding}"}`,
    ]) {
      assert.equal((await postJson('/shallow', text)).status, 400, text)
    }
  })

  it('refuses a maxDepth that is not a positive whole number when the Part is made', () => {
    for (const maxDepth of [0, -1, 1.5, Number.NaN, Infinity]) {
      assert.throws(() => jsonBody(undefined, { maxDepth }), RangeError, String(maxDepth))
    }
  })

  it('refuses a deep value that a parser in front of sapwood made (Express) with 400 too', async () => {
    const source = (parsed: unknown): BodySource => ({
      length: undefined,
      parsed,
      read: () => Promise.reject(new Error('not read: the body was parsed already')),
      stream: async function* () {},
      whenDone: () => undefined,
      signal: new AbortController().signal,
    })
    const given = (parsed: unknown) =>
      makeConn({ method: 'POST', url: '/', headers: { 'content-type': 'application/json' }, source: source(parsed) })
    const r = await expectLeft(jsonBody()(given(DEEP)), 'BadRequest')
    assert.match(JSON.stringify(r), /more than 1000 levels deep/)
    // with options that change the value, a copy is made (structuredClone overflows at ~2,000)
    await expectLeft(jsonBody({ type: 'array' }, { coerce: true })(given(DEEP)), 'BadRequest')
    await expectRight(jsonBody()(given(deepValue(1000))))
  })

  describe('through a socket', () => {
    let server: Listening
    before(async () => {
      server = await serve(app, { port: 0, host: '127.0.0.1', onError })
    })
    after(() => server.close())

    it('answers 400 to 100,000 levels and keeps the event loop free', async (t) => {
      errors.length = 0
      const histogram = monitorEventLoopDelay({ resolution: 5 })
      histogram.enable()
      const started = performance.now()
      let r: Response
      try {
        r = await fetch(`${server.url}/echo`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: arrays(100_000),
          signal: AbortSignal.timeout(5000),
        })
      } finally {
        histogram.disable()
      }
      const ms = performance.now() - started
      const delay = histogram.max / 1e6
      t.diagnostic(`socket, arrays x 100,000: ${ms.toFixed(1)} ms; event loop delay max ${delay.toFixed(1)} ms`)
      assert.equal(r.status, 400)
      assert.match(((await r.json()) as { detail: string }).detail, /more than 1000 levels deep/)
      assert.deepEqual(errors, [])
      assert.ok(delay < 100, `the event loop was held ${delay} ms`)
    })

    it('answers a deep value made by the server with a clean 500, and goes on', async () => {
      errors.length = 0
      const r = await fetch(`${server.url}/serialize/handler`, { signal: AbortSignal.timeout(5000) })
      assert.equal(r.status, 500)
      assert.equal(r.headers.get('content-type'), 'application/problem+json')
      assert.equal(errors.length, 1)
      const fine = await fetch(`${server.url}/fine`, { signal: AbortSignal.timeout(5000) })
      assert.equal(fine.status, 200)
    })
  })
})

describe('serializers and a deep value the server made', () => {
  const cases: readonly (readonly [url: string, message: RegExp])[] = [
    ['/serialize/handler', /^sapwood: json\(\): the value cannot be written as JSON: it is nested too deeply/],
    ['/serialize/static', /^sapwood: json\(\): the value cannot be written as JSON: it is nested too deeply/],
    ['/serialize/responds', /^sapwood: the value is nested too deeply to write with the response schema for 200/],
    ['/serialize/under-responds', /^sapwood: the value is nested too deeply to write with the response schema for 200/],
  ]
  for (const [url, message] of cases) {
    it(`answers ${url} with 500 and tells onError why`, async () => {
      errors.length = 0
      const r = await inject(app, { url }, { onError })
      assert.equal(r.status, 500)
      assert.deepEqual(r.json(), { type: 'about:blank', title: 'Internal Server Error', status: 500 })
      assert.equal(errors.length, 1)
      const error = errors[0] as Error
      assert.ok(error instanceof TypeError)
      assert.match(error.message, message)
      assert.ok(error.cause instanceof Error)
    })
  }
})
