// Generators of raw HTTP/1.x requests, hostile on purpose: methods, targets, versions, headers,
// line endings, bodies and their framing, each piece tagged with what makes it odd, so that a run
// can say which inputs the server closed on instead of answering. Everything is a latin1 string:
// one character is one byte, so any byte can be sent.
import fc from 'fast-check'

/** A piece of a request, and the tags that say what is unusual in it. */
export interface Piece {
  readonly text: string
  readonly tags: readonly string[]
}

/** One raw request: its bytes (latin1) and its tags. */
export type RawRequest = Piece

const plain = (text: string): Piece => ({ text, tags: [] })
const tagged =
  (tag: string) =>
  (text: string): Piece => ({ text, tags: [tag] })

/** A string of arbitrary bytes, as latin1. */
const bytes = (maxLength: number, minLength = 0): fc.Arbitrary<string> =>
  fc.uint8Array({ minLength, maxLength }).map((b) => Buffer.from(b).toString('latin1'))

/** UTF-8 text (non-ASCII included) as the latin1 string of its bytes. */
const utf8 = (maxLength: number): fc.Arbitrary<string> =>
  fc.string({ unit: 'grapheme', maxLength }).map((s) => Buffer.from(s, 'utf8').toString('latin1'))

const TCHAR = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const token = (maxLength: number): fc.Arbitrary<string> => fc.stringMatching(TCHAR).filter((s) => s.length <= maxLength)

// -- methods

const method: fc.Arbitrary<Piece> = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH').map(plain) },
  { weight: 1, arbitrary: fc.constantFrom('TRACE', 'PROPFIND', 'M-SEARCH', 'PURGE', 'QUERY').map(plain) },
  // node's server hands CONNECT to its 'connect' listener: the app answers it, and the connection closes
  { weight: 1, arbitrary: fc.constant(tagged('method-connect')('CONNECT')) },
  { weight: 1, arbitrary: fc.constantFrom('get', 'post', 'Get', 'pOsT', 'head').map(tagged('method-case')) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'prototype')
      .map(tagged('method-proto')),
  },
  { weight: 1, arbitrary: token(40).map(tagged('method-token')) },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 20_000 }).map((n) => tagged('method-long')('G'.repeat(n))) },
  { weight: 1, arbitrary: bytes(12, 1).map(tagged('method-bytes')) },
  { weight: 1, arbitrary: fc.constant(tagged('method-empty')('')) },
)

// -- targets

/** The paths the apps under test route, so that hostile requests reach their handlers too. */
export const KNOWN_PATHS = [
  '/',
  '/health',
  '/api/users',
  '/api/users/1',
  '/api/users/99',
  '/messages',
  '/events',
  '/json',
  '/form',
  '/upload',
  '/raw',
  '/cookies',
  '/stream',
  '/ws',
  '/files/a.txt',
  '/files/',
  '/files/sub/b.txt',
  '/files/sub',
] as const

const odd = [
  '..',
  '.',
  '',
  '%00',
  '%2F',
  '%2f',
  '%5C',
  '%2e%2e',
  '%2E',
  '%252e%252e',
  '%C0%AE%C0%AE',
  '%c0%af',
  '%ff',
  '%',
  '%z',
  '%zz',
  '~',
  '\\',
  '..\\..',
  ';',
  ';jsessionid=1',
  ':id',
  '*',
  '__proto__',
  'constructor',
  'a.txt',
  'sub',
  'users',
  '1',
  '.hidden',
  '%E2%80%AE',
]

const segment: fc.Arbitrary<Piece> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .constantFrom(...odd)
      .map((s) => (s === '' || /^[\w.]+$/.test(s) ? plain(s) : tagged('path-escape')(s))),
  },
  { weight: 2, arbitrary: token(12).map(plain) },
  { weight: 1, arbitrary: utf8(6).map(tagged('path-utf8')) },
  { weight: 1, arbitrary: bytes(6, 1).map(tagged('path-bytes')) },
)

const join = (pieces: readonly Piece[], sep: string): Piece => ({
  text: pieces.map((p) => p.text).join(sep),
  tags: pieces.flatMap((p) => p.tags),
})

const path: fc.Arbitrary<Piece> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...KNOWN_PATHS).map(plain) },
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.constantFrom(...KNOWN_PATHS), fc.array(segment, { maxLength: 4 }), fc.boolean())
      .map(([base, segs, slash]) => {
        const rest = join(segs, '/')
        return { text: `${base}${base.endsWith('/') ? '' : '/'}${rest.text}${slash ? '/' : ''}`, tags: rest.tags }
      }),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom('/', '//', '///', '/./', '/../'), fc.array(segment, { maxLength: 5 }))
      .map(([lead, segs]) => {
        const rest = join(segs, '/')
        return { text: lead + rest.text, tags: lead === '/' ? rest.tags : [...rest.tags, 'path-dots'] }
      }),
  },
)

const queryValue = fc.oneof(
  fc.constantFrom('1', '20', '0', '-1', '1e999', 'abc', '', '%zz', '%00', '__proto__', '[]', 'a+b'),
  token(8),
  utf8(4),
)
const queryKey = fc.oneof(
  fc.constantFrom('limit', '__proto__', 'constructor', 'prototype', 'a[b]', 'a[__proto__]', '', '%zz', 'limit[]'),
  token(8),
)
const query: fc.Arbitrary<Piece> = fc
  .array(
    fc.tuple(queryKey, fc.option(queryValue, { nil: undefined })).map(([k, v]) => (v === undefined ? k : `${k}=${v}`)),
    { maxLength: 5 },
  )
  .map((pairs) => plain(pairs.join('&')))

const target: fc.Arbitrary<Piece> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.tuple(path, fc.option(query, { nil: undefined }), fc.boolean()).map(([p, q, hash]) => ({
      text: `${p.text}${q === undefined ? '' : `?${q.text}`}${hash ? '#frag' : ''}`,
      tags: hash ? [...p.tags, 'target-fragment'] : p.tags,
    })),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom(
          'http://localhost',
          'http://127.0.0.1:1',
          'https://evil.test',
          'http://[::1]',
          'http://',
          'ftp://x',
        ),
        path,
      )
      .map(([origin, p]) => ({ text: origin + p.text, tags: [...p.tags, 'target-absolute'] })),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom('*', 'localhost:80', '', ' ', '?', 'users', '%2F').map(tagged('target-odd')),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom('/', '/api/users/', '/files/'), fc.integer({ min: 1_000, max: 40_000 }))
      .map(([base, n]) => tagged('target-long')(base + 'a'.repeat(n))),
  },
  { weight: 1, arbitrary: bytes(40, 1).map((b) => tagged('target-bytes')(`/${b}`)) },
)

const version: fc.Arbitrary<Piece> = fc.oneof(
  { weight: 20, arbitrary: fc.constant(plain('HTTP/1.1')) },
  { weight: 2, arbitrary: fc.constant(plain('HTTP/1.0')) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('HTTP/2.0', 'HTTP/0.9', 'HTTP/9.9', 'http/1.1', 'HTTP/1.1 ', 'HTTP/1.1\0', 'HTTP/1', 'HTTP/11', '')
      .map(tagged('version-odd')),
  },
)

// -- headers

const huge = fc.integer({ min: 8_000, max: 40_000 }).map((n) => 'x'.repeat(n))

const headerValue: fc.Arbitrary<Piece> = fc.oneof(
  { weight: 6, arbitrary: token(20).map(plain) },
  { weight: 2, arbitrary: utf8(12).map(tagged('value-utf8')) },
  { weight: 1, arbitrary: bytes(16).map(tagged('value-bytes')) },
  { weight: 1, arbitrary: fc.constantFrom('a\0b', '\0').map(tagged('value-nul')) },
  { weight: 1, arbitrary: fc.constantFrom('a\nb', 'a\rb', 'a\r\nX-Smuggled: 1').map(tagged('value-crlf')) },
  { weight: 1, arbitrary: fc.constant('a\r\n b\r\n\tc').map(tagged('obs-fold')) },
  { weight: 1, arbitrary: huge.map(tagged('value-huge')) },
)

const headerName = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      'accept',
      'accept-encoding',
      'accept-language',
      'range',
      'if-range',
      'if-none-match',
      'if-modified-since',
      'last-event-id',
      'origin',
      'authorization',
      'x-forwarded-for',
      'x-token',
      'user-agent',
      'te',
      'trailer',
      'content-encoding',
      'sec-websocket-key',
      'sec-websocket-version',
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'hasOwnProperty', 'toString') },
  { weight: 1, arbitrary: token(20) },
)

/** A header line `name: value`, or something that only looks like one. */
const headerLine: fc.Arbitrary<Piece> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.tuple(headerName, headerValue).map(([n, v]) => ({ text: `${n}: ${v.text}`, tags: v.tags })),
  },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom(
        'range: bytes=0-3',
        'range: bytes=-2',
        'range: bytes=5-1',
        'range: bytes=0-0,2-3,0-1',
        'range: bytes=99999999999999999999-',
        'range: chars=0-1',
        'if-none-match: *',
        'if-modified-since: Thu, 01 Jan 2099 00:00:00 GMT',
        'accept-encoding: gzip, br;q=0, *;q=0',
        'accept: text/event-stream',
        'accept: */*;q=abc',
        'last-event-id: 1',
        'last-event-id: __proto__',
        'authorization: Basic Og==',
        'authorization: Bearer',
        'upgrade: websocket',
        'connection: upgrade',
        'sec-websocket-version: 13',
        'sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==',
        'connection: close',
        'connection: keep-alive',
        'connection: __proto__',
        'expect: 100-continue',
        'expect: 200-ok',
        'content-encoding: gzip',
        'te: trailers',
        'x-forwarded-for: ',
      )
      .map(plain),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(': empty-name', 'no-colon', 'bad name: x', 'x :y', ' leading: space', 'x\0y: z')
      .map(tagged('header-malformed')),
  },
  { weight: 1, arbitrary: bytes(30, 1).map(tagged('header-bytes')) },
)

const host: fc.Arbitrary<Piece[]> = fc.oneof(
  { weight: 12, arbitrary: fc.constant<Piece[]>([plain('host: localhost')]) },
  { weight: 1, arbitrary: fc.constant<Piece[]>([tagged('host-missing')('')]) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(
        'host: ',
        'host: a b',
        'host: localhost:99999',
        'host: [::1',
        'host: ../..',
        'host: __proto__',
        'host: \0',
        `host: ${Buffer.from('é.test', 'utf8').toString('latin1')}`,
      )
      .map((h): Piece[] => [tagged('host-odd')(h)]),
  },
  { weight: 1, arbitrary: fc.constant<Piece[]>([plain('host: localhost'), tagged('host-twice')('host: evil.test')]) },
  { weight: 1, arbitrary: huge.map((h): Piece[] => [tagged('host-huge')(`host: ${h}`)]) },
)

const contentType: fc.Arbitrary<Piece> = fc
  .constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'APPLICATION/JSON',
    'application/json;',
    'application/json garbage',
    'application/json\t',
    'application/json; charset=latin1',
    'application/json; charset="utf-8"; x=',
    'application/x-www-form-urlencoded',
    'application/x-www-form-urlencoded; charset=utf-8',
    'multipart/form-data; boundary=XyZ',
    'multipart/form-data; boundary="XyZ"',
    'multipart/form-data',
    'multipart/form-data; boundary=',
    `multipart/form-data; boundary=${'b'.repeat(80)}`,
    'text/plain',
    'text/plain; charset=utf-8',
    'application/octet-stream',
    '',
    '*/*',
    '__proto__',
    'constructor/prototype',
    'application/',
    '/json',
  )
  .map((t) => plain(`content-type: ${t}`))

const cookie: fc.Arbitrary<Piece> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .constantFrom(
        'a=1; b=2',
        'session=abc.def',
        '__proto__=x',
        'constructor=1; toString=2',
        '=',
        ';;;',
        '%zz=%zz',
        'a="unterminated',
        'a=1; a=2',
        'session=s%3Aabc.xyz',
      )
      .map((c) => plain(`cookie: ${c}`)),
  },
  {
    weight: 1,
    arbitrary: fc
      .array(fc.tuple(token(8), token(8)), { maxLength: 6 })
      .map((kv) => plain(`cookie: ${kv.map(([k, v]) => `${k}=${v}`).join('; ')}`)),
  },
  { weight: 1, arbitrary: huge.map((h) => tagged('value-huge')(`cookie: a=${h}`)) },
)

// -- bodies

const json: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      '{"name":"ada"}',
      '{"name":"ada","text":"hi"}',
      '{"text":"note"}',
      '{"user":"u","remember":true}',
    ),
  },
  { weight: 2, arbitrary: fc.json({ maxDepth: 3 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '{"__proto__":{"admin":true}}',
      '{"constructor":{"prototype":{"x":1}}}',
      '{"name":"a","name":"b"}',
      '{',
      '',
      'null',
      '"str"',
      '{"name":1e999}',
      '\uFEFF{"name":"bom"}',
      '{"name":"\\ud800"}',
    ),
  },
  { weight: 1, arbitrary: fc.integer({ min: 10, max: 20_000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`) },
  { weight: 1, arbitrary: fc.integer({ min: 10, max: 20_000 }).map((n) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`) },
)

const form: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('user=u&remember=true', 'a=1&b=2', '__proto__=x&constructor=y', 'a=%zz&%=1', '&&&=', 'a=1&a=2&a=3'),
  fc.array(fc.tuple(token(6), token(6)), { maxLength: 8 }).map((kv) => kv.map(([k, v]) => `${k}=${v}`).join('&')),
)

const part = (name: string, value: string, file?: string): string =>
  `--XyZ\r\ncontent-disposition: form-data; name="${name}"${file === undefined ? '' : `; filename="${file}"`}\r\n` +
  `${file === undefined ? '' : 'content-type: text/plain\r\n'}\r\n${value}\r\n`

const multipart: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    `${part('title', 'hello')}${part('file', 'bytes', 'a.txt')}--XyZ--\r\n`,
    `${part('__proto__', 'x')}${part('constructor', 'y')}--XyZ--\r\n`,
    `${part('f', 'x', '../../etc/passwd')}--XyZ--\r\n`,
    `${part('title', 'no end')}`,
    '--XyZ\r\n\r\nno headers\r\n--XyZ--\r\n',
    '--XyZ\r\ncontent-disposition: form-data\r\n\r\nno name\r\n--XyZ--\r\n',
    'not multipart at all',
    '--XyZ--\r\n',
  ),
  fc
    .array(fc.tuple(token(8), utf8(20), fc.boolean()), { maxLength: 4 })
    .map((parts) => `${parts.map(([n, v, f]) => part(n, v, f ? `${n}.bin` : undefined)).join('')}--XyZ--\r\n`),
)

const body: fc.Arbitrary<Piece> = fc.oneof(
  { weight: 4, arbitrary: json.map((j) => plain(Buffer.from(j, 'utf8').toString('latin1'))) },
  { weight: 2, arbitrary: form.map(plain) },
  { weight: 2, arbitrary: multipart.map(plain) },
  { weight: 2, arbitrary: bytes(200).map(tagged('body-bytes')) },
  { weight: 1, arbitrary: fc.integer({ min: 60_000, max: 300_000 }).map((n) => tagged('body-big')('x'.repeat(n))) },
)

/** Splits a body into 1..4 chunks (sizes as the chunked coding writes them). */
const chunks = (text: string, cuts: readonly number[]): string[] => {
  const at = [...new Set(cuts.map((c) => Math.floor(c * text.length)))]
    .filter((c) => c > 0 && c < text.length)
    .sort((a, b) => a - b)
  const out: string[] = []
  let from = 0
  for (const c of [...at, text.length]) {
    out.push(text.slice(from, c))
    from = c
  }
  return out.filter((c) => c.length > 0)
}

const chunked = (parts: readonly string[], size: (n: number) => string = (n) => n.toString(16)): string =>
  parts.map((p) => `${size(p.length)}\r\n${p}\r\n`).join('')

/** How the body is framed: the framing headers, and the bytes after the head. */
interface Framed {
  readonly headers: readonly Piece[]
  readonly payload: Piece
}

const framing = (b: Piece): fc.Arbitrary<Framed> => {
  const n = Buffer.byteLength(b.text, 'latin1')
  const cuts = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 3 })
  const payload = (text: string, tags: readonly string[] = []): Piece => ({ text, tags: [...b.tags, ...tags] })
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant({ headers: [], payload: plain('') }) },
    { weight: 6, arbitrary: fc.constant({ headers: [plain(`content-length: ${n}`)], payload: payload(b.text) }) },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 1, max: 100 }).map((d) => ({
        headers: [tagged('cl-long')(`content-length: ${n + d}`)],
        payload: payload(b.text, ['body-truncated']),
      })),
    },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 1, max: Math.max(1, n) }).map((d) => ({
        headers: [tagged('cl-short')(`content-length: ${Math.max(0, n - d)}`)],
        payload: payload(b.text, ['body-extra']),
      })),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(
          '-1',
          'abc',
          '1e3',
          ` ${n}`,
          `0x${n.toString(16)}`,
          '99999999999999999999',
          `+${n}`,
          `${n}, ${n}`,
          `${n},${n + 1}`,
          '',
        )
        .map((v) => ({ headers: [tagged('cl-bad')(`content-length: ${v}`)], payload: payload(b.text) })),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(0, 1).map((d) => ({
        headers: [plain(`content-length: ${n}`), tagged('cl-twice')(`content-length: ${n + d}`)],
        payload: payload(b.text),
      })),
    },
    {
      weight: 5,
      arbitrary: fc.tuple(cuts, fc.boolean()).map(([c, trailer]) => ({
        headers: [plain('transfer-encoding: chunked')],
        payload: payload(
          `${chunked(chunks(b.text, c))}0\r\n${trailer ? 'x-trailer: 1\r\n' : ''}\r\n`,
          trailer ? ['chunked-trailer'] : [],
        ),
      })),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          cuts,
          fc.constantFrom('zz', '-1', 'fffffffffffffffff', '1;ext=1', ' 5', '0x5', '', '5 ', '+5', 'FFFFFFFF'),
        )
        .map(([c, bad]) => ({
          headers: [plain('transfer-encoding: chunked')],
          payload: payload(`${chunked(chunks(b.text, c), () => bad)}0\r\n\r\n`, ['chunk-size-bad']),
        })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          cuts,
          fc.integer({ min: -3, max: 3 }).filter((d) => d !== 0),
        )
        .map(([c, d]) => ({
          headers: [plain('transfer-encoding: chunked')],
          payload: payload(`${chunked(chunks(b.text, c), (k) => Math.max(0, k + d).toString(16))}0\r\n\r\n`, [
            'chunk-size-wrong',
          ]),
        })),
    },
    {
      weight: 2,
      arbitrary: cuts.map((c) => ({
        headers: [plain('transfer-encoding: chunked')],
        payload: payload(chunked(chunks(b.text, c)), ['chunked-truncated']),
      })),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(cuts, bytes(20, 1)).map(([c, extra]) => ({
        headers: [plain('transfer-encoding: chunked')],
        payload: payload(`${chunked(chunks(b.text, c))}0\r\n\r\n${extra}`, ['chunked-extra']),
      })),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(
          'Chunked',
          'gzip, chunked',
          'chunked, gzip',
          'identity',
          'chunked\0',
          ' chunked',
          'chunked, chunked',
          'x-custom',
        )
        .map((te) => ({
          headers: [tagged('te-odd')(`transfer-encoding: ${te}`)],
          payload: payload(`${chunked([b.text])}0\r\n\r\n`),
        })),
    },
    {
      weight: 1,
      arbitrary: fc.constant({
        headers: [plain('transfer-encoding: chunked'), tagged('te-twice')('transfer-encoding: chunked')],
        payload: payload(`${chunked([b.text])}0\r\n\r\n`),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.boolean().map((first) => {
        const cl = plain(`content-length: ${n}`)
        const te = tagged('te-and-cl')('transfer-encoding: chunked')
        return { headers: first ? [cl, te] : [te, cl], payload: payload(`${chunked([b.text])}0\r\n\r\n`) }
      }),
    },
  )
}

const lineEnd: fc.Arbitrary<Piece> = fc.oneof(
  { weight: 20, arbitrary: fc.constant(plain('\r\n')) },
  { weight: 1, arbitrary: fc.constant(tagged('bare-lf')('\n')) },
  { weight: 1, arbitrary: fc.constant(tagged('bare-cr')('\r')) },
)

/** A route of an app under test: a method, a path, and what a good request's body is. */
export interface Route {
  readonly method: string
  readonly path: string
  /** The content type and the good bodies of a route that decodes one. */
  readonly body?: { readonly type: string; readonly good: readonly string[] }
}

const JSON_TYPE = 'application/json'
const MULTIPART_GOOD = `${part('title', 'hello')}${part('file', 'bytes', 'a.txt')}--XyZ--\r\n`

/** The routes of each app under test (examples/app.ts, examples/chat.ts, ./bodies-app.ts). */
export const ROUTES = {
  app: [
    { method: 'GET', path: '/' },
    { method: 'HEAD', path: '/' },
    { method: 'GET', path: '/health' },
    { method: 'GET', path: '/api/users' },
    { method: 'OPTIONS', path: '/api/users' },
    { method: 'GET', path: '/api/users/1' },
    { method: 'DELETE', path: '/api/users/1' },
    { method: 'POST', path: '/api/users', body: { type: JSON_TYPE, good: ['{"name":"ada"}', '{"name":"grace"}'] } },
  ],
  chat: [
    { method: 'GET', path: '/' },
    { method: 'GET', path: '/events' },
    { method: 'POST', path: '/messages', body: { type: JSON_TYPE, good: ['{"name":"ada","text":"hi"}'] } },
  ],
  bodies: [
    { method: 'GET', path: '/' },
    { method: 'POST', path: '/json', body: { type: JSON_TYPE, good: ['{"text":"note"}'] } },
    {
      method: 'POST',
      path: '/form',
      body: { type: 'application/x-www-form-urlencoded', good: ['user=u&remember=true', 'user=u'] },
    },
    { method: 'POST', path: '/upload', body: { type: 'multipart/form-data; boundary=XyZ', good: [MULTIPART_GOOD] } },
    { method: 'PUT', path: '/raw', body: { type: 'application/octet-stream', good: ['raw bytes', 'x'.repeat(3000)] } },
    { method: 'GET', path: '/cookies' },
    { method: 'GET', path: '/stream' },
    { method: 'GET', path: '/ws' },
    { method: 'GET', path: '/files/a.txt' },
    { method: 'GET', path: '/files/sub/b.txt' },
    { method: 'GET', path: '/files/' },
  ],
} satisfies Record<string, readonly Route[]>

/** A clean head for a route: Host, the content type its body needs, maybe cookies and headers. */
const cleanHeaders = (route: Route): fc.Arbitrary<Piece[]> =>
  fc
    .option(
      fc.constantFrom(
        'cookie: a=1; b=2',
        'cookie: session=abc',
        'accept: */*',
        'range: bytes=0-3',
        'accept-encoding: gzip',
      ),
      { nil: undefined },
    )
    .map((extra) => [
      plain('host: localhost'),
      ...(route.body === undefined ? [] : [plain(`content-type: ${route.body.type}`)]),
      ...(extra === undefined ? [] : [plain(extra)]),
    ])

const cleanFraming = (b: Piece): fc.Arbitrary<Framed> => {
  const n = Buffer.byteLength(b.text, 'latin1')
  if (n === 0) return fc.constant({ headers: [], payload: plain('') })
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant({ headers: [plain(`content-length: ${n}`)], payload: b }) },
    {
      weight: 1,
      arbitrary: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 3 }).map((c) => ({
        headers: [plain('transfer-encoding: chunked')],
        payload: plain(`${chunked(chunks(b.text, c))}0\r\n\r\n`),
      })),
    },
  )
}

/** `clean` with probability 1 - p, else `odd`. */
const maybe = <T>(p: number, clean: fc.Arbitrary<T>, odd: fc.Arbitrary<T>): fc.Arbitrary<T> =>
  fc.oneof({ weight: Math.round((1 - p) * 100), arbitrary: clean }, { weight: Math.round(p * 100), arbitrary: odd })

/**
 * One raw request: a route of the apps, each part of it (method, target, version, head, body,
 * framing, line ends) replaced by a hostile one with a probability drawn per request (0 to 0.4),
 * so that clean requests, requests with one oddity and requests with many all occur.
 */
export const rawRequest = (routes: readonly Route[]): fc.Arbitrary<RawRequest> =>
  fc
    .tuple(fc.constantFrom(...routes), fc.constantFrom(0, 0.05, 0.1, 0.2, 0.4))
    .chain(([route, p]) =>
      fc.record({
        method: maybe(p, fc.constant(plain(route.method)), method),
        target: maybe(
          p,
          fc
            .option(fc.constantFrom('limit=5', 'limit=200', 'a=1&b=2'), { nil: undefined })
            .map((q) => plain(q === undefined ? route.path : `${route.path}?${q}`)),
          target,
        ),
        version: maybe(p, fc.constantFrom('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0').map(plain), version),
        head: maybe(
          p,
          cleanHeaders(route),
          fc
            .tuple(
              host,
              fc.option(contentType, { nil: undefined }),
              fc.option(cookie, { nil: undefined }),
              fc.array(headerLine, { maxLength: 4 }),
            )
            .map(([h, ct, ck, extra]) => [
              ...h,
              ...(ct === undefined ? [] : [ct]),
              ...(ck === undefined ? [] : [ck]),
              ...extra,
            ]),
        ),
        framed: maybe(
          p,
          route.body === undefined ? fc.constant(plain('')) : fc.constantFrom(...route.body.good).map(plain),
          body,
        ).chain((b) => maybe(p, cleanFraming(b), framing(b))),
        eol: maybe(p, fc.constant(plain('\r\n')), lineEnd),
        rotate: fc.nat(1_000),
      }),
    )
    .map(({ method, target, version, head, framed, eol, rotate }) => {
      const lines = [...head, ...framed.headers].filter((h) => h.text !== '')
      // a cheap rotation: the framing headers are not always last
      const shift = lines.length === 0 ? 0 : rotate % lines.length
      const ordered = [...lines.slice(shift), ...lines.slice(0, shift)]
      const line = `${method.text} ${target.text}${version.text === '' ? '' : ` ${version.text}`}`
      const text = `${line}${eol.text}${ordered.map((h) => h.text + eol.text).join('')}${eol.text}${framed.payload.text}`
      const tags = [
        ...method.tags,
        ...target.tags,
        ...version.tags,
        ...head.flatMap((h) => h.tags),
        ...framed.headers.flatMap((h) => h.tags),
        ...framed.payload.tags,
        ...eol.tags,
      ]
      return { text, tags: [...new Set(tags)].sort() }
    })

/** What one case sends: to which app, one or more requests, in one or more writes. */
export interface RawCase {
  readonly app: string
  readonly requests: readonly RawRequest[]
  /** Where the concatenated bytes are cut into separate writes (fractions of the length). */
  readonly cuts: readonly number[]
}

/** A case against one of the apps: mostly one request, sometimes several pipelined. */
export const rawCase = (apps: Readonly<Record<string, readonly Route[]>>): fc.Arbitrary<RawCase> =>
  fc.constantFrom(...Object.keys(apps)).chain((app) =>
    fc.record({
      app: fc.constant(app),
      requests: fc.oneof(
        { weight: 4, arbitrary: fc.array(rawRequest(apps[app]!), { minLength: 1, maxLength: 1 }) },
        { weight: 1, arbitrary: fc.array(rawRequest(apps[app]!), { minLength: 2, maxLength: 4 }) },
      ),
      cuts: fc.oneof(
        { weight: 3, arbitrary: fc.constant([]) },
        { weight: 1, arbitrary: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 3 }) },
      ),
    }),
  )

/** The bytes of a case, cut into its writes. */
export const writesOf = (c: RawCase): Buffer[] => {
  const all = Buffer.from(c.requests.map((r) => r.text).join(''), 'latin1')
  const at = [...new Set(c.cuts.map((x) => Math.floor(x * all.length)))]
    .filter((x) => x > 0 && x < all.length)
    .sort((a, b) => a - b)
  const out: Buffer[] = []
  let from = 0
  for (const x of [...at, all.length]) {
    out.push(all.subarray(from, x))
    from = x
  }
  return out
}
