// redisHub against a real redis-server, which test/support/redis.ts finds, installs when missing
// (apt-get), starts on a free loopback port and stops; skipped, with the reason printed, where
// it cannot be installed.
import assert from 'node:assert/strict'
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { EventSource } from 'eventsource'
import { Redis } from 'ioredis'
import { type Hub, HubClosedError, type Subscription, channel } from 'sapwood'
import { redisHub } from 'sapwood/node'
import { eventually } from '../support/lines.js'
import { freePort, startRedis } from '../support/redis.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const redis = await startRedis()
after(() => redis.server?.stop())

/** Reads `n` messages, failing after `ms` instead of hanging. */
const take = async <T>(sub: Subscription<T>, n: number, ms = 5000): Promise<T[]> => {
  const got: T[] = []
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`only ${got.length} of ${n} messages within ${ms} ms`)), ms)
  })
  try {
    while (got.length < n) {
      const r = await Promise.race([sub.next(), late])
      if (r.done === true) break
      got.push(r.value)
    }
  } finally {
    clearTimeout(timer)
  }
  return got
}

/** How many connections Redis counts as subscribed to `name`. */
const subscribers = async (admin: Redis, name: string): Promise<number> => {
  const [, count] = (await admin.pubsub('NUMSUB', name)) as [string, number]
  return Number(count)
}

describe('redisHub, without a server', () => {
  it('refuses a URL that is not redis:// or rediss://', async () => {
    for (const url of ['', 'localhost:6379', 'http://127.0.0.1:6379', 'not a url']) {
      await assert.rejects(redisHub(url), (e: unknown) => e instanceof TypeError && /redis:\/\//.test(e.message))
    }
  })

  it('rejects, saying where, when nothing listens there; the password is not shown', async () => {
    const port = await freePort()
    await assert.rejects(redisHub(`redis://:secret@127.0.0.1:${port}`), (e: unknown) => {
      assert.ok(e instanceof Error)
      assert.match(e.message, new RegExp(`could not connect to redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port}`))
      assert.doesNotMatch(e.message, /secret/)
      return true
    })
  })
  it('says to install ioredis when it is missing', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'test/fixtures/channel-no-ioredis.ts'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 30_000,
    })
    assert.deepEqual(JSON.parse(out), {
      message: 'sapwood: redisHub needs the ioredis package, which could not be loaded: npm install ioredis',
      cause: 'ERR_MODULE_NOT_FOUND',
    })
  })
})

describe('redisHub', { skip: redis.skip ?? false }, () => {
  const url = redis.server?.url ?? 'redis://unused'
  let admin: Redis
  const hubs: Hub[] = []
  const hub = async (): Promise<Hub> => {
    const h = await redisHub(url)
    hubs.push(h)
    return h
  }
  before(() => {
    admin = new Redis(url)
  })
  after(async () => {
    await Promise.all(hubs.map((h) => h.close()))
    await admin.quit()
  })

  it('carries two channels over one hub, each to its own subscribers, in order', async () => {
    const h = await hub()
    const news = channel<string>('news', { hub: h })
    const chat = channel<{ n: number }>('chat', { hub: h })
    const newsSubs = [news.subscribe(), news.subscribe()]
    const chatSub = chat.subscribe()
    await Promise.all([...newsSubs, chatSub].map((s) => s.ready))
    assert.equal(await subscribers(admin, 'news'), 1, 'one Redis subscription for both subscribers')
    for (let n = 0; n < 3; n++) await chat.publish({ n })
    await news.publish('extra')
    for (const s of newsSubs) assert.deepEqual(await take(s, 1), ['extra'])
    assert.deepEqual(await take(chatSub, 3), [{ n: 0 }, { n: 1 }, { n: 2 }])
    for (const s of [...newsSubs, chatSub]) await s.return()
  })

  it('joins two hubs (as two processes would be) on one Redis channel', async () => {
    const [a, b] = [await hub(), await hub()]
    const there = channel<{ when: Date; text: string }>('joined', { hub: b }).subscribe()
    await there.ready
    await channel<{ when: Date; text: string }>('joined', { hub: a }).publish({ when: new Date(0), text: 'hi' })
    // the same JSON round trip as in memory: a Date arrives as its ISO string
    assert.deepEqual(await take(there, 1), [{ when: '1970-01-01T00:00:00.000Z', text: 'hi' }])
    await there.return()
  })

  it('subscribes in Redis while this process has a subscriber, and unsubscribes when the last one leaves', async () => {
    const h = await hub()
    const room = channel<string>('comings', { hub: h })
    const controller = new AbortController()
    const first = room.subscribe(controller.signal)
    const second = room.subscribe()
    await Promise.all([first.ready, second.ready])
    assert.equal(await subscribers(admin, 'comings'), 1)
    controller.abort()
    await room.publish('after the first left')
    assert.deepEqual(await take(second, 1), ['after the first left'])
    assert.equal(await subscribers(admin, 'comings'), 1)
    await second.return()
    await eventually('Redis counts no subscriber', async () => (await subscribers(admin, 'comings')) === 0)
    const again = room.subscribe()
    await again.ready
    assert.equal(await subscribers(admin, 'comings'), 1, 'and subscribes again for a new one')
    await again.return()
  })

  it('cuts off a subscriber that falls behind, as in memory', async () => {
    const h = await hub()
    const room = channel<number>('slow', { hub: h, buffer: 2 })
    const sub = room.subscribe()
    await sub.ready
    for (let n = 0; n < 5; n++) await room.publish(n)
    await eventually('the buffer filled', () => sub.pending === 2)
    const got: number[] = []
    await assert.rejects(
      (async () => {
        for await (const n of sub) got.push(n)
      })(),
      /fell 2 messages behind/,
    )
    assert.deepEqual(got, [0, 1])
  })

  it('ends its subscriptions on close, quits, and refuses to publish or subscribe after', async () => {
    const h = await redisHub(url)
    const room = channel<string>('closing', { hub: h })
    const sub = room.subscribe()
    await sub.ready
    const read = sub.next()
    await h.close()
    assert.deepEqual(await read, { done: true, value: undefined })
    await assert.rejects(room.publish('late'), HubClosedError)
    assert.throws(() => room.subscribe(), HubClosedError)
    await eventually('Redis counts no subscriber', async () => (await subscribers(admin, 'closing')) === 0)
  })

  describe('across processes', () => {
    let child: ChildProcess | undefined
    after(async () => {
      if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise((r) => child!.once('exit', r))
      child.kill('SIGTERM')
      const timer = setTimeout(() => child?.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(timer)
    })

    it('a message published here reaches an EventSource client of a server in another process', async () => {
      child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/channel-room.ts'], {
        cwd: root,
        env: { ...process.env, REDIS_URL: url },
        stdio: ['pipe', 'pipe', 'pipe'],
      })
      let stderr = ''
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
      const serverUrl = await new Promise<string>((resolve, reject) => {
        let out = ''
        const timer = setTimeout(() => reject(new Error(`process B did not listen within 30 s: ${stderr}`)), 30_000)
        child!.stdout!.on('data', (chunk: Buffer) => {
          out += chunk.toString()
          const m = /listening (\S+)\n/.exec(out)
          if (m !== null) {
            clearTimeout(timer)
            resolve(m[1]!)
          }
        })
        child!.once('exit', (code) => {
          clearTimeout(timer)
          reject(new Error(`process B exited (${code}): ${stderr}`))
        })
      })

      const room = channel<{ from: string; text: string }>('room', { hub: await hub() })
      const es = new EventSource(`${serverUrl}/room`)
      const got: { type: string; id: string; data: unknown }[] = []
      const take = (e: MessageEvent): void => {
        got.push({ type: e.type, id: e.lastEventId, data: JSON.parse(String(e.data)) })
      }
      es.addEventListener('ready', take)
      es.addEventListener('note', take)
      let errors = 0
      es.addEventListener('error', () => void errors++)
      try {
        await eventually('process B says it subscribed', () => got.length > 0, 10_000)
        assert.deepEqual(got, [{ type: 'ready', id: '', data: { subscribed: 'room' } }])
        assert.equal(await subscribers(admin, 'room'), 1)
        await room.publish({ from: `process ${process.pid}`, text: 'hello across processes' })
        await room.publish({ from: 'A', text: 'again' })
        await eventually('both notes reach the EventSource', () => got.length >= 3)
        assert.deepEqual(got.slice(1), [
          { type: 'note', id: '1', data: { from: `process ${process.pid}`, text: 'hello across processes' } },
          { type: 'note', id: '2', data: { from: 'A', text: 'again' } },
        ])
        assert.equal(errors, 0, 'the EventSource never lost its connection')
      } finally {
        es.close()
      }
      await eventually(
        'process B unsubscribed when its client left',
        async () => (await subscribers(admin, 'room')) === 0,
      )
    })
  })
})
