import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ChannelOverflowError, channel, memoryHub } from 'sapwood'
import { countingHub, manualHub } from '../support/hubs.js'

/** The next result, or a failure when none comes within `ms` (a read must not hang a test). */
const within = async <T>(read: Promise<T>, ms = 1000): Promise<T> => {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`nothing within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([read, late])
  } finally {
    clearTimeout(timer)
  }
}

/** True when the promise is still pending after the callbacks queued now have run. */
const pending = async (p: Promise<unknown>): Promise<boolean> => {
  let settled = false
  p.then(
    () => (settled = true),
    () => (settled = true),
  )
  await new Promise((r) => setImmediate(r))
  return !settled
}

describe('Subscription', () => {
  it('reads the messages published since subscribe, in order', async () => {
    const hub = memoryHub()
    const numbers = channel<number>('n', { hub })
    await numbers.publish(0)
    const sub = numbers.subscribe()
    for (let i = 1; i <= 3; i++) await numbers.publish(i)
    assert.equal(sub.pending, 3)
    const got: number[] = []
    for (let i = 0; i < 3; i++) {
      const r = await within(sub.next())
      assert.equal(r.done, false)
      got.push(r.value)
    }
    assert.deepEqual(got, [1, 2, 3])
    assert.equal(sub.pending, 0)
    await sub.return()
    await hub.close()
  })

  it('waits for the next message when none is buffered, and serves overlapping reads in order', async () => {
    const hub = memoryHub()
    const words = channel<string>('w', { hub })
    const sub = words.subscribe()
    const first = sub.next()
    const second = sub.next()
    assert.equal(await pending(first), true)
    await words.publish('a')
    await words.publish('b')
    assert.deepEqual(await within(first), { done: false, value: 'a' })
    assert.deepEqual(await within(second), { done: false, value: 'b' })
    await sub.return()
    await hub.close()
  })

  it('ends when the signal fires: a waiting read gets done, unread messages are dropped, the hub is left', async () => {
    const hub = countingHub()
    const words = channel<string>('w', { hub })
    const controller = new AbortController()
    const sub = words.subscribe(controller.signal)
    assert.equal(hub.live, 1)
    await words.publish('unread')
    controller.abort()
    assert.equal(hub.live, 0)
    assert.equal(sub.pending, 0)
    assert.deepEqual(await within(sub.next()), { done: true, value: undefined })

    const waiting = new AbortController()
    const other = words.subscribe(waiting.signal)
    const read = other.next()
    waiting.abort()
    assert.deepEqual(await within(read), { done: true, value: undefined })
    assert.equal(hub.live, 0)
  })

  it('ends a for-await loop when the signal fires inside it', async () => {
    const hub = memoryHub()
    const words = channel<string>('w', { hub })
    const controller = new AbortController()
    const sub = words.subscribe(controller.signal)
    const seen: string[] = []
    const loop = (async () => {
      for await (const w of sub) {
        seen.push(w)
        if (w === 'stop') controller.abort()
      }
    })()
    for (const w of ['a', 'stop', 'never']) await words.publish(w)
    await within(loop)
    assert.deepEqual(seen, ['a', 'stop'])
    await hub.close()
  })

  it('does not subscribe at all when the signal fired already', async () => {
    const hub = countingHub()
    const sub = channel('w', { hub }).subscribe(AbortSignal.abort())
    assert.equal(hub.made, 0)
    await within(sub.ready)
    assert.deepEqual(await within(sub.next()), { done: true, value: undefined })
  })

  it('leaves the hub when the reader breaks out of for await', async () => {
    const hub = countingHub()
    const words = channel<string>('w', { hub })
    const sub = words.subscribe()
    await words.publish('one')
    await words.publish('two')
    for await (const w of sub) {
      assert.equal(w, 'one')
      break
    }
    assert.equal(hub.live, 0)
    assert.deepEqual(await within(sub.next()), { done: true, value: undefined })
  })

  it('ends with ChannelOverflowError once `buffer` messages wait unread, after those messages', async () => {
    const hub = countingHub()
    const words = channel<number>('w', { hub, buffer: 3 })
    const sub = words.subscribe()
    for (let i = 0; i < 10; i++) await words.publish(i)
    assert.equal(sub.pending, 3, 'the buffer holds no more than its limit')
    assert.equal(hub.live, 0, 'the overflowing subscription left the hub at once')
    const got: number[] = []
    await assert.rejects(
      (async () => {
        for await (const n of sub) got.push(n)
      })(),
      (e: unknown) => e instanceof ChannelOverflowError && e.channel === 'w' && e.limit === 3,
    )
    assert.deepEqual(got, [0, 1, 2])
    assert.deepEqual(await within(sub.next()), { done: true, value: undefined }, 'the error is told once')
  })

  it('keeps a reader that keeps up, however many messages pass', async () => {
    const hub = memoryHub()
    const words = channel<number>('w', { hub, buffer: 2 })
    const sub = words.subscribe()
    for (let i = 0; i < 5000; i++) {
      await words.publish(i)
      if (i % 2 === 1) {
        assert.equal((await sub.next()).value, i - 1)
        assert.equal((await sub.next()).value, i)
      }
    }
    await sub.return()
    await hub.close()
  })

  it('reads what is buffered, then ends (done), when the hub closes', async () => {
    const hub = memoryHub()
    const words = channel<string>('w', { hub })
    const sub = words.subscribe()
    await words.publish('last')
    await hub.close()
    assert.deepEqual(await within(sub.next()), { done: false, value: 'last' })
    assert.deepEqual(await within(sub.next()), { done: true, value: undefined })
  })

  it('waits for `ready`, and ends with its error when the hub fails to subscribe', async () => {
    const hub = manualHub()
    const sub = channel('w', { hub }).subscribe()
    assert.equal(await pending(sub.ready), true)
    const read = sub.next()
    hub.settle(new Error('SUBSCRIBE failed'))
    await assert.rejects(within(sub.ready), /SUBSCRIBE failed/)
    await assert.rejects(within(read), /SUBSCRIBE failed/)
    assert.equal(hub.listeners.length, 0)
  })

  it('lets nobody await `ready` without an unhandled rejection', async () => {
    const hub = manualHub()
    const sub = channel('w', { hub }).subscribe()
    let unhandled: unknown
    const onUnhandled = (e: unknown): void => void (unhandled = e)
    process.on('unhandledRejection', onUnhandled)
    try {
      hub.settle(new Error('nobody listens'))
      await new Promise((r) => setTimeout(r, 10))
      assert.equal(unhandled, undefined)
      await assert.rejects(within(sub.next()), /nobody listens/)
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })

  it('ends with a clear error on a message that is not JSON (another program on the same Redis channel)', async () => {
    const hub = manualHub()
    const sub = channel('w', { hub }).subscribe()
    hub.settle()
    await hub.publish('w', 'not json')
    await assert.rejects(within(sub.next()), /channel 'w' received a message that is not JSON/)
    assert.equal(hub.listeners.length, 0)
    assert.deepEqual(await within(sub.next()), { done: true, value: undefined })
  })

  it('is its own iterator: one reader per subscription', () => {
    const sub = channel('w', { hub: memoryHub() }).subscribe()
    assert.equal(sub[Symbol.asyncIterator](), sub)
    void sub.return()
  })
})
