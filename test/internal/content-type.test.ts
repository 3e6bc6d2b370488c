import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as sap from 'sapwood'
import { conn, inject } from 'sapwood/testing'
import { isTypePattern, isUtf8, parseContentType, typeMatches } from '../../src/internal/content-type.js'
import { expectLeft, expectRight } from '../helpers.js'

describe('parseContentType', () => {
  const good: readonly (readonly [value: string, type: string, parameters: Record<string, string>])[] = [
    ['application/json', 'application/json', {}],
    ['Application/JSON', 'application/json', {}],
    ['application/json; charset=utf-8', 'application/json', { charset: 'utf-8' }],
    ['application/json;charset=UTF-8', 'application/json', { charset: 'UTF-8' }],
    ['text/plain ; Charset=utf-8 ', 'text/plain', { charset: 'utf-8' }],
    ['\ttext/plain\t;\tformat=flowed', 'text/plain', { format: 'flowed' }],
    ['multipart/form-data; boundary="a b;c"', 'multipart/form-data', { boundary: 'a b;c' }],
    ['a/b; x="q\\"uo\\\\te"', 'a/b', { x: 'q"uo\\te' }],
    ['a/b; x=""', 'a/b', { x: '' }],
    ['a/b; x=1; y=2', 'a/b', { x: '1', y: '2' }],
    ['application/vnd.api+json', 'application/vnd.api+json', {}],
    ['a/b; x="caf\u00e9"', 'a/b', { x: 'caf\u00e9' }],
    // RFC 9110 allows empty parameters
    ['application/json;;', 'application/json', {}],
    ['application/json;', 'application/json', {}],
    ['text/plain; ; charset=utf-8;', 'text/plain', { charset: 'utf-8' }],
  ]
  for (const [value, type, parameters] of good) {
    it(`reads ${JSON.stringify(value)}`, () => {
      const media = parseContentType(value)
      assert.ok(media !== undefined, 'expected a media type')
      assert.equal(media.type, type)
      assert.deepEqual({ ...media.parameters }, parameters)
      assert.equal(Object.getPrototypeOf(media.parameters), null)
    })
  }

  const bad: readonly (readonly [why: string, value: string])[] = [
    ['an empty value', ''],
    ['only whitespace', '  '],
    ['a type without subtype', 'text'],
    ['a type with an empty subtype', 'text/'],
    ['an empty type', '/plain'],
    ['two slashes', 'a/b/c'],
    ['a space inside the type', 'text /plain'],
    ['a character that is not a token', 'text/pl@in'],
    ['garbage after a parameter', 'application/json; charset=utf-8 garbage'],
    ['garbage after the type', 'application/json garbage'],
    ['a parameter without value', 'text/plain; charset'],
    ['a parameter with an empty value', 'text/plain; charset='],
    ['a parameter without name', 'text/plain; =utf-8'],
    ['whitespace around =', 'text/plain; charset = utf-8'],
    ['an unterminated quoted string', 'a/b; x="open'],
    ['a quoted string followed by garbage', 'a/b; x="v"w'],
    ['a control character in a quoted string', 'a/b; x="a\u0001b"'],
    ['a backslash at the end', 'a/b; x="a\\'],
    ['a parameter named twice', 'a/b; x=1; X=2'],
    ['two media types', 'a/b, c/d'],
  ]
  for (const [why, value] of bad) {
    it(`refuses ${why}: ${JSON.stringify(value)}`, () => {
      assert.equal(parseContentType(value), undefined)
    })
  }

  it('gives a parameter named like an inherited key as a plain own value', () => {
    const media = parseContentType('a/b; constructor=x; __proto__=y')
    assert.ok(media !== undefined)
    assert.equal(media.parameters['constructor'], 'x')
    assert.equal(media.parameters['__proto__'], 'y')
    assert.ok(!('toString' in parseContentType('a/b')!.parameters))
  })
})

describe('typeMatches', () => {
  it('matches the same type, wildcards and structured syntax suffixes', () => {
    assert.ok(typeMatches('application/json', 'application/json'))
    assert.ok(typeMatches('*/*', 'image/png'))
    assert.ok(typeMatches('text/*', 'text/csv'))
    assert.ok(typeMatches('application/json', 'application/problem+json'))
  })

  it('does not match another type, a longer subtype or another top-level type', () => {
    assert.ok(!typeMatches('application/json', 'text/plain'))
    assert.ok(!typeMatches('application/json', 'application/jsonx'))
    assert.ok(!typeMatches('text/*', 'textual/csv'))
    assert.ok(!typeMatches('application/json', 'text/x+json'))
  })
})

describe('isTypePattern', () => {
  it('accepts a media type, major/* and the full wildcard, and nothing else', () => {
    for (const t of ['text/plain', 'text/*', '*/*', 'application/vnd.api+json']) assert.ok(isTypePattern(t), t)
    for (const t of ['text', 'text/', '/*', 'text/plain; charset=utf-8', 'a b/c', '']) assert.ok(!isTypePattern(t), t)
  })
})

describe('isUtf8', () => {
  it('holds without charset and for utf-8 in any case, not for another charset', () => {
    assert.ok(isUtf8(parseContentType('text/plain')!))
    assert.ok(isUtf8(parseContentType('text/plain; charset=UTF-8')!))
    assert.ok(isUtf8(parseContentType('text/plain; charset="utf-8"')!))
    assert.ok(!isUtf8(parseContentType('text/plain; charset=latin1')!))
  })
})

describe('contentType filter reads the header strictly', () => {
  const post = (type: string) => conn('POST', '/', { headers: { 'content-type': type } })

  it('passes a well-formed type with parameters', async () => {
    await expectRight(sap.contentType('application/json')(post('application/json; charset="utf-8"')))
  })

  it('rejects a malformed Content-Type with UnsupportedMediaType', async () => {
    for (const type of ['application/json; charset=utf-8 garbage', 'application/json;=', 'application/json x']) {
      const r = await expectLeft(sap.contentType('application/json')(post(type)), 'UnsupportedMediaType')
      assert.deepEqual(r, { _tag: 'UnsupportedMediaType', supported: ['application/json'] })
    }
  })

  it('answers 415 for a malformed Content-Type through inject', async () => {
    const app = sap.pipe(sap.post, sap.contentType('application/json'), sap.ok('yes'))
    const res = await inject(app, { method: 'POST', url: '/', headers: { 'content-type': 'application/json x' } })
    assert.equal(res.status, 415)
  })
})
