/**
 * Compression: answers sent brotli, zstd, gzip or deflate coded, as the client's
 * `Accept-Encoding` asks, streams flushed chunk by chunk.
 *
 * @since 0.3.0
 */
import type { Transform } from 'node:stream'
import * as zlib from 'node:zlib'
import { type Conn, type ResponseHeaders, update } from '../context/conn.js'
import type { Part } from '../context/context.js'
import {
  type Body,
  type StreamBody,
  type StreamSource,
  type UpgradeBody,
  chunksOf,
  streamBody,
} from '../context/response-body.js'
import { type HeaderValue, addVary, withHeader, withHeaders } from '../internal/headers.js'
import { encodingNegotiator } from '../internal/accept-encoding.js'
import { drained } from '../internal/drained.js'
import { decorated } from './decorate.js'

/**
 * A content coding `compress` can send.
 *
 * @category decorations
 * @since 0.3.0
 */
export type CompressEncoding = 'br' | 'zstd' | 'gzip' | 'deflate'

/**
 * Options of `compress`.
 *
 * @category decorations
 * @since 0.3.0
 */
export interface CompressOptions {
  /**
   * The codings offered, in the server's order of preference: when the client's q-values tie,
   * the first wins. Default `['br', 'zstd', 'gzip', 'deflate']`. `zstd` is offered only where
   * node:zlib has it (node 22.15, 23.8 and later) and is left out silently elsewhere.
   */
  readonly encodings?: readonly CompressEncoding[]
  /** The smallest body compressed, in bytes. Default 1024. A stream of unknown length is always compressed. */
  readonly threshold?: number
  /**
   * The level of each coding: `br` 0-11 (default 4: brotli's own default, 11, costs some 300
   * times more CPU for a few percent), `gzip` and `deflate` 0-9 (default 6), `zstd` 1-22 (default 3).
   */
  readonly level?: Readonly<Partial<Record<CompressEncoding, number>>>
  /**
   * Which media types (lower-case, without parameters) are worth compressing. Default: `text/*`
   * (SSE included), JSON, JavaScript, XML, SVG, WebAssembly, YAML, uncompressed fonts and
   * bitmaps; never images, audio, video, archives, or `application/octet-stream`.
   */
  readonly compressible?: (mediaType: string) => boolean
}

const ENCODINGS: readonly CompressEncoding[] = ['br', 'zstd', 'gzip', 'deflate']

// Bodies in memory up to this size are compressed synchronously, larger ones off the main thread.
// Measured on node 20 (JSON text; gzip level 6 / brotli quality 4): synchronously, 25-60 µs up
// to 16 KiB and 230-270 µs at 64 KiB; through the thread pool, 105-160 µs up to 16 KiB and ~400
// µs at 64 KiB, its round trip costing more than the work. At 1 MiB the synchronous call holds
// the event loop 5 ms (gzip) to 20 ms (brotli): from 64 KiB on, the pool it is.
const SYNC_LIMIT = 64 * 1024

// ---------------------------------------------------------------------------------------------
// codecs

/** One coding: a streaming compressor, and one-shot ones for a body held in memory. */
interface Codec {
  /** A compressing transform; `flushing` makes it send out each chunk written at once. */
  readonly stream: (flushing: boolean) => Transform
  readonly sync: (bytes: string | Uint8Array) => Uint8Array
  readonly async: (bytes: string | Uint8Array) => Promise<Uint8Array>
}

type Done = (error: Error | null, out: Buffer) => void
/** A one-shot compressor of node:zlib with its options and callback (the overload used here). */
type OneShot<O> = (bytes: string | Uint8Array, options: O, done: Done) => void

/** node:zlib's zstd (node 22.15+), which the node 20 typings do not know. */
interface ZstdZlib {
  readonly createZstdCompress?: (options: object) => Transform
  readonly zstdCompressSync?: (bytes: string | Uint8Array, options: object) => Buffer
  readonly zstdCompress?: OneShot<object>
}
const zstd = zlib as unknown as ZstdZlib
const constants = zlib.constants as unknown as Readonly<Record<string, number | undefined>>

/** The zstd functions and constants, or undefined where this node has none. */
const zstdApi = (() => {
  const { createZstdCompress, zstdCompressSync, zstdCompress } = zstd
  const flush = constants['ZSTD_e_flush']
  const proceed = constants['ZSTD_e_continue']
  const levelParam = constants['ZSTD_c_compressionLevel']
  if (
    typeof createZstdCompress !== 'function' ||
    typeof zstdCompressSync !== 'function' ||
    typeof zstdCompress !== 'function' ||
    flush === undefined ||
    proceed === undefined ||
    levelParam === undefined
  )
    return undefined
  return { createZstdCompress, zstdCompressSync, zstdCompress, flush, proceed, levelParam }
})()

const promised =
  <O>(run: OneShot<O>, options: O) =>
  (bytes: string | Uint8Array): Promise<Uint8Array> =>
    new Promise((resolve, reject) =>
      run(bytes, options, (error, out) => (error === null ? resolve(out) : reject(error))),
    )

const codecOf = (encoding: CompressEncoding, level: number): Codec => {
  const { Z_SYNC_FLUSH, Z_NO_FLUSH, BROTLI_OPERATION_FLUSH, BROTLI_OPERATION_PROCESS, BROTLI_PARAM_QUALITY } =
    zlib.constants
  switch (encoding) {
    case 'gzip':
    case 'deflate': {
      const gzip = encoding === 'gzip'
      const options: zlib.ZlibOptions = { level }
      return {
        stream: (flushing) =>
          (gzip ? zlib.createGzip : zlib.createDeflate)({ level, flush: flushing ? Z_SYNC_FLUSH : Z_NO_FLUSH }),
        sync: (bytes) => (gzip ? zlib.gzipSync : zlib.deflateSync)(bytes, options),
        async: promised((gzip ? zlib.gzip : zlib.deflate) as OneShot<zlib.ZlibOptions>, options),
      }
    }
    case 'br': {
      const options: zlib.BrotliOptions = { params: { [BROTLI_PARAM_QUALITY]: level } }
      return {
        stream: (flushing) =>
          zlib.createBrotliCompress({
            ...options,
            flush: flushing ? BROTLI_OPERATION_FLUSH : BROTLI_OPERATION_PROCESS,
          }),
        sync: (bytes) => zlib.brotliCompressSync(bytes, options),
        async: promised(zlib.brotliCompress as OneShot<zlib.BrotliOptions>, options),
      }
    }
    case 'zstd': {
      const api = zstdApi!
      const options = { params: { [api.levelParam]: level } }
      return {
        stream: (flushing) => api.createZstdCompress({ ...options, flush: flushing ? api.flush : api.proceed }),
        sync: (bytes) => api.zstdCompressSync(bytes, options),
        async: promised(api.zstdCompress, options),
      }
    }
  }
}

const LEVELS: Readonly<Record<CompressEncoding, { min: number; max: number; default: number }>> = {
  br: { min: 0, max: 11, default: 4 },
  zstd: { min: 1, max: 22, default: 3 },
  gzip: { min: 0, max: 9, default: 6 },
  deflate: { min: 0, max: 9, default: 6 },
}

// ---------------------------------------------------------------------------------------------
// streams

const ignore = (): void => undefined

/**
 * The source's bytes through the compressing transform `z`, read as the adapter reads it: the
 * adapter's pace holds the source back (the transform's buffers are bounded), a source that
 * throws destroys the transform with its error (the adapter cuts the answer and reports it), and
 * a transform the adapter destroyed (the client left) stops the feeding.
 */
const encode = (source: StreamSource, z: Transform, signal: AbortSignal): Transform => {
  // The reader gets any error from the stream itself; this listener only keeps an error that
  // comes after the reader stopped (the client left first) from being an unhandled 'error' event.
  z.on('error', ignore)
  const feed = async (): Promise<void> => {
    for await (const chunk of chunksOf(source, signal)) {
      if (z.destroyed) return
      if (chunk.byteLength === 0) continue
      if (!z.write(chunk)) await drained(z)
    }
    if (!z.destroyed) z.end()
  }
  feed().catch((error: unknown) => {
    z.destroy(error instanceof Error ? error : new Error(String(error)))
  })
  return z
}

/** A body held in memory, compressed on the thread pool when the answer is written. */
const later = (codec: Codec, bytes: string | Uint8Array): StreamBody =>
  streamBody(async function* () {
    yield await codec.async(bytes)
  })

// ---------------------------------------------------------------------------------------------
// which answers

const COMPRESSIBLE = new Set([
  'application/json',
  'application/x-ndjson',
  'application/javascript',
  'application/x-javascript',
  'application/ecmascript',
  'application/xml',
  'application/wasm',
  'application/yaml',
  'application/x-yaml',
  'application/toml',
  'application/graphql',
  'application/x-www-form-urlencoded',
  'application/rtf',
  'application/vnd.ms-fontobject',
  'font/otf',
  'font/ttf',
  'image/bmp',
  'image/x-icon',
  'image/vnd.microsoft.icon',
])

/** The default of `compressible`: text, and structured formats that are not compressed already. */
const compressibleType = (type: string): boolean =>
  type.startsWith('text/') || type.endsWith('+json') || type.endsWith('+xml') || COMPRESSIBLE.has(type)

const firstOf = (value: HeaderValue | undefined): string | undefined =>
  value === undefined || typeof value === 'string' ? value : value[0]

const mediaType = (contentType: string): string => {
  const semi = contentType.indexOf(';')
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase()
}

const NO_TRANSFORM = /(?:^|,)\s*no-transform\s*(?:,|$)/i

const noTransform = (cacheControl: HeaderValue | undefined): boolean =>
  cacheControl !== undefined &&
  NO_TRANSFORM.test(typeof cacheControl === 'string' ? cacheControl : cacheControl.join(','))

/** A strong ETag made weak: the coded bytes differ from the ones it names, their meaning does not. */
const weakened = (etag: HeaderValue | undefined): HeaderValue | undefined =>
  typeof etag === 'string' && etag.startsWith('"') ? `W/${etag}` : etag

/**
 * A 304: the client holds a copy that this decoration may have coded, so the 304 names the Vary
 * that copy came with (RFC 9110 §15.4.5: the headers a 200 would have had). A 304 cannot tell
 * whether its 200 was compressible, so every 304 gets it: a cache then keys an uncoded copy on
 * `Accept-Encoding` too, which costs a few misses, never a wrong body. To a client that asks with
 * the weakened form of a strong tag (its copy was coded), the 304 names that weak tag, so that a
 * cache which refreshes the copy's headers does not give coded bytes a strong tag (a later
 * `If-Range` would then mix the coded bytes with a range of the uncoded ones).
 */
const revalidated = (answer: Conn, request: Conn): Conn => {
  const h = answer.respHeaders
  const etag = h['etag']
  const asked = request.headers['if-none-match']
  const coded = typeof etag === 'string' && etag.startsWith('"') && asked !== undefined && asked.includes(`W/${etag}`)
  const vary = addVary(h['vary'], 'Accept-Encoding')
  return update(answer, {
    respHeaders: coded ? withHeaders(h, { etag: `W/${etag}`, vary }) : withHeader(h, 'vary', vary),
  })
}

/** The byte length of a body, undefined for a stream of unknown length. */
const lengthOf = (body: Exclude<Body, null | UpgradeBody>): number | undefined =>
  typeof body === 'string' ? Buffer.byteLength(body) : body instanceof Uint8Array ? body.byteLength : body.length

const checkOptions = (options: CompressOptions): void => {
  for (const e of options.encodings ?? []) {
    if (!ENCODINGS.includes(e)) {
      throw new TypeError(`sapwood: compress: "${String(e)}" is not a coding it sends (br, zstd, gzip, deflate)`)
    }
  }
  const { threshold } = options
  if (threshold !== undefined && !(Number.isSafeInteger(threshold) && threshold >= 0)) {
    throw new RangeError(`sapwood: compress: threshold must be a whole number of bytes, not ${String(threshold)}`)
  }
  for (const [name, level] of Object.entries(options.level ?? {})) {
    const range = LEVELS[name as CompressEncoding] as (typeof LEVELS)[CompressEncoding] | undefined
    if (range === undefined) throw new TypeError(`sapwood: compress: level of "${name}", which is no coding`)
    if (!(Number.isInteger(level) && level >= range.min && level <= range.max)) {
      throw new RangeError(
        `sapwood: compress: the ${name} level must be a whole number from ${range.min} to ${range.max}, not ${String(level)}`,
      )
    }
  }
  if (options.compressible !== undefined && typeof options.compressible !== 'function') {
    throw new TypeError('sapwood: compress: compressible must be a function of the media type')
  }
}

/**
 * Compresses the answers of `app` that are worth it, in the coding the client's
 * `Accept-Encoding` weighs most (q-values honoured; ties go to `encodings`, brotli first; a
 * missing, bogus or refusing header gets the answer as it is). An answer is compressed when it
 * has a body of at least `threshold` bytes (a stream of unknown length always qualifies) and a
 * compressible type (text, JSON, JavaScript, XML, SVG, ...), and none of: a `content-encoding`
 * already (a precompressed file), `cache-control: no-transform`, a status of 206, 204 or 304
 * (a 304 to a client holding a coded copy gets that copy's weak ETag and Vary back).
 * Such answers get `Vary: Accept-Encoding` whichever coding this client got. A compressed answer
 * has its strong `ETag` made weak and loses `Accept-Ranges` (ranges are of the uncoded bytes);
 * a body in memory up to 64 KiB is compressed at once and keeps a `content-length`, a larger one
 * is compressed off the main thread and sent chunked; a stream or a file is compressed as it
 * is sent, a stream flushed after each chunk, so each Server-Sent Event reaches the client at
 * once. A HEAD answer gets the head a GET would, without its `content-length` (RFC 9110 lets a
 * HEAD leave out what only making the body would tell). Place it at the root of the app, outside
 * any decoration that reads the body (one that makes an ETag from it, say).
 *
 * @example
 * import { choose, pipe, get, path, respJson, ok } from 'sapwood'
 * import { compress } from 'sapwood/node'
 * const items = JSON.stringify(Array.from({ length: 500 }, (_, id) => ({ id, name: `item ${id}` })))
 * const app = compress(choose([pipe(get, path('/api/items'), respJson, ok(items))]), {
 *   threshold: 2048,
 *   level: { br: 5 },
 * })
 *
 * @category decorations
 * @since 0.3.0
 */
export const compress = (app: Part<Conn, Conn>, options: CompressOptions = {}): Part<Conn, Conn> => {
  checkOptions(options)
  const threshold = options.threshold ?? 1024
  const compressible = options.compressible ?? compressibleType
  const offered = [...new Set(options.encodings ?? ENCODINGS)].filter((e) => e !== 'zstd' || zstdApi !== undefined)
  const codecs = new Map(offered.map((e) => [e, codecOf(e, options.level?.[e] ?? LEVELS[e].default)]))
  const negotiate = encodingNegotiator(offered)

  const finish = (answer: Conn, request: Conn): Conn => {
    const status = answer.status
    if (offered.length === 0) return answer
    if (status === 304) return revalidated(answer, request)
    if (status < 200 || status === 204 || status === 206) return answer
    const body = answer.respBody
    if (body === null || (typeof body === 'object' && !(body instanceof Uint8Array) && body._tag === 'Upgrade'))
      return answer
    const h = answer.respHeaders
    if (h['content-encoding'] !== undefined || h['content-range'] !== undefined || noTransform(h['cache-control']))
      return answer
    const length = lengthOf(body)
    if (length !== undefined && (length === 0 || length < threshold)) return answer
    const type = firstOf(h['content-type']) ?? (typeof body === 'string' ? 'text/plain; charset=utf-8' : undefined)
    if (!compressible(mediaType(type ?? 'application/octet-stream'))) return answer
    // the answer would be coded for another client: caches must key on the header
    const vary = addVary(h['vary'], 'Accept-Encoding')
    const coding = negotiate(request.headers['accept-encoding'])[0]
    if (coding === undefined) return update(answer, { respHeaders: withHeader(h, 'vary', vary) })
    const codec = codecs.get(coding)!
    let coded: Body
    if (typeof body === 'string' || body instanceof Uint8Array) {
      coded = request.method === 'HEAD' || length! > SYNC_LIMIT ? later(codec, body) : codec.sync(body)
    } else if (body._tag === 'Stream') {
      coded = streamBody((signal) => encode(body.open(signal), codec.stream(true), signal))
    } else {
      // a file is read as fast as the client takes it: flushing each chunk would only cost ratio
      coded = streamBody((signal) => encode(body.open(signal), codec.stream(false), signal))
    }
    const respHeaders: ResponseHeaders = withHeaders(h, {
      'content-encoding': coding,
      'content-type': type,
      'content-length': undefined,
      'accept-ranges': undefined,
      etag: weakened(h['etag']),
      vary,
    })
    return update(answer, { respHeaders, respBody: coded })
  }

  return decorated(
    app,
    { _tag: 'Decorate', part: app as unknown as Part<never, unknown>, early: undefined, finish },
    'compress',
  )
}
