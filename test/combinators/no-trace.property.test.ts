// Law: a failed branch leaves no trace. For random trees, the Conn that the next alternative
// of `choose` receives is the very Conn that `choose` was given, unchanged.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import * as sap from 'sapwood'
import { conn } from 'sapwood/testing'

const { pipe, choose, handle } = sap

const patterns = ['/a', '/a/:id', '/a/b', '/:x', '/a/*', '', '/a/:id(^\\d+$)']
const prefixes = ['/a', '/:x', '', '/a/b']
const rejections: sap.Rejection[] = [
  sap.rejection.noMatch,
  sap.rejection.badRequest('bad'),
  sap.rejection.unauthorized(),
  sap.rejection.notAcceptable(['text/csv']),
]

const leaf: fc.Arbitrary<sap.Part> = fc.oneof(
  fc.constantFrom(sap.get, sap.post, sap.del, sap.respJson, sap.respText),
  fc.constantFrom(...patterns).map((p) => sap.path(p)),
  fc.constantFrom(...prefixes).map((p) => sap.prefix(p)),
  fc.constantFrom('1', '2').map((v) => sap.header('x-v', v)),
  fc.constantFrom('1', '2').map((v) => sap.query('q', v)),
  fc.string({ maxLength: 5 }).map((s) => sap.ok(s)),
  fc.constantFrom('x-a', 'x-b').map((h) => sap.setHeader(h, 'v')),
  fc.integer({ min: 0, max: 9 }).map((n) => sap.assign('n', n)),
  fc.constantFrom(...rejections).map((r) => sap.filter(() => false, r)),
  // user code that drafts a response and then may reject, synchronously or not
  fc
    .record({ async: fc.boolean(), reject: fc.boolean(), status: fc.constantFrom(201, 418) })
    .map(({ async, reject, status }) =>
      handle((c) => {
        const next = sap.update(c, { status, respBody: 'drafted', rest: '/rewritten' })
        const out = reject ? sap.left(sap.rejection.noMatch) : sap.right(next)
        return async ? Promise.resolve(out) : out
      }),
    ),
)

const tree = fc.letrec<{ node: sap.Part }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('node'), { minLength: 1, maxLength: 4 }).map((ps) => pipe(...ps)),
    fc.array(tie('node'), { maxLength: 3 }).map((ps) => choose(ps)),
  ),
})).node

const request = fc.record({
  method: fc.constantFrom('GET', 'POST', 'DELETE', 'HEAD'),
  path: fc.constantFrom('/a', '/a/1', '/a/b', '/b', '/a/b/c', '/', '/a/%E0%A4%A', '/a/x%20y'),
  query: fc.constantFrom('', '?q=1', '?q=2&q=1'),
  header: fc.constantFrom(undefined, '1', '2'),
})

const snapshot = (c: sap.Conn): string =>
  JSON.stringify([c.method, c.url, c.path, c.rest, c.params, c.assigns, c.status, c.respHeaders, c.respBody, c.query])

describe('choose', () => {
  it('gives the next alternative the Conn it was given when a branch fails (property)', async () => {
    await fc.assert(
      fc.asyncProperty(tree, request, async (branch, req) => {
        const c = conn(
          req.method,
          req.path + req.query,
          req.header === undefined ? {} : { headers: { 'x-v': req.header } },
        )
        const before = snapshot(c)
        let received: sap.Conn | undefined
        const spy = handle((x) => {
          received = x
          return sap.ok('next')(x)
        })
        const first = await branch(c)
        const both = await choose([branch, spy])(c)
        if (first._tag === 'Left' && first.left._tag !== 'HandlerFailed') {
          assert.equal(received, c, 'the next alternative must receive the same Conn')
          assert.equal(both._tag, 'Right')
        } else {
          assert.equal(received, undefined, 'no alternative runs after a Right or a failed handler')
        }
        assert.equal(snapshot(c), before, 'the given Conn must be unchanged')
      }),
      { numRuns: 2000 },
    )
  })
})
