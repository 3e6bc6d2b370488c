import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { request } from 'node:http'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { after, describe, it } from 'node:test'
import { ok, serve } from 'sapwood'
import { RESTART_LIMIT, RESTART_WINDOW, mayRestart, workerCount } from '../src/cluster.js'
import { waitFor, within } from './support/wait.js'

const root = fileURLToPath(new URL('..', import.meta.url))

/** GET on a new connection (`Connection: close`), so that the primary hands it to the next worker. */
const get = (url: string): Promise<{ status: number; body: string }> =>
  new Promise((resolve, reject) => {
    const req = request(url, { agent: false, headers: { connection: 'close' } }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      res.on('error', reject)
    })
    req.setTimeout(5000, () => req.destroy(new Error(`no answer from ${url} within 5 s`)))
    req.on('error', reject)
    req.end()
  })

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('workerCount', () => {
  it("is the number given, or one per core for 'auto'", () => {
    assert.equal(workerCount(3), 3)
    assert.equal(workerCount('auto'), availableParallelism())
  })

  it('refuses a count that is not a whole number of at least 1', async () => {
    for (const n of [0, -1, 1.5, Number.NaN]) {
      assert.throws(() => workerCount(n), RangeError)
      // this test process is a cluster primary too: a bad count rejects before anything is forked
      await assert.rejects(serve(ok('x'), { port: 0, workers: n }), RangeError)
    }
  })
})

describe('mayRestart', () => {
  it(`allows ${RESTART_LIMIT} restarts within ${RESTART_WINDOW} ms, then none until the oldest leaves the window`, () => {
    const restarts: number[] = []
    for (let i = 0; i < RESTART_LIMIT; i++) assert.equal(mayRestart(restarts, 1000 + i), true)
    assert.equal(mayRestart(restarts, 2000), false)
    assert.equal(mayRestart(restarts, 1000 + RESTART_WINDOW - 1), false)
    assert.equal(mayRestart(restarts, 1000 + RESTART_WINDOW), true)
    assert.equal(restarts.length, RESTART_LIMIT)
  })
})

/** A running fixture primary: its process, URL, and what it wrote on stderr so far. */
interface Primary {
  readonly child: ChildProcess
  readonly url: string
  readonly stderr: () => string
}

/** Every process a test started, killed in `after` if a failed test left it running. */
const started = new Set<number>()
after(() => {
  for (const pid of started) if (alive(pid)) process.kill(pid, 'SIGKILL')
})

/** Starts test/fixtures/cluster-app.ts with `workers` workers on port 0; resolves once it prints its URL. */
const startPrimary = async (workers: number, options: { detached?: boolean } = {}): Promise<Primary> => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/cluster-app.ts'], {
    cwd: root,
    env: { ...process.env, WORKERS: String(workers), PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  })
  started.add(child.pid!)
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const url = await within(
    new Promise<string>((resolve, reject) => {
      let out = ''
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString()
        const m = /listening (\S+)\n/.exec(out)
        if (m !== null) resolve(m[1]!)
      })
      child.once('exit', (code) => reject(new Error(`the primary exited (${code}): ${stderr}`)))
    }),
    // tsx compiles the app in every process: seconds on a busy machine
    20_000,
    'the primary to print its URL',
  )
  return { child, url, stderr: () => stderr }
}

/** The pid a worker answers GET `path` with (the fixture answers with `process.pid`). */
const pidAt = async (url: string): Promise<number> => {
  const res = await get(url)
  assert.equal(res.status, 200)
  const pid = Number(res.body)
  started.add(pid)
  return pid
}

const exitOf = (child: ChildProcess): Promise<number | null> =>
  new Promise((resolve) => child.once('exit', (code) => resolve(code)))

/** GETs /slow, and once it surely reached a worker (well before its 300 ms), sends `signal`. */
const slowWhile = async (url: string, signal: () => void): Promise<{ status: number; body: string }> => {
  const slow = get(`${url}/slow`)
  await new Promise((r) => setTimeout(r, 100))
  signal()
  return within(slow, 3000, 'the slow answer')
}

describe('serve(app, { workers })', () => {
  let primary: Primary
  const pids = new Set<number>()

  it('forks the workers and resolves in the primary with the URL of the shared port', async () => {
    primary = await startPrimary(2)
    assert.match(primary.url, /^http:\/\/127\.0\.0\.1:[1-9]\d*$/)
  })

  it('answers from several workers, new connections taking turns', async () => {
    for (let i = 0; i < 40; i++) pids.add(await pidAt(`${primary.url}/`))
    assert.equal(pids.size, 2, `pids seen: ${[...pids].join(', ')}`)
    assert.ok(!pids.has(primary.child.pid!), 'the primary itself does not answer')
  })

  it('starts another worker in place of one that dies, on the same port', async () => {
    const before = new Set(pids)
    const victim = [...before][0]!
    process.kill(victim, 'SIGKILL')
    await waitFor(() => !alive(victim), 2000, `worker ${victim} to die`)
    // the survivor answers meanwhile; the new worker takes its turns once it listens
    let fresh: number | undefined
    await waitFor(
      async () => {
        const pid = await pidAt(`${primary.url}/`)
        assert.notEqual(pid, victim)
        pids.add(pid)
        if (!before.has(pid)) fresh = pid
        return fresh !== undefined
      },
      8000,
      'a new worker to answer',
    )
    assert.match(primary.stderr(), new RegExp(`worker ${victim} exited \\(signal SIGKILL\\); starting another`))
  })

  it('drains every worker on SIGTERM: the request in flight is answered, then the primary exits 0', async () => {
    const exit = exitOf(primary.child)
    const res = await slowWhile(primary.url, () => primary.child.kill('SIGTERM'))
    assert.equal(res.status, 200)
    assert.ok(pids.has(Number(res.body)), `answered by a worker seen before (${res.body})`)
    assert.equal(await within(exit, 5000, 'the primary to exit'), 0)
    await waitFor(() => ![...pids].some(alive), 1000, 'every worker to be gone')
    await assert.rejects(get(`${primary.url}/`), 'the port is closed')
  })
})

describe('serve(app, { workers }) and Ctrl-C', () => {
  it('SIGINT to the whole process group: the workers wait for the primary, which drains them and exits 0', async () => {
    // detached: its own process group, as a terminal's foreground job is
    const primary = await startPrimary(1, { detached: true })
    const exit = exitOf(primary.child)
    const res = await slowWhile(primary.url, () => process.kill(-primary.child.pid!, 'SIGINT'))
    assert.equal(res.status, 200)
    assert.equal(await within(exit, 5000, 'the primary to exit'), 0)
    const worker = Number(res.body)
    await waitFor(() => !alive(worker), 1000, `worker ${worker} to be gone`)
  })
})
