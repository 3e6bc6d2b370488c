/**
 * `serve(app, { workers })`: one server per core on node:cluster. The primary process forks the
 * workers and shares one port among them; each worker serves the app.
 *
 * @since 0.3.0
 */
import cluster, { type Cluster, type Worker } from 'node:cluster'
import { availableParallelism } from 'node:os'
import type { Listening } from './adapters/adapter.js'

/** Tells a worker the port to listen on instead of the one given to `serve` (see `fork`). */
const PORT_ENV = 'SAPWOOD_CLUSTER_PORT'

/** @internal At most this many restarts in `RESTART_WINDOW` ms; a worker that dies beyond that stays dead. */
export const RESTART_LIMIT = 5
export const RESTART_WINDOW = 10_000

/** A worker still alive this long after it was asked to close is killed (its own `close()` cuts connections earlier). */
const KILL_AFTER = 30_000

interface ListeningMessage {
  readonly sapwood: 'listening'
  readonly url: string
}
const CLOSE = { sapwood: 'close' } as const

const isListening = (m: unknown): m is ListeningMessage =>
  typeof m === 'object' && m !== null && (m as ListeningMessage).sapwood === 'listening'
const isClose = (m: unknown): boolean => typeof m === 'object' && m !== null && (m as typeof CLOSE).sapwood === 'close'

/** @internal The number of workers `workers` asks for: `'auto'` is one per core the process may use. */
export const workerCount = (workers: number | 'auto'): number => {
  if (workers === 'auto') return availableParallelism()
  if (!Number.isInteger(workers) || workers < 1) {
    throw new RangeError(`sapwood: serve: workers must be a whole number of at least 1, or 'auto' (got ${workers})`)
  }
  return workers
}

/**
 * @internal Whether a worker that died at `now` may be restarted, given the times of the restarts before
 * (pruned in place to those within the window). Counting every restart of the cluster, not per
 * worker, stops a crash loop whichever worker dies.
 */
export const mayRestart = (restarts: number[], now: number): boolean => {
  while (restarts.length > 0 && restarts[0]! <= now - RESTART_WINDOW) restarts.shift()
  if (restarts.length >= RESTART_LIMIT) return false
  restarts.push(now)
  return true
}

const describeExit = (code: number | null, signal: string | null): string =>
  signal !== null ? `signal ${signal}` : `code ${code ?? '?'}`

/**
 * @internal `serve` with workers: the primary forks them and resolves once all listen; a worker listens
 * with `listenHere` (given the shared port once known) and closes at the primary's word.
 */
export const serveCluster = async (
  workers: number | 'auto',
  listenHere: (port: number | undefined) => Promise<Listening>,
): Promise<Listening> => {
  if (cluster.isPrimary) return primary(workerCount(workers))
  return worker(listenHere)
}

const primary = (count: number): Promise<Listening<Cluster>> =>
  new Promise((resolve, reject) => {
    let url: string | undefined
    let port: number | undefined
    /** The port workers are told to listen on instead of the one given to `serve`. */
    let shared: number | undefined
    let started = false
    let failed = false
    let closing: Promise<void> | undefined
    const exits = new Map<Worker, Promise<void>>()
    const ready = new Set<Worker>()
    const restarts: number[] = []

    const fork = (): void => {
      // Workers share the primary's handle for the address they ask for: while one of them still
      // holds it, a new worker asking for the same (`port: 0` too) gets the same port, but a worker
      // that asked for the real port would have the primary bind it twice. Once no worker is
      // left, the handle is gone and a `port: 0` would be a new port: from then on, the real one.
      if (exits.size === 0 && port !== undefined) shared = port
      // cluster.fork runs this same script with the same argv and execArgv (`--import tsx` included)
      const w = cluster.fork(shared === undefined ? {} : { [PORT_ENV]: String(shared) })
      exits.set(
        w,
        new Promise((done) => {
          w.once('exit', (code: number | null, signal: string | null) => {
            exits.delete(w)
            ready.delete(w)
            done()
            exited(w, code, signal)
          })
        }),
      )
      w.on('message', (m: unknown) => {
        if (!isListening(m)) return
        ready.add(w)
        if (url === undefined) {
          url = m.url
          const u = new URL(m.url)
          port = Number(u.port || (u.protocol === 'https:' ? 443 : 80))
        }
        // a worker still starting when close() began did not hear it
        if (closing !== undefined) send(w)
        else if (!started && ready.size === count) {
          started = true
          resolve({ url, native: cluster, close })
        }
      })
    }

    const exited = (w: Worker, code: number | null, signal: string | null): void => {
      if (closing !== undefined || failed) return
      const how = describeExit(code, signal)
      if (!started) {
        failed = true
        removeSignalHandlers()
        for (const other of exits.keys()) other.process.kill('SIGKILL')
        reject(new Error(`sapwood: serve: worker ${w.process.pid ?? '?'} exited (${how}) before it listened`))
        return
      }
      if (mayRestart(restarts, Date.now())) {
        console.error(`sapwood: worker ${w.process.pid ?? '?'} exited (${how}); starting another`)
        fork()
        return
      }
      console.error(
        `sapwood: worker ${w.process.pid ?? '?'} exited (${how}); not restarted: ${RESTART_LIMIT} restarts in ${RESTART_WINDOW / 1000} s already`,
      )
      if (exits.size === 0) {
        console.error('sapwood: no worker is left; the primary exits')
        process.exit(1)
      }
    }

    const send = (w: Worker): void => {
      if (w.isConnected()) w.send(CLOSE)
      else w.process.kill('SIGTERM')
    }

    const close = (): Promise<void> =>
      (closing ??= Promise.all(
        [...exits].map(([w, exit]) => {
          send(w)
          const timer = setTimeout(() => w.process.kill('SIGKILL'), KILL_AFTER)
          timer.unref()
          return exit.then(() => clearTimeout(timer))
        }),
      ).then(() => removeSignalHandlers()))

    // Installed only here, in a primary with workers: a signal drains every worker, then exits.
    // A second SIGINT during the drain kills the primary at once; its workers, cut off from it,
    // then drain on their own.
    const onSignal = (): void => {
      removeSignalHandlers()
      void close().then(() => process.exit(0))
    }
    const removeSignalHandlers = (): void => {
      process.off('SIGTERM', onSignal)
      process.off('SIGINT', onSignal)
    }
    process.on('SIGTERM', onSignal)
    process.on('SIGINT', onSignal)

    for (let i = 0; i < count; i++) fork()
  })

const ignore = (): void => undefined

const worker = async (listenHere: (port: number | undefined) => Promise<Listening>): Promise<Listening> => {
  let server: Listening | undefined = undefined
  let asked = false
  let stopping = false
  const stop = (): void => {
    asked = true
    if (server === undefined || stopping) return
    stopping = true
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('sapwood: worker close failed:', error)
        process.exit(1)
      },
    )
  }
  // A terminal's Ctrl-C signals the whole process group: the primary drains the workers, so a
  // worker waits for its word rather than dying with requests in flight.
  process.on('SIGINT', ignore)
  // SIGTERM to one worker drains and ends it alone (the primary starts another in its place).
  process.once('SIGTERM', stop)
  process.on('message', (m: unknown) => {
    if (isClose(m)) stop()
  })
  // the primary is gone (killed): nobody will say when to close, nor restart this worker
  process.once('disconnect', stop)
  const env = process.env[PORT_ENV]
  server = await listenHere(env === undefined || env === '' ? undefined : Number(env))
  process.send?.({ sapwood: 'listening', url: server.url } satisfies ListeningMessage)
  if (asked) stop()
  return server
}
