// One load run with autocannon, in its own process (the runner pins it to its own core): the
// fallback when wrk cannot be installed, and the memory runs, which send a number of requests
// (wrk only runs for a time). Reads a JSON spec (see LoadSpec in processes.ts) from argv[2], runs
// the untimed warm-up, prints `warm`, runs the timed part and prints one JSON line: throughput,
// p50 and p99 latency (ms), the answers outside 2xx and 3xx. With `amount`, it sends that many
// requests instead, bounded by `duration` all the same.
/* eslint-disable @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-return -- plain JavaScript, linted without types: see tsconfig.json */
import process from 'node:process'
import { clearTimeout, setTimeout } from 'node:timers'
import autocannon from 'autocannon'

const spec = JSON.parse(process.argv[2])

// autocannon's own histogram keeps whole milliseconds: the timed run also fills this one, 10 µs
// buckets up to 1 s (the slower rest in the last bucket), from the float ms of each response.
const BUCKET_MS = 0.01
const buckets = new Uint32Array(100_000)
const record = (_client, _status, _bytes, ms) => {
  buckets[Math.min(buckets.length - 1, Math.floor(ms / BUCKET_MS))]++
}
const percentile = (p) => {
  let total = 0
  for (const n of buckets) total += n
  let seen = 0
  for (let i = 0; i < buckets.length; i++) {
    seen += buckets[i]
    if (seen >= total * p) return (i + 1) * BUCKET_MS
  }
  return Number.NaN
}

const run = (options, bound, timed) =>
  new Promise((resolve, reject) => {
    const instance = autocannon(options, (error, result) =>
      error instanceof Error ? reject(error) : error ? reject(new Error(String(error))) : resolve(result),
    )
    if (timed) instance.on('response', record)
    if (bound !== undefined) {
      const timer = setTimeout(() => instance.stop(), bound * 1000)
      instance.on('done', () => clearTimeout(timer))
    }
  })

const base = {
  url: spec.url,
  connections: spec.connections,
  pipelining: 1,
  timeout: 10,
  requests: spec.requests,
}

if (spec.warmup > 0) await run({ ...base, duration: spec.warmup })
process.stdout.write('warm\n')
const result =
  spec.amount === undefined
    ? await run({ ...base, duration: spec.duration }, undefined, true)
    : await run({ ...base, amount: spec.amount }, spec.duration, true)

process.stdout.write(
  `${JSON.stringify({
    total: result.requests.total,
    seconds: result.duration,
    rps: result.requests.total / result.duration,
    p50: percentile(0.5),
    p99: percentile(0.99),
    errors: result.errors,
    timeouts: result.timeouts,
    // counted as wrk counts them, so that the runner reads both alike
    unsuccessful: result['1xx'] + result['4xx'] + result['5xx'],
  })}\n`,
)
