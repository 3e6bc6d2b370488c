// The correctness gate: before any timing, every server answers every request of every scenario
// once, and must give the expected status, content-type and body bytes. A (server, scenario)
// that fails is reported and left out of the timings.
import { request as httpRequest } from 'node:http'
import { type Running, startServer, stop } from './processes.js'
import { type AppName, type Expected, type Request, type Scenario, type Server, normalizeType } from './scenarios.js'

interface Answer {
  readonly status: number
  readonly type: string | undefined
  readonly body: Buffer
}

const ask = (server: Running, r: Request): Promise<Answer> =>
  new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port: server.port, method: r.method, path: r.path, headers: r.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.once('end', () =>
          resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body: Buffer.concat(chunks) }),
        )
        res.once('error', reject)
      },
    )
    req.setTimeout(5000, () => req.destroy(new Error('no answer in 5 s')))
    req.once('error', reject)
    req.end(r.body)
  })

/** Why an answer differs from the expected one, or undefined when it matches. */
const differs = (a: Answer, e: Expected): string | undefined => {
  if (a.status !== e.status) return `status ${a.status}, expected ${e.status}`
  if (e.type !== undefined && (a.type === undefined || normalizeType(a.type) !== normalizeType(e.type))) {
    return `content-type ${JSON.stringify(a.type)}, expected ${JSON.stringify(e.type)}`
  }
  if (e.body !== undefined && !a.body.equals(Buffer.from(e.body))) {
    return `body ${JSON.stringify(a.body.toString('utf8').slice(0, 200))}, expected ${JSON.stringify(e.body)}`
  }
  return undefined
}

/** What each (server, scenario) pair failed on; pairs absent from the map passed. */
export type Failures = Map<string, string>

export const pairKey = (server: Server, scenario: Scenario): string => `${server.id}/${scenario.id}`

/** Checks every server that serves a scenario's app, one process per (server, app). */
export const check = async (servers: readonly Server[], scenarios: readonly Scenario[]): Promise<Failures> => {
  const failures: Failures = new Map()
  for (const server of servers) {
    for (const app of ['basic', 'github'] as readonly AppName[]) {
      const mine = scenarios.filter((s) => s.app === app)
      if (mine.length === 0 || !server.apps.includes(app)) continue
      let running: Running
      try {
        running = await startServer(server.script, app)
      } catch (error) {
        for (const s of mine) failures.set(pairKey(server, s), `did not start: ${String(error)}`)
        continue
      }
      try {
        for (const s of mine) {
          for (let i = 0; i < s.requests.length; i++) {
            const r = s.requests[i]!
            let why: string | undefined
            try {
              why = differs(await ask(running, r), s.expected[i]!)
            } catch (error) {
              why = String(error)
            }
            if (why !== undefined) {
              failures.set(pairKey(server, s), `${r.method} ${r.path}: ${why}`)
              break
            }
          }
        }
      } finally {
        await stop(running.child)
      }
    }
  }
  return failures
}
