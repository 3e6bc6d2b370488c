// Types flow through the auth guards and signed cookies: what `npm run typecheck` must accept,
// and (`@ts-expect-error`) what it must refuse. The runtime tests check that the typed apps
// answer as their types say.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  basicAuth,
  bearer,
  choose,
  get,
  handle,
  json,
  ok,
  path,
  pipe,
  prefix,
  setSignedCookie,
  signedCookie,
  type Conn,
  type Params,
} from 'sapwood'
import { inject } from 'sapwood/testing'

/** True when X and Y are the same type (not merely assignable either way). */
type Equal<X, Y> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? true : false
const expect = <T extends true>(): T => true as T

interface User {
  readonly name: string
}
const users = new Map<string, User>([['t', { name: 'ada' }]])
const keys = ['type test secret']

// ---------------------------------------------------------------------------------------------
// bearer: the value verify resolves to, without undefined, null or false, under `user`

const sync = pipe(
  get,
  path('/sync'),
  bearer((token) => users.get(token)),
  handle((c) => {
    expect<Equal<typeof c.assigns.user, User>>()
    return ok(c.assigns.user.name)
  }),
)

const async = pipe(
  get,
  path('/async'),
  bearer((token): Promise<User | null | false> => Promise.resolve(users.get(token) ?? null)),
  handle((c) => {
    expect<Equal<typeof c.assigns.user, User>>()
    return ok(c.assigns.user.name)
  }),
)

// under another name, in front of a subtree, with the params before it
const tenant = pipe(
  prefix('/t/:tenant'),
  bearer((token) => (token === 't' ? { id: 1 } : undefined), { as: 'account' }),
  choose([
    pipe(
      get,
      path('/me'),
      handle((c) => {
        expect<Equal<typeof c, Conn<{ readonly tenant: string }, { readonly account: { id: number } }>>>()
        return json({ tenant: c.params.tenant, id: c.assigns.account.id })
      }),
    ),
  ]),
)

// the Part's own type, written apart
const guard = bearer((token) => users.get(token))
expect<Equal<typeof guard, ReturnType<typeof bearer<User | undefined, 'user'>>>>()
const needsUser = (c: Conn<Params, { user: User }>) => ok(c.assigns.user.name)
pipe(get, path('/apart'), guard, handle(needsUser))
pipe(
  get,
  path('/apart'),
  // @ts-expect-error -- nothing assigned a `user`
  handle(needsUser),
)

// basicAuth alike
const basic = pipe(
  get,
  path('/basic'),
  basicAuth((user, password) => (password === 'pw' ? { name: user } : false)),
  handle((c) => {
    expect<Equal<typeof c.assigns.user, { name: string }>>()
    return ok(c.assigns.user.name)
  }),
)

// ---------------------------------------------------------------------------------------------
// signedCookie: a string or undefined, under the cookie's name or `as`

const session = pipe(
  get,
  path('/session'),
  signedCookie('session', keys),
  handle((c) => {
    expect<Equal<typeof c.assigns.session, string | undefined>>()
    // never called: a type check only
    void (() =>
      // @ts-expect-error -- it may be undefined: check it first
      c.assigns.session.length)
    return ok(c.assigns.session ?? 'none')
  }),
)
const renamed = pipe(
  get,
  path('/sid'),
  signedCookie('session', keys, { as: 'sid' }),
  handle((c) => {
    expect<Equal<typeof c.assigns.sid, string | undefined>>()
    // @ts-expect-error -- assigned under `sid`, not under the cookie's name
    void c.assigns.session
    return ok(c.assigns.sid ?? 'none')
  }),
)

// ---------------------------------------------------------------------------------------------
// c.cookies: any name, maybe missing; an unknown assign is a type error

pipe(
  get,
  path('/cookies'),
  handle((c) => {
    expect<Equal<typeof c.cookies.x, string | undefined>>()
    return ok(c.cookies['x'] ?? 'none')
  }),
)
pipe(
  get,
  path('/unknown'),
  bearer((token) => users.get(token)),
  signedCookie('session', keys),
  handle((c) => {
    expect<Equal<typeof c.assigns, { readonly user: User; readonly session: string | undefined }>>()
    // @ts-expect-error -- no Part assigned `admin`
    return ok(String(c.assigns.admin))
  }),
)

describe('types flow through the auth guards and signed cookies', () => {
  it('answers as the types say', async () => {
    const auth = { authorization: 'Bearer t' }
    assert.equal((await inject(sync, { url: '/sync', headers: auth })).body, 'ada')
    assert.equal((await inject(async, { url: '/async', headers: auth })).body, 'ada')
    assert.deepEqual((await inject(tenant, { url: '/t/acme/me', headers: auth })).json(), { tenant: 'acme', id: 1 })
    const credentials = `Basic ${Buffer.from('bob:pw').toString('base64')}`
    assert.equal((await inject(basic, { url: '/basic', headers: { authorization: credentials } })).body, 'bob')
  })

  it('reads a signed cookie back under its name or `as`', async () => {
    const set = await inject(pipe(get, path('/'), setSignedCookie('session', 'ada', keys), ok()), { url: '/' })
    const cookie = String(set.headers['set-cookie']).split(';')[0]!
    assert.equal((await inject(session, { url: '/session', headers: { cookie } })).body, 'ada')
    assert.equal((await inject(renamed, { url: '/sid', headers: { cookie } })).body, 'ada')
    assert.equal((await inject(session, { url: '/session' })).body, 'none')
  })
})
