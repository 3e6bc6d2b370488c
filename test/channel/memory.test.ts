import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { HubClosedError, type HubListener, type HubSubscription, memoryHub } from 'sapwood'

const recorder = (): HubListener & { readonly texts: string[]; readonly ends: unknown[] } => {
  const texts: string[] = []
  const ends: unknown[] = []
  return { texts, ends, message: (t) => void texts.push(t), end: (e) => void ends.push(e) }
}

describe('memoryHub', () => {
  it('hands each message to every subscription of its name, synchronously, and to no other name', async () => {
    const hub = memoryHub()
    const a1 = recorder()
    const a2 = recorder()
    const b = recorder()
    hub.subscribe('a', a1)
    hub.subscribe('a', a2)
    hub.subscribe('b', b)
    const sent = hub.publish('a', '"x"')
    assert.deepEqual(a1.texts, ['"x"'], 'delivered before publish resolves')
    await sent
    assert.deepEqual(a2.texts, ['"x"'])
    assert.deepEqual(b.texts, [])
    await hub.close()
  })

  it('counts the same listener subscribed twice as two subscriptions, each unsubscribed on its own', async () => {
    const hub = memoryHub()
    const l = recorder()
    const first = hub.subscribe('a', l)
    const second = hub.subscribe('a', l)
    await hub.publish('a', '1')
    first.unsubscribe()
    first.unsubscribe()
    await hub.publish('a', '2')
    second.unsubscribe()
    await hub.publish('a', '3')
    assert.deepEqual(l.texts, ['1', '1', '2'])
    await hub.close()
  })

  it('stops delivering to a subscription that unsubscribes while a message is handed out', async () => {
    const hub = memoryHub()
    const late = recorder()
    const held: { late?: HubSubscription } = {}
    hub.subscribe('a', { message: () => held.late?.unsubscribe(), end: () => {} })
    held.late = hub.subscribe('a', late)
    await hub.publish('a', '1')
    assert.deepEqual(late.texts, [])
    await hub.close()
  })

  it('keeps two hubs apart', async () => {
    const one = memoryHub()
    const two = memoryHub()
    const l = recorder()
    one.subscribe('a', l)
    await two.publish('a', '1')
    assert.deepEqual(l.texts, [])
    await Promise.all([one.close(), two.close()])
  })

  it('ends every subscription on close, and refuses to publish or subscribe after it', async () => {
    const hub = memoryHub()
    const l = recorder()
    hub.subscribe('a', l)
    await hub.close()
    await hub.close()
    assert.deepEqual(l.ends, [undefined], 'ended once, without an error')
    await assert.rejects(hub.publish('a', '1'), HubClosedError)
    assert.throws(() => hub.subscribe('a', recorder()), /the memory hub is closed/)
  })
})
