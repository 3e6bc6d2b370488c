// Issue #12, item 4: a body over the limit is refused by its declared length before the client
// sends it. A client that sends `Expect: 100-continue` waits for `100 Continue` before the body;
// the node adapter sends it only when a Part reads the body, so a decoder that refuses the
// declared Content-Length answers 413 and the body never travels.
import assert from 'node:assert/strict'
import { type Socket, connect } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { bodyLimit, choose, handle, json, jsonBody, ok, path, pipe, post, serve, type Listening } from 'sapwood'
import { within } from '../support/wait.js'

const app = choose([
  pipe(
    post,
    path('/notes'),
    bodyLimit(1024),
    jsonBody(),
    handle((c) => json({ got: c.body })),
  ),
  pipe(post, path('/ignore'), ok('not read')),
])

/** A raw connection and what the server wrote on it so far. */
interface Raw {
  readonly socket: Socket
  text(): string
  /** Resolves once `test` holds on the text received (checked on each chunk); fails after `ms`. */
  until(test: (text: string) => boolean, ms: number, what: string): Promise<string>
  readonly closed: Promise<void>
}

const open = (port: number): Promise<Raw> =>
  new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let text = ''
    const waiters: (() => void)[] = []
    socket.setEncoding('latin1')
    socket.on('data', (d: string) => {
      text += d
      for (const w of waiters.splice(0)) w()
    })
    socket.on('error', () => undefined)
    const closed = new Promise<void>((r) => socket.once('close', () => r()))
    const until = (test: (t: string) => boolean, ms: number, what: string): Promise<string> =>
      within(
        new Promise<string>((done) => {
          const check = (): void => {
            if (test(text)) done(text)
            else waiters.push(check)
          }
          check()
          void closed.then(check)
        }),
        ms,
        `${what} (received: ${JSON.stringify(text)})`,
      )
    socket.once('connect', () => resolve({ socket, text: () => text, until, closed }))
    socket.once('error', reject)
  })

const head = (path: string, length: number): string =>
  `POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n` +
  `Content-Length: ${length}\r\nExpect: 100-continue\r\n\r\n`

describe('Expect: 100-continue (node adapter, raw socket)', () => {
  let server: Listening
  let port: number
  before(async () => {
    server = await serve(app, { port: 0, host: '127.0.0.1' })
    port = Number(new URL(server.url).port)
  })
  after(() => server.close())

  it('answers 413 to a declared length over the limit without a 100 Continue, and closes', async () => {
    const c = await open(port)
    try {
      c.socket.write(head('/notes', 10_000_000))
      const text = await c.until((t) => t.includes('\r\n\r\n'), 3000, 'the 413')
      assert.match(text, /^HTTP\/1\.1 413 /, 'the first line is the 413, not a 100')
      assert.doesNotMatch(text, /100 Continue/)
      // the body was never sent: the connection cannot be reused, node closes it
      assert.match(text, /\r\nconnection: close\r\n/i)
      await within(c.closed, 3000, 'the server to close the connection')
    } finally {
      c.socket.destroy()
    }
  })

  it('sends 100 Continue under the limit, then reads the body and answers', async () => {
    const c = await open(port)
    try {
      const body = JSON.stringify({ note: 'hello' })
      c.socket.write(head('/notes', Buffer.byteLength(body)))
      const interim = await c.until((t) => t.includes('\r\n\r\n'), 3000, 'the 100 Continue')
      assert.equal(interim, 'HTTP/1.1 100 Continue\r\n\r\n')
      c.socket.write(body)
      const text = await c.until((t) => t.includes('{"got":{"note":"hello"}}'), 3000, 'the answer')
      assert.match(text.slice(interim.length), /^HTTP\/1\.1 200 /)
      // the body was read: the connection stays open for the next request
      assert.doesNotMatch(text, /\r\nconnection: close\r\n/i)
    } finally {
      c.socket.destroy()
    }
  })

  it('answers a route that never reads the body without a 100 Continue, and closes', async () => {
    const c = await open(port)
    try {
      c.socket.write(head('/ignore', 100))
      const text = await c.until((t) => t.includes('not read'), 3000, 'the answer')
      assert.match(text, /^HTTP\/1\.1 200 /)
      assert.match(text, /\r\nconnection: close\r\n/i)
      await within(c.closed, 3000, 'the server to close the connection')
    } finally {
      c.socket.destroy()
    }
  })

  it('keeps serving after each of them', async () => {
    const res = await fetch(`${server.url}/notes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '[1]',
    })
    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), { got: [1] })
  })
})
