import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as sap from 'sapwood'
import { conn, inject } from 'sapwood/testing'

const { pipe, get, path, ok, handle, json, setCookie, clearCookie, setSignedCookie, signedCookie } = sap

/** The Set-Cookie values of an answer, as a list. */
const setCookies = (headers: Readonly<Record<string, string | readonly string[]>>): readonly string[] => {
  const v = headers['set-cookie']
  return v === undefined ? [] : typeof v === 'string' ? [v] : v
}

/** The `name=value` pair of a Set-Cookie value, as a client sends it back in `Cookie`. */
const pairOf = (line: string): string => line.split(';')[0]!

/** Runs one Part on a test Conn and returns the Conn it gives (the Part must say Right). */
const run = async (p: sap.Part<sap.Conn, sap.Conn>, c: sap.Conn = conn('GET', '/')): Promise<sap.Conn> => {
  const r = await p(c)
  assert.equal(r._tag, 'Right')
  return (r as { right: sap.Conn }).right
}

/** Signs `value` as cookie `name` with `keys` and returns the `name=value.signature` pair. */
const signedPair = async (name: string, value: string, keys: readonly string[]): Promise<string> => {
  const out = await run(setSignedCookie(name, value, keys))
  return pairOf(setCookies(out.respHeaders)[0]!)
}

/** What `signedCookie(name, keys, ...)` assigns for a request with this Cookie header. */
const readSigned = async (
  cookie: string | undefined,
  name: string,
  keys: readonly string[],
  as?: string,
): Promise<unknown> => {
  const c = conn('GET', '/', cookie === undefined ? {} : { headers: { cookie } })
  const out = await run(signedCookie(name, keys, as === undefined ? {} : { as }), c)
  assert.ok(Object.hasOwn(out.assigns, as ?? name), 'the key is assigned, even when the cookie is absent')
  return out.assigns[as ?? name]
}

describe('setCookie', () => {
  it('formats every attribute through the cookie package', async () => {
    const out = await run(
      setCookie('sid', 'abc', {
        maxAge: 3600,
        expires: new Date(Date.UTC(2030, 0, 2, 3, 4, 5)),
        domain: 'example.com',
        path: '/app',
        secure: true,
        httpOnly: true,
        sameSite: 'lax',
        partitioned: true,
        priority: 'high',
      }),
    )
    assert.equal(
      out.respHeaders['set-cookie'],
      'sid=abc; Max-Age=3600; Domain=example.com; Path=/app; Expires=Wed, 02 Jan 2030 03:04:05 GMT; HttpOnly; Secure; Partitioned; Priority=High; SameSite=Lax',
    )
  })

  it('appends one Set-Cookie per cookie, keeping those already drafted', async () => {
    const app = pipe(
      get,
      path('/'),
      sap.appendHeader('set-cookie', 'first=1'),
      setCookie('a', '1'),
      setCookie('b', '2', { path: '/' }),
      ok('hi'),
    )
    for (const compile of [false, true]) {
      const res = await inject(app, { url: '/' }, { compile })
      assert.equal(res.status, 200)
      assert.deepEqual(res.headers['set-cookie'], ['first=1', 'a=1', 'b=2; Path=/'])
    }
  })

  it('keeps one string when only one cookie is set', async () => {
    const out = await run(setCookie('a', '1'))
    assert.equal(out.respHeaders['set-cookie'], 'a=1')
  })

  it('is a builder that reads and writes only the response', () => {
    const shape = setCookie('a', '1').shape
    assert.equal(shape._tag, 'Pure')
    assert.equal(shape._tag === 'Pure' && shape.reads, 'response')
    assert.equal(shape._tag === 'Pure' && shape.throws, false)
    assert.equal(setCookie('a', '1').label, "setCookie('a')")
  })

  it('percent-encodes a value a cookie cannot hold, and c.cookies decodes it back', async () => {
    const value = 'a b;c,"d"\\é%41 ☃'
    const out = await run(setCookie('v', value))
    const line = setCookies(out.respHeaders)[0]!
    assert.match(line, /^v=[\x21-\x7e]+$/)
    assert.equal(conn('GET', '/', { headers: { cookie: pairOf(line) } }).cookies['v'], value)
  })

  it('refuses a name that is not a token, naming it, when the Part is made', () => {
    for (const name of ['', 'a b', 'a=b', 'a;b', 'a,b', 'é', 'a\r\nb', '(x)']) {
      assert.throws(
        () => setCookie(name, 'v'),
        (e: unknown) => e instanceof TypeError && /cookie name must be a token/.test(e.message),
        JSON.stringify(name),
      )
    }
    assert.throws(() => setCookie(42 as unknown as string, 'v'), TypeError)
  })

  it('refuses a value that is not a string or holds a lone surrogate', () => {
    assert.throws(() => setCookie('a', 1 as unknown as string), /value must be a string, not number/)
    assert.throws(() => setCookie('a', 'x\ud800y'), /lone surrogate at index 1/)
    setCookie('a', '😀') // a whole pair is fine
  })

  it('refuses a cookie over 4096 bytes, counting the encoded value', () => {
    setCookie('a', 'x'.repeat(4094))
    assert.throws(() => setCookie('a', 'x'.repeat(4095)), /4097 bytes; browsers drop cookies over 4096/)
    assert.throws(() => setCookie('a', ' '.repeat(1500)), /4502 bytes/) // each space is %20
  })

  it('refuses attributes the cookie package refuses, as a TypeError naming the Part', () => {
    assert.throws(() => setCookie('a', '1', { domain: 'a b' }), /setCookie\('a'\): cookie domain is invalid/)
    assert.throws(() => setCookie('a', '1', { path: '/a;b' }), /cookie path is invalid/)
    assert.throws(() => setCookie('a', '1', { maxAge: 1.5 }), /cookie maxAge is invalid/)
    assert.throws(() => setCookie('a', '1', { expires: new Date(NaN) }), /cookie expires is invalid/)
    assert.throws(() => setCookie('a', '1', { priority: 'urgent' as 'high' }), /cookie priority is invalid/)
    assert.throws(() => setCookie('a', '1', { sameSite: 'loose' as 'lax' }), /cookie sameSite is invalid/)
  })

  it('enforces the __Secure- and __Host- prefixes (any case) when the Part is made', () => {
    assert.throws(() => setCookie('__Secure-id', '1'), /"__Secure-id" needs secure: true/)
    assert.throws(() => setCookie('__secure-id', '1'), /needs secure: true/)
    setCookie('__Secure-id', '1', { secure: true, domain: 'example.com', path: '/app' })
    assert.throws(() => setCookie('__Host-id', '1', { path: '/' }), /"__Host-id" needs secure: true/)
    assert.throws(() => setCookie('__Host-id', '1', { secure: true }), /needs path: '\/' and no domain/)
    assert.throws(() => setCookie('__Host-id', '1', { secure: true, path: '/app' }), /needs path: '\/'/)
    assert.throws(
      () => setCookie('__HOST-id', '1', { secure: true, path: '/', domain: 'example.com' }),
      /needs path: '\/' and no domain/,
    )
    setCookie('__Host-id', '1', { secure: true, path: '/' })
  })

  it('refuses sameSite none or partitioned without secure', () => {
    assert.throws(() => setCookie('a', '1', { sameSite: 'none' }), /sameSite: 'none' needs secure: true/)
    assert.throws(() => setCookie('a', '1', { partitioned: true }), /partitioned needs secure: true/)
    setCookie('a', '1', { sameSite: 'none', secure: true, partitioned: true })
  })

  it('sends what was checked, whatever the caller does with its attributes later', async () => {
    const attributes: { path: string } = { path: '/' }
    const p = setCookie('a', '1', attributes)
    attributes.path = '/other'
    assert.equal((await run(p)).respHeaders['set-cookie'], 'a=1; Path=/')
  })
})

describe('clearCookie', () => {
  it('sends an empty value, Max-Age=0 and an Expires in the past, with the path and domain given', async () => {
    const out = await run(clearCookie('sid', { path: '/app', domain: 'example.com', httpOnly: true }))
    assert.equal(
      out.respHeaders['set-cookie'],
      'sid=; Max-Age=0; Domain=example.com; Path=/app; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly',
    )
  })

  it('appends to the cookies already set, and keeps the prefix rules', async () => {
    const out = await run(pipe(setCookie('a', '1'), clearCookie('b')))
    assert.deepEqual(setCookies(out.respHeaders), ['a=1', 'b=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT'])
    assert.throws(() => clearCookie('__Host-sid', { path: '/' }), /needs secure: true/)
    assert.throws(() => clearCookie('a b'), /cookie name must be a token/)
    clearCookie('__Host-sid', { path: '/', secure: true })
  })
})

describe('c.cookies', () => {
  it('is a null-prototype record: __proto__ and other inherited names are harmless', async () => {
    const app = pipe(
      get,
      path('/'),
      handle((c) => json(['__proto__', 'constructor', 'toString', 'x'].map((name) => c.cookies[name] ?? null))),
    )
    const res = await inject(app, { url: '/', headers: { cookie: '__proto__=evil; x=1' } })
    assert.deepEqual(res.json(), ['evil', null, null, '1'])
    assert.equal(({} as Record<string, unknown>)['evil'], undefined)
    assert.equal(Object.getPrototypeOf({}), Object.prototype)
  })
})

describe('signed cookies', () => {
  const keys = ['a first secret that is long enough']

  it('reads back the value setSignedCookie signed (value.signature, base64url)', async () => {
    for (const value of ['user-42', '', 'with.dots.in.it', 'a b;c', 'ünïcødé ☃', '%41']) {
      const pair = await signedPair('session', value, keys)
      assert.match(pair, /^session=[\x21-\x7e]*\.[A-Za-z0-9_-]{43}$/)
      assert.equal(await readSigned(pair, 'session', keys), value, JSON.stringify(value))
    }
  })

  it('round trips through a whole app, with the attributes given', async () => {
    const app = sap.choose([
      pipe(
        get,
        path('/login'),
        handle(() => setSignedCookie('session', 'ada', keys, { path: '/', httpOnly: true })),
        ok('in'),
      ),
      pipe(
        get,
        path('/me'),
        signedCookie('session', keys),
        handle((c) => ok(c.assigns.session ?? 'anonymous')),
      ),
    ])
    for (const compile of [false, true]) {
      const login = await inject(app, { url: '/login' }, { compile })
      const line = setCookies(login.headers)[0]!
      assert.match(line, /^session=ada\.[A-Za-z0-9_-]{43}; Path=\/; HttpOnly$/)
      assert.equal((await inject(app, { url: '/me', headers: { cookie: pairOf(line) } }, { compile })).body, 'ada')
      assert.equal((await inject(app, { url: '/me' }, { compile })).body, 'anonymous')
    }
  })

  it('gives undefined for a tampered value or signature', async () => {
    const pair = await signedPair('session', 'user-42', keys)
    const [value, signature] = pair.slice('session='.length).split('.') as [string, string]
    assert.equal(await readSigned(`session=user-43.${signature}`, 'session', keys), undefined)
    assert.equal(await readSigned(`session=${value}x.${signature}`, 'session', keys), undefined)
    const flipped = signature.slice(0, 10) + (signature[10] === 'A' ? 'B' : 'A') + signature.slice(11)
    assert.equal(await readSigned(`session=${value}.${flipped}`, 'session', keys), undefined)
    assert.equal(await readSigned(`session=${value}.${signature}=`, 'session', keys), undefined)
    assert.equal(await readSigned(`session=${value}`, 'session', keys), undefined)
    assert.equal(await readSigned(`session=${value}.`, 'session', keys), undefined)
    assert.equal(await readSigned('session=', 'session', keys), undefined)
    assert.equal(await readSigned(undefined, 'session', keys), undefined)
    // the untouched one still verifies
    assert.equal(await readSigned(pair, 'session', keys), 'user-42')
  })

  it('refuses a second spelling of the signature (non-canonical base64url)', async () => {
    const pair = await signedPair('s', 'v', keys)
    const last = pair.at(-1)!
    // the last character carries 4 bits: the next letter decodes to the same bytes
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const sibling = alphabet[alphabet.indexOf(last) + 1]!
    assert.equal(await readSigned(pair.slice(0, -1) + sibling, 's', keys), undefined)
  })

  it('rotates keys: the first signs, any verifies', async () => {
    const old = 'the old secret'
    const fresh = 'the new secret'
    const byOld = await signedPair('session', 'ada', [old])
    assert.equal(await readSigned(byOld, 'session', [fresh, old]), 'ada')
    const byBoth = await signedPair('session', 'ada', [fresh, old])
    assert.equal(await readSigned(byBoth, 'session', [fresh]), 'ada')
    assert.equal(await readSigned(byBoth, 'session', [old]), undefined)
  })

  it('gives undefined with the wrong keys', async () => {
    const pair = await signedPair('session', 'ada', keys)
    assert.equal(await readSigned(pair, 'session', ['another secret']), undefined)
    assert.equal(await readSigned(pair, 'session', ['x', 'y', 'z']), undefined)
  })

  it('binds the signature to the name: a value signed for one cookie is refused under another', async () => {
    const pair = await signedPair('role', 'admin', keys)
    const moved = `session=${pair.slice('role='.length)}`
    assert.equal(await readSigned(moved, 'session', keys), undefined)
  })

  it('assigns under `as`', async () => {
    const pair = await signedPair('session', 'ada', keys)
    assert.equal(await readSigned(pair, 'session', keys, 'sid'), 'ada')
  })

  it('treats a __proto__ cookie name as any other, and pollutes nothing', async () => {
    const pair = await signedPair('__proto__', 'ada', keys)
    assert.match(pair, /^__proto__=ada\./)
    const c = conn('GET', '/', { headers: { cookie: `${pair}; constructor=1` } })
    const out = await run(signedCookie('__proto__', keys), c)
    assert.ok(Object.hasOwn(out.assigns, '__proto__'))
    assert.equal(out.assigns['__proto__'], 'ada')
    const none = await run(signedCookie('constructor', keys), c)
    assert.equal(none.assigns['constructor'], undefined)
    assert.equal(Object.getPrototypeOf({}), Object.prototype)
    // a forged __proto__ cookie is refused like any other
    assert.equal(await readSigned('__proto__=ada.xyz', '__proto__', keys), undefined)
    assert.equal(await readSigned(pair, 'session', keys, '__proto__'), undefined)
  })

  it('answers at once, without a promise, when there is nothing to verify', () => {
    const r = signedCookie('session', keys)(conn('GET', '/'))
    assert.equal(typeof (r as { then?: unknown }).then, 'undefined')
    const unsigned = signedCookie('session', keys)(conn('GET', '/', { headers: { cookie: 'session=plain' } }))
    assert.equal(typeof (unsigned as { then?: unknown }).then, 'undefined')
  })

  it('never rejects, even when Web Crypto fails', async () => {
    const pair = await signedPair('session', 'ada', keys)
    const subtle = globalThis.crypto.subtle
    const verify = Object.getOwnPropertyDescriptor(subtle, 'verify')
    Object.defineProperty(subtle, 'verify', {
      configurable: true,
      value: () => Promise.reject(new Error('no crypto')),
    })
    try {
      assert.equal(await readSigned(pair, 'session', keys), undefined)
    } finally {
      if (verify === undefined) delete (subtle as unknown as Record<string, unknown>)['verify']
      else Object.defineProperty(subtle, 'verify', verify)
    }
    assert.equal(await readSigned(pair, 'session', keys), 'ada')
  })

  it('imports each secret once, whichever Part asks', async () => {
    const subtle = globalThis.crypto.subtle
    const secret = `counted ${Math.random()}`
    const importKey = subtle.importKey.bind(subtle)
    let imports = 0
    Object.defineProperty(subtle, 'importKey', {
      configurable: true,
      value: (...args: Parameters<typeof importKey>) => {
        const raw = args[1] as Uint8Array
        if (new TextDecoder().decode(raw) === secret) imports++
        return importKey(...args)
      },
    })
    try {
      for (let i = 0; i < 3; i++) {
        const pair = await signedPair('session', `v${i}`, [secret])
        assert.equal(await readSigned(pair, 'session', [secret]), `v${i}`)
        assert.equal(await readSigned(pair, 'session', ['other', secret]), `v${i}`)
      }
    } finally {
      delete (subtle as unknown as Record<string, unknown>)['importKey']
    }
    assert.equal(imports, 1)
  })

  it('signs once per Part, however often it runs', async () => {
    const p = setSignedCookie('session', 'ada', keys)
    const a = await run(p)
    const b = await run(p)
    assert.equal(a.respHeaders['set-cookie'], b.respHeaders['set-cookie'])
  })

  it('refuses a missing or empty key list, a bad name, value or attributes, when the Part is made', () => {
    assert.throws(() => setSignedCookie('s', 'v', []), /keys must be a non-empty array/)
    assert.throws(() => signedCookie('s', []), /keys must be a non-empty array/)
    assert.throws(() => signedCookie('s', 'secret' as unknown as string[]), /keys must be a non-empty array/)
    assert.throws(() => setSignedCookie('s', 'v', ['a', '']), /key 2 must be a non-empty string/)
    assert.throws(() => setSignedCookie('a b', 'v', keys), /cookie name must be a token/)
    assert.throws(() => signedCookie('a b', keys), /cookie name must be a token/)
    assert.throws(() => setSignedCookie('s', 'x\udc00', keys), /lone surrogate/)
    assert.throws(() => setSignedCookie('__Host-s', 'v', keys, { path: '/' }), /needs secure: true/)
    // the signature counts towards the 4096 bytes
    setSignedCookie('s', 'x'.repeat(4094 - 44), keys)
    assert.throws(() => setSignedCookie('s', 'x'.repeat(4095 - 44), keys), /4097 bytes/)
    assert.throws(() => signedCookie('s', keys, { as: '' }), /`as` must be a non-empty string/)
  })

  it('is an Opaque Part on both sides', () => {
    assert.equal(setSignedCookie('s', 'v', keys).shape._tag, 'Opaque')
    assert.equal(signedCookie('s', keys).shape._tag, 'Opaque')
    assert.equal(signedCookie('s', keys).label, "signedCookie('s')")
  })
})

describe('cookies over a real socket', () => {
  it('sends several Set-Cookie headers apart', async () => {
    const keys = ['socket secret']
    const app = pipe(
      get,
      path('/'),
      setCookie('a', '1', { path: '/' }),
      setCookie('b', 'x, y', { httpOnly: true }),
      handle(() => setSignedCookie('s', 'ada', keys)),
      clearCookie('old'),
      ok('hi'),
    )
    const server = await sap.serve(app, { port: 0, host: '127.0.0.1' })
    try {
      const res = await fetch(`${server.url}/`)
      assert.equal(res.status, 200)
      assert.equal(await res.text(), 'hi')
      const lines = res.headers.getSetCookie()
      assert.equal(lines.length, 4)
      assert.equal(lines[0], 'a=1; Path=/')
      assert.equal(lines[1], 'b=x%2C%20y; HttpOnly')
      assert.match(lines[2]!, /^s=ada\.[A-Za-z0-9_-]{43}$/)
      assert.equal(lines[3], 'old=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT')
      assert.equal(await readSigned(lines[2], 's', keys), 'ada')
    } finally {
      await server.close()
    }
  })
})
