import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { isBadHost } from '../../src/internal/host.js'

// RFC 3986 §3.2.2's host, then an optional port: the rule isBadHost's fast loop must agree with
const HOST = /^(?:[\w.~!$&'()*+,;=%-]+|\[[\dA-Fa-f:.]+\]|\[v[\dA-Fa-f]+\.[\w.~!$&'()*+,;=:-]+\])(?::\d*)?$/

describe('isBadHost', () => {
  it('takes names, IPv4 and IP literals with a port, refuses the rest', () => {
    for (const host of ['localhost', '127.0.0.1:3000', 'api.example.com', 'a-b.c:80', '[::1]:8080', 'a:', 'ex%41mple'])
      assert.equal(isBadHost(host), false, host)
    for (const host of ['', 'a b', 'x/admin', 'a:80:80', '[::1', ':80', 'a@b', 'a, b', 'a:8o'])
      assert.equal(isBadHost(host), true, host)
  })

  it('agrees with the whole rule on generated values (its fast path included)', () => {
    const piece = fc.constantFrom(...'aZ09.-:_[]%/ @,v'.split(''))
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        const host = pieces.join('')
        assert.equal(isBadHost(host), !HOST.test(host), JSON.stringify(host))
        // the same value inside a URL, bounded rather than sliced
        const url = `http://${host}/path`
        assert.equal(isBadHost(url, 7, 7 + host.length), !HOST.test(host), JSON.stringify(url))
      }),
      { numRuns: 20_000 },
    )
  })
})
