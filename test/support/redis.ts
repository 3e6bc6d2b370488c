// A throwaway redis-server for the tests that need one: found on the PATH, else installed with
// apt-get (Debian's redis-server package; we run as root in CI), started on a free loopback port
// without persistence, and stopped by the test file. Where it cannot be installed, the tests
// that need it skip and say why. Every wait is bounded.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { aptInstall } from './debian.js'

export interface RedisServer {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string
  readonly port: number
  /** Stops the server (SIGTERM, then SIGKILL after 3 s) and removes its directory. */
  stop(): Promise<void>
}

/** A running server, or why there is none (for `describe(..., { skip })`). */
export type RedisStart =
  { readonly server: RedisServer; readonly skip?: undefined } | { readonly server?: undefined; readonly skip: string }

const BINARY = 'redis-server'
const START_ATTEMPTS = 3
const PING_DEADLINE_MS = 10_000
const STOP_WAIT_MS = 3_000

const say = (line: string): void => {
  console.log(`[redis] ${line}`)
}

const version = (): string | undefined => {
  const run = spawnSync(BINARY, ['--version'], { encoding: 'utf8', timeout: 10_000 })
  return run.status === 0 ? run.stdout.trim() : undefined
}

const tail = (text: string): string => text.trim().split('\n').slice(-5).join('\n')

/** Installs redis-server with apt-get; returns why not when it cannot. */
const install = (): string | undefined => aptInstall({ pkg: BINARY, found: version, say })

/** A port nobody listens on now: listen on port 0, read the port, close. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      probe.close(() => resolve(port))
    })
  })

/** True when a server on the port answers PING with PONG within half a second. */
const pong = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    let seen = ''
    const done = (ok: boolean): void => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(500, () => done(false))
    socket.once('error', () => done(false))
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.on('data', (chunk: Buffer) => {
      seen += chunk.toString('latin1')
      if (seen.includes('\r\n')) done(seen.startsWith('+PONG'))
    })
  })

const exited = (child: ChildProcess, ms: number): Promise<boolean> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(true)
    const timer = setTimeout(() => resolve(false), ms)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve(true)
    })
  })

const stopChild = async (child: ChildProcess): Promise<void> => {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGTERM')
  if (await exited(child, STOP_WAIT_MS)) return
  say(`pid ${child.pid} did not stop on SIGTERM within ${STOP_WAIT_MS} ms: SIGKILL`)
  child.kill('SIGKILL')
  await exited(child, STOP_WAIT_MS)
}

const launch = async (): Promise<RedisServer> => {
  const failures: string[] = []
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    const port = await freePort()
    const dir = mkdtempSync(join(tmpdir(), 'sapwood-redis-'))
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir]
    say(`starting ${BINARY} ${args.map((a) => (a === '' ? "''" : a)).join(' ')}`)
    const child = spawn(BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
    const gone = (): boolean => child.exitCode !== null || child.signalCode !== null
    // a test process that dies without its after() must not leave the server behind
    const orphan = (): void => void child.kill('SIGKILL')
    process.once('exit', orphan)
    const stop = async (): Promise<void> => {
      process.removeListener('exit', orphan)
      await stopChild(child)
      rmSync(dir, { recursive: true, force: true })
      say(`stopped the server on port ${port}`)
    }
    const deadline = Date.now() + PING_DEADLINE_MS
    while (!gone() && Date.now() < deadline) {
      if (await pong(port)) {
        say(`pid ${child.pid} answers PING on 127.0.0.1:${port}`)
        return { url: `redis://127.0.0.1:${port}`, port, stop }
      }
      await new Promise((r) => setTimeout(r, 50))
    }
    await stop()
    // the port may have been taken between the probe and the start: try another
    failures.push(
      `attempt ${attempt} on port ${port}: ${gone() ? 'exited' : `no PONG in ${PING_DEADLINE_MS} ms`}\n${tail(output)}`,
    )
  }
  throw new Error(`could not start ${BINARY}:\n${failures.join('\n')}`)
}

/**
 * Starts a redis-server for this test file (installing it first when it is missing); resolves
 * to `{ skip }` with the reason when it cannot be installed. A server that is installed but will
 * not start is a failure, not a skip.
 */
export const startRedis = async (): Promise<RedisStart> => {
  const found = version()
  if (found !== undefined) say(`found ${found}`)
  else {
    const why = install()
    if (why !== undefined) {
      say(`skipping the tests that need Redis: ${why}`)
      return { skip: why }
    }
  }
  return { server: await launch() }
}
