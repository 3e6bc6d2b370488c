// In-process serialisation benchmark: `json(value)` under a response schema (`responds`, written
// with fast-json-stringify) against `JSON.stringify`, on a small object (5 fields in the schema,
// 3 more outside it) and a ~10 KB one (an array of 50 such records). Each (payload, side) runs in its own process (so one side's JIT state
// never taxes another), rounds interleave the sides, and the table reports the median of the
// rounds' p50 per serialisation, and the ratio to `JSON.stringify`.
//
// Sides: `JSON.stringify` alone; the compiled serializer alone (`serializer(schema)`); `json(value)`
// made and applied as a handler does, without `responds` (the path every app without schemas
// takes); `json(value)` applied under `responds` (the untyped writer: the schema of the status it
// runs under); the typed writer of the `responds` value.
//
//   npm run build && node --import tsx bench/serialize.ts
//   SAPWOOD_DIST=/path/to/dist node --import tsx bench/serialize.ts   another build (before/after)
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import os from 'node:os'
import { resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { do_not_optimize, measure } from 'mitata'
import type * as Sap from 'sapwood'

// The built package, as the other benchmarks load it (tsx would wrap every closure it transpiles);
// SAPWOOD_DIST points at another build, to compare two versions of `json`.
const dist = process.env['SAPWOOD_DIST']
const entry =
  dist === undefined ? new URL('../dist/index.js', import.meta.url) : pathToFileURL(resolve(dist, 'index.js'))
if (!existsSync(fileURLToPath(entry))) throw new Error(`bench: ${fileURLToPath(entry)} is missing (npm run build)`)
const sap = (await import(entry.href)) as typeof Sap

type Side = 'JSON.stringify' | 'serializer' | 'json' | 'json under responds' | 'typed json'
const SIDES: readonly Side[] = ['JSON.stringify', 'serializer', 'json', 'json under responds', 'typed json']
/** The sides that need `responds` (absent from a build before it). */
const NEEDS_SCHEMAS: ReadonlySet<Side> = new Set(['serializer', 'json under responds', 'typed json'])

const Row = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    login: { type: 'string' },
    name: { type: 'string' },
    admin: { type: 'boolean' },
    score: { type: 'number' },
  },
  required: ['id', 'login', 'name', 'admin', 'score'],
} as const

interface Payload {
  readonly name: string
  readonly schema: Readonly<Record<string, unknown>>
  readonly value: unknown
  /** Serialisations per timed operation: about 100 µs of work, so mitata's own cost weighs nothing. */
  readonly repeat: number
}

const record = (i: number) => ({
  id: 1000 + i,
  login: `user-${i}`,
  name: `A. N. Other the ${i}th, of the bench`,
  admin: i % 7 === 0,
  score: i * 1.25,
  // fields outside the schema, as a database row has them: the schema drops them
  created: '2024-01-01T00:00:00.000Z',
  followers: i * 13,
  url: `https://example.com/users/${i}`,
})

const payloads: readonly Payload[] = [
  { name: 'small object (5 fields + 3 outside the schema)', schema: Row, value: record(1), repeat: 100 },
  {
    name: 'array of 50 records',
    schema: { type: 'array', items: Row },
    value: Array.from({ length: 50 }, (_, i) => record(i)),
    repeat: 5,
  },
]

const NO_HEADERS = Object.freeze(Object.create(null) as Sap.RequestHeaders)

/** One serialisation by a side, as text (for the check that the sides agree). */
const makeOp = (side: Side, payload: Payload): (() => unknown) => {
  const { value, schema } = payload
  const base = sap.makeConn({ method: 'GET', url: '/', headers: NO_HEADERS })
  const bodyOf = (ctx: unknown): unknown => (ctx as { right: { respBody: unknown } }).right.respBody
  switch (side) {
    case 'JSON.stringify':
      return () => JSON.stringify(value)
    case 'serializer': {
      const write = sap.serializer(schema)
      return () => write(value)
    }
    case 'json':
      // a handler's `json(value)`: the Part made and applied for each request
      return () => bodyOf(sap.json(value)(base))
    case 'json under responds': {
      const under = (sap.responds({ 200: schema })(base) as { right: Sap.Conn }).right
      return () => bodyOf(sap.json(value)(under))
    }
    case 'typed json': {
      const out = sap.responds({ 200: schema })
      return () => bodyOf(out.json(value)(base))
    }
  }
}

/** Measures one side on one payload in this process; prints the p50 ns per serialisation. */
const worker = async (side: Side, payload: Payload): Promise<void> => {
  const one = makeOp(side, payload)
  // every side that writes with the schema writes the same text, and JSON.stringify the whole value
  const expected = NEEDS_SCHEMAS.has(side)
    ? sap.serializer(payload.schema)(payload.value)
    : JSON.stringify(payload.value)
  if (one() !== expected) throw new Error(`${side}, ${payload.name}: unexpected body ${String(one())}`)
  const n = payload.repeat
  const op = (): unknown => {
    let out: unknown
    for (let i = 0; i < n; i++) out = one()
    return out
  }
  const stats = await measure(() => do_not_optimize(op()), { min_cpu_time: 400e6 })
  process.stdout.write(JSON.stringify({ p50: stats.p50 / n }))
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

const fmt = (ns: number): string => (ns >= 1000 ? `${(ns / 1000).toFixed(2)} µs` : `${ns.toFixed(0)} ns`)

const main = (): void => {
  const rounds = Number(process.env['ROUNDS'] ?? 5)
  const self = fileURLToPath(import.meta.url)
  const sides = SIDES.filter((s) => typeof sap.responds === 'function' || !NEEDS_SCHEMAS.has(s))
  const results = new Map<string, number[]>()
  for (let round = 0; round < rounds; round++) {
    for (let index = 0; index < payloads.length; index++) {
      for (const side of sides) {
        const out = execFileSync(process.execPath, ['--import', 'tsx', self, '--worker', side, String(index)], {
          encoding: 'utf8',
          timeout: 120_000,
          env: process.env,
        })
        const { p50 } = JSON.parse(out) as { p50: number }
        const key = `${index}:${side}`
        results.set(key, [...(results.get(key) ?? []), p50])
      }
      process.stderr.write('.')
    }
  }
  process.stderr.write('\n')
  const at = (i: number, side: Side): number | undefined => {
    const xs = results.get(`${i}:${side}`)
    return xs === undefined ? undefined : median(xs)
  }
  const pkg = (name: string): string =>
    (
      JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), 'utf8')) as {
        version: string
      }
    ).version
  const machine = `${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}, ${os.platform()} ${os.release()}, Node ${
    process.version
  }, fast-json-stringify ${pkg('fast-json-stringify')}, mitata ${pkg('mitata')}`
  const lines = payloads.flatMap((p, i) => {
    const size = JSON.stringify(p.value).length
    const base = at(i, 'JSON.stringify')!
    return sides.map((side) => {
      const ns = at(i, side)!
      return `| ${p.name}, ${size} B as JSON | ${side} | ${fmt(ns)} | ${(ns / base).toFixed(2)}× |`
    })
  })
  console.log(
    [
      `Median of ${rounds} interleaved rounds, p50 per serialisation, each side in its own process.`,
      `Machine: ${machine}.${dist === undefined ? '' : ` Build: ${dist}.`}`,
      '',
      '| payload | side | p50 | / JSON.stringify |',
      '|---|---|---:|---:|',
      ...lines,
    ].join('\n'),
  )
}

const w = process.argv.indexOf('--worker')
if (w !== -1) await worker(process.argv[w + 1] as Side, payloads[Number(process.argv[w + 2])]!)
else main()
