import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { type Channel, type Subscription, channel, choose, get, memoryHub, path, pipe, serve, stream } from 'sapwood'
import { inject } from 'sapwood/testing'
import { countingHub } from '../support/hubs.js'
import { eventually, lines } from '../support/lines.js'

/** True when X and Y are the same type (not merely assignable either way). */
type Equal<X, Y> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? true : false
const expect = <T extends true>(): T => true as T

/** Reads `n` messages, failing after a second instead of hanging. */
const take = async <T>(sub: Subscription<T>, n: number): Promise<T[]> => {
  const got: T[] = []
  const deadline = AbortSignal.timeout(1000)
  while (got.length < n) {
    const r = await Promise.race([
      sub.next(),
      new Promise<never>((_, reject) => deadline.addEventListener('abort', () => reject(new Error('too slow')))),
    ])
    if (r.done === true) break
    got.push(r.value)
  }
  return got
}

interface Note {
  readonly from: string
  readonly text: string
}

/** Streams a subscription as lines of text, after a first line that says it is subscribed. */
const listen = (room: Channel<Note>) =>
  pipe(
    get,
    path('/room'),
    stream(
      async function* (c) {
        const notes = room.subscribe(c.signal)
        await notes.ready
        yield 'ready\n'
        for await (const n of notes) {
          yield `${n.from}: ${n.text}\n`
          if (n.text === 'bye') return
        }
      },
      { type: 'text/plain; charset=utf-8' },
    ),
  )

describe('channel', () => {
  it('works in memory with no options: a message reaches a subscriber of the same name', async () => {
    const sub = channel<string>('channel.test default').subscribe()
    await channel<string>('channel.test default').publish('hello')
    assert.deepEqual(await take(sub, 1), ['hello'])
    await sub.return()
  })

  it('gives every subscriber every message, in order', async () => {
    const hub = memoryHub()
    const room = channel<number>('room', { hub })
    const subs = [room.subscribe(), room.subscribe(), room.subscribe()]
    for (let i = 0; i < 5; i++) await room.publish(i)
    for (const sub of subs) assert.deepEqual(await take(sub, 5), [0, 1, 2, 3, 4])
    await hub.close()
  })

  it('keeps channels of different names apart', async () => {
    const hub = memoryHub()
    const a = channel<string>('a', { hub }).subscribe()
    const b = channel<string>('b', { hub }).subscribe()
    await channel<string>('a', { hub }).publish('for a')
    await channel<string>('b', { hub }).publish('for b')
    assert.deepEqual(await take(a, 1), ['for a'])
    assert.deepEqual(await take(b, 1), ['for b'])
    assert.equal(a.pending + b.pending, 0)
    await hub.close()
  })

  it('sends messages as JSON, in memory as over Redis: each reader gets its own copy', async () => {
    const hub = memoryHub()
    const room = channel<{ when: unknown; missing?: undefined; list: unknown[]; nested: { n: number } }>('room', {
      hub,
    })
    const [one, two] = [room.subscribe(), room.subscribe()]
    const sent = { when: new Date(0), missing: undefined, list: [1, undefined], nested: { n: 1 } }
    await room.publish(sent)
    const [a] = await take(one, 1)
    const [b] = await take(two, 1)
    assert.deepEqual(a, { when: '1970-01-01T00:00:00.000Z', list: [1, null], nested: { n: 1 } })
    assert.deepEqual(b, a)
    assert.notEqual(a, b)
    assert.notEqual(a, sent)
    a.nested.n = 2
    assert.deepEqual(b.nested, { n: 1 })
    await hub.close()
  })

  it('rejects a message with no JSON form, and delivers nothing for it', async () => {
    const hub = countingHub()
    const room = channel<unknown>('room', { hub })
    const sub = room.subscribe()
    const cycle: Record<string, unknown> = {}
    cycle['self'] = cycle
    for (const bad of [undefined, () => 1, Symbol('s'), 1n, cycle]) {
      await assert.rejects(
        room.publish(bad),
        (e: unknown) => e instanceof TypeError && /channel 'room'/.test(e.message),
      )
    }
    assert.equal(sub.pending, 0)
    await room.publish(null)
    assert.deepEqual(await take(sub, 1), [null])
    await sub.return()
  })

  it('refuses an empty name and a buffer that is not a whole number above 0', () => {
    assert.throws(() => channel(''), TypeError)
    assert.throws(() => channel(42 as never), TypeError)
    for (const buffer of [0, -1, 1.5, Number.NaN, Infinity]) assert.throws(() => channel('a', { buffer }), RangeError)
  })

  it('types messages: publish takes T, subscribe yields T', async () => {
    const hub = memoryHub()
    const notes = channel<Note>('notes', { hub })
    const sub = notes.subscribe()
    await notes.publish({ from: 'ada', text: 'hi' })
    // @ts-expect-error a message of another type is refused
    await notes.publish({ from: 'ada' }).catch(() => undefined)
    for await (const n of sub) {
      expect<Equal<typeof n, Note>>()
      assert.equal(n.text, 'hi')
      break
    }
    expect<Equal<ReturnType<typeof channel>, Channel<unknown>>>()
    expect<Equal<Parameters<Channel<string>['publish']>[0], string>>()
    await hub.close()
  })

  it('feeds a stream: inject collects the lines published while the client listens', async () => {
    const hub = countingHub()
    const room = channel<Note>('room', { hub })
    const answer = inject(listen(room), { url: '/room' })
    await eventually('the stream subscribed', () => hub.live === 1)
    await room.publish({ from: 'ada', text: 'hello' })
    await room.publish({ from: 'bob', text: 'bye' })
    const res = await answer
    assert.equal(res.status, 200)
    assert.equal(res.body, 'ready\nada: hello\nbob: bye\n')
    assert.equal(res.complete, true)
    assert.equal(hub.live, 0)
  })

  it('over a real socket: each client of a stream gets what is published, and leaving unsubscribes', async () => {
    const hub = countingHub()
    const room = channel<Note>('room', { hub })
    const server = await serve(choose([listen(room)]), { port: 0, host: '127.0.0.1' })
    const controllers = [new AbortController(), new AbortController()]
    try {
      const clients = await Promise.all(
        controllers.map(async (controller) => {
          const res = await fetch(`${server.url}/room`, {
            signal: AbortSignal.any([controller.signal, AbortSignal.timeout(10_000)]),
          })
          assert.equal(res.status, 200)
          assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8')
          const read = lines(res.body)
          assert.equal(await read.next(), 'ready')
          return read
        }),
      )
      assert.equal(hub.live, 2)
      await room.publish({ from: 'ada', text: 'hello' })
      for (const read of clients) assert.equal(await read.next(), 'ada: hello')

      controllers[0]!.abort()
      await eventually('the first client unsubscribed when it left', () => hub.live === 1)
      await room.publish({ from: 'bob', text: 'still here?' })
      assert.equal(await clients[1]!.next(), 'bob: still here?')
    } finally {
      for (const c of controllers) c.abort()
      await server.close()
    }
    await eventually('every subscription ended with the server', () => hub.live === 0)
  })
})
