// The conformance suite: one app, the same requests, the same answers through every adapter.
// `conformance(name, start)` serves the app through one adapter and checks each case over a real
// socket; an adapter that cannot do a case names it in `skip`, with the reason.
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import * as http from 'node:http'
import * as https from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import * as sap from 'sapwood'
import { sleep, waitFor, within } from '../support/wait.js'

const { choose, pipe, get, post, del, path, ok, handle } = sap

/** Every request gives up after this long: a hung answer fails its case. */
export const LIMIT = 5_000

/** A server that serves the suite's app through one adapter; `ca` when it speaks HTTPS with its own certificate. */
export interface Served {
  readonly url: string
  readonly ca?: Buffer
  close(): Promise<void>
}

/** Serves `app` through one adapter, reporting handler errors to `options.onError`. */
export type Start = (app: sap.Part<sap.Conn, sap.Conn>, options: sap.RespondOptions) => Promise<Served>

/** The cases, by name: a skip names one of these. */
export const CASES = [
  'statuses',
  'set-cookie',
  'bodies',
  'stream',
  'file range',
  'HEAD',
  'OPTIONS',
  '405',
  'handler error',
  'slow body',
  'large body',
  'client abort',
  'SSE',
] as const
export type Case = (typeof CASES)[number]

/** Why an adapter skips a case, or every case (the adapter cannot start here). */
export type Skips = Partial<Record<Case, string>> | string

// -- the client

export interface Reply {
  readonly status: number
  /** The raw header lines, names lower-cased, repeated headers (set-cookie) kept apart. */
  readonly headers: readonly (readonly [string, string])[]
  readonly body: Uint8Array
}

export interface Ask {
  readonly method?: string
  readonly headers?: Readonly<Record<string, string>>
  /** The body, sent in these parts with `gap` ms between them. */
  readonly body?: string | Uint8Array | readonly (string | Uint8Array)[]
  readonly gap?: number
  readonly ca?: Buffer | undefined
}

/** Sends a request (node:http or node:https, with `ca`) and resolves with the response once its head arrived. */
export const open = (url: string, ask: Ask = {}): { response: Promise<http.IncomingMessage>; cancel: () => void } => {
  const target = new URL(url)
  const parts =
    ask.body === undefined ? [] : typeof ask.body === 'string' || ask.body instanceof Uint8Array ? [ask.body] : ask.body
  const options: https.RequestOptions = {
    method: ask.method ?? 'GET',
    headers: { ...ask.headers },
    signal: AbortSignal.timeout(LIMIT),
    agent: false,
    ...(ask.ca === undefined ? {} : { ca: ask.ca }),
  }
  const req = (target.protocol === 'https:' ? https : http).request(target, options)
  const response = new Promise<http.IncomingMessage>((resolve, reject) => {
    req.once('response', resolve)
    req.once('error', reject)
  })
  void (async () => {
    for (let i = 0; i < parts.length; i++) {
      if (i > 0) await sleep(ask.gap ?? 0)
      if (req.destroyed) return
      req.write(parts[i]!)
    }
    req.end()
  })()
  return { response, cancel: () => void req.destroy() }
}

/** Reads a response to its end (bounded by LIMIT). */
const collect = async (res: http.IncomingMessage): Promise<Uint8Array> => {
  const chunks: Buffer[] = []
  for await (const chunk of res) chunks.push(chunk as Buffer)
  return new Uint8Array(Buffer.concat(chunks))
}

/** One request, the whole reply. */
export const request = (url: string, ask: Ask = {}): Promise<Reply> =>
  within(
    (async () => {
      const res = await open(url, ask).response
      const headers: [string, string][] = []
      for (let i = 0; i < res.rawHeaders.length; i += 2)
        headers.push([res.rawHeaders[i]!.toLowerCase(), res.rawHeaders[i + 1]!])
      return { status: res.statusCode ?? 0, headers, body: await collect(res) }
    })(),
    LIMIT,
    `${ask.method ?? 'GET'} ${url}`,
  )

/** The values of a header, in order. */
export const header = (reply: Reply, name: string): string[] =>
  reply.headers.filter(([n]) => n === name).map(([, v]) => v)
const one = (reply: Reply, name: string): string | undefined => header(reply, name)[0]
const text = (reply: Reply): string => new TextDecoder().decode(reply.body)

// -- the app

const BYTES = Uint8Array.from({ length: 256 }, (_, i) => i)
const LETTERS = 'abcdefghijklmnopqrstuvwxyz'
/** Over the 1 MiB default body limit, so that the echo route's higher limit is what lets it in. */
const LARGE = 1_048_576 + 4096
const large = (): Uint8Array => Uint8Array.from({ length: LARGE }, (_, i) => (i * 7) % 251)

interface State {
  dir: string
  signalled: number
  stopped: number
  sseGone: number
}

const appOf = (state: State): sap.Part<sap.Conn, sap.Conn> =>
  choose([
    pipe(get, path('/text'), ok('héllo wörld')),
    pipe(post, path('/created'), sap.created('made')),
    pipe(del, path('/gone'), sap.noContent()),
    pipe(get, path('/cached'), sap.notModified()),
    pipe(get, path('/empty'), ok('')),
    pipe(get, path('/bytes'), ok(BYTES)),
    pipe(get, path('/json'), sap.json({ a: 1, b: [true, null], c: 'é' })),
    pipe(get, path('/cookies'), sap.setCookie('a', '1'), sap.setCookie('b', '2'), ok('two cookies')),
    pipe(
      get,
      path('/stream'),
      sap.stream(
        async function* () {
          yield 'one '
          await sleep(10)
          yield 'two '
          await sleep(10)
          yield 'three'
        },
        { type: 'text/plain; charset=utf-8' },
      ),
    ),
    pipe(
      get,
      path('/file'),
      sap.sendFile(() => join(state.dir, 'letters.txt')),
    ),
    pipe(
      get,
      path('/boom'),
      handle((): never => {
        throw new Error('secret detail of a failing handler')
      }),
    ),
    pipe(
      post,
      path('/echo'),
      sap.rawBody({ limit: 4 * 1_048_576 }),
      handle((c) => ok(c.body)),
    ),
    pipe(
      get,
      path('/forever'),
      sap.stream((c) => {
        c.signal.addEventListener('abort', () => state.signalled++, { once: true })
        return (async function* () {
          try {
            for (let i = 0; i < 10_000 && !c.signal.aborted; i++) {
              yield `tick ${i}\n`
              await sleep(5)
            }
          } finally {
            state.stopped++
          }
        })()
      }),
    ),
    pipe(
      get,
      path('/events'),
      sap.sse(async ({ send, signal }) => {
        await send('one', { id: '1' })
        // open until the client leaves (or the server closes): its signal is the only way out
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
        state.sseGone++
      }),
    ),
  ])

// -- the suite

/** Runs every case against the app served by `start`; `skip` names the cases the adapter cannot do, and why. */
export const conformance = (name: string, start: Start, skip: Skips = {}): void => {
  describe(`conformance: ${name}`, () => {
    const state: State = { dir: '', signalled: 0, stopped: 0, sseGone: 0 }
    const errors: unknown[] = []
    let served: Served | undefined
    const all: string | undefined = typeof skip === 'string' ? skip : undefined
    const reasons = typeof skip === 'string' ? {} : skip
    const at = (target: string): string => `${served!.url}${target}`
    const ask = (target: string, a: Ask = {}): Promise<Reply> => request(at(target), { ...a, ca: served!.ca })

    before(async () => {
      state.dir = await mkdtemp(join(tmpdir(), 'sapwood-conformance-'))
      await writeFile(join(state.dir, 'letters.txt'), LETTERS)
      if (all !== undefined) return
      served = await start(appOf(state), { onError: (error) => void errors.push(error) })
    })
    after(async () => {
      await served?.close()
      await rm(state.dir, { recursive: true, force: true })
    })

    const test = (which: Case, fn: () => Promise<void>): void => {
      const reason = all ?? reasons[which]
      it(which, reason === undefined ? {} : { skip: reason }, fn)
    }

    test('statuses', async () => {
      const okay = await ask('/text')
      assert.equal(okay.status, 200)
      const made = await ask('/created', { method: 'POST' })
      assert.equal(made.status, 201)
      assert.equal(text(made), 'made')
      for (const [method, target, status] of [
        ['DELETE', '/gone', 204],
        ['GET', '/cached', 304],
      ] as const) {
        const reply = await ask(target, { method })
        assert.equal(reply.status, status, target)
        assert.equal(reply.body.byteLength, 0, target)
        assert.equal(one(reply, 'transfer-encoding'), undefined, target)
      }
    })

    test('set-cookie', async () => {
      const reply = await ask('/cookies')
      assert.deepEqual(
        header(reply, 'set-cookie').map((cookie) => cookie.split(';')[0]),
        ['a=1', 'b=2'],
      )
    })

    test('bodies', async () => {
      const empty = await ask('/empty')
      assert.equal(empty.status, 200)
      assert.equal(empty.body.byteLength, 0)
      const words = await ask('/text')
      assert.equal(one(words, 'content-type'), 'text/plain; charset=utf-8')
      assert.equal(text(words), 'héllo wörld')
      assert.equal(one(words, 'content-length'), String(Buffer.byteLength('héllo wörld')))
      const bytes = await ask('/bytes')
      assert.equal(one(bytes, 'content-type'), 'application/octet-stream')
      assert.deepEqual(bytes.body, BYTES)
      const json = await ask('/json')
      assert.match(one(json, 'content-type') ?? '', /^application\/json/)
      assert.deepEqual(JSON.parse(text(json)), { a: 1, b: [true, null], c: 'é' })
    })

    test('stream', async () => {
      const reply = await ask('/stream')
      assert.equal(reply.status, 200)
      assert.equal(one(reply, 'content-type'), 'text/plain; charset=utf-8')
      assert.equal(text(reply), 'one two three')
      assert.equal(one(reply, 'content-length'), undefined, 'a stream of unknown length is not framed by a length')
    })

    test('file range', async () => {
      const whole = await ask('/file')
      assert.equal(whole.status, 200)
      assert.equal(text(whole), LETTERS)
      const part = await ask('/file', { headers: { range: 'bytes=2-5' } })
      assert.equal(part.status, 206)
      assert.equal(one(part, 'content-range'), `bytes 2-5/${LETTERS.length}`)
      assert.equal(text(part), 'cdef')
    })

    test('HEAD', async () => {
      const got = await ask('/text')
      const head = await ask('/text', { method: 'HEAD' })
      assert.equal(head.status, 200)
      assert.equal(head.body.byteLength, 0)
      assert.equal(one(head, 'content-type'), one(got, 'content-type'))
      const stream = await ask('/stream', { method: 'HEAD' })
      assert.equal(stream.status, 200)
      assert.equal(stream.body.byteLength, 0)
    })

    test('OPTIONS', async () => {
      const reply = await ask('/text', { method: 'OPTIONS' })
      assert.equal(reply.status, 204)
      assert.equal(reply.body.byteLength, 0)
      assert.deepEqual(one(reply, 'allow')?.split(/,\s*/), ['GET', 'HEAD', 'OPTIONS'])
    })

    test('405', async () => {
      const reply = await ask('/text', { method: 'PUT', body: 'x' })
      assert.equal(reply.status, 405)
      assert.deepEqual(one(reply, 'allow')?.split(/,\s*/), ['GET', 'HEAD', 'OPTIONS'])
    })

    test('handler error', async () => {
      const before = errors.length
      const reply = await ask('/boom')
      assert.equal(reply.status, 500)
      assert.match(one(reply, 'content-type') ?? '', /^application\/problem\+json/)
      const body = text(reply)
      assert.equal((JSON.parse(body) as { status?: unknown }).status, 500)
      assert.doesNotMatch(body, /secret detail|\bat .*:\d+:\d+/)
      assert.equal(errors.length, before + 1, 'onError saw the failure')
    })

    test('slow body', async () => {
      const started = performance.now()
      const reply = await ask('/echo', { method: 'POST', body: ['first half, ', 'second half'], gap: 100 })
      assert.equal(reply.status, 200)
      assert.equal(text(reply), 'first half, second half')
      assert.ok(performance.now() - started >= 90, 'the body really came in two parts')
    })

    test('large body', async () => {
      const bytes = large()
      const reply = await ask('/echo', {
        method: 'POST',
        body: bytes,
        headers: { 'content-type': 'application/octet-stream' },
      })
      assert.equal(reply.status, 200)
      assert.equal(reply.body.byteLength, LARGE)
      assert.ok(Buffer.from(reply.body).equals(Buffer.from(bytes)), 'the echo is the bytes sent')
    })

    test('client abort', async () => {
      const signalled = state.signalled
      const stopped = state.stopped
      const { response, cancel } = open(at('/forever'), { ca: served?.ca })
      const res = await within(response, LIMIT, 'the head of /forever')
      assert.equal(res.statusCode, 200)
      const first = await within(new Promise<unknown>((resolve) => res.once('data', resolve)), LIMIT, 'the first tick')
      assert.match(String(first), /^tick 0/)
      cancel()
      await waitFor(() => state.signalled === signalled + 1, LIMIT, "the producer's signal")
      await waitFor(() => state.stopped === stopped + 1, LIMIT, 'the producer to stop')
    })

    test('SSE', async () => {
      const gone = state.sseGone
      const { response, cancel } = open(at('/events'), { ca: served?.ca, headers: { accept: 'text/event-stream' } })
      try {
        const res = await within(response, LIMIT, 'the head of /events')
        assert.equal(res.statusCode, 200)
        assert.match(res.headers['content-type'] ?? '', /^text\/event-stream/)
        let seen = ''
        await within(
          new Promise<void>((resolve) => {
            res.on('data', (chunk: Buffer) => {
              seen += chunk.toString()
              if (seen.includes('\n\n')) resolve()
            })
          }),
          LIMIT,
          'the first event',
        )
        assert.match(seen, /id: 1\n/)
        assert.match(seen, /data: one\n\n/)
      } finally {
        cancel()
      }
      await waitFor(() => state.sseGone === gone + 1, LIMIT, 'the SSE producer to see the client leave')
    })
  })
}
