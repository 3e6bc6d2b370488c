// Every combinator has a heading in docs/combinators.md, with one example under it (blocks.test.ts
// type-checks and runs the examples of every page).
import assert from 'node:assert/strict'
import { dirname, join, resolve } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import * as sap from 'sapwood'
import * as node from 'sapwood/node'
import * as testing from 'sapwood/testing'
import { parseDoc } from './blocks.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

/**
 * Runtime exports of `sapwood` that are not combinators (they neither are a Part nor make one),
 * and so have no heading in docs/combinators.md. Types are not runtime values and need no entry.
 */
const NOT_COMBINATORS: Readonly<Record<string, string>> = {
  rejection: 'namespace of rejection constructors (documented in the guide)',
  part: 'low-level constructor that attaches a shape to a function',
  left: 'Either constructor',
  right: 'Either constructor',
  update: 'Conn helper (documented in the guide)',
  makeConn: 'Conn constructor for adapters',
  isConn: 'guard',
  nodeListener: 'adapter internals: serves a Handler on node:http',
  nodeUpgradeListener: 'adapter internals: serves upgrade requests (WebSocket) with a Handler on node:http',
  bunAdapter: 'adapter (documented in docs/adapters.md)',
  denoAdapter: 'adapter (documented in docs/adapters.md)',
  bytesSource: 'body source for adapters and tests',
  iterableSource: 'body source for adapters and tests',
  ChunkedBody: 'base class of body sources, for adapters',
  PayloadTooLargeError: 'error class',
  BodyAbortedError: 'error class',
  BodyConsumedError: 'error class',
  DEFAULT_BODY_LIMIT: 'constant',
  serializer: 'makes a function, not a Part',
  formatEvent: 'formats one Server-Sent Event as text; makes no Part',
  streamBody: 'response body constructor, for builders and adapters',
  ClientGoneError: 'error class (the reason of a Conn signal)',
  ServerClosingError: 'error class (the reason of a Conn signal)',
  channel: 'makes a publish/subscribe channel, not a Part (documented in docs/streaming.md)',
  memoryHub: 'makes the in-process transport of channels, not a Part',
  redisHub: 'makes the Redis transport of channels, not a Part',
  HubClosedError: 'error class (a channel hub used after close)',
  ChannelOverflowError: 'error class (a channel subscriber fell behind)',
  HandlerTimeoutError: 'error class (a handler that did not answer within handlerTimeout)',
}

const { headings, blocks, errors } = parseDoc(root, join(root, 'docs/combinators.md'))
const examples = blocks.filter((b) => b.lang === 'ts')
const sections = headings.filter((h) => h.level === 2)

/** The export names a heading documents: every `identifier` in backquotes. */
const namesOf = (heading: string): string[] =>
  [...heading.matchAll(/`([A-Za-z_$][\w$]*)`/g)].map((m) => m[1]!).filter((n) => n !== undefined)

describe('docs/combinators.md', () => {
  it('has a ```ts example under every ## heading, and only there', () => {
    assert.deepEqual(errors, [])
    assert.ok(examples.length > 0, 'no examples found')
    const orphans = examples.filter((e) => e.heading?.level !== 2).map((e) => e.line)
    assert.deepEqual(orphans, [], `code blocks outside a ## heading at lines ${orphans.join(', ')}`)
    for (const h of sections) {
      const count = examples.filter((e) => e.heading === h).length
      assert.equal(count, 1, `docs/combinators.md:${h.line} "## ${h.text}" has ${count} ts blocks, expected 1`)
    }
  })

  it('has a ## heading for every combinator that sapwood, sapwood/node and sapwood/testing export', () => {
    const documented = new Set(sections.flatMap((h) => namesOf(h.text)))
    const exported = new Set([...Object.keys(sap), ...Object.keys(node), ...Object.keys(testing)])
    const missing = [...exported].filter((name) => !documented.has(name) && !(name in NOT_COMBINATORS)).sort()
    assert.deepEqual(missing, [], `exports without a heading in docs/combinators.md: ${missing.join(', ')}`)
    const unknown = [...documented].filter((name) => !exported.has(name)).sort()
    assert.deepEqual(unknown, [], `headings that name no export: ${unknown.join(', ')}`)
    const stale = Object.keys(NOT_COMBINATORS).filter((name) => !exported.has(name))
    assert.deepEqual(stale, [], `NOT_COMBINATORS lists names that are no longer exported: ${stale.join(', ')}`)
    const documentedExceptions = Object.keys(NOT_COMBINATORS).filter((name) => documented.has(name))
    assert.deepEqual(documentedExceptions, [], 'a documented name is also listed in NOT_COMBINATORS')
  })
})
