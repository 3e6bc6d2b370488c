// The conformance suite (test/adapters/conformance.ts) against servers that run in other runtimes'
// processes: run by test/runtimes/run.ts after its smokes, on the repository's Node (the client side),
// with `node --import tsx --test test/runtimes/conformance.ts` (not a *.test.ts: `npm test` does
// not run it). SAPWOOD_CONFORMANCE (JSON) names each runtime that was found and the command that
// serves the suite's app on it (test/runtimes/serve-conformance.ts, or worker-conformance.ts for
// workerd); that command prints `{"url": ...}` on one line and closes when its stdin ends.
import { type ChildProcess, spawn } from 'node:child_process'
import { after } from 'node:test'
import { type Served, type Skips, conformance } from '../adapters/conformance.js'

/** What run.ts passes: the runtimes found, with the command line of each one's server. */
interface Plan {
  readonly runtimes: readonly { readonly id: string; readonly command: readonly string[] }[]
}

/** How long a server may take to print its URL (workerd bundles and starts miniflare first). */
const STARTUP = 60_000
/** How long a server may take to close once its stdin ended, before it is killed. */
const SHUTDOWN = 15_000

const raw = process.env['SAPWOOD_CONFORMANCE']
if (raw === undefined || raw === '') {
  throw new Error('SAPWOOD_CONFORMANCE is not set: run this file through npm run test:runtimes')
}
const plan = JSON.parse(raw) as Plan

/** Why a runtime skips a case. */
const SKIPS: Readonly<Record<string, Skips>> = {
  workerd: {
    'file range': 'a Worker has no file system: its app is made without sapwood/node (the file route answers 501)',
    'bad Host':
      "miniflare's own node server in front of workerd answers a Host that makes no URL with 500 before the " +
      "Worker runs; on Cloudflare the edge parses the head (toFetchHandler's check runs behind the node bridge)",
  },
}

const children = new Set<ChildProcess>()
after(() => {
  for (const child of children) child.kill('SIGKILL')
})

/** The tail of what a server wrote on stderr, to say why it failed. */
const tail = (text: string): string => text.trim().split('\n').slice(-12).join('\n')

/** Starts the server of one runtime and resolves with its URL once it printed it. */
const startServer = (id: string, command: readonly string[]): Promise<Served> => {
  const [file, ...args] = command
  if (file === undefined) throw new Error(`${id}: an empty command`)
  const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] })
  children.add(child)
  // a server that died already makes ending its stdin fail (EPIPE): its exit says more
  child.stdin.on('error', () => undefined)
  let out = ''
  let err = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const url = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${id}: no URL after ${STARTUP / 1000} s\n${tail(err)}`))
    }, STARTUP)
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk
      // whole lines only: a runtime may say something else first
      const line = out
        .split('\n')
        .slice(0, -1)
        .find((l) => l.startsWith('{'))
      if (line === undefined) return
      clearTimeout(timer)
      try {
        resolve((JSON.parse(line) as { url: string }).url)
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)))
      }
    })
    child.once('error', (error) => (clearTimeout(timer), reject(error)))
    void exited.then(
      (code) => (clearTimeout(timer), reject(new Error(`${id} exited (${code}) before its URL\n${tail(err)}`))),
    )
  })
  const close = async (): Promise<void> => {
    child.stdin.end()
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), SHUTDOWN)))
    const how = await Promise.race([exited, late])
    clearTimeout(timer)
    children.delete(child)
    if (how === 'late') {
      child.kill('SIGKILL')
      throw new Error(`${id}: the server did not close within ${SHUTDOWN / 1000} s of its stdin's end\n${tail(err)}`)
    }
  }
  return url.then(
    (found) => ({ url: found, close }),
    async (error: unknown) => {
      child.kill('SIGKILL')
      throw error
    },
  )
}

if (plan.runtimes.length === 0) console.log('no runtime to run the conformance suite on')
for (const { id, command } of plan.runtimes) {
  const how = id === 'workerd' ? 'toFetchHandler as a Worker, through miniflare' : "serve, the runtime's own server"
  conformance(`${id} (${how})`, () => startServer(id, command), SKIPS[id] ?? {})
}
