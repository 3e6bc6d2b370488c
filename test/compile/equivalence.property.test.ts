// Law: the compiled app behaves exactly like the interpreted tree. Random trees (nested
// choose/pipe/prefix, verbs, overlapping static/param/regex/wildcard paths, header/query/accepts
// filters, handlers that may reject, builders) and random requests (encoded and malformed paths
// included); both must agree on Right/Left, status, headers, body and rejection.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import * as sap from 'sapwood'
import { conn } from 'sapwood/testing'

const { pipe, choose, handle } = sap

const exactPatterns = [
  '/users',
  '/users/me',
  '/users/:id',
  '/users/:id(^\\d+$)',
  '/users/:id/posts',
  '/users/*',
  '/files/*',
  '/',
  '/:any',
  '/a/b',
  '/a/:x',
  '/users/:from-:to/posts',
  '/*',
  '',
]
const prefixPatterns = ['/users', '/users/:id', '/a', '/:seg', '/posts', '/b', '']

const rejections = [sap.rejection.unauthorized(), sap.rejection.badRequest('no'), sap.rejection.noMatch]

const leaf: fc.Arbitrary<sap.Part> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(sap.get, sap.post, sap.del, sap.head, sap.method('GET', 'PUT')) },
  { weight: 4, arbitrary: fc.constantFrom(...exactPatterns).map((p) => sap.path(p)) },
  { weight: 2, arbitrary: fc.constantFrom(...prefixPatterns).map((p) => sap.prefix(p)) },
  { weight: 1, arbitrary: fc.constantFrom('1', '2').map((v) => sap.header('x-v', v)) },
  { weight: 1, arbitrary: fc.constantFrom('1', '2').map((v) => sap.query('q', v)) },
  { weight: 1, arbitrary: fc.constant(sap.accepts('text/csv')) },
  { weight: 1, arbitrary: fc.constantFrom(...rejections).map((r) => sap.filter((c) => c.rest.length % 2 === 0, r)) },
  { weight: 3, arbitrary: fc.constantFrom('a', 'b', 'c').map((s) => sap.ok(s)) },
  { weight: 1, arbitrary: fc.constant(sap.respJson) },
  { weight: 1, arbitrary: fc.constantFrom('x-a', 'x-b').map((h) => sap.setHeader(h, 'v')) },
  {
    weight: 2,
    arbitrary: fc
      .record({ async: fc.boolean(), outcome: fc.constantFrom('echo', 'reject', 'throw', 'method') })
      .map(({ async, outcome }) =>
        handle((c) => {
          const out =
            outcome === 'echo'
              ? sap.right(sap.update(c, { respBody: `${c.method} ${c.rest} ${JSON.stringify(c.params)}` }))
              : outcome === 'reject'
                ? sap.left(sap.rejection.notAcceptable(['x/y']))
                : outcome === 'method'
                  ? sap.left(sap.rejection.methodNotAllowed(['PATCH']))
                  : undefined
          if (out === undefined) throw new Error('boom')
          return async ? Promise.resolve(out) : out
        }),
      ),
  },
)

/** A readable form of a tree, for counterexamples. */
const show = (p: sap.Part): string => {
  const s = p.shape
  if (s._tag === 'Seq') return `pipe(${s.parts.map((x) => show(x as unknown as sap.Part)).join(', ')})`
  if (s._tag === 'Choose') return `choose([${s.options.map((x) => show(x as unknown as sap.Part)).join(', ')}])`
  return p.label
}
const printable = (p: sap.Part): sap.Part => Object.assign(p, { [fc.toStringMethod]: () => show(p) })

const tree = fc
  .letrec<{ node: sap.Part }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      fc.array(tie('node'), { minLength: 1, maxLength: 4 }).map((ps) => pipe(...ps)),
      fc.array(tie('node'), { maxLength: 5 }).map((ps) => choose(ps)),
    ),
  }))
  .node.map(printable)

const request = fc.record({
  method: fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'HEAD', 'OPTIONS'),
  path: fc.oneof(
    fc.constantFrom(
      '/',
      '/users',
      '/users/',
      '/users/me',
      '/users/42',
      '/users/abc',
      '/users/42/posts',
      '/users/a%2Fb',
      '/users/a%20b',
      '/users/%E0%A4%A',
      `/users/${'x'.repeat(120)}`,
      `/users/${'x'.repeat(101)}/posts`,
      `/users/${'a'.repeat(60)}-${'b'.repeat(60)}/posts`,
      `/a/${'x'.repeat(101)}/b`,
      '/users/a-b/posts',
      '/files/a/b/c',
      '/a/b',
      '/a/bb',
      '/a',
      '//users',
      '/USERS',
    ),
    fc
      .array(fc.constantFrom('users', 'a', 'b', 'me', '42', 'posts', 'files', '%41', ''), {
        minLength: 1,
        maxLength: 4,
      })
      .map((segs) => `/${segs.join('/')}`),
  ),
  query: fc.constantFrom('', '?q=1', '?q=2'),
  header: fc.constantFrom(undefined, '1', '2'),
  accept: fc.constantFrom(undefined, 'text/csv', 'application/json'),
})

type Seen =
  | { right: true; status: number; headers: Record<string, unknown>; body: unknown }
  | { right: false; tag: string; allow?: readonly string[] | undefined; detail?: string | undefined }

const observe = (ctx: sap.Context): Seen =>
  ctx._tag === 'Right'
    ? { right: true, status: ctx.right.status, headers: { ...ctx.right.respHeaders }, body: ctx.right.respBody }
    : {
        right: false,
        tag: ctx.left._tag,
        allow: ctx.left._tag === 'MethodNotAllowed' ? ctx.left.allow : undefined,
        detail: ctx.left._tag === 'BadRequest' ? ctx.left.details : undefined,
      }

const makeConn = (
  r: fc.Arbitrary<unknown> extends never ? never : typeof request extends fc.Arbitrary<infer R> ? R : never,
) => {
  const headers: Record<string, string> = {}
  if (r.header !== undefined) headers['x-v'] = r.header
  if (r.accept !== undefined) headers['accept'] = r.accept
  return conn(r.method, r.path + r.query, { headers })
}

describe('compile', () => {
  it('gives exactly what the interpreted tree gives (property)', async () => {
    await fc.assert(
      fc.asyncProperty(tree, fc.array(request, { minLength: 1, maxLength: 6 }), async (app, requests) => {
        const compiled = sap.compile(app, { onWarning: () => undefined })
        for (const r of requests) {
          const c = makeConn(r)
          const want = observe(await app(c))
          const got = observe(await compiled(c))
          assert.deepEqual(got, want, `${r.method} ${r.path}${r.query}`)
        }
      }),
      { numRuns: Number(process.env['PROPERTY_RUNS'] ?? 3000) },
    )
  })

  it('answers exactly like the interpreted tree through respond, HEAD and OPTIONS included (property)', async () => {
    await fc.assert(
      fc.asyncProperty(tree, fc.array(request, { minLength: 1, maxLength: 4 }), async (app, requests) => {
        const quiet = { onError: () => undefined }
        const interpreted = sap.respond(app, { ...quiet, compile: false })
        const compiled = sap.respond(sap.compile(app, { onWarning: () => undefined }), quiet)
        for (const r of requests) {
          const c = makeConn(r)
          const want = sap.toWire(await interpreted(c), r.method === 'HEAD')
          const got = sap.toWire(await compiled(c), r.method === 'HEAD')
          assert.deepEqual(got, want, `${r.method} ${r.path}${r.query}`)
        }
      }),
      { numRuns: Math.ceil(Number(process.env['PROPERTY_RUNS'] ?? 3000) / 2) },
    )
  })
})
