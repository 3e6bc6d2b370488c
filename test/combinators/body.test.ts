import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { type AddressInfo, type Socket, connect } from 'node:net'
import { after, before, describe, it } from 'node:test'
import type { StandardSchemaV1 } from '@standard-schema/spec'
import { Type } from '@sinclair/typebox'
import express from 'express'
import * as sap from 'sapwood'
import * as sapNode from 'sapwood/node'
import { conn, inject } from 'sapwood/testing'
import { expectLeft, expectRight } from '../helpers.js'

const {
  bodyLimit,
  bodyStream,
  choose,
  formBody,
  handle,
  iterableSource,
  json,
  jsonBody,
  makeConn,
  ok,
  path,
  pipe,
  post,
  rawBody,
  recover,
  textBody,
} = sap

// ---------------------------------------------------------------------------------------------
// The app every decoder test runs, in memory and over sockets

const Item = {
  type: 'object',
  properties: { name: { type: 'string', minLength: 1 }, qty: { type: 'integer', minimum: 1 } },
  required: ['name', 'qty'],
  additionalProperties: false,
} as const
const Search = Type.Object({ q: Type.String(), page: Type.Integer({ minimum: 1 }), tags: Type.Array(Type.String()) })
// The first option changes the value it checks (drops `name`, fills `extra`) and then refuses it.
const Strict = {
  type: 'object',
  properties: { kind: { const: 'a' }, extra: { type: 'string', default: 'filled' } },
  required: ['kind'],
  additionalProperties: false,
} as const
const Loose = { type: 'object', required: ['kind', 'name'] } as const

const count = async (chunks: AsyncIterable<Uint8Array>): Promise<{ size: number; chunks: number }> => {
  let size = 0
  let n = 0
  for await (const chunk of chunks) {
    size += chunk.byteLength
    n++
  }
  return { size, chunks: n }
}

let onUpload: (r: sap.Rejection) => void = () => undefined

const app = choose([
  pipe(
    post,
    path('/json'),
    jsonBody(),
    handle((c) => json({ got: c.body })),
  ),
  pipe(
    post,
    path('/item'),
    jsonBody(Item),
    handle((c) => json(c.body)),
  ),
  pipe(
    post,
    path('/small-json'),
    jsonBody(undefined, { limit: 16 }),
    handle((c) => json(c.body)),
  ),
  pipe(
    post,
    path('/text'),
    textBody(),
    handle((c) => ok(c.body)),
  ),
  pipe(
    post,
    path('/any-text'),
    textBody({ type: 'text/*', limit: 16 }),
    handle((c) => ok(c.body)),
  ),
  pipe(
    post,
    path('/form'),
    formBody(undefined, { maxFields: 3, limit: 64 }),
    handle((c) => json({ fields: c.body, nullPrototype: Object.getPrototypeOf(c.body) === null })),
  ),
  pipe(
    post,
    path('/search'),
    formBody(Search),
    handle((c) => json(c.body)),
  ),
  pipe(
    post,
    path('/raw'),
    rawBody(),
    handle((c) => json({ size: c.body.byteLength, first: c.body[0] ?? null })),
  ),
  pipe(
    post,
    path('/image'),
    rawBody({ type: ['image/png', 'image/jpeg'], limit: 16 }),
    handle((c) => json({ size: c.body.byteLength })),
  ),
  pipe(
    post,
    path('/stream'),
    bodyStream(),
    handle(async (c) => json(await count(c.body))),
  ),
  pipe(
    post,
    path('/small-stream'),
    bodyStream({ limit: 16 }),
    handle(async (c) => json(await count(c.body))),
  ),
  pipe(
    post,
    path('/either'),
    choose([
      pipe(
        jsonBody(Strict, { removeAdditional: 'all', useDefaults: true }),
        handle((c) => json({ by: 'first', body: c.body })),
      ),
      pipe(
        jsonBody(Loose),
        handle((c) => json({ by: 'second', body: c.body })),
      ),
    ]),
  ),
  pipe(
    post,
    path('/upload'),
    recover(jsonBody(), (r) => {
      onUpload(r)
      return undefined
    }),
    handle((c) => json(c.body)),
  ),
])

// ---------------------------------------------------------------------------------------------
// One request, in memory or over a socket, as status, content type and body

interface Request {
  readonly url: string
  readonly type?: string
  readonly body: string | Uint8Array
}

interface Answer {
  readonly status: number
  readonly type: string | undefined
  readonly body: string
}

const headersOf = (req: Request): Record<string, string> => (req.type === undefined ? {} : { 'content-type': req.type })

const viaInject = async (req: Request): Promise<Answer> => {
  const res = await inject(app, { method: 'POST', url: req.url, headers: headersOf(req), body: req.body })
  const type = res.headers['content-type']
  return { status: res.status, type: typeof type === 'string' ? type : undefined, body: res.body }
}

const viaFetch = async (base: string, req: Request): Promise<Answer> => {
  // bytes, so that fetch adds no Content-Type of its own
  const body = typeof req.body === 'string' ? new TextEncoder().encode(req.body) : req.body
  const res = await fetch(`${base}${req.url}`, {
    method: 'POST',
    headers: headersOf(req),
    body,
    signal: AbortSignal.timeout(5000),
  })
  return { status: res.status, type: res.headers.get('content-type') ?? undefined, body: await res.text() }
}

const PROBLEM = 'application/problem+json'
const bytes = (...values: number[]): Uint8Array => new Uint8Array(values)

interface Case extends Request {
  readonly why: string
  readonly status: number
  /** What the answer's body must deep-equal, as JSON; or a check of the parsed problem. */
  readonly json?: unknown
  readonly text?: string
  readonly problem?: (p: { detail?: string; errors?: { path: string; message: string }[] }) => void
}

const cases: readonly Case[] = [
  // jsonBody
  {
    why: 'json: reads a JSON body',
    url: '/json',
    type: 'application/json',
    body: '{"a":[1,2]}',
    status: 200,
    json: { got: { a: [1, 2] } },
  },
  {
    why: 'json: reads any +json type, with a UTF-8 charset',
    url: '/json',
    type: 'application/vnd.api+json; charset="UTF-8"',
    body: '"é"',
    status: 200,
    json: { got: 'é' },
  },
  { why: 'json: 415 for another type', url: '/json', type: 'text/plain', body: '{}', status: 415 },
  { why: 'json: 415 without Content-Type', url: '/json', body: bytes(0x7b, 0x7d), status: 415 },
  {
    why: 'json: 415 for garbage after a parameter',
    url: '/json',
    type: 'application/json; charset=utf-8 garbage',
    body: '{}',
    status: 415,
  },
  {
    why: 'json: 415 for a parameter without a value',
    url: '/json',
    type: 'application/json; charset',
    body: '{}',
    status: 415,
  },
  {
    why: 'json: 415 for a charset other than UTF-8',
    url: '/json',
    type: 'application/json; charset=latin1',
    body: '{}',
    status: 415,
  },
  {
    why: 'json: 400 for an empty body',
    url: '/json',
    type: 'application/json',
    body: '',
    status: 400,
    problem: (p) => assert.match(p.detail ?? '', /empty/),
  },
  {
    why: 'json: 400 for a body that does not parse',
    url: '/json',
    type: 'application/json',
    body: '{"a":',
    status: 400,
    problem: (p) => assert.equal(p.detail, 'The body is not valid JSON'),
  },
  {
    why: 'json: 400 for bytes that are not UTF-8',
    url: '/json',
    type: 'application/json',
    body: bytes(0x22, 0xff, 0x22),
    status: 400,
    problem: (p) => assert.match(p.detail ?? '', /UTF-8/),
  },
  {
    why: 'json: 400 for a __proto__ key',
    url: '/json',
    type: 'application/json',
    body: '{"__proto__":{"x":1}}',
    status: 400,
    problem: (p) => assert.match(p.detail ?? '', /__proto__/),
  },
  {
    why: 'json: 400 for a nested, escaped __proto__ key',
    url: '/json',
    type: 'application/json',
    body: '{"a":[{"\\u005f_proto__":{"x":1}}]}',
    status: 400,
    problem: (p) => assert.match(p.detail ?? '', /__proto__/),
  },
  {
    why: 'json: 400 for a constructor.prototype key',
    url: '/json',
    type: 'application/json',
    body: '{"constructor":{"prototype":{"x":1}}}',
    status: 400,
    problem: (p) => assert.match(p.detail ?? '', /constructor\.prototype/),
  },
  {
    why: 'json: a constructor key without prototype is data',
    url: '/json',
    type: 'application/json',
    body: '{"constructor":1}',
    status: 200,
    json: { got: { constructor: 1 } },
  },
  {
    why: 'json: checks the body with the schema',
    url: '/item',
    type: 'application/json',
    body: '{"name":"pen","qty":2}',
    status: 200,
    json: { name: 'pen', qty: 2 },
  },
  {
    why: 'json: 422 with every field error',
    url: '/item',
    type: 'application/json',
    body: '{"name":"","qty":0,"extra":1}',
    status: 422,
    problem: (p) => {
      assert.ok(Array.isArray(p.errors))
      assert.deepEqual(p.errors.map((e) => e.path).sort(), ['/extra', '/name', '/qty'])
      for (const e of p.errors) assert.equal(typeof e.message, 'string')
    },
  },
  { why: 'json: 422 for a value of the wrong type', url: '/item', type: 'application/json', body: '[]', status: 422 },
  {
    why: 'json: 413 past its limit',
    url: '/small-json',
    type: 'application/json',
    body: '"0123456789abcdef"',
    status: 413,
  },
  {
    why: 'json: reads up to its limit',
    url: '/small-json',
    type: 'application/json',
    body: '"0123456789abcd"',
    status: 200,
    json: '0123456789abcd',
  },
  // textBody
  {
    why: 'text: reads a UTF-8 text',
    url: '/text',
    type: 'text/plain; charset=utf-8',
    body: 'héllo ☃',
    status: 200,
    text: 'héllo ☃',
  },
  { why: 'text: reads an empty text', url: '/text', type: 'text/plain', body: '', status: 200, text: '' },
  {
    why: 'text: reads any text type under text/*',
    url: '/any-text',
    type: 'Text/CSV',
    body: 'a,b',
    status: 200,
    text: 'a,b',
  },
  { why: 'text: 415 for another type', url: '/text', type: 'application/json', body: '"x"', status: 415 },
  {
    why: 'text: 415 for a type text/* does not name',
    url: '/any-text',
    type: 'application/json',
    body: '1',
    status: 415,
  },
  { why: 'text: 415 for a malformed type', url: '/text', type: 'text/plain;=', body: 'x', status: 415 },
  {
    why: 'text: 415 for another charset',
    url: '/text',
    type: 'text/plain; charset=iso-8859-1',
    body: 'x',
    status: 415,
  },
  { why: 'text: 415 without Content-Type', url: '/text', body: bytes(0x78), status: 415 },
  {
    why: 'text: 400 for bytes that are not UTF-8',
    url: '/text',
    type: 'text/plain',
    body: bytes(0x61, 0xc3, 0x28),
    status: 400,
  },
  { why: 'text: 413 past its limit', url: '/any-text', type: 'text/plain', body: 'x'.repeat(17), status: 413 },
  // formBody
  {
    why: 'form: reads fields, a repeated name as an array, into a null-prototype record',
    url: '/form',
    type: 'application/x-www-form-urlencoded',
    body: 'a=1&b=x+y%21&a=3',
    status: 200,
    json: { fields: { a: ['1', '3'], b: 'x y!' }, nullPrototype: true },
  },
  {
    why: 'form: a field named __proto__ is a field',
    url: '/form',
    type: 'application/x-www-form-urlencoded; charset=UTF-8',
    body: '__proto__=1&constructor=2',
    status: 200,
    // parsed, not a literal: `__proto__` in a literal sets the prototype instead of a key
    json: JSON.parse('{"fields":{"__proto__":"1","constructor":"2"},"nullPrototype":true}'),
  },
  {
    why: 'form: 413 past maxFields',
    url: '/form',
    type: 'application/x-www-form-urlencoded',
    body: 'a=1&b=2&c=3&d=4',
    status: 413,
    problem: (p) => assert.match(p.detail ?? '', /more than 3 fields/),
  },
  {
    why: 'form: 413 past its limit',
    url: '/form',
    type: 'application/x-www-form-urlencoded',
    body: `a=${'x'.repeat(63)}`,
    status: 413,
  },
  { why: 'form: 415 for another type', url: '/form', type: 'application/json', body: '{}', status: 415 },
  {
    why: 'form: 415 for a malformed type',
    url: '/form',
    type: 'application/x-www-form-urlencoded garbage',
    body: 'a=1',
    status: 415,
  },
  {
    why: 'form: 400 for bytes that are not UTF-8',
    url: '/form',
    type: 'application/x-www-form-urlencoded',
    body: bytes(0x61, 0x3d, 0xff),
    status: 400,
  },
  {
    why: 'form: coerces fields to the schema',
    url: '/search',
    type: 'application/x-www-form-urlencoded',
    body: 'q=pens&page=2&tags=blue',
    status: 200,
    json: { q: 'pens', page: 2, tags: ['blue'] },
  },
  {
    why: 'form: 422 with every field error',
    url: '/search',
    type: 'application/x-www-form-urlencoded',
    body: 'q=pens&page=zero',
    status: 422,
    problem: (p) => assert.deepEqual((p.errors ?? []).map((e) => e.path).sort(), ['/page', '/tags']),
  },
  // rawBody
  {
    why: 'raw: reads bytes of any type',
    url: '/raw',
    type: 'application/octet-stream',
    body: bytes(7, 8, 9),
    status: 200,
    json: { size: 3, first: 7 },
  },
  {
    why: 'raw: reads bytes without Content-Type',
    url: '/raw',
    body: bytes(1, 2),
    status: 200,
    json: { size: 2, first: 1 },
  },
  {
    why: 'raw: reads a type it names',
    url: '/image',
    type: 'image/png',
    body: bytes(0x89, 0x50),
    status: 200,
    json: { size: 2 },
  },
  {
    why: 'raw: 415 for a type it does not name, listing those it does',
    url: '/image',
    type: 'image/gif',
    body: bytes(1),
    status: 415,
    problem: (p) => assert.equal(p.detail, 'Supported media types: image/png, image/jpeg'),
  },
  { why: 'raw: 415 without Content-Type when it names types', url: '/image', body: bytes(1), status: 415 },
  { why: 'raw: 415 for a malformed type', url: '/image', type: 'image/png x', body: bytes(1), status: 415 },
  { why: 'raw: 413 past its limit', url: '/image', type: 'image/png', body: new Uint8Array(17), status: 413 },
  // bodyStream
  {
    why: 'stream: streams the body',
    url: '/stream',
    type: 'application/octet-stream',
    body: new Uint8Array(5000),
    status: 200,
  },
  { why: 'stream: 413 past its limit', url: '/small-stream', body: new Uint8Array(17), status: 413 },
  // two decoders in a choose
  {
    why: 'choose: the second option gets the value the client sent, not the first option’s',
    url: '/either',
    type: 'application/json',
    body: '{"kind":"b","name":"n"}',
    status: 200,
    json: { by: 'second', body: { kind: 'b', name: 'n' } },
  },
  {
    why: 'choose: the first option wins when its schema passes',
    url: '/either',
    type: 'application/json',
    body: '{"kind":"a","name":"n"}',
    status: 200,
    json: { by: 'first', body: { kind: 'a', extra: 'filled' } },
  },
]

const checkAnswer = (c: Case, a: Answer): void => {
  assert.equal(a.status, c.status, `${c.why}: status ${a.status}, body ${a.body}`)
  if (c.status >= 400) {
    assert.equal(a.type, PROBLEM)
    const p = JSON.parse(a.body) as { status: number; detail?: string; errors?: { path: string; message: string }[] }
    assert.equal(p.status, c.status)
    c.problem?.(p)
  }
  if (c.json !== undefined) assert.deepEqual(JSON.parse(a.body), c.json)
  if (c.text !== undefined) assert.equal(a.body, c.text)
}

// ---------------------------------------------------------------------------------------------
// Raw sockets: a body sent in pieces, a body never sent, a client that leaves

/** True once `answer` holds a whole response head and as many body bytes as it declared. */
const complete = (answer: Buffer): boolean => {
  const text = answer.toString('latin1')
  const end = text.indexOf('\r\n\r\n')
  if (end === -1) return false
  const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end))
  return length !== null && answer.byteLength - (end + 4) >= Number(length[1])
}

/**
 * Opens a socket, lets `talk` write to it, and resolves with the first whole answer (or what came
 * before the server closed, or before 3 s); the socket is destroyed then.
 */
const exchange = (port: number, talk: (socket: Socket) => void): Promise<string> =>
  new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => talk(socket))
    let data = Buffer.alloc(0)
    const done = (): void => {
      socket.destroy()
      resolve(data.toString('utf8'))
    }
    socket.on('data', (d: Buffer) => {
      data = Buffer.concat([data, d])
      if (complete(data)) done()
    })
    socket.on('end', done)
    socket.on('error', done)
    socket.setTimeout(3000, done)
  })

const statusOf = (answer: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0)

const head = (url: string, headers: readonly string[]): string =>
  [`POST ${url} HTTP/1.1`, 'Host: x', 'Connection: close', ...headers].join('\r\n') + '\r\n\r\n'

const chunk = (data: string): string => `${Buffer.byteLength(data).toString(16)}\r\n${data}\r\n`

const portOf = (url: string): number => Number(new URL(url).port)

// ---------------------------------------------------------------------------------------------

describe('body decoders, in memory (inject)', () => {
  for (const c of cases) {
    it(c.why, async () => {
      const a = await viaInject(c)
      checkAnswer(c, a)
      if (c.url === '/stream' && c.status === 200) assert.equal(JSON.parse(a.body).size, 5000)
    })
  }
})

describe('body decoders, over a socket (serve)', () => {
  let server: sap.Listening
  before(async () => {
    server = await sap.serve(app, { port: 0, host: '127.0.0.1' })
  })
  after(async () => {
    await server.close()
  })

  for (const c of cases) {
    it(c.why, async () => {
      const a = await viaFetch(server.url, c)
      checkAnswer(c, a)
      if (c.url === '/stream' && c.status === 200) assert.equal(JSON.parse(a.body).size, 5000)
    })
  }

  it('refuses a declared Content-Length over the limit with 413 before any byte of the body is sent', async () => {
    const port = portOf(server.url)
    for (const [url, type] of [
      ['/small-json', 'application/json'],
      ['/any-text', 'text/plain'],
      ['/form', 'application/x-www-form-urlencoded'],
      ['/image', 'image/png'],
      ['/small-stream', 'application/octet-stream'],
    ] as const) {
      // the body never comes: only a decision on the declared length can answer
      const answer = await exchange(port, (s) => s.write(head(url, [`Content-Type: ${type}`, 'Content-Length: 100'])))
      assert.equal(statusOf(answer), 413, `${url}: ${answer}`)
      assert.match(answer, /application\/problem\+json/)
    }
  })

  it('counts the real bytes of a chunked body: 413 past the limit, before the body ends', async () => {
    const port = portOf(server.url)
    // each route's limit lies between one chunk and two
    for (const [url, type, size] of [
      ['/small-json', 'application/json', 10],
      ['/any-text', 'text/plain', 10],
      ['/form', 'application/x-www-form-urlencoded', 40],
      ['/image', 'image/png', 10],
      ['/small-stream', 'application/octet-stream', 10],
    ] as const) {
      // a chunk, then another a moment later; the last chunk is never sent
      const answer = await exchange(port, (s) => {
        s.write(head(url, [`Content-Type: ${type}`, 'Transfer-Encoding: chunked']))
        s.write(chunk('a'.repeat(size)))
        setTimeout(() => s.write(chunk('b'.repeat(size))), 20)
      })
      assert.equal(statusOf(answer), 413, `${url}: ${answer}`)
    }
  })

  it('reads a chunked body within the limit', async () => {
    const answer = await exchange(portOf(server.url), (s) => {
      s.write(head('/small-json', ['Content-Type: application/json', 'Transfer-Encoding: chunked']))
      s.write(chunk('[1,'))
      setTimeout(() => s.write(chunk('2]') + '0\r\n\r\n'), 20)
    })
    assert.equal(statusOf(answer), 200, answer)
    assert.match(answer, /\r\n\r\n\[1,2\]$/)
  })

  it('stays healthy when a client leaves mid-upload, and logs no failed handler', async () => {
    const quiet = console.error
    const logged: unknown[][] = []
    console.error = (...args: unknown[]) => void logged.push(args)
    try {
      const seen = new Promise<sap.Rejection>((resolve) => (onUpload = resolve))
      const socket = connect(portOf(server.url), '127.0.0.1')
      await new Promise<void>((resolve) => socket.once('connect', resolve))
      socket.write(head('/upload', ['Content-Type: application/json', 'Content-Length: 1000']) + '{"a":"part')
      await new Promise((resolve) => setTimeout(resolve, 50))
      socket.destroy()
      let timer: NodeJS.Timeout | undefined
      const rejection = await Promise.race([
        seen,
        new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), 3000))),
      ])
      clearTimeout(timer)
      assert.equal(rejection?._tag, 'BadRequest', 'the aborted read was not answered as a 400')
      // the server answers the next request
      const next = await viaFetch(server.url, { url: '/json', type: 'application/json', body: '1' })
      assert.equal(next.status, 200)
      assert.deepEqual(JSON.parse(next.body), { got: 1 })
      const failures = logged.filter((args) => args.some((a) => typeof a === 'string' && /handler failed/.test(a)))
      assert.deepEqual(failures, [])
    } finally {
      console.error = quiet
      onUpload = () => undefined
    }
  })
})

// ---------------------------------------------------------------------------------------------

describe('bodyLimit', () => {
  const limited = pipe(
    bodyLimit(8),
    choose([
      pipe(
        post,
        path('/json'),
        jsonBody(),
        handle((c) => json(c.body)),
      ),
      pipe(
        post,
        path('/own'),
        jsonBody(undefined, { limit: 64 }),
        handle((c) => json(c.body)),
      ),
      pipe(
        post,
        path('/text'),
        textBody(),
        handle((c) => ok(c.body)),
      ),
      pipe(
        post,
        path('/raw'),
        rawBody(),
        handle((c) => json(c.body.byteLength)),
      ),
      pipe(
        post,
        path('/wider'),
        bodyLimit(32),
        jsonBody(),
        handle((c) => json(c.body)),
      ),
      pipe(
        post,
        path('/stream'),
        bodyStream(),
        handle(async (c) => json((await count(c.body)).size)),
      ),
    ]),
  )
  const send = (url: string, type: string, body: string | Uint8Array, compile = true) =>
    inject(limited, { method: 'POST', url, headers: { 'content-type': type }, body }, { compile })

  it('sets the default limit of the decoders under it, compiled or not', async () => {
    for (const compile of [true, false]) {
      assert.equal((await send('/json', 'application/json', '"123456"', compile)).status, 200)
      assert.equal((await send('/json', 'application/json', '"1234567"', compile)).status, 413)
      assert.equal((await send('/text', 'text/plain', '123456789', compile)).status, 413)
      assert.equal((await send('/raw', 'application/octet-stream', new Uint8Array(9), compile)).status, 413)
    }
  })

  it('gives way to a decoder’s own limit and to a bodyLimit nearer to it', async () => {
    assert.equal((await send('/own', 'application/json', '"1234567890"')).status, 200)
    assert.equal((await send('/wider', 'application/json', '"1234567890"')).status, 200)
    assert.equal((await send('/wider', 'application/json', `"${'x'.repeat(31)}"`)).status, 413)
  })

  it('does not limit bodyStream', async () => {
    const res = await send('/stream', 'application/octet-stream', new Uint8Array(100))
    assert.equal(res.body, '100')
  })

  it('changes the default at the root of an app served over a socket', async () => {
    const server = await sap.serve(limited, { port: 0, host: '127.0.0.1' })
    try {
      const small = await fetch(`${server.url}/json`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '1',
      })
      assert.equal(small.status, 200)
      await small.text()
      const large = await fetch(`${server.url}/json`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '"123456789"',
      })
      assert.equal(large.status, 413)
      await large.text()
    } finally {
      await server.close()
    }
  })

  it('reads up to 1 MiB by default, and not a byte more', async () => {
    const echo = pipe(
      post,
      jsonBody(),
      handle((c) => json(String(c.body).length)),
    )
    const fits = `"${'x'.repeat(sap.DEFAULT_BODY_LIMIT - 2)}"`
    assert.equal(sap.DEFAULT_BODY_LIMIT, 1_048_576)
    const yes = await inject(echo, {
      method: 'POST',
      url: '/',
      headers: { 'content-type': 'application/json' },
      body: fits,
    })
    assert.equal(yes.body, String(sap.DEFAULT_BODY_LIMIT - 2))
    const no = await inject(echo, {
      method: 'POST',
      url: '/',
      headers: { 'content-type': 'application/json' },
      body: `${fits} `,
    })
    assert.equal(no.status, 413)
  })

  it('is a builder that reads the request', () => {
    assert.deepEqual(
      { ...bodyLimit(10).shape, apply: undefined },
      { _tag: 'Pure', apply: undefined, reads: 'any', throws: false },
    )
    assert.equal(bodyLimit(10).label, 'bodyLimit(10)')
  })
})

describe('limits and types given to the decoders', () => {
  it('throws a RangeError when a limit is not a positive whole number', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Infinity, 2 ** 60]) {
      assert.throws(() => bodyLimit(bad), RangeError)
      assert.throws(() => jsonBody(undefined, { limit: bad }), RangeError)
      assert.throws(() => textBody({ limit: bad }), RangeError)
      assert.throws(() => formBody(undefined, { limit: bad }), RangeError)
      assert.throws(() => formBody(undefined, { maxFields: bad }), RangeError)
      assert.throws(() => rawBody({ limit: bad }), RangeError)
      assert.throws(() => bodyStream({ limit: bad }), RangeError)
    }
  })

  it('throws a TypeError for a type that is not a media type', () => {
    assert.throws(() => textBody({ type: 'text' }), TypeError)
    assert.throws(() => textBody({ type: 'text/plain; charset=utf-8' }), TypeError)
    assert.throws(() => rawBody({ type: [] }), TypeError)
    assert.throws(() => rawBody({ type: ['image/png', 'png'] }), TypeError)
  })

  it('compiles the schema when the decoder is made: a broken one throws then', () => {
    assert.throws(() => jsonBody({ type: 'no-such-type' }), /does not compile/)
    assert.throws(() => formBody({ type: 'object', properties: { a: { minimum: 'x' } } }), /does not compile/)
  })

  it('are Opaque Parts with labels', () => {
    for (const p of [jsonBody(), textBody(), formBody(), rawBody(), bodyStream()]) {
      assert.deepEqual(p.shape, { _tag: 'Opaque' })
    }
    assert.equal(jsonBody(Item).label, 'jsonBody(schema)')
    assert.equal(textBody({ type: 'Text/*' }).label, "textBody('text/*')")
    assert.equal(rawBody({ type: ['image/png', 'image/gif'] }).label, "rawBody('image/png', 'image/gif')")
  })
})

// ---------------------------------------------------------------------------------------------
// Sources a test builds: a chunked body, and a body that a parser in front already read

describe('body decoders on a Conn', () => {
  const enc = new TextEncoder()
  const chunked = (url: string, type: string, ...parts: string[]) =>
    makeConn({
      method: 'POST',
      url,
      headers: { 'content-type': type },
      source: iterableSource(parts.map((p) => enc.encode(p))),
    })

  it('reads a body whose length was not declared, counting its bytes', async () => {
    const c = await expectRight(jsonBody(undefined, { limit: 8 })(chunked('/', 'application/json', '[1,', '2]')))
    assert.deepEqual(c.body, [1, 2])
    const r = await expectLeft(
      jsonBody(undefined, { limit: 8 })(chunked('/', 'application/json', '"1234', '5678"')),
      'PayloadTooLarge',
    )
    assert.deepEqual(r, { _tag: 'PayloadTooLarge', limit: 8 })
  })

  it('rejects a wrong type synchronously, without reading', () => {
    const r = jsonBody()(conn('POST', '/', { headers: { 'content-type': 'text/plain' }, body: '{}' }))
    assert.ok(!('then' in r))
    assert.deepEqual(r, { _tag: 'Left', left: { _tag: 'UnsupportedMediaType', supported: ['application/json'] } })
  })

  it('gives each decoder its own parse of the same bytes', async () => {
    const c = conn('POST', '/', { headers: { 'content-type': 'application/json' }, body: '{"a":{"b":1}}' })
    const one = await expectRight(jsonBody()(c))
    const two = await expectRight(jsonBody()(c))
    assert.deepEqual(one.body, two.body)
    assert.notEqual(one.body, two.body)
  })

  it('answers 500 when the body was consumed elsewhere', async () => {
    const c = conn('POST', '/', { headers: { 'content-type': 'application/octet-stream' }, body: 'abc' })
    for await (const _ of c.source.stream()) void _
    const r = await expectLeft(rawBody()(c), 'HandlerFailed')
    assert.match(String((r as { error: unknown }).error), /BodyConsumedError|cannot be read/)
  })

  it('coerces form fields to numbers, and a single value to an array', async () => {
    const One = Type.Object({ n: Type.Number(), list: Type.Array(Type.String()) })
    const c = conn('POST', '/', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'n=1.5&list=a',
    })
    const { body } = await expectRight(formBody(One)(c))
    assert.deepEqual({ ...(body as object) }, { n: 1.5, list: ['a'] })
  })

  it('awaits an async Standard Schema, and makes a schema that throws a failed handler', async () => {
    const standard = (validate: (value: unknown) => unknown) =>
      ({ '~standard': { version: 1, vendor: 'test', validate } }) as unknown as StandardSchemaV1<unknown, { a: number }>
    const post = () => conn('POST', '/', { headers: { 'content-type': 'application/json' }, body: '{"a":1}' })
    const later = standard(() => Promise.resolve({ issues: [{ message: 'no', path: ['a'] }] }))
    const r = await expectLeft(jsonBody(later)(post()), 'Unprocessable')
    assert.deepEqual(r, { _tag: 'Unprocessable', errors: [{ path: '/a', message: 'no' }] })
    const fine = standard((value) => Promise.resolve({ value }))
    assert.deepEqual((await expectRight(jsonBody(fine)(post()))).body, { a: 1 })
    const broken = standard(() => {
      throw new Error('boom')
    })
    const failed = await expectLeft(jsonBody(broken)(post()), 'HandlerFailed')
    assert.equal((failed as { error: Error }).error.message, 'boom')
  })

  describe('when a parser in front of sapwood read the body already', () => {
    let reads = 0
    const preParsed = (value: unknown): sap.BodySource => ({
      length: undefined,
      parsed: value,
      read: () => {
        reads++
        return Promise.reject(new Error('read'))
      },
      stream: async function* () {},
      whenDone: () => undefined,
      signal: new AbortController().signal,
    })
    const given = (value: unknown, type = 'application/json') =>
      makeConn({ method: 'POST', url: '/', headers: { 'content-type': type }, source: preParsed(value) })

    it('takes its value without reading, and still checks it', async () => {
      reads = 0
      const c = await expectRight(jsonBody(Item)(given({ name: 'pen', qty: 1 })))
      assert.deepEqual(c.body, { name: 'pen', qty: 1 })
      const r = await expectLeft(jsonBody(Item)(given({ name: 'pen' })), 'Unprocessable')
      assert.deepEqual(r, {
        _tag: 'Unprocessable',
        errors: [{ path: '/qty', message: "must have required property 'qty'" }],
      })
      assert.equal(reads, 0)
    })

    it('still checks the Content-Type', async () => {
      await expectLeft(jsonBody()(given({ a: 1 }, 'text/plain')), 'UnsupportedMediaType')
    })

    it('refuses a value with a poisoning key', async () => {
      const poisoned = JSON.parse('{"a":{"__proto__":{"x":1}}}') as unknown
      await expectLeft(jsonBody()(given(poisoned)), 'BadRequest')
      await expectLeft(jsonBody()(given({ constructor: { prototype: { x: 1 } } })), 'BadRequest')
    })

    it('gives the next option of a choose the value unchanged', async () => {
      const value = { kind: 'b', name: 'n' }
      const either = choose([
        pipe(
          jsonBody(Strict, { removeAdditional: 'all', useDefaults: true }),
          handle((c) => json({ by: 'first', body: c.body })),
        ),
        pipe(
          jsonBody(Loose),
          handle((c) => json({ by: 'second', body: c.body })),
        ),
      ])
      const c = await expectRight(either(given(value)))
      assert.deepEqual(JSON.parse(c.respBody as string), { by: 'second', body: { kind: 'b', name: 'n' } })
      assert.deepEqual(value, { kind: 'b', name: 'n' })
    })
  })
})

// ---------------------------------------------------------------------------------------------
// Behind Express: a body parser mounted in front has read the body

describe('body decoders behind express.json()', () => {
  let server: Server
  let base: string
  before(async () => {
    const handler = sapNode.toNodeHandler(app)
    const front = express()
    front.use(express.json())
    front.use((req, res) => handler(req, res))
    server = createServer(front).listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  after(async () => {
    await new Promise((resolve) => server.close(resolve))
  })

  const send = (url: string, type: string, body: string) =>
    fetch(`${base}${url}`, {
      method: 'POST',
      headers: { 'content-type': type },
      body,
      signal: AbortSignal.timeout(3000),
    })

  it('gives jsonBody the value express.json() parsed, checked by the schema', async () => {
    const good = await send('/item', 'application/json', '{"name":"pen","qty":3}')
    assert.equal(good.status, 200)
    assert.deepEqual(await good.json(), { name: 'pen', qty: 3 })
    const bad = await send('/item', 'application/json', '{"name":"pen"}')
    assert.equal(bad.status, 422)
    await bad.text()
    const poisoned = await send('/json', 'application/json', '{"__proto__":{"x":1}}')
    assert.equal(poisoned.status, 400)
    await poisoned.text()
  })

  it('reads the body itself when express.json() left it (another type)', async () => {
    const res = await send('/text', 'text/plain', 'plain')
    assert.equal(await res.text(), 'plain')
  })

  it('answers a rawBody route at once with 500 when express.json() took its body', async () => {
    const quiet = console.error
    console.error = () => undefined
    try {
      const res = await send('/raw', 'application/json', '{"a":1}')
      assert.equal(res.status, 500)
      await res.text()
    } finally {
      console.error = quiet
    }
  })
})
