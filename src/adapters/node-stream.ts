/**
 * The node adapter's write of a body that is not in memory: a stream (with backpressure, and its
 * declared length held to) or a file (read into two buffers reused per answer).
 *
 * @since 0.3.0
 */
import { open } from 'node:fs/promises'
import type * as http from 'node:http'
import type { Readable } from 'node:stream'
import type { ChunkedBody } from '../context/body-source.js'
import type { Conn } from '../context/conn.js'
import { type FileBody, type StreamSource, chunksOf, isReadableStream } from '../context/response-body.js'
import { drained } from '../internal/drained.js'
import type { Report, ServerState } from './outgoing.js'

const isNodeReadable = (u: unknown): u is Readable =>
  typeof (u as Readable).pipe === 'function' && typeof (u as Readable).on === 'function'

/** Writes chunks as they come, waiting while the client is slow; stops when it is gone. */
const pump = async (
  res: http.ServerResponse,
  chunks: AsyncIterable<Uint8Array | string>,
  length: number | undefined,
): Promise<void> => {
  let sent = 0
  for await (const chunk of chunks) {
    // a client gone ends the loop; a producer told to stop by close() may still say goodbye
    if (res.destroyed) return
    if (chunk.length === 0) continue
    if (length !== undefined) {
      sent += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength
      if (sent > length) throw new LengthMismatch(length, 'more')
    }
    if (!res.write(chunk)) await drained(res)
  }
  if (length !== undefined && sent < length && !res.destroyed) throw new LengthMismatch(length, 'fewer')
}

/**
 * A stream that sends more or fewer bytes than the `content-length` it declared: its answer is
 * cut, since the extra bytes would be read as the next answer on the connection.
 */
class LengthMismatch extends Error {
  constructor(length: number, what: 'more' | 'fewer') {
    super(`sapwood: a streamed body declared ${length} bytes and gave ${what}`)
    this.name = 'LengthMismatch'
  }
}

/** Pipes a node stream (a file) into the response; settles when it ends, fails or the client leaves. */
const pipeTo = (res: http.ServerResponse, from: Readable, length: number | undefined): Promise<void> =>
  new Promise((resolve, reject) => {
    let sent = 0
    const closed = (): void => {
      from.destroy()
      resolve()
    }
    from.on('error', (error) => {
      res.off('close', closed)
      reject(error)
    })
    if (length !== undefined) {
      from.on('data', (chunk: Buffer | string) => {
        sent += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength
        if (sent > length) from.destroy(new LengthMismatch(length, 'more'))
      })
    }
    from.on('end', () => {
      res.off('close', closed)
      if (length !== undefined && sent < length && !res.destroyed) reject(new LengthMismatch(length, 'fewer'))
      else resolve()
    })
    res.on('close', closed)
    from.pipe(res, { end: false })
  })

/** How much of a file is read at once. */
const FILE_CHUNK = 64 * 1024

/** Resolves once node is done with a written chunk (its buffer may be reused), or the response closed. */
const written = (res: http.ServerResponse, chunk: Uint8Array): Promise<void> =>
  new Promise((resolve) => {
    if (res.destroyed) return resolve()
    const done = (): void => {
      res.off('close', done)
      resolve()
    }
    res.on('close', done)
    res.write(chunk, done)
  })

/**
 * Sends `length` bytes of a file from `offset`, read into two buffers made once per answer: one
 * is read into while the other is written, and a buffer is reused only once node is done with
 * it. A file stream would make a fresh 64 KiB buffer per chunk: measured on a 1 MiB file over
 * keep-alive (bench/README.md), this answers 1.4x as many requests, with a quarter of the
 * garbage collections, and a slow reader costs two buffers, not what the socket has not taken.
 * A file that shrank since it was measured gives fewer bytes: the answer is then cut.
 */
const sendFileRange = async (res: http.ServerResponse, path: string, offset: number, length: number): Promise<void> => {
  const file = await open(path, 'r')
  try {
    const size = Math.min(FILE_CHUNK, length)
    const buffers = [Buffer.allocUnsafeSlow(size), length > size ? Buffer.allocUnsafeSlow(size) : undefined]
    let position = offset
    let left = length
    let turn = 0
    let writing: Promise<void> | undefined
    while (left > 0) {
      if (res.destroyed) return
      const buffer = buffers[turn]!
      const { bytesRead } = await file.read(buffer, 0, Math.min(size, left), position)
      if (bytesRead === 0) throw new LengthMismatch(length, 'fewer')
      position += bytesRead
      left -= bytesRead
      const before = writing
      writing = written(res, bytesRead === buffer.byteLength ? buffer : buffer.subarray(0, bytesRead))
      // the other buffer is read into next: node must be done with it
      if (before !== undefined) await before
      turn ^= 1
    }
    await writing
  } finally {
    await file.close()
  }
}

/** What to send after the head: a file, or a stream's source once opened. */
export type Opened = { readonly file: FileBody } | { readonly from: StreamSource; readonly length: number | undefined }

/**
 * Sends a stream or a file after the head: backpressure honoured, the producer told (its
 * signal) when the client leaves or the server closes. A producer's error cuts the response (the
 * client sees it incomplete, not as a whole one) and is reported.
 */
export const stream = (
  res: http.ServerResponse,
  c: Conn,
  opened: Opened,
  source: ChunkedBody,
  server: ServerState,
  report: Report,
  /** While the server closes: whether this answer ends its connection (no request pipelined after it). */
  endsConnection: (res: http.ServerResponse) => boolean,
): void => {
  const done = (): void => {
    server.streaming.delete(source)
    source.release()
    if (res.destroyed) return
    // A stream that began before close() was kept alive: once it ends, its connection must
    // close too, or close() would wait for the keep-alive timeout.
    if (server.closing && endsConnection(res)) {
      const socket = res.socket // node detaches it from the response on 'finish'
      res.once('finish', () => socket?.destroySoon())
    }
    res.end()
  }
  const failed = (error: unknown): void => {
    server.streaming.delete(source)
    source.release()
    res.destroy()
    report(error, c)
  }
  server.streaming.add(source)
  let sending: Promise<void>
  try {
    if ('file' in opened) {
      const { path, offset, length } = opened.file
      sending = sendFileRange(res, path, offset, length)
    } else {
      const { from, length } = opened
      sending = isReadableStream(from)
        ? pump(res, chunksOf(from), length)
        : isNodeReadable(from)
          ? pipeTo(res, from, length)
          : pump(res, from, length)
    }
  } catch (error) {
    failed(error)
    return
  }
  sending.then(done, failed)
}
