// A raw HTTP/1.x client for the fuzz test: writes bytes over node:net and says what came back,
// within bounds. The server may wait for bytes a truncated request still owes it, so the client
// first waits `patience` ms for an answer; then it half-closes (nothing more is coming) and the
// server has `bound` ms to answer or close. Neither is a hang.
import { connect } from 'node:net'

/** What the server did with the bytes of one case. */
export type Outcome =
  | {
      readonly kind: 'answered'
      /** The first final status (1xx interim answers are skipped). */
      readonly status: number
      /** How many final statuses came back (a pipelined case may get several). */
      readonly answers: number
      /** Whether the answer came only after the client half-closed. */
      readonly afterEnd: boolean
    }
  | { readonly kind: 'closed'; readonly afterEnd: boolean; readonly bytes: number }
  | { readonly kind: 'hung'; readonly bytes: number }
  | { readonly kind: 'refused'; readonly error: string }

export interface ExchangeOptions {
  readonly port: number
  /** The writes, sent one after another. */
  readonly writes: readonly Buffer[]
  /** How many final answers would complete the case (the number of pipelined requests). */
  readonly expected: number
  /** How long to wait for an answer before half-closing (ms). */
  readonly patience: number
  /** How long the server has, after the half-close, to answer or close (ms). */
  readonly bound: number
}

// A status line at the start of the stream or of a line: `HTTP/1.1 200 ` (or `HTTP/1.1 200\r\n`).
const STATUS = /(?:^|\r\n)HTTP\/1\.[01] (\d{3})(?= |\r\n)/g

/** Sends a case's bytes and reads until it is answered, closed, or the bounds run out. */
export const exchange = (options: ExchangeOptions): Promise<Outcome> =>
  new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: options.port })
    // only the head of each answer matters: keep at most this much text to scan
    let seen = ''
    let total = 0
    let finals: number[] = []
    let ended = false
    let settled = false
    let timer: NodeJS.Timeout | undefined

    const finish = (outcome: Outcome): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      resolve(outcome)
    }
    const answered = (): Outcome => ({ kind: 'answered', status: finals[0]!, answers: finals.length, afterEnd: ended })

    socket.on('data', (chunk: Buffer) => {
      total += chunk.length
      if (seen.length < 256 * 1024) seen += chunk.toString('latin1')
      finals = [...seen.matchAll(STATUS)].map((m) => Number(m[1])).filter((s) => s >= 200 || s === 101)
      if (finals.length >= options.expected) finish(answered())
    })
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (total === 0 && !socket.writable && error.code === 'ECONNREFUSED')
        finish({ kind: 'refused', error: error.message })
      // a reset or an EPIPE after the server gave up on the bytes: the 'close' below decides
    })
    socket.on('close', () => finish(finals.length > 0 ? answered() : { kind: 'closed', afterEnd: ended, bytes: total }))
    socket.on('connect', () => {
      const writeAll = async (): Promise<void> => {
        for (const [i, w] of options.writes.entries()) {
          if (settled || socket.destroyed) return
          if (i > 0) await new Promise((r) => setImmediate(r))
          socket.write(w)
        }
      }
      writeAll().catch(() => undefined)
      timer = setTimeout(() => {
        if (finals.length > 0) return finish(answered())
        ended = true
        socket.end()
        timer = setTimeout(() => finish(finals.length > 0 ? answered() : { kind: 'hung', bytes: total }), options.bound)
      }, options.patience)
    })
  })
