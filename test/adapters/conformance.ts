// The conformance suite: one app (conformance-app.ts), the same requests, the same answers through
// every adapter. `conformance(name, start, skip)` serves the app through one adapter (in this
// process, or in another runtime's process) and checks each case over a real socket, with HTTP/1.1
// or HTTP/2; an adapter that cannot do a case names it in `skip`, with the reason.
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import * as http from 'node:http'
import * as http2 from 'node:http2'
import * as https from 'node:https'
import * as net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import * as tls from 'node:tls'
import { after, before, describe, it } from 'node:test'
import * as sap from 'sapwood'
import * as node from 'sapwood/node'
import WebSocket from 'ws'
import { sleep, waitFor, within } from '../support/wait.js'
import { BYTES, LETTERS, LETTERS_FILE, NO_FILES, SECRET, type State, appOf, freshState } from './conformance-app.js'

/** Every request gives up after this long: a hung answer fails its case. */
export const LIMIT = 5_000

/** A server that serves the suite's app through one adapter. */
export interface Served {
  readonly url: string
  /** The certificate to trust, when it speaks HTTPS with its own. */
  readonly ca?: Buffer
  /** Speak HTTP/2 to it (node:http2, over TLS with `ca`) rather than HTTP/1.1. */
  readonly http2?: boolean
  close(): Promise<void>
}

/** What the suite gives a server that runs in this process; a server in another process needs neither. */
export interface Local {
  /** The suite's app, counting in this process (made on the first call, with a directory for its file). */
  readonly app: () => Promise<sap.Part<sap.Conn, sap.Conn>>
  /** The respond options: `onError` counts the handler errors the suite checks. */
  readonly options: sap.RespondOptions
}

/**
 * Serves the suite's app through one adapter. A server in another process makes the same app
 * itself (`appOf` of conformance-app.ts) and counts its handler errors; the suite reads the
 * counters with `GET /__state` in every case, so local and remote servers are checked alike.
 */
export type Start = (local: Local) => Promise<Served>

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
  'WebSocket',
  'bad Host',
  'aborted upload',
] as const
export type Case = (typeof CASES)[number]

/**
 * Why an adapter skips a case (a string), or every case (the adapter cannot start here); `{ todo }`
 * runs a case that fails today because of a known bug in sapwood, and reports it without failing the run.
 */
export type Skips = Partial<Record<Case, string | { readonly todo: string }>> | string

// -- the client

/** The head of a response, and its body as it comes. */
export interface Head {
  readonly status: number
  /** '1.1' or '2.0'. */
  readonly version: string
  /** The header lines, names lower-cased, repeated headers (set-cookie) kept apart. */
  readonly headers: readonly (readonly [string, string])[]
  readonly body: Readable
}

export interface Reply extends Omit<Head, 'body'> {
  readonly body: Uint8Array
}

export interface Ask {
  readonly method?: string
  readonly headers?: Readonly<Record<string, string>>
  /** The body, sent in these parts with `gap` ms between them. */
  readonly body?: string | Uint8Array | readonly (string | Uint8Array)[]
  readonly gap?: number
  readonly ca?: Buffer | undefined
  /** Over HTTP/2 (node:http2) rather than HTTP/1.1. */
  readonly http2?: boolean | undefined
}

const partsOf = (ask: Ask): readonly (string | Uint8Array)[] =>
  ask.body === undefined ? [] : typeof ask.body === 'string' || ask.body instanceof Uint8Array ? [ask.body] : ask.body

/** Writes the parts of a body with their gaps, then ends it (unless the request was cut meanwhile). */
const send = async (
  parts: readonly (string | Uint8Array)[],
  gap: number,
  out: { readonly destroyed: boolean; write(part: string | Uint8Array): unknown; end(): unknown },
): Promise<void> => {
  for (let i = 0; i < parts.length; i++) {
    if (i > 0) await sleep(gap)
    if (out.destroyed) return
    out.write(parts[i]!)
  }
  if (!out.destroyed) out.end()
}

const openHttp1 = (target: URL, ask: Ask): { response: Promise<Head>; cancel: () => void } => {
  const options: https.RequestOptions = {
    method: ask.method ?? 'GET',
    headers: { ...ask.headers },
    signal: AbortSignal.timeout(LIMIT),
    agent: false,
    ...(ask.ca === undefined ? {} : { ca: ask.ca }),
  }
  const req = (target.protocol === 'https:' ? https : http).request(target, options)
  const response = new Promise<Head>((resolve, reject) => {
    req.once('response', (res: http.IncomingMessage) => {
      const headers: [string, string][] = []
      for (let i = 0; i < res.rawHeaders.length; i += 2)
        headers.push([res.rawHeaders[i]!.toLowerCase(), res.rawHeaders[i + 1]!])
      resolve({ status: res.statusCode ?? 0, version: res.httpVersion, headers, body: res })
    })
    req.once('error', reject)
  })
  void send(partsOf(ask), ask.gap ?? 0, req)
  return { response, cancel: () => void req.destroy() }
}

const openHttp2 = (target: URL, ask: Ask): { response: Promise<Head>; cancel: () => void } => {
  const parts = partsOf(ask)
  const session = http2.connect(target.origin, ask.ca === undefined ? {} : { ca: ask.ca })
  const stream = session.request(
    { ':method': ask.method ?? 'GET', ':path': `${target.pathname}${target.search}`, ...ask.headers },
    { endStream: parts.length === 0, signal: AbortSignal.timeout(LIMIT) },
  )
  // one session per request, as HTTP/1.1 has one connection per request here (agent: false)
  stream.once('close', () => session.close())
  const response = new Promise<Head>((resolve, reject) => {
    stream.once('response', (raw) => {
      const headers: [string, string][] = []
      for (const [name, value] of Object.entries(raw)) {
        if (name.startsWith(':') || value === undefined) continue
        for (const one of Array.isArray(value) ? value : [value]) headers.push([name, String(one)])
      }
      resolve({ status: Number(raw[':status']), version: '2.0', headers, body: stream })
    })
    stream.once('error', reject)
    session.on('error', reject)
  })
  if (parts.length > 0) void send(parts, ask.gap ?? 0, stream)
  return {
    response,
    cancel: () => {
      stream.close(http2.constants.NGHTTP2_CANCEL)
      session.destroy()
    },
  }
}

/** Sends a request (HTTP/1.1, or HTTP/2 when `ask.http2`) and resolves with the response once its head arrived. */
export const open = (url: string, ask: Ask = {}): { response: Promise<Head>; cancel: () => void } =>
  (ask.http2 === true ? openHttp2 : openHttp1)(new URL(url), ask)

/** Reads a body to its end (bounded by `request`'s LIMIT). */
const collect = async (body: Readable): Promise<Uint8Array> => {
  const chunks: Buffer[] = []
  for await (const chunk of body) chunks.push(chunk as Buffer)
  return new Uint8Array(Buffer.concat(chunks))
}

/** One request, the whole reply. */
export const request = (url: string, ask: Ask = {}): Promise<Reply> =>
  within(
    (async () => {
      const head = await open(url, ask).response
      return { ...head, body: await collect(head.body) }
    })(),
    LIMIT,
    `${ask.method ?? 'GET'} ${url}`,
  )

/** The values of a header, in order. */
export const header = (reply: Pick<Reply, 'headers'>, name: string): string[] =>
  reply.headers.filter(([n]) => n === name).map(([, v]) => v)
const one = (reply: Pick<Reply, 'headers'>, name: string): string | undefined => header(reply, name)[0]
const text = (reply: Reply): string => new TextDecoder().decode(reply.body)

/** The first chunk of a body, or a failure after LIMIT. */
const firstChunk = (body: Readable, what: string): Promise<Buffer> =>
  within(new Promise<Buffer>((resolve) => body.once('data', resolve)), LIMIT, what)

// -- the app's larger inputs

/** Over the 1 MiB default body limit, so that the echo route's higher limit is what lets it in. */
const LARGE = 1_048_576 + 4096
const large = (): Uint8Array => Uint8Array.from({ length: LARGE }, (_, i) => (i * 7) % 251)

// -- the suite

/** Runs every case against the app served by `start`; `skip` names the cases the adapter cannot do, and why. */
/**
 * Sends raw HTTP/1.1 bytes (over TLS when the URL is https, trusting `ca`) and resolves with the
 * status line the server answered, once it closed the connection (or `LIMIT` passed).
 */
const rawStatus = (url: string, bytes: string, ca: Buffer | undefined): Promise<string> =>
  new Promise((resolve) => {
    const { hostname, port, protocol } = new URL(url)
    const socket =
      protocol === 'https:'
        ? tls.connect({ host: hostname, port: Number(port), ca, ALPNProtocols: ['http/1.1'], servername: 'localhost' })
        : net.connect(Number(port), hostname)
    let data = ''
    socket.setEncoding('latin1')
    socket.once(protocol === 'https:' ? 'secureConnect' : 'connect', () => socket.write(bytes))
    socket.on('data', (chunk: string) => (data += chunk))
    socket.on('error', () => undefined)
    socket.once('close', () => resolve(data.split('\r\n')[0] ?? ''))
    socket.setTimeout(LIMIT, () => socket.destroy())
  })

export const conformance = (name: string, start: Start, skip: Skips = {}): void => {
  describe(`conformance: ${name}`, () => {
    const state = freshState()
    let dir: string | undefined
    let served: Served | undefined
    const all: string | undefined = typeof skip === 'string' ? skip : undefined
    const reasons = typeof skip === 'string' ? {} : skip
    const at = (target: string): string => `${served!.url}${target}`
    const how = (): Ask => ({ ca: served!.ca, http2: served!.http2 })
    const ask = (target: string, a: Ask = {}): Promise<Reply> => request(at(target), { ...a, ...how() })
    /** The server's counters, wherever it runs. */
    const stateOf = async (): Promise<State> => {
      const reply = await ask('/__state')
      assert.equal(reply.status, 200, 'GET /__state')
      return JSON.parse(text(reply)) as State
    }

    const local: Local = {
      app: async () => {
        if (dir === undefined) {
          dir = await mkdtemp(join(tmpdir(), 'sapwood-conformance-'))
          await writeFile(join(dir, LETTERS_FILE), LETTERS)
        }
        return appOf({ sap, node }, state, dir)
      },
      options: { onError: () => void state.errors++ },
    }

    before(async () => {
      if (all === undefined) served = await start(local)
    })
    after(async () => {
      await served?.close()
      if (dir !== undefined) await rm(dir, { recursive: true, force: true })
    })

    const test = (which: Case, fn: () => Promise<void>): void => {
      const reason = all ?? reasons[which]
      it(which, reason === undefined ? {} : typeof reason === 'string' ? { skip: reason } : reason, fn)
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
      assert.notEqual(text(whole), NO_FILES, 'the server made its app without sapwood/node: skip this case, saying why')
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
      const before = (await stateOf()).errors
      const reply = await ask('/boom')
      assert.equal(reply.status, 500)
      assert.match(one(reply, 'content-type') ?? '', /^application\/problem\+json/)
      const body = text(reply)
      assert.equal((JSON.parse(body) as { status?: unknown }).status, 500)
      assert.ok(!body.includes(SECRET), 'the error message stays on the server')
      assert.doesNotMatch(body, /\bat .*:\d+:\d+/)
      assert.equal((await stateOf()).errors, before + 1, 'onError saw the failure')
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
      const { signalled, stopped } = await stateOf()
      const { response, cancel } = open(at('/forever'), how())
      try {
        const res = await within(response, LIMIT, 'the head of /forever')
        assert.equal(res.status, 200)
        assert.match(String(await firstChunk(res.body, 'the first tick')), /^tick 0/)
      } finally {
        cancel()
      }
      await waitFor(async () => (await stateOf()).signalled === signalled + 1, LIMIT, "the producer's signal")
      await waitFor(async () => (await stateOf()).stopped === stopped + 1, LIMIT, 'the producer to stop')
    })

    test('SSE', async () => {
      const gone = (await stateOf()).sseGone
      const { response, cancel } = open(at('/events'), { ...how(), headers: { accept: 'text/event-stream' } })
      try {
        const res = await within(response, LIMIT, 'the head of /events')
        assert.equal(res.status, 200)
        assert.match(one(res, 'content-type') ?? '', /^text\/event-stream/)
        let seen = ''
        await within(
          new Promise<void>((resolve) => {
            res.body.on('data', (chunk: Buffer) => {
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
      await waitFor(
        async () => (await stateOf()).sseGone === gone + 1,
        LIMIT,
        'the SSE producer to see the client leave',
      )
    })

    test('WebSocket', async () => {
      assert.notEqual(served!.http2, true, 'the ws client speaks HTTP/1.1 only: skip WebSocket over HTTP/2, saying why')
      const closed = (await stateOf()).wsClosed
      const ws = new WebSocket(`${served!.url.replace(/^http/, 'ws')}/ws`, {
        handshakeTimeout: LIMIT,
        ...(served!.ca === undefined ? {} : { ca: served!.ca }),
      })
      const next = (what: string): Promise<{ data: Buffer; binary: boolean }> =>
        within(
          new Promise((resolve) => ws.once('message', (data: Buffer, binary) => resolve({ data, binary }))),
          LIMIT,
          what,
        )
      try {
        await within(
          new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject)),
          LIMIT,
          'the WebSocket handshake',
        )
        const echoed = next('the echo of a text frame')
        ws.send('héllo')
        const words = await echoed
        assert.equal(words.binary, false, 'text comes back as text')
        assert.equal(words.data.toString(), 'héllo')
        const bytes = next('the echo of a binary frame')
        ws.send(BYTES)
        const back = await bytes
        assert.equal(back.binary, true, 'bytes come back as bytes')
        assert.deepEqual(new Uint8Array(back.data), BYTES)
        const closing = within(
          new Promise<[number, string]>((resolve) =>
            ws.once('close', (code, reason) => resolve([code, reason.toString()])),
          ),
          LIMIT,
          'the close the server was asked for',
        )
        ws.send('close')
        assert.deepEqual(await closing, [4000, 'asked to'])
      } finally {
        ws.terminate()
      }
      await waitFor(async () => (await stateOf()).wsClosed === closed + 1, LIMIT, "the socket's close handler")
    })

    test('aborted upload', async () => {
      // a client that leaves mid-body: the app's read fails at once (not after a timeout), and
      // the server goes on answering
      const { uploadsCut } = await stateOf()
      const { hostname, port, protocol } = new URL(served!.url)
      const socket =
        protocol === 'https:'
          ? tls.connect({
              host: hostname,
              port: Number(port),
              ca: served!.ca,
              ALPNProtocols: ['http/1.1'],
              servername: 'localhost',
            })
          : net.connect(Number(port), hostname)
      socket.on('error', () => undefined)
      await new Promise((resolve) => socket.once(protocol === 'https:' ? 'secureConnect' : 'connect', resolve))
      socket.write(`POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100000\r\n\r\n${'x'.repeat(1000)}`)
      await sleep(100)
      socket.destroy()
      await waitFor(async () => (await stateOf()).uploadsCut === uploadsCut + 1, LIMIT, 'the read to fail')
      assert.equal((await ask('/text')).status, 200)
    })

    test('bad Host', async () => {
      // RFC 9112 §3.2: a malformed, empty or repeated Host is a 400. Where a runtime builds the
      // request's URL from it (Deno, a fetch bridge), `Host: x/admin` would move into the path
      // the app routes, unseen by a proxy that routed `/text`.
      for (const host of ['x/admin', 'a b', '', 'a:80:80', '[::1']) {
        const status = await rawStatus(
          served!.url,
          `GET /text HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
          served!.ca,
        )
        assert.match(status, /^HTTP\/1\.1 400 /, `Host: ${JSON.stringify(host)} gave ${JSON.stringify(status)}`)
      }
      const good = await rawStatus(
        served!.url,
        `GET /text HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`,
        served!.ca,
      )
      assert.match(good, /^HTTP\/1\.1 200 /)
    })
  })
}
