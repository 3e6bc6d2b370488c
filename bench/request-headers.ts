// In-process cost of turning node's request headers into the Conn's header record (issue #8):
// what node does for every HTTP/1.1 request (parse into an IncomingMessage, build req.headers for
// its Host check), then each candidate way of making a record of strings with nothing inherited,
// then four reads as filters make them. Each (candidate, header set) runs in its own process (so
// that one candidate's shapes never reach another's inline caches); rounds interleave them. The
// machine is shared, so each process times many short batches and keeps the fastest: the batch
// that nothing else interrupted. The table gives that minimum in ns per request, and the extra
// cost over node's own work ("node only").
//
//   node --import tsx bench/request-headers.ts
import { execFileSync } from 'node:child_process'
import { IncomingMessage } from 'node:http'
import { Socket } from 'node:net'
import os from 'node:os'
import { fileURLToPath } from 'node:url'

type Record_ = Record<string, string | undefined>

const SETS: Readonly<Record<string, readonly string[]>> = {
  'load tool (2 headers)': ['Host', '127.0.0.1:3000', 'Connection', 'keep-alive'],
  'browser (15 headers)': [
    'Host',
    'example.com',
    'Connection',
    'keep-alive',
    'sec-ch-ua',
    '"Chromium";v="124", "Not-A.Brand";v="99"',
    'sec-ch-ua-mobile',
    '?0',
    'sec-ch-ua-platform',
    '"Linux"',
    'Upgrade-Insecure-Requests',
    '1',
    'User-Agent',
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36',
    'Accept',
    'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8',
    'Sec-Fetch-Site',
    'none',
    'Sec-Fetch-Mode',
    'navigate',
    'Sec-Fetch-User',
    '?1',
    'Sec-Fetch-Dest',
    'document',
    'Accept-Encoding',
    'gzip, deflate, br, zstd',
    'Accept-Language',
    'en-GB,en;q=0.9',
    'Cookie',
    'session=abc123; theme=dark',
  ],
}

const HeaderRecord = function HeaderRecord(this: object) {} as unknown as new () => Record<string, string>
HeaderRecord.prototype = Object.create(null) as object

const join = (v: string | string[]): string => (typeof v === 'string' ? v : v.join(', '))

const CANDIDATES: Readonly<Record<string, (req: IncomingMessage) => Record_>> = {
  // what the adapter did before: node's object as it is (inherits from Object.prototype)
  'node only': (req) => req.headers as Record_,
  'copy req.headers → Object.create(null)': (req) => {
    const h = req.headers
    const out = Object.create(null) as Record<string, string>
    for (const k in h) out[k] = join(h[k]!)
    return out
  },
  'copy req.headers → null-prototype class': (req) => {
    const h = req.headers
    const out = new HeaderRecord()
    for (const k in h) out[k] = join(h[k]!)
    return out
  },
  'req.rawHeaders → Object.create(null)': (req) => {
    const raw = req.rawHeaders
    const out = Object.create(null) as Record<string, string>
    for (let i = 0; i < raw.length; i += 2) {
      const k = raw[i]!.toLowerCase()
      const had = out[k]
      out[k] = had === undefined ? raw[i + 1]! : `${had}${k === 'cookie' ? '; ' : ', '}${raw[i + 1]!}`
    }
    return out
  },
  'req.headersDistinct → Object.create(null)': (req) => {
    const h = req.headersDistinct
    const out = Object.create(null) as Record<string, string>
    for (const k in h) out[k] = h[k]!.join(k === 'cookie' ? '; ' : ', ')
    return out
  },
  'setPrototypeOf(req.headers, null)': (req) => {
    const h = req.headers
    Object.setPrototypeOf(h, null)
    const sc = h['set-cookie']
    if (sc !== undefined) (h as Record<string, unknown>)['set-cookie'] = sc.join(', ')
    return h as Record_
  },
}

const socket = new Socket()

/** One request as node's server sees it, headers built as parserOnIncoming builds them. */
const incoming = (raw: readonly string[]): IncomingMessage => {
  const req = new IncomingMessage(socket)
  ;(req as unknown as { _addHeaderLines(h: string[], n: number): void })._addHeaderLines([...raw], raw.length)
  void req.headers.host
  return req
}

const child = (candidate: string, set: string): void => {
  const fn = CANDIDATES[candidate]!
  const raw = SETS[set]!
  let sink = 0
  const op = (): void => {
    const h = fn(incoming(raw))
    if (h['host'] !== undefined) sink++
    if (h['accept'] !== undefined) sink++
    if (h['x-missing'] !== undefined) sink++
    if (h['constructor'] !== undefined) sink++
  }
  const batch = 5_000
  const times: number[] = []
  const until = performance.now() + 1_500
  for (let warm = 0; warm < 20; warm++) for (let i = 0; i < batch; i++) op()
  while (performance.now() < until || times.length < 30) {
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < batch; i++) op()
    times.push(Number(process.hrtime.bigint() - t0) / batch)
  }
  times.sort((a, b) => a - b)
  process.stdout.write(JSON.stringify({ min: times[0], p50: times[Math.floor(times.length / 2)], sink }))
}

const main = (): void => {
  const rounds = Number(process.env['ROUNDS'] ?? 3)
  const self = fileURLToPath(import.meta.url)
  const results = new Map<string, { min: number; p50: number }[]>()
  for (let round = 0; round < rounds; round++) {
    for (const set of Object.keys(SETS)) {
      for (const candidate of Object.keys(CANDIDATES)) {
        const out = execFileSync(process.execPath, ['--import', 'tsx', self, candidate, set], { encoding: 'utf8' })
        const key = `${set}\t${candidate}`
        results.set(key, [...(results.get(key) ?? []), JSON.parse(out) as { min: number; p50: number }])
      }
    }
  }
  const best = (key: string): number => Math.min(...results.get(key)!.map((r) => r.min))
  console.log(
    `node ${process.version}, ${os.cpus()[0]?.model ?? '?'}, load ${os.loadavg()[0]!.toFixed(1)}, ${rounds} rounds`,
  )
  console.log('fastest batch, ns per request (extra over node only)')
  for (const set of Object.keys(SETS)) {
    const base = best(`${set}\tnode only`)
    console.log(`\n${set}`)
    for (const candidate of Object.keys(CANDIDATES)) {
      const ns = best(`${set}\t${candidate}`)
      console.log(`  ${candidate.padEnd(44)} ${ns.toFixed(0).padStart(6)}  (+${(ns - base).toFixed(0)})`)
    }
  }
}

const [candidate, set] = process.argv.slice(2)
if (candidate !== undefined && set !== undefined) child(candidate, set)
else main()
