// The chat example: its routes in memory, its event stream over a socket, and its page in
// headless Chromium (test/support/chromium.ts finds it, or installs Debian's package; the browser
// test skips, saying why, where it cannot be installed).
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { type Browser, type Page, launch } from 'puppeteer-core'
import { type Hub, memoryHub, serve } from 'sapwood'
import { redisHub } from 'sapwood/node'
import { nodeAdapter } from 'sapwood/node'
import { inject } from 'sapwood/testing'
import { type ChatOptions, type Message, app, makeApp } from '../../examples/chat.js'
import { findChromium } from '../support/chromium.js'
import { countingHub } from '../support/hubs.js'
import { lines } from '../support/lines.js'
import { type RedisServer, startRedis } from '../support/redis.js'
import { waitFor } from '../support/wait.js'

/** The messages a hub carries on the chat channel, as published. */
const published = (hub: Hub): unknown[] => {
  const seen: unknown[] = []
  hub.subscribe('chat', { message: (text) => seen.push(JSON.parse(text)), end: () => undefined })
  return seen
}

interface Served {
  readonly url: string
  readonly hub: Hub
  close(): Promise<void>
}

/** The chat app on a free loopback port, over a hub of its own. */
const start = async (options: ChatOptions = {}): Promise<Served> => {
  const hub = options.hub ?? memoryHub()
  // a client's spare keep-alive connection would hold close() for 10 s otherwise
  const server = await serve(makeApp({ ...options, hub }), {
    port: 0,
    host: '127.0.0.1',
    adapter: nodeAdapter({ closeTimeout: 300 }),
  })
  return {
    url: server.url,
    hub,
    close: async () => {
      await server.close()
      await hub.close()
    },
  }
}

const say = async (url: string, name: string, text: string): Promise<Message> => {
  const res = await fetch(`${url}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, text }),
    signal: AbortSignal.timeout(5000),
  })
  assert.equal(res.status, 201)
  return (await res.json()) as Message
}

interface SseEvent {
  readonly event: string
  readonly id: string | undefined
  readonly data: unknown
}

/** An open `GET /events`: its events one by one (comments skipped, data parsed), each read bounded. */
const listen = async (url: string, lastEventId?: string) => {
  const controller = new AbortController()
  const res = await fetch(`${url}/events`, {
    headers: lastEventId === undefined ? {} : { 'last-event-id': lastEventId },
    signal: AbortSignal.any([controller.signal, AbortSignal.timeout(20_000)]),
  })
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8')
  const read = lines(res.body)
  return {
    async next(ms = 5000): Promise<SseEvent> {
      const until = Date.now() + ms
      let event = 'message'
      let id: string | undefined
      const data: string[] = []
      for (;;) {
        const line = await read.next(Math.max(1, until - Date.now()))
        if (line === '' && data.length > 0) return { event, id, data: JSON.parse(data.join('\n')) }
        if (line === '' || line.startsWith(':')) continue
        const colon = line.indexOf(':')
        const field = line.slice(0, colon)
        const value = line.slice(colon + 1).replace(/^ /, '')
        if (field === 'event') event = value
        else if (field === 'id') id = value
        else if (field === 'data') data.push(value)
      }
    },
    close: async () => {
      controller.abort()
      await read.cancel()
    },
  }
}

const asEvent = (m: Message): SseEvent => ({ event: 'message', id: String(m.id), data: m })

describe('examples/chat: the routes', () => {
  const table: readonly [string, string, number][] = [
    ['GET', '/', 200],
    ['HEAD', '/', 200],
    ['DELETE', '/messages', 405],
    ['GET', '/messages', 405],
    ['GET', '/nope', 404],
  ]
  for (const [method, url, status] of table) {
    it(`${method} ${url} → ${status}`, async () => {
      assert.equal((await inject(app, { method, url })).status, status)
    })
  }

  it('serves the page, which listens to /events and shows messages as text', async () => {
    const res = await inject(app, { url: '/' })
    assert.equal(res.headers['content-type'], 'text/html; charset=utf-8')
    assert.match(res.body, /new EventSource\('\/events'\)/)
    assert.match(res.body, /textContent = message\.text/)
    assert.doesNotMatch(res.body, /innerHTML =/)
  })

  it('publishes a posted message and answers 201 with it, ids increasing', async () => {
    const hub = memoryHub()
    try {
      const seen = published(hub)
      const chat = makeApp({ hub })
      const first = await inject(chat, { method: 'POST', url: '/messages', body: { name: 'ada', text: 'hello' } })
      const second = await inject(chat, { method: 'POST', url: '/messages', body: { name: 'alan', text: 'hi <b>' } })
      assert.equal(first.status, 201)
      assert.equal(first.headers['content-type'], 'application/json')
      const [a, b] = [first.json<Message>(), second.json<Message>()]
      assert.deepEqual({ name: a.name, text: a.text }, { name: 'ada', text: 'hello' })
      assert.ok(Number.isSafeInteger(a.id) && b.id > a.id, `ids ${a.id} then ${b.id}`)
      assert.ok(!Number.isNaN(Date.parse(a.at)))
      assert.deepEqual(seen, [a, b])
    } finally {
      await hub.close()
    }
  })

  const refused: readonly [string, object, number][] = [
    ['no name', { text: 'hi' }, 422],
    ['an empty name', { name: '', text: 'hi' }, 422],
    ['a blank text', { name: 'ada', text: ' \t ' }, 422],
    ['a text that is not a string', { name: 'ada', text: 42 }, 422],
    ['a text over 500 characters', { name: 'ada', text: 'x'.repeat(501) }, 422],
    ['a field too many', { name: 'ada', text: 'hi', admin: true }, 422],
    ['an array', [{ name: 'ada', text: 'hi' }], 422],
  ]
  for (const [what, body, status] of refused) {
    it(`refuses ${what} (${status}), and publishes nothing`, async () => {
      const hub = memoryHub()
      try {
        const seen = published(hub)
        const res = await inject(makeApp({ hub }), { method: 'POST', url: '/messages', body })
        assert.equal(res.status, status)
        assert.equal(res.headers['content-type'], 'application/problem+json')
        assert.ok(res.json<{ errors: unknown[] }>().errors.length > 0)
        assert.doesNotMatch(res.body, /at .*\.ts:\d+/, 'no stack trace')
        assert.deepEqual(seen, [])
      } finally {
        await hub.close()
      }
    })
  }

  it('refuses JSON that does not parse (400) and another content type (415)', async () => {
    const hub = memoryHub()
    try {
      const seen = published(hub)
      const chat = makeApp({ hub })
      const broken = { method: 'POST', url: '/messages', headers: { 'content-type': 'application/json' }, body: '{' }
      assert.equal((await inject(chat, broken)).status, 400)
      const text = { method: 'POST', url: '/messages', headers: { 'content-type': 'text/plain' }, body: 'hi' }
      assert.equal((await inject(chat, text)).status, 415)
      assert.deepEqual(seen, [])
    } finally {
      await hub.close()
    }
  })
})

describe('examples/chat: the event stream, over a socket', () => {
  it('sends a handshake first, then each posted message to every open stream, with its id', async () => {
    const served = await start()
    const [one, two] = [await listen(served.url), await listen(served.url)]
    try {
      for (const client of [one, two]) {
        assert.deepEqual(await client.next(), {
          event: 'handshake',
          id: undefined,
          data: { resumedFrom: null, missed: 0 },
        })
      }
      const hello = await say(served.url, 'ada', 'hello')
      const again = await say(served.url, 'alan', 'again')
      for (const client of [one, two]) {
        assert.deepEqual(await client.next(), asEvent(hello))
        assert.deepEqual(await client.next(), asEvent(again))
      }
    } finally {
      await one.close()
      await two.close()
      await served.close()
    }
  })

  it('replays the messages after Last-Event-ID, then goes on live', async () => {
    const served = await start()
    try {
      const [m1, m2, m3] = [
        await say(served.url, 'a', '1'),
        await say(served.url, 'b', '2'),
        await say(served.url, 'c', '3'),
      ]
      const back = await listen(served.url, String(m1.id))
      let m4: Message
      try {
        assert.deepEqual(await back.next(), {
          event: 'handshake',
          id: undefined,
          data: { resumedFrom: String(m1.id), missed: 2 },
        })
        assert.deepEqual(await back.next(), asEvent(m2))
        assert.deepEqual(await back.next(), asEvent(m3))
        m4 = await say(served.url, 'd', '4')
        assert.deepEqual(await back.next(), asEvent(m4))
      } finally {
        await back.close()
      }
      // a client that has seen everything gets nothing again, and what comes next
      const current = await listen(served.url, String(m4.id))
      try {
        assert.deepEqual((await current.next()).data, { resumedFrom: String(m4.id), missed: 0 })
        const m5 = await say(served.url, 'e', '5')
        assert.deepEqual(await current.next(), asEvent(m5))
      } finally {
        await current.close()
      }
    } finally {
      await served.close()
    }
  })

  it('gives a newcomer the kept history, at most `history` messages; a garbled id counts as none', async () => {
    const served = await start({ history: 2 })
    try {
      const sent = [await say(served.url, 'a', '1'), await say(served.url, 'b', '2'), await say(served.url, 'c', '3')]
      for (const lastEventId of [undefined, 'not a number']) {
        const newcomer = await listen(served.url, lastEventId)
        try {
          assert.deepEqual((await newcomer.next()).data, { resumedFrom: lastEventId ?? null, missed: 2 })
          assert.deepEqual(await newcomer.next(), asEvent(sent[1]!))
          assert.deepEqual(await newcomer.next(), asEvent(sent[2]!))
        } finally {
          await newcomer.close()
        }
      }
    } finally {
      await served.close()
    }
  })

  it('leaves the room when the client goes: its subscription is given up', async () => {
    const hub = countingHub()
    const served = await start({ hub })
    try {
      await waitFor(() => hub.live === 1, 5000, 'the history subscription')
      const client = await listen(served.url)
      await client.next()
      assert.equal(hub.live, 2)
      await client.close()
      await waitFor(() => hub.live === 1, 5000, 'the stream to unsubscribe')
    } finally {
      await served.close()
    }
  })
})

describe('examples/chat over Redis', () => {
  let redis: RedisServer | undefined
  const servers: Served[] = []
  after(async () => {
    for (const s of servers) await s.close()
    await redis?.stop()
  })

  it('shares the room between two servers (as two processes would): live and on reconnection', async (t) => {
    const started = await startRedis()
    if (started.skip !== undefined) {
      t.skip(started.skip)
      return
    }
    redis = started.server
    const [a, b] = [await start({ hub: await redisHub(redis.url) }), await start({ hub: await redisHub(redis.url) })]
    servers.push(a, b)
    const onB = await listen(b.url)
    try {
      assert.equal((await onB.next()).event, 'handshake')
      const m1 = await say(a.url, 'ada', 'posted to A')
      assert.deepEqual(await onB.next(), asEvent(m1))
      const m2 = await say(a.url, 'alan', 'posted to A again')
      assert.deepEqual(await onB.next(), asEvent(m2))
      // the client moves to server B, which kept what A published: it resumes after m1
      const resumed = await listen(b.url, String(m1.id))
      try {
        assert.deepEqual((await resumed.next()).data, { resumedFrom: String(m1.id), missed: 1 })
        assert.deepEqual(await resumed.next(), asEvent(m2))
        // and B's ids go on above A's
        const m3 = await say(b.url, 'grace', 'posted to B')
        assert.ok(m3.id > m2.id, `id ${m3.id} after ${m2.id}`)
        assert.deepEqual(await resumed.next(), asEvent(m3))
      } finally {
        await resumed.close()
      }
    } finally {
      await onB.close()
    }
  })
})

describe('examples/chat in Chromium', () => {
  let browser: Browser | undefined
  let served: Served | undefined
  after(async () => {
    await browser?.close()
    await served?.close()
  })

  it('shows, as text, a message another client posted', async (t) => {
    const chromium = findChromium()
    if (chromium.skip !== undefined) {
      t.skip(chromium.skip)
      return
    }
    served = await start()
    browser = await launch({
      executablePath: chromium.path,
      headless: true, // --headless=new
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
      timeout: 30_000,
      protocolTimeout: 30_000,
    })
    const errors: string[] = []
    const open = async () => {
      const page = await browser!.newPage()
      page.setDefaultTimeout(15_000)
      page.on('pageerror', (e) => void errors.push(String(e)))
      await page.goto(served!.url, { waitUntil: 'load' })
      await page.waitForFunction(`document.getElementById('status').textContent === 'connected'`, { polling: 50 })
      return page
    }
    const texts = `[...document.querySelectorAll('#log li')].map((li) => li.textContent)`
    // polled on a timer: a page behind another tab gets no animation frames to poll on
    const shows = (page: Page, line: string) =>
      page.waitForFunction(`${texts}.includes(${JSON.stringify(line)})`, { polling: 50 }).catch(async (e: unknown) => {
        const state = await page.evaluate(`({ log: ${texts}, status: document.getElementById('status').textContent })`)
        throw new Error(`the page did not show ${JSON.stringify(line)}: ${JSON.stringify(state)}`, { cause: e })
      })

    const reader = await open()
    // a second client: another page, through its form
    const writer = await open()
    await writer.type('#name', 'bob')
    await writer.type('#text', 'hello from the other tab')
    await writer.click('button')
    await shows(reader, 'bobhello from the other tab')
    // and the form was cleared for the next line
    await writer.waitForFunction(`document.getElementById('text').value === ''`, { polling: 50 })

    // and a plain HTTP client, whose text is HTML: it is shown as text, never run
    const sly = '<img src=x onerror="window.injected = true">'
    await say(served.url, 'mallory', sly)
    await shows(reader, `mallory${sly}`)
    assert.equal(await reader.evaluate(`document.querySelectorAll('#log img').length`), 0)
    assert.equal(await reader.evaluate(`window.injected === true`), false)
    assert.deepEqual(await reader.evaluate(texts), ['bobhello from the other tab', `mallory${sly}`])
    assert.deepEqual(errors, [])
  })
})
