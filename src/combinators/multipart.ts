/**
 * `multipartBody`: `multipart/form-data` bodies (HTML forms with files), parsed as they arrive,
 * their files written to temporary files or streamed to your code. Node only (node:fs, node:stream).
 *
 * @since 0.2.0
 */
import { mkdtemp, open, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough, Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { Busboy, type BusboyFileStream, type BusboyInstance } from '@fastify/busboy'
import { type Assigns, type Conn, type Params, settingsOf, update } from '../context/conn.js'
import { type Context, type Part, type Result, left, part, right } from '../context/context.js'
import { type Rejection, badRequest, problem, unsupportedMediaType } from '../context/rejection.js'

/** 413 for one part over its own limit: the detail names the part, not the whole body. */
const tooLargeA = (what: 'file' | 'field', limit: number): Rejection =>
  problem({ status: 413, title: 'Payload Too Large', detail: `A ${what} of the form is larger than ${limit} bytes` })
import { requestMediaType } from '../internal/content-type.js'
import { DEFAULT_BODY_LIMIT, type FormFields } from './body.js'
import { failure } from './compose.js'

/**
 * A file of a `multipart/form-data` body, written to a temporary file that is removed once the
 * response is written: read it, or copy it, in the handler (moving it elsewhere is fine too).
 *
 * @category body
 * @since 0.2.0
 */
export interface UploadedFile {
  /** The name of the form field it was sent in. */
  readonly field: string
  /** The file name the client gave, without any directory; `''` when it gave none. */
  readonly filename: string
  /** Its media type as the client declared it; `text/plain` when it declared none (RFC 7578). */
  readonly type: string
  /** Its size in bytes. */
  readonly size: number
  /** The temporary file it was written to (a name sapwood chose, never the client's). */
  readonly path: string
}

/**
 * A decoded `multipart/form-data` body: its text fields (a null-prototype record; a repeated
 * name gives an array of its values in order) and its files in the order they came, each an
 * `UploadedFile`, or what `onFile` returned for it.
 *
 * @example
 * import type { Multipart } from 'sapwood/node'
 * const describe = (form: Multipart) => `${form.files.length} files, title ${String(form.fields['title'])}`
 *
 * @category body
 * @since 0.2.0
 */
export interface Multipart<F = UploadedFile> {
  readonly fields: FormFields
  readonly files: readonly F[]
}

/**
 * A file as `onFile` receives it, before its bytes have all arrived: read `stream` to its end,
 * or give it to a client that does.
 *
 * @category body
 * @since 0.2.0
 */
export interface IncomingFile {
  /** The name of the form field it is sent in. */
  readonly field: string
  /** The file name the client gave, without any directory; `''` when it gave none. */
  readonly filename: string
  /** Its media type as the client declared it; `text/plain` when it declared none. */
  readonly type: string
  /**
   * Its bytes as they arrive: a node Readable (for `pipeline`, or an SDK that takes one) whose
   * chunks are `Uint8Array`s (Buffers), and so an async iterable of them. It fails (throws in a
   * `for await`) when the upload is refused or cut.
   */
  readonly stream: Readable & AsyncIterable<Uint8Array>
}

/**
 * Limits of `multipartBody`. Past any of them the request is refused with 413, at once: nothing
 * is cut short silently.
 *
 * @category body
 * @since 0.2.0
 */
export interface MultipartOptions {
  /** The largest body, in bytes, counted as it arrives; default: the `bodyLimit` above, else 1 MiB. */
  readonly limit?: number
  /** The largest file, in bytes. Default: `limit`. */
  readonly fileSize?: number
  /** The most files. Default 10. */
  readonly files?: number
  /** The most text fields (a repeated name counts each time). Default 100. */
  readonly fields?: number
  /** The largest text field value, in bytes. Default 64 KiB. */
  readonly fieldSize?: number
  /** The most parts, files and fields together. Default 1000. */
  readonly parts?: number
  /**
   * Where the directory of a request's temporary files is made. Default: `os.tmpdir()`. On the
   * disk where the files are kept, a handler can `rename` them there instead of copying.
   */
  readonly tmpdir?: string
}

/**
 * Options of `multipartBody` with `onFile`: the files are streamed to it as they arrive, and
 * `c.body.files` holds what it returned for each, in order.
 *
 * @category body
 * @since 0.2.0
 */
export interface MultipartStreamOptions<T> extends Omit<MultipartOptions, 'tmpdir'> {
  /**
   * Called for each file as it begins to arrive; the parse goes on while it reads. A stream it
   * leaves unread is drained once it settles. A throw or a rejection is a failed handler (500).
   */
  readonly onFile: (file: IncomingFile, c: Conn) => T | Promise<T>
}

type Limits = Required<Omit<MultipartOptions, 'tmpdir' | 'limit' | 'fileSize'>> & {
  readonly limit: number | undefined
  readonly fileSize: number | undefined
  readonly tmpdir: string | undefined
}

const MULTIPART = 'multipart/form-data'
const WRONG_TYPE = left(unsupportedMediaType([MULTIPART]))
const NO_BOUNDARY = left(badRequest('The multipart/form-data Content-Type has no boundary'))
const BAD_BOUNDARY = left(badRequest('The multipart/form-data boundary is not valid (RFC 2046: 1 to 70 characters)'))
const NO_NAME = left(badRequest('A part of the multipart/form-data body has no field name'))

// RFC 2046 §5.1.1: one to seventy of these characters, the last not a space. Checked here, so
// that the boundary given to busboy is the one the client declared, quoted as it needs.
const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/

const ignore = (): void => undefined

const whole = (value: unknown, who: string, least: number): number | undefined => {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < least) {
    throw new RangeError(
      `sapwood: multipartBody: ${who} must be a whole number of ${least} or more, not ${typeof value === 'number' ? String(value) : typeof value}`,
    )
  }
  return value
}

const limitsOf = (options: MultipartOptions): Limits => ({
  limit: whole(options.limit, 'limit', 1),
  fileSize: whole(options.fileSize, 'fileSize', 1),
  files: whole(options.files, 'files', 0) ?? 10,
  fields: whole(options.fields, 'fields', 0) ?? 100,
  fieldSize: whole(options.fieldSize, 'fieldSize', 1) ?? 65_536,
  parts: whole(options.parts, 'parts', 0) ?? 1000,
  tmpdir: options.tmpdir,
})

/** The boundary the request declares, or the Left that refuses it (415 not multipart, 400 no boundary). */
const boundaryOf = (c: Conn): string | Context => {
  const media = requestMediaType(c)
  if (media === undefined || media.type !== MULTIPART) return WRONG_TYPE
  const boundary = media.parameters['boundary']
  if (boundary === undefined || boundary === '') return NO_BOUNDARY
  return BOUNDARY.test(boundary) ? boundary : BAD_BOUNDARY
}

// A count past its limit is refused as body-parser and formBody do: the form is well-formed, only
// larger than the server takes (RFC 9110 §15.5.14), counted in parts rather than bytes.
const tooMany = (limit: number, what: string): Context =>
  left(problem({ status: 413, title: 'Payload Too Large', detail: `The form has more than ${limit} ${what}` }))

/** Parses one request's body as it streams in: the Conn with its `Multipart`, or the rejection. */
const decode = (
  c: Conn,
  boundary: string,
  limits: Limits,
  onFile: ((file: IncomingFile, c: Conn) => unknown) | undefined,
): Result => {
  const limit = limits.limit ?? settingsOf(c).bodyLimit ?? DEFAULT_BODY_LIMIT
  const fileSize = limits.fileSize ?? limit
  let bb: BusboyInstance
  try {
    bb = Busboy({
      headers: { 'content-type': `${MULTIPART}; boundary="${boundary}"` },
      limits: {
        fileSize,
        files: limits.files,
        fields: limits.fields,
        fieldSize: limits.fieldSize,
        parts: limits.parts,
      },
    })
  } catch {
    return BAD_BOUNDARY
  }
  return new Promise<Context>((resolve) => {
    const fields = Object.create(null) as FormFields
    const files: unknown[] = []
    const streams: BusboyFileStream[] = []
    const tasks: Promise<void>[] = []
    let done = false
    let dir: Promise<string> | undefined
    let removal: Promise<void> | undefined
    const input = Readable.from(c.source.stream(limit), { objectMode: false })

    // Waits for every file to be closed first: a file still being opened would otherwise be
    // made in a directory being removed.
    const remove = (): Promise<void> =>
      (removal ??= Promise.all(tasks).then(() =>
        dir?.then(
          (d) => rm(d, { recursive: true, force: true }),
          () => undefined,
        ),
      ))

    const tempDir = (): Promise<string> => {
      if (dir === undefined) {
        dir = mkdtemp(join(limits.tmpdir ?? tmpdir(), 'sapwood-'))
        c.source.whenDone(remove)
      }
      return dir
    }

    const stop = (ctx: Context): void => {
      if (done) return
      done = true
      input.unpipe(bb)
      input.destroy()
      const why = new Error('sapwood: the multipart/form-data body was refused before its end')
      for (const s of streams) s.destroy(why)
      // removed now, not once the answer is written; a failure shows when `whenDone` runs it
      if (dir !== undefined) remove().catch(ignore)
      resolve(ctx)
    }

    const save = async (file: BusboyFileStream, index: number, head: Omit<UploadedFile, 'size' | 'path'>) => {
      const path = join(await tempDir(), String(index))
      if (done) return
      const handle = await open(path, 'wx', 0o600)
      const out = handle.createWriteStream()
      try {
        await pipeline(file, out)
      } finally {
        if (!out.closed) await new Promise<void>((closed) => out.once('close', () => closed()))
      }
      files[index] = { ...head, size: out.bytesWritten, path } satisfies UploadedFile
    }

    // The user's code reads a stream of its own: if it stops early (a `break` destroys what it
    // iterates), the file goes on being drained, so that busboy reaches the parts after it.
    const handOver = async (
      file: BusboyFileStream,
      index: number,
      head: Omit<IncomingFile, 'stream'>,
      run: (file: IncomingFile, c: Conn) => unknown,
    ) => {
      const stream = new PassThrough()
      file.on('error', (error) => stream.destroy(error))
      stream.once('close', () => {
        if (stream.readableEnded) return
        file.unpipe(stream)
        file.resume()
      })
      file.pipe(stream)
      try {
        files[index] = await run({ ...head, stream }, c)
      } finally {
        if (!stream.readableEnded) stream.destroy()
      }
    }

    bb.on('field', (name: string | undefined, value, _nameTruncated, valueTruncated) => {
      if (done) return
      if (name === undefined) return stop(NO_NAME)
      if (valueTruncated) return stop(left(tooLargeA('field', limits.fieldSize)))
      const seen = fields[name]
      if (seen === undefined) fields[name] = value
      else if (typeof seen === 'string') fields[name] = [seen, value]
      else seen.push(value)
    })

    bb.on('file', (name: string | undefined, file, filename: string | undefined, _encoding, type) => {
      // busboy reports a part cut short on its file too: answered once, from busboy's 'error'
      file.on('error', ignore)
      if (done) {
        file.resume()
        return
      }
      if (name === undefined) {
        file.resume()
        return stop(NO_NAME)
      }
      streams.push(file)
      file.once('limit', () => stop(left(tooLargeA('file', fileSize))))
      const index = files.length
      files.push(undefined)
      const head = { field: name, filename: filename ?? '', type }
      const task = onFile === undefined ? save(file, index, head) : handOver(file, index, head, onFile)
      tasks.push(task.catch((error: unknown) => stop(failure(error))))
    })

    bb.on('filesLimit', () => stop(tooMany(limits.files, 'files')))
    bb.on('fieldsLimit', () => stop(tooMany(limits.fields, 'fields')))
    bb.on('partsLimit', () => stop(tooMany(limits.parts, 'parts')))
    bb.on('error', (error) => {
      const why = error instanceof Error ? `: ${error.message}` : ''
      stop(left(badRequest(`The multipart/form-data body is malformed${why}`)))
    })
    bb.on('finish', () => {
      void Promise.all(tasks).then(() => {
        if (done) return
        done = true
        resolve(right(update(c, { body: { fields, files } satisfies Multipart<unknown> })))
      })
    })
    // a read that fails: 413 past the limit, 400 when the client left (not logged), else 500
    input.on('error', (error) => stop(failure(error)))
    input.pipe(bb)
  })
}

/**
 * Reads a `multipart/form-data` body (an HTML form with files) as it arrives and sets `c.body`
 * to a `Multipart`: its text fields, and its files written to temporary files (`UploadedFile`:
 * field, filename, type, size, path) in a directory made for the request, removed once the
 * response is written, and at once when the upload is refused or cut. With `onFile`, each file
 * is streamed to your code instead (to object storage, say), nothing is written to disk, and
 * `c.body.files` holds what it returned.
 *
 * It answers 415 when the Content-Type is not `multipart/form-data` (missing or malformed
 * included); 400 when it has no boundary, or the body is malformed or ends early; 413 past any
 * limit (see `MultipartOptions`), with no file or field cut short silently; 400, not logged, when
 * the client leaves mid-upload.
 *
 * @example
 * import { pipe, post, path, handle, json } from 'sapwood'
 * import { multipartBody } from 'sapwood/node'
 * import { readFile } from 'node:fs/promises'
 *
 * pipe(post, path('/photos'), multipartBody({ files: 3, fileSize: 5_000_000 }), handle(async (c) => {
 *   const [photo] = c.body.files
 *   if (photo === undefined) return json({ saved: false })
 *   const bytes = await readFile(photo.path)
 *   return json({ title: c.body.fields['title'], name: photo.filename, size: bytes.byteLength })
 * }))
 *
 * // streamed: each file's bytes are counted as they arrive, none kept
 * const counted = multipartBody({
 *   onFile: async (file) => {
 *     let size = 0
 *     for await (const chunk of file.stream) size += chunk.byteLength
 *     return { name: file.filename, size }
 *   },
 * })
 * pipe(post, path('/count'), counted, handle((c) => json(c.body.files)))
 *
 * @category body
 * @since 0.2.0
 */
export function multipartBody<T>(
  options: MultipartStreamOptions<T>,
): Part<Conn, Conn<Params, Assigns, Multipart<Awaited<T>>>>
export function multipartBody(options?: MultipartOptions): Part<Conn, Conn<Params, Assigns, Multipart>>
export function multipartBody(
  options: MultipartOptions & { readonly onFile?: (file: IncomingFile, c: Conn) => unknown } = {},
): Part<Conn, Conn<Params, Assigns, Multipart<unknown>>> {
  const limits = limitsOf(options)
  const onFile = options.onFile
  if (onFile !== undefined && typeof onFile !== 'function') {
    throw new TypeError('sapwood: multipartBody: onFile must be a function')
  }
  return part(
    (c: Conn): Result => {
      const boundary = boundaryOf(c)
      return typeof boundary === 'string' ? decode(c, boundary, limits, onFile) : boundary
    },
    { _tag: 'Opaque' },
    onFile === undefined ? 'multipartBody()' : 'multipartBody(onFile)',
  ) as unknown as Part<Conn, Conn<Params, Assigns, Multipart<unknown>>>
}
