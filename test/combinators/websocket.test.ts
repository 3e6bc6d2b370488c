import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import * as net from 'node:net'
import { describe, it } from 'node:test'
import WebSocket from 'ws'
import * as sap from 'sapwood'
import * as sapNode from 'sapwood/node'
import { inject } from 'sapwood/testing'
import { sleep, waitFor, within } from '../support/wait.js'

const { choose, pipe, get, path, header, assign, bearer, ok, websocket, serve } = sap

const wsUrl = (url: string, target: string): string => url.replace(/^http/, 'ws') + target

/** A client whose messages are kept as they arrive, and whose close is awaited. */
interface Client {
  readonly ws: WebSocket
  readonly messages: (string | Buffer)[]
  /** The upgrade's response headers. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  readonly closed: Promise<{ code: number; reason: string }>
  next(count: number): Promise<(string | Buffer)[]>
}

/** Opens a WebSocket (fails after 3 s, or on an HTTP answer). */
const open = (url: string, options: WebSocket.ClientOptions = {}): Promise<Client> =>
  within(
    new Promise<Client>((resolve, reject) => {
      const ws = new WebSocket(url, options)
      const messages: (string | Buffer)[] = []
      let headers: Client['headers'] = {}
      ws.on('message', (data, binary) => messages.push(binary ? (data as Buffer) : (data as Buffer).toString()))
      ws.on('upgrade', (res) => (headers = res.headers))
      const closed = new Promise<{ code: number; reason: string }>((done) =>
        ws.on('close', (code, reason) => done({ code, reason: reason.toString() })),
      )
      ws.once('error', reject)
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
      ws.once('open', () =>
        resolve({
          ws,
          messages,
          headers,
          closed: within(closed, 3000, 'the socket to close'),
          next: async (count) => {
            await waitFor(() => messages.length >= count, 3000, `${count} messages`)
            return messages.slice(0, count)
          },
        }),
      )
    }),
    3000,
    `a WebSocket to ${url}`,
  )

/** The HTTP answer to a WebSocket handshake that the server refused. */
const refused = (
  url: string,
  options: WebSocket.ClientOptions = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> =>
  within(
    new Promise((resolve, reject) => {
      const ws = new WebSocket(url, options)
      ws.on('error', () => undefined)
      ws.once('open', () => {
        ws.terminate()
        reject(new Error('the handshake was accepted'))
      })
      ws.once('unexpected-response', (_req, res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
        )
      })
    }),
    3000,
    `the refusal of ${url}`,
  )

/** Sends raw bytes and resolves with all the server wrote once it closes the connection. */
const raw = (url: string, bytes: string | Buffer, ms = 3000): Promise<string> =>
  within(
    new Promise((resolve, reject) => {
      const socket = net.connect({ port: Number(new URL(url).port), host: '127.0.0.1' })
      const chunks: Buffer[] = []
      socket.on('data', (c: Buffer) => chunks.push(c))
      socket.on('error', reject)
      socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')))
      socket.write(bytes)
    }),
    ms,
    'the server to close the connection',
  )

const handshake = (target: string, extra = ''): string =>
  `GET ${target} HTTP/1.1\r\nhost: localhost\r\nupgrade: websocket\r\nconnection: Upgrade\r\n` +
  `sec-websocket-key: ${randomBytes(16).toString('base64')}\r\nsec-websocket-version: 13\r\n${extra}\r\n`

const HANDSHAKE = {
  upgrade: 'websocket',
  connection: 'Upgrade',
  'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
  'sec-websocket-version': '13',
}

const echo = websocket({ message: (ws, data) => ws.send(data) }, { heartbeat: 0 })

describe('websocket', () => {
  describe('the handshake, in memory', () => {
    const app = choose([pipe(path('/ws'), echo)])

    it('drafts 101 with the upgrade headers and no body for a WebSocket handshake', async () => {
      const res = await inject(app, { url: '/ws', headers: HANDSHAKE })
      assert.equal(res.status, 101)
      assert.equal(res.headers['upgrade'], 'websocket')
      assert.equal(res.headers['connection'], 'Upgrade')
      assert.equal(res.body, '')
    })

    it('answers a plain GET with 426 and `upgrade: websocket`', async () => {
      const res = await inject(app, { url: '/ws' })
      assert.equal(res.status, 426)
      assert.equal(res.headers['upgrade'], 'websocket')
      assert.equal(res.json<{ title: string }>().title, 'Upgrade Required')
    })

    it('answers 426 when `connection` does not ask for the upgrade', async () => {
      const res = await inject(app, { url: '/ws', headers: { ...HANDSHAKE, connection: 'keep-alive' } })
      assert.equal(res.status, 426)
    })

    it('answers another version of the protocol with 426 and `sec-websocket-version: 13`', async () => {
      const res = await inject(app, { url: '/ws', headers: { ...HANDSHAKE, 'sec-websocket-version': '8' } })
      assert.equal(res.status, 426)
      assert.equal(res.headers['sec-websocket-version'], '13')
    })

    it('answers a missing or malformed key with 400', async () => {
      for (const key of [undefined, 'short', 'dGhlIHNhbXBsZSBub25jZQ']) {
        const headers: Record<string, string> = { ...HANDSHAKE }
        if (key === undefined) delete headers['sec-websocket-key']
        else headers['sec-websocket-key'] = key
        const res = await inject(app, { url: '/ws', headers })
        assert.equal(res.status, 400, `key ${String(key)}`)
      }
    })

    it('answers a handshake with a body with 400', async () => {
      const res = await inject(app, { method: 'GET', url: '/ws', headers: HANDSHAKE, body: 'hello' })
      assert.equal(res.status, 400)
    })

    it('answers another method with 405 and `allow: GET`', async () => {
      const res = await inject(app, { method: 'POST', url: '/ws', headers: HANDSHAKE })
      assert.equal(res.status, 405)
      assert.match(String(res.headers['allow']), /GET/)
    })

    it('leaves a plain GET on its path to a later branch (a page for browsers)', async () => {
      const both = choose([pipe(path('/chat'), echo), pipe(get, path('/chat'), ok('the chat page'))])
      assert.equal((await inject(both, { url: '/chat' })).body, 'the chat page')
      assert.equal((await inject(both, { url: '/chat', headers: HANDSHAKE })).status, 101)
    })

    it('says 426 rather than 404 when only a websocket branch has the path', async () => {
      const tree = choose([pipe(path('/other'), ok('x')), pipe(path('/ws'), echo), pipe(path('/more'), ok('y'))])
      assert.equal((await inject(tree, { url: '/ws' })).status, 426)
      assert.equal((await inject(tree, { url: '/nowhere' })).status, 404)
    })

    it('agrees the first offered subprotocol it speaks, and refuses offers it speaks none of', async () => {
      const chat = pipe(path('/ws'), websocket({}, { protocols: ['chat.v2', 'chat.v1'] }))
      const agreed = await inject(chat, {
        url: '/ws',
        headers: { ...HANDSHAKE, 'sec-websocket-protocol': 'x, chat.v1' },
      })
      assert.equal(agreed.status, 101)
      assert.equal(agreed.headers['sec-websocket-protocol'], 'chat.v1')
      const none = await inject(chat, { url: '/ws', headers: { ...HANDSHAKE, 'sec-websocket-protocol': 'x, y' } })
      assert.equal(none.status, 400)
      const bad = await inject(chat, { url: '/ws', headers: { ...HANDSHAKE, 'sec-websocket-protocol': 'a b' } })
      assert.equal(bad.status, 400)
      const without = await inject(chat, { url: '/ws', headers: HANDSHAKE })
      assert.equal(without.status, 101)
      assert.equal(without.headers['sec-websocket-protocol'], undefined)
    })

    it('never agrees a subprotocol when none is configured', async () => {
      const res = await inject(app, { url: '/ws', headers: { ...HANDSHAKE, 'sec-websocket-protocol': 'chat' } })
      assert.equal(res.status, 101)
      assert.equal(res.headers['sec-websocket-protocol'], undefined)
    })

    it('refuses bad options when the tree is built', () => {
      assert.throws(() => websocket({}, { maxPayload: 0 }), RangeError)
      assert.throws(() => websocket({}, { maxPayload: 1.5 }), RangeError)
      assert.throws(() => websocket({}, { heartbeat: -1 }), RangeError)
      assert.throws(() => websocket({}, { protocols: ['a b'] }), TypeError)
      assert.throws(() => websocket({ message: 'x' } as never), TypeError)
      assert.throws(() => websocket(null as never), TypeError)
    })

    it('is routed as a GET', () => {
      const listed = sap.routes(pipe(path('/ws'), echo))
      assert.deepEqual(
        listed.map((r) => [r.methods, r.pattern]),
        [[['GET'], '/ws']],
      )
      assert.match(listed[0]!.steps, /websocket/)
    })
  })

  describe('over a real socket', () => {
    it('echoes through a header filter, and a refused handshake gets the filter’s 404', async () => {
      const app = choose([pipe(path('/echo'), header('x-token', 'secret'), echo)])
      const server = await serve(app, { port: 0 })
      try {
        const client = await open(wsUrl(server.url, '/echo'), { headers: { 'x-token': 'secret' } })
        client.ws.send('hello')
        client.ws.send(Buffer.from([1, 2, 3]))
        const [text, bytes] = await client.next(2)
        assert.equal(text, 'hello')
        assert.deepEqual(bytes, Buffer.from([1, 2, 3]))
        client.ws.close(1000, 'bye')
        assert.equal((await client.closed).code, 1000)

        const refusal = await refused(wsUrl(server.url, '/echo'))
        assert.equal(refusal.status, 404)
        assert.equal(refusal.headers['content-type'], 'application/problem+json')
        assert.equal(refusal.headers['connection'], 'close')
        assert.equal(JSON.parse(refusal.body).status, 404)
        assert.equal((await refused(wsUrl(server.url, '/nowhere'), { headers: { 'x-token': 'secret' } })).status, 404)
      } finally {
        await server.close()
      }
    })

    it('answers a handshake without credentials with bearer’s 401 and its challenge', async () => {
      const app = pipe(
        path('/private'),
        bearer((token) => (token === 't0k' ? { name: 'ann' } : null)),
        websocket({ open: (ws, c) => ws.send(`hello ${c.assigns.user.name}`) }, { heartbeat: 0 }),
      )
      const server = await serve(app, { port: 0 })
      try {
        const refusal = await refused(wsUrl(server.url, '/private'))
        assert.equal(refusal.status, 401)
        assert.match(String(refusal.headers['www-authenticate']), /^Bearer/)
        const client = await open(wsUrl(server.url, '/private'), { headers: { authorization: 'Bearer t0k' } })
        assert.deepEqual(await client.next(1), ['hello ann'])
        client.ws.close()
        await client.closed
      } finally {
        await server.close()
      }
    })

    it('gives the handlers the Conn of the handshake: params, assigns, headers', async () => {
      const seen: string[] = []
      const app = pipe(
        path('/rooms/:room'),
        assign('user', 'ann'),
        websocket(
          {
            open: (ws, c) => ws.send(`${c.params.room}/${String(c.assigns.user)}/${c.headers['x-client']}`),
            message: (_ws, data, c) => void seen.push(`${c.params.room}:${String(data)}`),
            close: (_ws, code, _reason, c) => void seen.push(`closed ${c.params.room} ${code}`),
          },
          { heartbeat: 0 },
        ),
      )
      const server = await serve(app, { port: 0 })
      try {
        const client = await open(wsUrl(server.url, '/rooms/blue'), { headers: { 'x-client': 'cli' } })
        assert.deepEqual(await client.next(1), ['blue/ann/cli'])
        client.ws.send('hi')
        await waitFor(() => seen.length === 1, 3000, 'the message')
        client.ws.close(4000)
        await client.closed
        await waitFor(() => seen.length === 2, 3000, 'the close handler')
        assert.deepEqual(seen, ['blue:hi', 'closed blue 4000'])
      } finally {
        await server.close()
      }
    })

    it('sends the headers the app drafted with the 101, and the agreed subprotocol', async () => {
      const app = pipe(
        path('/ws'),
        sap.setHeader('x-served-by', 'sapwood'),
        websocket({}, { protocols: ['chat'], heartbeat: 0 }),
      )
      const server = await serve(app, { port: 0 })
      try {
        const client = await open(wsUrl(server.url, '/ws'))
        assert.equal(client.headers['x-served-by'], 'sapwood')
        client.ws.close()
        await client.closed
        const chat = await within(
          new Promise<WebSocket>((resolve, reject) => {
            const ws = new WebSocket(wsUrl(server.url, '/ws'), ['chat'])
            ws.once('open', () => resolve(ws))
            ws.once('error', reject)
          }),
          3000,
          'a chat socket',
        )
        assert.equal(chat.protocol, 'chat')
        chat.close()
      } finally {
        await server.close()
      }
    })

    it('answers 500, and upgrades nothing, when a drafted header cannot be sent', async () => {
      const app = pipe(
        path('/ws'),
        sap.builder((c) => sap.update(c, { respHeaders: { 'x-bad': 'a\r\nb' } }), 'bad'),
        echo,
      )
      const server = await serve(app, { port: 0 })
      try {
        const refusal = await refused(wsUrl(server.url, '/ws'))
        assert.equal(refusal.status, 500)
        assert.equal(refusal.headers['x-bad'], undefined)
      } finally {
        await server.close()
      }
    })

    it('answers a plain GET with 426 and `upgrade: websocket`', async () => {
      const server = await serve(pipe(path('/ws'), echo), { port: 0 })
      try {
        const res = await fetch(`${server.url}/ws`)
        assert.equal(res.status, 426)
        assert.equal(res.headers.get('upgrade'), 'websocket')
        assert.equal(((await res.json()) as { status: number }).status, 426)
      } finally {
        await server.close()
      }
    })

    it('closes with 1009 a message over maxPayload, and tells the error handler', async () => {
      const errors: Error[] = []
      const app = pipe(
        path('/ws'),
        websocket(
          { message: (ws, data) => ws.send(data), error: (_ws, error) => void errors.push(error) },
          { maxPayload: 1024, heartbeat: 0 },
        ),
      )
      const server = await serve(app, { port: 0 })
      try {
        const client = await open(wsUrl(server.url, '/ws'))
        client.ws.send('x'.repeat(1024))
        assert.equal((await client.next(1))[0], 'x'.repeat(1024))
        client.ws.send('x'.repeat(1025))
        assert.equal((await client.closed).code, 1009)
        await waitFor(() => errors.length === 1, 3000, 'the error handler')
        assert.ok(errors[0] instanceof Error)
      } finally {
        await server.close()
      }
    })

    it('closes the connection of a peer that sends invalid frames, and keeps serving', async () => {
      const errors: Error[] = []
      const app = choose([
        pipe(path('/ws'), websocket({ error: (_ws, error) => void errors.push(error) }, { heartbeat: 0 })),
        pipe(get, path('/health'), ok('fine')),
      ])
      const server = await serve(app, { port: 0 })
      try {
        const socket = net.connect({ port: Number(new URL(server.url).port), host: '127.0.0.1' })
        socket.on('error', () => undefined)
        const chunks: Buffer[] = []
        socket.on('data', (c: Buffer) => chunks.push(c))
        const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()))
        socket.write(handshake('/ws'))
        await waitFor(() => Buffer.concat(chunks).includes('\r\n\r\n'), 3000, 'the 101')
        assert.match(Buffer.concat(chunks).toString('latin1'), /^HTTP\/1\.1 101 /)
        // an unmasked text frame (clients must mask), then garbage
        socket.write(Buffer.concat([Buffer.from([0x81, 0x05]), Buffer.from('hello'), randomBytes(64)]))
        await within(closed, 3000, 'the server to close the connection')
        const answer = Buffer.concat(chunks)
        const frame = answer.subarray(answer.indexOf('\r\n\r\n') + 4)
        assert.equal(frame[0], 0x88, 'a close frame')
        assert.equal(frame.readUInt16BE(2), 1002)
        await waitFor(() => errors.length === 1, 3000, 'the error handler')
        assert.equal(await (await fetch(`${server.url}/health`)).text(), 'fine')

        // garbage instead of a handshake is a 400 from node, nothing else
        assert.match(await raw(server.url, 'GARBAGE\r\n\r\n'), /^HTTP\/1\.1 400 /)
        assert.equal(await (await fetch(`${server.url}/health`)).text(), 'fine')
      } finally {
        await server.close()
      }
    })

    it('cuts a peer that does not answer the heartbeat, and keeps one that does', async () => {
      const closes: number[] = []
      const app = pipe(path('/ws'), websocket({ close: (_ws, code) => void closes.push(code) }, { heartbeat: 150 }))
      const server = await serve(app, { port: 0 })
      try {
        const started = Date.now()
        const silent = await open(wsUrl(server.url, '/ws'), { autoPong: false })
        const lively = await open(wsUrl(server.url, '/ws'))
        assert.equal((await silent.closed).code, 1006)
        assert.ok(Date.now() - started < 2000)
        await waitFor(() => closes.length === 1, 3000, 'the close handler')
        assert.deepEqual(closes, [1006])
        // three more pings answered
        await sleep(450)
        assert.equal(lively.ws.readyState, WebSocket.OPEN)
        lively.ws.close()
        await lively.closed
      } finally {
        await server.close()
      }
    })

    it('closes open sockets with 1001 when the server closes, and resolves', async () => {
      const app = pipe(path('/ws'), echo)
      const server = await serve(app, { port: 0 })
      const clients = [await open(wsUrl(server.url, '/ws')), await open(wsUrl(server.url, '/ws'))]
      const started = Date.now()
      await within(server.close(), 3000, 'close()')
      assert.ok(Date.now() - started < 3000)
      for (const client of clients) assert.equal((await client.closed).code, 1001)
    })

    it('cuts after closeTimeout a peer that never answers the closing handshake', async () => {
      const app = pipe(path('/ws'), echo)
      const server = await sapNode
        .nodeAdapter({ closeTimeout: 200 })
        .listen(sap.respond(app), { port: 0, host: '127.0.0.1' })
      // a raw peer: it never answers the server's close frame
      const socket = net.connect({ port: Number(new URL(server.url).port), host: '127.0.0.1' })
      socket.on('error', () => undefined)
      const chunks: Buffer[] = []
      socket.on('data', (c: Buffer) => chunks.push(c))
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()))
      socket.write(handshake('/ws'))
      await waitFor(() => Buffer.concat(chunks).includes('\r\n\r\n'), 3000, 'the 101')
      const started = Date.now()
      await within(server.close(), 3000, 'close()')
      assert.ok(Date.now() - started < 2000)
      await within(closed, 3000, 'the connection to be cut')
    })

    it('closes with 1011 when a handler throws or rejects, and reports the error to onError', async () => {
      const reported: unknown[] = []
      const closes: number[] = []
      const app = pipe(
        path('/ws/:how'),
        websocket(
          {
            message: async (_ws, data, c) => {
              if (data !== 'boom') return
              if (c.params.how === 'throw') throw new Error('thrown')
              await sleep(1)
              throw new Error('rejected')
            },
            close: (_ws, code) => void closes.push(code),
          },
          { heartbeat: 0 },
        ),
      )
      const server = await serve(app, { port: 0, onError: (error) => void reported.push(error) })
      try {
        for (const how of ['throw', 'reject']) {
          const client = await open(wsUrl(server.url, `/ws/${how}`))
          client.ws.send('fine')
          client.ws.send('boom')
          assert.equal((await client.closed).code, 1011)
        }
        await waitFor(() => closes.length === 2, 3000, 'the close handlers')
        assert.deepEqual(
          reported.map((e) => (e as Error).message),
          ['thrown', 'rejected'],
        )
        assert.equal((await fetch(`${server.url}/ws/x`)).status, 426)
      } finally {
        await server.close()
      }
    })

    it('runs the handlers of a socket one at a time, in order', async () => {
      const order: string[] = []
      const app = pipe(
        path('/ws'),
        websocket(
          {
            open: async () => {
              await sleep(50)
              order.push('open')
            },
            message: async (ws, data) => {
              order.push(`start ${String(data)}`)
              await sleep(10)
              order.push(`end ${String(data)}`)
              ws.send(data)
            },
            close: () => void order.push('close'),
          },
          { heartbeat: 0 },
        ),
      )
      const server = await serve(app, { port: 0 })
      try {
        const client = await open(wsUrl(server.url, '/ws'))
        client.ws.send('a')
        client.ws.send('b')
        await client.next(2)
        client.ws.close()
        await client.closed
        await waitFor(() => order.includes('close'), 3000, 'the close handler')
        assert.deepEqual(order, ['open', 'start a', 'end a', 'start b', 'end b', 'close'])
      } finally {
        await server.close()
      }
    })

    it('delivers every message in order while a slow handler holds the socket back', async () => {
      const app = pipe(
        path('/ws'),
        websocket(
          {
            message: async (ws, data) => {
              await sleep(2)
              ws.send(data)
            },
          },
          { heartbeat: 0 },
        ),
      )
      const server = await serve(app, { port: 0 })
      try {
        const client = await open(wsUrl(server.url, '/ws'))
        const sent = Array.from({ length: 60 }, (_, i) => `m${i}`)
        for (const m of sent) client.ws.send(m)
        assert.deepEqual(await client.next(60), sent)
        client.ws.close()
        await client.closed
      } finally {
        await server.close()
      }
    })

    it('fires the Conn’s signal when the socket closes', async () => {
      let signal: AbortSignal | undefined
      const app = pipe(path('/ws'), websocket({ open: (_ws, c) => void (signal = c.signal) }, { heartbeat: 0 }))
      const server = await serve(app, { port: 0 })
      try {
        const client = await open(wsUrl(server.url, '/ws'))
        await waitFor(() => signal !== undefined, 3000, 'open')
        assert.equal(signal!.aborted, false)
        client.ws.close()
        await client.closed
        await waitFor(() => signal!.aborted, 3000, 'the signal')
      } finally {
        await server.close()
      }
    })

    it('stays healthy when a client leaves before its handshake is answered', async () => {
      let release: () => void = () => undefined
      let entered = 0
      const opened: string[] = []
      const app = choose([
        pipe(
          path('/slow'),
          sap.handle(async (c) => {
            entered++
            await new Promise<void>((resolve) => (release = resolve))
            return c
          }),
          websocket({ open: () => void opened.push('slow') }, { heartbeat: 0 }),
        ),
        pipe(get, path('/health'), ok('fine')),
      ])
      const server = await serve(app, { port: 0 })
      try {
        const socket = net.connect({ port: Number(new URL(server.url).port), host: '127.0.0.1' })
        socket.on('error', () => undefined)
        socket.write(handshake('/slow'))
        await waitFor(() => entered === 1, 3000, 'the handler')
        socket.destroy()
        await sleep(20)
        release()
        await sleep(20)
        assert.deepEqual(opened, [])
        assert.equal(await (await fetch(`${server.url}/health`)).text(), 'fine')
      } finally {
        await server.close()
      }
    })

    it('answers an upgrade request for another protocol as HTTP, and closes the connection', async () => {
      const server = await serve(choose([pipe(get, path('/'), ok('home')), pipe(path('/ws'), echo)]), { port: 0 })
      try {
        const h2c =
          'host: localhost\r\nconnection: Upgrade, HTTP2-Settings\r\nupgrade: h2c\r\nhttp2-settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n'
        const home = await raw(server.url, `GET / HTTP/1.1\r\n${h2c}\r\n`)
        assert.match(home, /^HTTP\/1\.1 200 /)
        assert.match(home, /connection: close/i)
        assert.ok(home.endsWith('home'))
        const ws = await raw(server.url, `GET /ws HTTP/1.1\r\n${h2c}\r\n`)
        assert.match(ws, /^HTTP\/1\.1 426 /)
        assert.match(ws, /upgrade: websocket/i)
        const head = await raw(server.url, `HEAD / HTTP/1.1\r\n${h2c}\r\n`)
        assert.match(head, /^HTTP\/1\.1 200 /)
        assert.match(head, /content-length: 4/i)
        assert.ok(head.endsWith('\r\n\r\n'), 'no body for HEAD')
      } finally {
        await server.close()
      }
    })

    it('reads the body of an upgrade request that the app answers as HTTP', async () => {
      const app = pipe(
        sap.post,
        path('/echo'),
        sap.handle(async (c) => ok(new TextDecoder().decode(await c.source.read(1024)))),
      )
      const server = await serve(app, { port: 0 })
      try {
        const socket = net.connect({ port: Number(new URL(server.url).port), host: '127.0.0.1' })
        const chunks: Buffer[] = []
        socket.on('data', (c: Buffer) => chunks.push(c))
        const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()))
        socket.write(
          'POST /echo HTTP/1.1\r\nhost: localhost\r\nconnection: Upgrade\r\nupgrade: h2c\r\ncontent-length: 11\r\n\r\nhello',
        )
        await sleep(50)
        socket.write(' world')
        await within(closed, 3000, 'the answer')
        const answer = Buffer.concat(chunks).toString('latin1')
        assert.match(answer, /^HTTP\/1\.1 200 /)
        assert.ok(answer.endsWith('hello world'))

        const chunked = await raw(
          server.url,
          'POST /echo HTTP/1.1\r\nhost: localhost\r\nconnection: Upgrade\r\nupgrade: h2c\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
        )
        assert.match(chunked, /^HTTP\/1\.1 400 /)
      } finally {
        await server.close()
      }
    })
  })

  describe('nodeUpgradeListener', () => {
    it('upgrades on a server made with http.createServer, and its close() sends 1001', async () => {
      const handler = sap.respond(pipe(path('/echo'), echo))
      const upgrades = sapNode.nodeUpgradeListener(handler)
      const server = createServer(sapNode.nodeListener(handler)).on('upgrade', upgrades)
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      try {
        const client = await open(wsUrl(url, '/echo'))
        client.ws.send('hi')
        assert.deepEqual(await client.next(1), ['hi'])
        await within(upgrades.close(), 3000, 'close()')
        assert.equal((await client.closed).code, 1001)
        assert.equal((await refused(wsUrl(url, '/echo'))).status, 503)
      } finally {
        await new Promise((resolve) => server.close(resolve))
      }
    })

    it('answers 500 and reports why when the server does not listen for upgrades', async () => {
      const reported: unknown[] = []
      const handler = sap.respond(pipe(path('/echo'), echo), { onError: (error) => void reported.push(error) })
      const server = createServer(sapNode.nodeListener(handler))
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      try {
        assert.equal((await refused(wsUrl(url, '/echo'))).status, 500)
        assert.match(String(reported[0]), /nodeUpgradeListener/)
      } finally {
        server.closeAllConnections()
        await new Promise((resolve) => server.close(resolve))
      }
    })
  })
})
