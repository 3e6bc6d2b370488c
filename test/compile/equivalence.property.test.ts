// Law: the compiled app behaves exactly like the interpreted tree. Random trees (nested
// choose/pipe/prefix, tables of routes under prefixes and guards, recover, nested compiled apps,
// verbs, overlapping static/param/regex/wildcard paths, filters that read the request, the
// assigns or the params or that throw, user builders, handlers that answer, reject, throw, return
// a Part or rewrite the method) and random requests (encoded, malformed and over-long paths,
// headers, Conns that an outer tree already worked on); both must agree on the answer: Right or
// Left, status, headers, body, params, rest, assigns and method, or the rejection and its fields.
//
// Two profiles:
// - `npm test`: PROPERTY_RUNS cases (800 by default), leaving out the features in PENDING;
// - `npm run fuzz`: FUZZ_RUNS cases (100 000), every feature but those in FUZZ_WITHOUT
//   (comma-separated). It keeps going past a divergence, groups the divergences by what differs,
//   shrinks a few cases of each group and fails listing them all. FUZZ_SEED replays a run.
import assert from 'node:assert/strict'
import { type TestContext, describe, it } from 'node:test'
import { isDeepStrictEqual } from 'node:util'
import fc from 'fast-check'
import * as sap from 'sapwood'
import { conn } from 'sapwood/testing'
import { toWire } from '../../src/adapters/wire.js'
import { answerOf, describeBody } from '../helpers.js'

const { pipe, choose, handle, update, rejection } = sap

/** What the generators can leave out, to look past a divergence that is already known. */
type Feature =
  | 'throwing-filter' // filter predicates that throw, always or for some paths
  | 'assigns-filter' // filters that read the assigns, after an `assign`
  | 'any-builder' // user builders that read the whole Conn (and `assign`)
  | 'nested-compile' // `compile(sub)` inside a bigger tree
  | 'mid-wildcard' // `*` in the middle of a segment (`/files/a*`)
  | 'recover'
  | 'drafted-conn' // requests on a Conn that already has a response drafted, assigns and params

const FEATURES: readonly Feature[] = [
  'throwing-filter',
  'assigns-filter',
  'any-builder',
  'nested-compile',
  'mid-wildcard',
  'recover',
  'drafted-conn',
]

// The features on which the compiler is known to diverge from the interpreter, each divergence
// kept as a todo test in test/regressions/: the fast profile leaves them out so that it keeps
// guarding everything else until the fix lands, then the feature comes off this list. The long
// profile includes them unless FUZZ_WITHOUT says otherwise.
const PENDING: readonly Feature[] = []

const FUZZ_RUNS = process.env['FUZZ_RUNS'] === undefined ? undefined : Number(process.env['FUZZ_RUNS'])
const quiet = { onWarning: () => undefined }

const parseFeatures = (list: string): Feature[] =>
  list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      if (!(FEATURES as readonly string[]).includes(s)) throw new Error(`unknown feature ${s}: ${FEATURES.join(', ')}`)
      return s as Feature
    })

/** Gives a function the name that labels, and so counterexamples, show. */
const named = <F extends (...args: never[]) => unknown>(name: string, fn: F): F =>
  Object.defineProperty(fn, 'name', { value: name })

// How a counterexample prints the Parts whose label says too little (`ok` without its body,
// `recover`, `compile(...)`).
const written = new WeakMap<sap.Part, string>()

const labelled = (p: sap.Part, text: string): sap.Part => {
  written.set(p, text)
  return p
}

const show = (p: sap.Part): string => {
  const w = written.get(p)
  if (w !== undefined) return w
  const s = p.shape
  if (s._tag === 'Seq') return `pipe(${s.parts.map((x) => show(x as unknown as sap.Part)).join(', ')})`
  if (s._tag === 'Choose') return `choose([${s.options.map((x) => show(x as unknown as sap.Part)).join(', ')}])`
  return p.label
}

const printable = (p: sap.Part): sap.Part => Object.assign(p, { [fc.toStringMethod]: () => show(p) })

// --- the Parts trees are made of ---------------------------------------------------------------

const exactPatterns = [
  '/users',
  '/users/me',
  '/users/:id',
  '/users/:id(^\\d+$)',
  '/users/:id/posts',
  '/users/*',
  '/files/*',
  '/files/a*',
  '/files/abc/def',
  '/files/:name.:ext',
  '/files/:name.json',
  '/',
  '/:any',
  '/a/b',
  '/a/:x',
  '/a.json',
  '/name::verb',
  '/café',
  '/caf%C3%A9',
  '/100%',
  '/v1.2/:x',
  '/users/:from-:to/posts',
  '/orgs/:org/repos',
  '/repos',
  '/admin',
  '/b',
  '/*',
  '',
]
const prefixPatterns = [
  '/users',
  '/users/:id',
  '/a',
  '/:seg',
  '/posts',
  '/b',
  '/files',
  '/café',
  '/v1.2',
  '/orgs/:org',
  '',
]

const isAdmin = named('isAdmin', (c: sap.Conn) => c.assigns['role'] === 'admin')
const requestPredicates = [
  named('evenRest', (c: sap.Conn) => c.rest.length % 2 === 0),
  named('hasId', (c: sap.Conn) => c.params['id'] !== undefined),
  named('isGet', (c: sap.Conn) => c.method === 'GET'),
]
const throwingPredicates = [
  named('throws', (): boolean => {
    throw new Error('predicate failed')
  }),
  named('throwsOnB', (c: sap.Conn) => {
    if (c.rest.includes('b')) throw new Error('predicate failed on b')
    return true
  }),
]
const reasons = [rejection.unauthorized(), rejection.badRequest('no'), rejection.noMatch]

/** A user builder that may read anything: it reports what it saw in a response header. */
const peek = sap.builder(
  (c) =>
    update(c, {
      respHeaders: {
        ...c.respHeaders,
        'x-peek': `${c.method} rest=${c.rest} params=${JSON.stringify({ ...c.params })} assigns=${JSON.stringify({ ...c.assigns })}`,
      },
    }),
  'peek',
  'any',
)
/** A user builder of the response draft alone: it reads the status and body drafted so far. */
const stamp = sap.builder(
  (c) =>
    update(c, {
      respHeaders: { ...c.respHeaders, 'x-status': String(c.status) },
      respBody: `${typeof c.respBody === 'string' ? c.respBody : ''}!`,
    }),
  'stamp',
  'response',
)

const outcomes: Readonly<Record<string, (c: sap.Conn) => unknown>> = {
  echo: (c) =>
    sap.right(
      update(c, {
        respBody: `${c.method} ${c.rest} ${JSON.stringify({ ...c.params })} ${JSON.stringify({ ...c.assigns })}`,
      }),
    ),
  reject: () => sap.left(rejection.notAcceptable(['x/y'])),
  notAllowed: () => sap.left(rejection.methodNotAllowed(['PATCH'])),
  fail: () => {
    throw new Error('handler failed')
  },
  okPart: () => sap.ok('x'),
  pathPart: () => pipe(sap.path('/b'), sap.ok('y')),
  toPost: (c) => update(c, { method: 'POST' }),
}

const recoveries: readonly ((r: sap.Rejection, c: sap.Conn) => sap.Returned<sap.Conn, sap.Conn> | undefined)[] = [
  named('notFoundPage', (r: sap.Rejection) => (r._tag === 'NoMatch' ? sap.notFound('custom') : undefined)),
  named('badFrom405', (r: sap.Rejection) =>
    r._tag === 'MethodNotAllowed' ? sap.left(rejection.badRequest('was 405')) : undefined,
  ),
  named('loginPage', (r: sap.Rejection) =>
    r._tag === 'Unauthorized' ? pipe(sap.setHeader('x-login', '1'), sap.ok('login')) : undefined,
  ),
  named('rescue', (r: sap.Rejection, c: sap.Conn) =>
    r._tag === 'HandlerFailed' ? sap.right(update(c, { status: 503, respBody: `rescued ${c.rest}` })) : undefined,
  ),
  named('passAll', () => undefined),
]

// --- trees -------------------------------------------------------------------------------------

/** Random apps, without the features in `without`. */
const trees = (without: ReadonlySet<Feature>): fc.Arbitrary<sap.Part> => {
  const has = (f: Feature): boolean => !without.has(f)
  const oneof = <T>(...arbs: (fc.Arbitrary<T> | fc.WeightedArbitrary<T>)[]): fc.Arbitrary<T> =>
    fc.oneof({ withCrossShrink: true }, ...arbs)

  const exactPath = fc
    .constantFrom(...exactPatterns.filter((p) => has('mid-wildcard') || !/[^/]\*/.test(p)))
    .map((p) => sap.path(p))
  const prefixPath = fc.constantFrom(...prefixPatterns).map((p) => sap.prefix(p))
  const verb = fc.constantFrom(sap.get, sap.post, sap.put, sap.del, sap.head, sap.options, sap.method('GET', 'PUT'))

  const predicates = [
    ...requestPredicates,
    ...(has('assigns-filter') ? [isAdmin] : []),
    ...(has('throwing-filter') ? throwingPredicates : []),
  ]
  const guard: fc.Arbitrary<sap.Part> = oneof(
    fc.constantFrom('1', '2').map((v) => labelled(sap.header('x-v', v), `header('x-v', '${v}')`)),
    fc.constantFrom('1', '2').map((v) => labelled(sap.query('q', v), `query('q', '${v}')`)),
    fc.constant(sap.accepts('text/csv')),
    fc.constant(sap.contentType('application/json')),
    fc.constant(sap.host('api.example.com')),
    fc
      .record({ predicate: fc.constantFrom(...predicates), reason: fc.constantFrom(...reasons) })
      .map(({ predicate, reason }) =>
        labelled(sap.filter(predicate, reason), `filter(${predicate.name}, ${reason._tag})`),
      ),
  )

  const responseBuilder: fc.Arbitrary<sap.Part> = oneof(
    { weight: 3, arbitrary: fc.constantFrom('a', 'b', 'c').map((s) => labelled(sap.ok(s), `ok('${s}')`)) },
    { weight: 1, arbitrary: fc.constant(labelled(sap.created('made'), `created('made')`)) },
    { weight: 1, arbitrary: fc.constant(labelled(sap.json({ n: 1, m: 2 }), `json({ n: 1, m: 2 })`)) },
    { weight: 1, arbitrary: fc.constant(sap.setStatus(202)) },
    { weight: 1, arbitrary: fc.constant(sap.found('/x')) },
    { weight: 1, arbitrary: fc.constant(sap.respJson) },
    { weight: 1, arbitrary: fc.constantFrom('x-a', 'x-b').map((h) => sap.setHeader(h, 'v')) },
    { weight: 1, arbitrary: fc.constant(sap.appendHeader('x-a', 'w')) },
    { weight: 1, arbitrary: fc.constant(sap.removeHeader('x-a')) },
    { weight: 1, arbitrary: fc.constant(stamp) },
    // a streamed body is made per answer: the compiler never drafts it ahead
    {
      weight: 1,
      arbitrary: fc.constant(
        labelled(
          sap.stream(async function* () {
            yield 's1'
          }),
          `stream('s1')`,
        ),
      ),
    },
  )
  const schemas = sap.responds({
    200: { type: 'object', properties: { n: { type: 'integer' } } },
    202: { type: 'object', properties: { m: { type: 'integer' } } },
  })
  const assignRole = fc
    .constantFrom('admin', 'guest')
    .map((v) => labelled(sap.assign('role', v), `assign('role', '${v}')`))
  const anyBuilder: fc.Arbitrary<sap.Part> = has('any-builder')
    ? oneof(
        { weight: 4, arbitrary: responseBuilder },
        { weight: 1, arbitrary: fc.constant(peek) },
        { weight: 1, arbitrary: assignRole },
        // response schemas: `json` after it writes with them (`m` dropped), and the compiler may
        // no longer answer with a response it drafted ahead
        { weight: 1, arbitrary: fc.constant(labelled(schemas, 'responds(200, 202)')) },
      )
    : responseBuilder

  const handler: fc.Arbitrary<sap.Part> = fc
    .record({ outcome: fc.constantFrom(...Object.keys(outcomes)), async: fc.boolean() })
    .map(({ async, outcome }) => {
      const run = outcomes[outcome]!
      return handle(
        named(async ? `${outcome}Async` : outcome, (c: sap.Conn) =>
          async ? Promise.resolve().then(() => run(c)) : run(c),
        ) as (c: sap.Conn) => sap.Returned<sap.Conn, sap.Conn>,
      )
    })

  const step: fc.Arbitrary<sap.Part> = oneof(
    { weight: 4, arbitrary: responseBuilder },
    { weight: 3, arbitrary: verb },
    { weight: 4, arbitrary: exactPath },
    { weight: 2, arbitrary: prefixPath },
    { weight: 3, arbitrary: guard },
    { weight: 1, arbitrary: anyBuilder },
    { weight: 2, arbitrary: handler },
  )

  /** A guard in front, or an assign and a filter that reads it (as an auth step would). */
  const front: fc.Arbitrary<sap.Part> = has('assigns-filter')
    ? oneof(
        { weight: 3, arbitrary: guard },
        {
          weight: 1,
          arbitrary: fc
            .tuple(assignRole, fc.constantFrom(...reasons))
            .map(([assign, reason]) =>
              pipe(assign, labelled(sap.filter(isAdmin, reason), `filter(isAdmin, ${reason._tag})`)),
            ),
        },
      )
    : guard

  /**
   * A route as people write them: a method (before, between or after the paths), a path maybe
   * under a prefix, maybe a guard, an answer; now and then one more builder or guard anywhere.
   */
  const route: fc.Arbitrary<sap.Part> = fc
    .record({
      method: verb,
      at: fc.constantFrom('first', 'first', 'first', 'between', 'after'),
      prefix: fc.option(prefixPath, { freq: 3 }),
      path: exactPath,
      guard: fc.option(guard, { freq: 2 }),
      answer: oneof(
        responseBuilder,
        handler,
        fc.tuple(anyBuilder, responseBuilder).map(([a, b]) => pipe(a, b)),
      ),
      extra: fc.option(fc.record({ part: oneof(anyBuilder, guard), index: fc.nat(4) }), { freq: 4 }),
    })
    .map(({ method, at, prefix, path, guard, answer, extra }) => {
      const steps: sap.Part[] = []
      if (at === 'first') steps.push(method)
      if (prefix !== null) steps.push(prefix)
      if (at === 'between') steps.push(method)
      steps.push(path)
      if (at === 'after') steps.push(method)
      if (guard !== null) steps.push(guard)
      if (extra !== null) steps.splice(Math.min(extra.index, steps.length), 0, extra.part)
      steps.push(answer)
      return pipe(...steps)
    })

  /** 2 to 8 sibling routes, maybe under a prefix and a guard, maybe followed by a builder or a guard. */
  const routes: fc.Arbitrary<sap.Part> = fc
    .record({
      prefix: fc.option(prefixPath, { freq: 2 }),
      front: fc.option(front, { freq: 3 }),
      table: fc.array(route, { minLength: 2, maxLength: 8 }),
      after: fc.option(oneof(responseBuilder, guard), { freq: 5 }),
    })
    .map(({ prefix, front, table, after }) => {
      const steps: sap.Part[] = []
      if (prefix !== null) steps.push(prefix)
      if (front !== null) steps.push(front)
      steps.push(choose(table))
      if (after !== null) steps.push(after)
      return steps.length === 1 ? steps[0]! : pipe(...steps)
    })

  const recovered = (inner: sap.Part, fn: (typeof recoveries)[number]): sap.Part =>
    labelled(sap.recover(inner, fn), `recover(${show(inner)}, ${fn.name})`)

  const compiled = (inner: sap.Part): sap.Part => {
    const p = sap.compile(inner, quiet)
    // compile(compile(x)) is compile(x): print it as what it is
    return written.has(p) ? p : labelled(p, `compile(${show(inner)})`)
  }

  const composites = (node: fc.Arbitrary<sap.Part>, top: boolean): fc.WeightedArbitrary<sap.Part>[] => [
    { weight: top ? 3 : 2, arbitrary: routes },
    { weight: 3, arbitrary: fc.array(node, { minLength: 2, maxLength: 4 }).map((ps) => pipe(...ps)) },
    {
      weight: 3,
      arbitrary: fc.array(node, { minLength: top ? 1 : 0, maxLength: top ? 6 : 5 }).map((ps) => choose(ps)),
    },
    ...(has('recover')
      ? [
          {
            weight: 1,
            arbitrary: fc.tuple(node, fc.constantFrom(...recoveries)).map(([inner, fn]) => recovered(inner, fn)),
          },
        ]
      : []),
    ...(has('nested-compile') && !top ? [{ weight: 1, arbitrary: node.map(compiled) }] : []),
  ]

  const { node } = fc.letrec<{ node: sap.Part }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      { weight: 3, arbitrary: step },
      ...composites(tie('node'), false),
    ),
  }))

  // An app is a composite (a lone filter or builder is a unit test, not an app), but one in
  // eleven is a lone Part, the smallest counterexample there is.
  return oneof({ weight: 1, arbitrary: step }, ...composites(node, true)).map(printable)
}

// --- requests ----------------------------------------------------------------------------------

/**
 * Paths that the app's own patterns match (params and wildcards filled in two ways, escaped
 * colons unescaped), so that requests reach the deep branches of big trees, not only their 404.
 */
const pathsOf = (app: sap.Part): string[] => {
  const MAX = 40
  const unique = (xs: string[]): string[] => [...new Set(xs)].slice(0, MAX)
  const go = (p: sap.Part): string[] => {
    const s = p.shape
    switch (s._tag) {
      case 'Path':
        return [s.pattern]
      case 'Seq':
        return s.parts.reduce<string[]>(
          (acc, q) => {
            const next = go(q as unknown as sap.Part)
            return unique(acc.flatMap((a) => next.map((b) => a + b)))
          },
          [''],
        )
      case 'Choose':
        return s.options.length === 0 ? [''] : unique(s.options.flatMap((o) => go(o as unknown as sap.Part)))
      case 'Recover':
        return go(s.part as unknown as sap.Part)
      default:
        return ['']
    }
  }
  const concrete = (pattern: string, param: string, rest: string): string => {
    const path = pattern
      .replaceAll('::', '\0')
      .replace(/:[A-Za-z_$][\w$]*(\([^)]*\))?/g, param)
      .replaceAll('*', rest)
      .replaceAll('\0', ':')
    return path === '' ? '/' : path
  }
  return unique(go(app).flatMap((p) => [concrete(p, '42', 'x/y'), concrete(p, 'ab', '')]))
}

const requests = (without: ReadonlySet<Feature>) =>
  fc.record({
    method: fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'HEAD', 'OPTIONS'),
    // a number picks one of the paths the app's own patterns match (see `pathsOf`)
    path: fc.oneof(
      { withCrossShrink: true },
      { weight: 2, arbitrary: fc.nat(999) },
      fc
        .array(
          fc.constantFrom('users', 'a', 'b', 'me', '42', 'posts', 'files', 'abc', 'x.json', 'orgs', 'repos', '%41', ''),
          { minLength: 1, maxLength: 4 },
        )
        .map((segs) => `/${segs.join('/')}`),
      fc.constantFrom(
        '/',
        '/users',
        '/users/',
        '/users/me',
        '/users/42',
        '/users/abc',
        '/users/42/posts',
        '/users/a%2Fb',
        '/users/a%20b',
        '/users/%E0%A4%A',
        `/users/${'x'.repeat(120)}`,
        `/users/${'x'.repeat(101)}/posts`,
        `/users/${'a'.repeat(60)}-${'b'.repeat(60)}/posts`,
        `/a/${'x'.repeat(101)}/b`,
        '/users/a-b/posts',
        '/files/a/b/c',
        '/files/abc/def',
        '/files/abc',
        '/files/a',
        '/files/x.json',
        '/files/a.b.c',
        '/a.json',
        '/name:verb',
        '/name%3Averb',
        '/café',
        '/caf%C3%A9',
        '/100%25',
        '/100%',
        '/v1.2/q',
        '/orgs/acme/repos',
        '/admin',
        '/nope',
        '/a/b',
        '/a/bb',
        '/a',
        '//users',
        '/USERS',
      ),
    ),
    query: fc.constantFrom('', '?q=1', '?q=2'),
    header: fc.constantFrom(undefined, '1', '2'),
    accept: fc.constantFrom(undefined, 'text/csv', 'application/json'),
    host: fc.constantFrom(undefined, 'api.example.com', 'API.example.com:8080', 'www.example.com'),
    contentType: fc.constantFrom(
      undefined,
      'application/json; charset=utf-8',
      'application/problem+json',
      'text/plain',
    ),
    drafted: without.has('drafted-conn')
      ? fc.constant(null)
      : fc.option(
          fc.record({
            status: fc.constantFrom(200, 201, 404),
            headers: fc.boolean(),
            body: fc.constantFrom(null, 'pre'),
            assigns: fc.boolean(),
            params: fc.boolean(),
          }),
          { freq: 4 },
        ),
  })

type Request = ReturnType<typeof requests> extends fc.Arbitrary<infer R> ? R : never

const urlOf = (r: Request, paths: readonly string[]): string =>
  (typeof r.path === 'number' ? (paths[r.path % paths.length] ?? '/') : r.path) + r.query

const makeConn = (r: Request, paths: readonly string[]): sap.Conn => {
  const headers: Record<string, string> = {}
  if (r.header !== undefined) headers['x-v'] = r.header
  if (r.accept !== undefined) headers['accept'] = r.accept
  if (r.host !== undefined) headers['host'] = r.host
  if (r.contentType !== undefined) headers['content-type'] = r.contentType
  const c = conn(r.method, urlOf(r, paths), { headers })
  const d = r.drafted
  if (d === null) return c
  return update(c, {
    status: d.status,
    respBody: d.body,
    ...(d.headers ? { respHeaders: { 'x-pre': '1', 'x-a': 'pre' } } : {}),
    ...(d.assigns ? { assigns: { role: 'admin' } } : {}),
    ...(d.params ? { params: { id: 'pre' } } : {}),
  })
}

const describeRequest = (r: Request, paths: readonly string[]): string => {
  const extra = [
    r.header === undefined ? '' : `x-v: ${r.header}`,
    r.accept === undefined ? '' : `accept: ${r.accept}`,
    r.host === undefined ? '' : `host: ${r.host}`,
    r.contentType === undefined ? '' : `content-type: ${r.contentType}`,
    r.drafted === null ? '' : `drafted: ${JSON.stringify(r.drafted)}`,
  ].filter((s) => s !== '')
  return `${r.method} ${urlOf(r, paths)}${extra.length === 0 ? '' : ` (${extra.join(', ')})`}`
}

// --- what is compared --------------------------------------------------------------------------

interface Divergence {
  readonly request: string
  readonly interpreted: unknown
  readonly compiled: unknown
}

type Check = (app: sap.Part, requests: readonly Request[]) => Promise<Divergence | null>

/** The answer of `compile(app)` against that of `app`, request by request (see `answerOf`). */
const sameAnswer: Check = async (app, requests) => {
  const compiledApp = sap.compile(app, quiet)
  const paths = pathsOf(app)
  for (const r of requests) {
    const c = makeConn(r, paths)
    const interpreted = await answerOf(() => app(c))
    const compiled = await answerOf(() => compiledApp(c))
    if (!isDeepStrictEqual(compiled, interpreted)) return { request: describeRequest(r, paths), interpreted, compiled }
  }
  return null
}

/** The whole response through `respond` (HEAD and OPTIONS answered, rejections rendered). */
const sameResponse: Check = async (app, requests) => {
  const onError = { onError: () => undefined }
  const interpretedApp = sap.respond(app, { ...onError, compile: false })
  const compiledApp = sap.respond(sap.compile(app, quiet), onError)
  const paths = pathsOf(app)
  const wire = async (h: sap.Handler, r: Request): Promise<unknown> => {
    try {
      const out = toWire(await h(makeConn(r, paths)), r.method === 'HEAD')
      return { ...out, body: await describeBody(out.body) }
    } catch (e) {
      return { threw: e instanceof Error ? e.message : String(e) }
    }
  }
  for (const r of requests) {
    const interpreted = await wire(interpretedApp, r)
    const compiled = await wire(compiledApp, r)
    if (!isDeepStrictEqual(compiled, interpreted)) return { request: describeRequest(r, paths), interpreted, compiled }
  }
  return null
}

const report = (d: Divergence): string =>
  `${d.request}\n  interpreted: ${JSON.stringify(d.interpreted)}\n  compiled:    ${JSON.stringify(d.compiled)}`

/** A coarse class of divergence: the two outcomes' kinds and which fields differ. */
const classOf = (d: Divergence): string => {
  const kind = (s: Record<string, unknown>): string => {
    if ('threw' in s) return 'throw'
    if ('right' in s) return s['right'] === true ? 'Right' : `Left ${String((s['rejection'] as { _tag: string })._tag)}`
    return `status ${String(s['status'])}`
  }
  const a = d.interpreted as Record<string, unknown>
  const b = d.compiled as Record<string, unknown>
  const fields = Object.keys({ ...a, ...b }).filter((k) => !isDeepStrictEqual(a[k], b[k]))
  return `${kind(a)} → ${kind(b)} [${fields.join(', ')}]`
}

const property = (check: Check, without: ReadonlySet<Feature>, maxRequests: number) =>
  fc.asyncProperty(
    trees(without),
    fc.array(requests(without), { minLength: 1, maxLength: maxRequests }),
    async (app, rs) => {
      const d = await check(app, rs)
      if (d !== null) assert.fail(report(d))
    },
  )

/** How many cases of one class of divergence the long profile shrinks. */
const PER_CLASS = 3

/**
 * The long profile: runs every case (a divergence does not stop it), keeps the first few cases
 * of each class, then replays and shrinks each of those, and fails listing what they shrank to.
 */
const fuzz = async (
  t: TestContext,
  check: Check,
  without: ReadonlySet<Feature>,
  maxRequests: number,
  runs: number,
): Promise<void> => {
  const seed = Number(process.env['FUZZ_SEED'] ?? Date.now() % 2 ** 31)
  const classes = new Map<string, { indices: number[]; count: number }>()
  let index = 0
  const started = Date.now()
  const record = fc.asyncProperty(
    trees(without),
    fc.array(requests(without), { minLength: 1, maxLength: maxRequests }),
    async (app, rs) => {
      const at = index++
      const d = await check(app, rs)
      if (d === null) return
      const k = classOf(d)
      const seen = classes.get(k) ?? { indices: [], count: 0 }
      classes.set(k, {
        indices: seen.indices.length < PER_CLASS ? [...seen.indices, at] : seen.indices,
        count: seen.count + 1,
      })
    },
  )
  await fc.assert(record, { numRuns: runs, seed })
  const seconds = ((Date.now() - started) / 1000).toFixed(1)
  const shrunk = new Map<string, string[]>()
  for (const [k, { indices, count }] of classes) {
    for (const at of indices) {
      const out = await fc.check(property(check, without, maxRequests), { seed, path: String(at) })
      const error = out.errorInstance instanceof Error ? out.errorInstance.message : String(out.errorInstance)
      const found =
        out.counterexample === null
          ? `(case ${at} did not fail when replayed)`
          : `${show(out.counterexample[0])}\n${error}`
      const seen = shrunk.get(found) ?? []
      if (!seen.includes(`${k}: ${count} cases`)) seen.push(`${k}: ${count} cases`)
      shrunk.set(found, seen)
    }
  }
  const failing = [...classes.values()].reduce((n, c) => n + c.count, 0)
  const lines = [
    `${runs} cases in ${seconds} s (seed ${seed}${without.size === 0 ? '' : `, without ${[...without].join(', ')}`}): ` +
      `${failing} diverge, in ${classes.size} classes, shrunk to ${shrunk.size} cases`,
    ...[...shrunk].map(([found, ks]) => `\n[${ks.join('; ')}]\n${found}`),
  ]
  t.diagnostic(lines[0]!)
  assert.equal(classes.size, 0, lines.join('\n'))
}

describe('compile', () => {
  if (FUZZ_RUNS !== undefined) {
    const without = new Set(parseFeatures(process.env['FUZZ_WITHOUT'] ?? ''))
    it(`gives exactly what the interpreted tree gives (fuzz, ${FUZZ_RUNS} cases)`, (t) =>
      fuzz(t, sameAnswer, without, 6, FUZZ_RUNS))
    it(`answers exactly like the interpreted tree through respond (fuzz, ${Math.ceil(FUZZ_RUNS / 2)} cases)`, (t) =>
      fuzz(t, sameResponse, without, 4, Math.ceil(FUZZ_RUNS / 2)))
    return
  }

  const runs = Number(process.env['PROPERTY_RUNS'] ?? 800)
  const without = new Set(PENDING)

  it('gives exactly what the interpreted tree gives (property)', async () => {
    await fc.assert(property(sameAnswer, without, 6), { numRuns: runs, includeErrorInReport: true })
  })

  it('answers exactly like the interpreted tree through respond, HEAD and OPTIONS included (property)', async () => {
    await fc.assert(property(sameResponse, without, 4), {
      numRuns: Math.ceil(runs / 2),
      includeErrorInReport: true,
    })
  })
})
