// Memory of a server under the node adapter: RSS at idle, RSS after many hello-world requests, and
// the heap each idle keep-alive connection holds. The server scripts answer 'memory' over IPC
// (started with --expose-gc, they collect twice first); nothing of this is in src/. The load here
// is autocannon's: these runs send a number of requests, and wrk only runs for a time.
import type { ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { type Socket, connect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { type Running, runLoad, startServer, stop } from './processes.js'
import type { Request } from './scenarios.js'

/** What a server script answers to 'memory' over IPC (after two full GCs). */
export interface Usage {
  readonly rss: number
  readonly heapUsed: number
  readonly connections: number
}

export interface MemoryResult {
  readonly idle: Usage
  /** After the warm-up, no connection open. */
  readonly baseline: Usage
  readonly withIdle: Usage
  readonly idleConnections: number
  readonly after: Usage
  readonly requests: number
  readonly seconds: number
}

/** Asks a server script started with `memory` for its usage. */
export const usage = (child: ChildProcess): Promise<Usage> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no memory answer in 10 s')), 10_000)
    child.once('message', (m) => {
      clearTimeout(timer)
      resolve(m as Usage)
    })
    child.send('memory')
  })

/** Usage once the server holds at most `most` connections (closing sockets take a moment). */
export const settled = async (child: ChildProcess, most: number): Promise<Usage> => {
  let u = await usage(child)
  for (let i = 0; i < 50 && u.connections > most; i++) {
    await sleep(100)
    u = await usage(child)
  }
  return u
}

/** A process's resident set now, in bytes, from /proc/<pid>/status (Linux; no GC, no IPC), or undefined. */
export const residentBytes = (pid: number | undefined): number | undefined => {
  if (pid === undefined) return undefined
  try {
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
    return kb === undefined ? undefined : Number(kb) * 1024
  } catch {
    return undefined
  }
}

/** Opens a keep-alive connection, sends one GET /, and resolves once the answer is in. */
const idleConnection = (port: number): Promise<Socket> =>
  new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let got = ''
    socket.setEncoding('utf8')
    socket.once('error', reject)
    socket.on('data', (chunk: string) => {
      got += chunk
      if (got.endsWith('hello world')) resolve(socket)
    })
    socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n')
  })

const HELLO: readonly Request[] = [{ method: 'GET', path: '/' }]

export const measureMemory = async (
  script: string,
  options: { readonly connections: number; readonly idle: number; readonly requests: number; readonly seconds: number },
): Promise<MemoryResult> => {
  const server: Running = await startServer(script, 'basic', true)
  const sockets: Socket[] = []
  try {
    await sleep(500)
    const idle = await usage(server.child)
    // Warm the request path (JIT, parser pool) so that it is not counted against the connections.
    await runLoad(
      'autocannon',
      { url: server.url, connections: 10, warmup: 0, duration: 10, amount: 5000, requests: HELLO },
      server,
    )
    const baseline = await settled(server.child, 0)
    // Open them in batches of 50 to stay well inside the listen backlog.
    for (let i = 0; i < options.idle; i += 50) {
      const batch = Math.min(50, options.idle - i)
      sockets.push(...(await Promise.all(Array.from({ length: batch }, () => idleConnection(server.port)))))
    }
    const withIdle = await usage(server.child)
    for (const s of sockets) s.destroy()
    sockets.length = 0
    await settled(server.child, 0)
    const load = await runLoad(
      'autocannon',
      {
        url: server.url,
        connections: options.connections,
        warmup: 0,
        duration: options.seconds,
        amount: options.requests,
        requests: HELLO,
      },
      server,
    )
    const after = await settled(server.child, 0)
    return {
      idle,
      baseline,
      withIdle,
      idleConnections: options.idle,
      after,
      requests: load.total,
      seconds: load.seconds,
    }
  } finally {
    for (const s of sockets) s.destroy()
    await stop(server.child)
  }
}
