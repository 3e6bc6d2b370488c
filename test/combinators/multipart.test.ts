import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { request } from 'node:http'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import * as sap from 'sapwood'
import * as sapNode from 'sapwood/node'
import { inject } from 'sapwood/testing'

const { choose, pipe, get, post, path, handle, json, ok } = sap
const { multipartBody } = sapNode

// Every app below writes its temporary files here, so that a test can see that none is left.
const scratch = mkdtempSync(join(tmpdir(), 'sapwood-multipart-test-'))
const leftovers = (): string[] => readdirSync(scratch)

const sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')

/** Bytes that look random (a binary file), the same on every run. */
const noise = (size: number): Uint8Array => {
  const out = new Uint8Array(size)
  let x = 0x2545f491
  for (let i = 0; i < size; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}

/** Waits until `done()` holds, checking every 10 ms for at most `ms`; fails with `what` otherwise. */
const eventually = async (done: () => boolean, what: string, ms = 3000): Promise<void> => {
  for (let waited = 0; waited <= ms; waited += 10) {
    if (done()) return
    await new Promise((r) => setTimeout(r, 10))
  }
  assert.fail(`still not so after ${ms} ms: ${what}`)
}

/** A FormData as the bytes and Content-Type a client sends (undici's own encoding). */
const encode = async (form: FormData): Promise<{ body: Uint8Array; type: string }> => {
  const req = new Request('http://localhost/', { method: 'POST', body: form })
  return { body: new Uint8Array(await req.arrayBuffer()), type: req.headers.get('content-type')! }
}

const enc = new TextEncoder()
const B = 'sapwoodBoundary42'
const TYPE = `multipart/form-data; boundary=${B}`
const fieldPart = (name: string, value: string): string =>
  `--${B}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`
const filePart = (name: string, filename: string, content: string, type = 'application/octet-stream'): string =>
  `--${B}\r\nContent-Disposition: form-data; name="${name}"; filename="${filename}"\r\nContent-Type: ${type}\r\n\r\n${content}\r\n`
const end = `--${B}--\r\n`

/** Posts a hand-written multipart body in memory. */
const send = (app: sap.Part<sap.Conn, sap.Conn>, url: string, body: string, type = TYPE) =>
  inject(app, { method: 'POST', url, headers: { 'content-type': type }, body: enc.encode(body) })

/** What the upload handler answers: the fields and, for each file, what it found in its temporary file. */
const describeUpload = async (c: sap.Conn<sap.Params, sap.Assigns, sapNode.Multipart>) => {
  const files = await Promise.all(
    c.body.files.map(async (f) => {
      const bytes = await readFile(f.path)
      return {
        field: f.field,
        filename: f.filename,
        type: f.type,
        size: f.size,
        read: bytes.byteLength,
        sha: sha(bytes),
        path: f.path,
      }
    }),
  )
  return json({ fields: c.body.fields, nullProto: Object.getPrototypeOf(c.body.fields) === null, files })
}

interface Described {
  fields: Record<string, unknown>
  nullProto: boolean
  files: { field: string; filename: string; type: string; size: number; read: number; sha: string; path: string }[]
}

const upload = multipartBody({ tmpdir: scratch })

const counted = multipartBody({
  onFile: async (file) => {
    if (file.field === 'ignored') return { field: file.field, skipped: true }
    const hash = createHash('sha256')
    let size = 0
    for await (const chunk of file.stream) {
      size += chunk.byteLength
      hash.update(chunk)
      // stops reading after the first chunk: the rest must still be drained
      if (file.field === 'partial') return { field: file.field, partial: true }
    }
    return { field: file.field, filename: file.filename, type: file.type, size, sha: hash.digest('hex') }
  },
})

const app = choose([
  pipe(get, path('/health'), ok('fine')),
  pipe(post, path('/upload'), upload, handle(describeUpload)),
  pipe(
    post,
    path('/stream'),
    counted,
    handle((c) => json(c.body)),
  ),
  pipe(post, path('/limits/file'), multipartBody({ tmpdir: scratch, fileSize: 1000 }), handle(describeUpload)),
  pipe(post, path('/limits/files'), multipartBody({ tmpdir: scratch, files: 2 }), handle(describeUpload)),
  pipe(post, path('/limits/fields'), multipartBody({ tmpdir: scratch, fields: 2 }), handle(describeUpload)),
  pipe(post, path('/limits/field-size'), multipartBody({ tmpdir: scratch, fieldSize: 16 }), handle(describeUpload)),
  pipe(post, path('/limits/parts'), multipartBody({ tmpdir: scratch, parts: 3 }), handle(describeUpload)),
  pipe(post, path('/limits/body'), multipartBody({ tmpdir: scratch, limit: 4096 }), handle(describeUpload)),
  // the limit of the subtree, when the decoder sets none
  pipe(post, path('/limits/subtree'), sap.bodyLimit(4096), multipartBody({ tmpdir: scratch }), handle(describeUpload)),
])

describe('multipartBody', () => {
  let server: sap.Listening
  before(async () => {
    server = await sap.serve(app, { port: 0, host: '127.0.0.1' })
  })
  after(async () => {
    await server.close()
    rmSync(scratch, { recursive: true, force: true })
  })

  it('gives the fields and the files of a form sent by fetch, and removes the files after the answer', async () => {
    const binary = noise(200 * 1024)
    const form = new FormData()
    form.append('title', 'Holiday')
    form.append('tag', 'sea')
    form.append('notes', new Blob(['first notes\n'], { type: 'text/plain' }), 'notes été.txt')
    form.append('photo', new Blob([binary], { type: 'image/png' }), 'beach.png')
    form.append('tag', 'sun')
    form.append('meta', new Blob(['{"a":1}'], { type: 'application/json' }), '../../etc/meta.json')
    form.append('lang', 'été')
    const res = await fetch(`${server.url}/upload`, { method: 'POST', body: form })
    assert.equal(res.status, 200)
    const body = (await res.json()) as Described
    assert.deepEqual(body.fields, { title: 'Holiday', tag: ['sea', 'sun'], lang: 'été' })
    assert.equal(body.nullProto, true)
    const files = body.files.map(({ path: _path, ...f }) => f)
    assert.deepEqual(files, [
      {
        field: 'notes',
        filename: 'notes été.txt',
        type: 'text/plain',
        size: 12,
        read: 12,
        sha: sha(enc.encode('first notes\n')),
      },
      { field: 'photo', filename: 'beach.png', type: 'image/png', size: 204800, read: 204800, sha: sha(binary) },
      // the client's directories are dropped
      {
        field: 'meta',
        filename: 'meta.json',
        type: 'application/json',
        size: 7,
        read: 7,
        sha: sha(enc.encode('{"a":1}')),
      },
    ])
    const paths = body.files.map((f) => f.path)
    for (const p of paths) assert.ok(p.startsWith(scratch), `${p} is not under the temporary directory`)
    await eventually(() => paths.every((p) => !existsSync(p)), 'the temporary files are removed')
    await eventually(() => leftovers().length === 0, 'the request directory is removed')
  })

  it('removes the temporary files after an in-memory answer too (inject)', async () => {
    const form = new FormData()
    form.append('doc', new Blob(['abc']), 'a.txt')
    const { body, type } = await encode(form)
    const res = await inject(app, { method: 'POST', url: '/upload', headers: { 'content-type': type }, body })
    assert.equal(res.status, 200)
    const [file] = res.json<Described>().files
    assert.ok(file !== undefined)
    assert.equal(file.size, 3)
    await eventually(() => !existsSync(file.path) && leftovers().length === 0, 'the temporary file is removed')
  })

  it('keeps field names such as __proto__ as plain own fields', async () => {
    const res = await send(
      app,
      '/upload',
      fieldPart('__proto__', 'x') + fieldPart('constructor', 'y') + fieldPart('toString', 'z') + end,
    )
    assert.equal(res.status, 200)
    const body = res.json<Described>()
    assert.deepEqual(Object.keys(body.fields).sort(), ['__proto__', 'constructor', 'toString'])
    assert.equal(body.nullProto, true)
    assert.equal(({} as Record<string, unknown>)['x'], undefined)
  })

  it('streams each file to onFile as it arrives, and gives what onFile returned', { timeout: 10_000 }, async () => {
    const binary = noise(300 * 1024)
    const form = new FormData()
    form.append('a', new Blob([binary], { type: 'image/png' }), 'a.png')
    form.append('ignored', new Blob([noise(150 * 1024)]), 'unread.bin')
    form.append('partial', new Blob([noise(150 * 1024)]), 'partial.bin')
    form.append('b', new Blob(['tiny']), 'b.txt')
    form.append('after', 'the files')
    const res = await fetch(`${server.url}/stream`, { method: 'POST', body: form })
    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), {
      fields: { after: 'the files' },
      files: [
        { field: 'a', filename: 'a.png', type: 'image/png', size: binary.byteLength, sha: sha(binary) },
        { field: 'ignored', skipped: true },
        { field: 'partial', partial: true },
        { field: 'b', filename: 'b.txt', type: 'application/octet-stream', size: 4, sha: sha(enc.encode('tiny')) },
      ],
    })
  })

  it('reads a quoted boundary that holds spaces and the other characters RFC 2046 allows', async () => {
    const boundary = "a b'()+_,-./:=?z"
    const body = `--${boundary}\r\nContent-Disposition: form-data; name="q"\r\n\r\nfound\r\n--${boundary}--\r\n`
    const res = await send(app, '/upload', body, `multipart/form-data; boundary="${boundary}"`)
    assert.equal(res.status, 200)
    assert.deepEqual(res.json<Described>().fields, { q: 'found' })
  })

  it('makes the stream of onFile fail, and answers 413, when a streamed file is over fileSize', async () => {
    const failures: unknown[] = []
    const strict = pipe(
      post,
      path('/x'),
      multipartBody({
        fileSize: 100,
        onFile: async (file) => {
          try {
            for await (const chunk of file.stream) void chunk
          } catch (error) {
            failures.push(error)
            throw error
          }
          return 'read'
        },
      }),
      handle(() => ok('unreachable')),
    )
    const res = await send(strict, '/x', filePart('f', 'big.bin', 'x'.repeat(5000)) + end)
    assert.equal(res.status, 413)
    assert.match(res.json<{ detail: string }>().detail, /larger than 100 bytes/)
    await eventually(() => failures.length === 1, 'the stream given to onFile fails')
  })

  it('answers 500, logged, when onFile throws', async () => {
    const failing = pipe(
      post,
      path('/x'),
      multipartBody({
        onFile: () => Promise.reject(new Error('storage down')),
      }),
      handle(() => ok('unreachable')),
    )
    const errors: unknown[] = []
    const res = await inject(
      failing,
      {
        method: 'POST',
        url: '/x',
        headers: { 'content-type': TYPE },
        body: enc.encode(filePart('f', 'a.bin', 'abc') + end),
      },
      { onError: (e) => void errors.push(e) },
    )
    assert.equal(res.status, 500)
    assert.equal((errors[0] as Error).message, 'storage down')
  })

  it('answers 415 when the body is not multipart/form-data', async () => {
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/mixed; boundary=x',
      'multipart/form-data; boundary',
    ]) {
      const res = await send(app, '/upload', end, type)
      assert.equal(res.status, 415, type)
      assert.match(res.body, /multipart\/form-data/)
    }
    const none = await inject(app, { method: 'POST', url: '/upload', body: end })
    assert.equal(none.status, 415)
  })

  it('answers 400 when the Content-Type has no boundary, or one RFC 2046 does not allow', async () => {
    for (const type of [
      'multipart/form-data',
      'multipart/form-data; charset=utf-8',
      'multipart/form-data; boundary=""',
    ]) {
      const res = await send(app, '/upload', end, type)
      assert.equal(res.status, 400, type)
      assert.match(res.json<{ detail: string }>().detail, /no boundary/)
    }
    const long = await send(app, '/upload', end, `multipart/form-data; boundary=${'b'.repeat(71)}`)
    assert.equal(long.status, 400)
  })

  it('answers 400 for a malformed body, and leaves no temporary file', async () => {
    const cases = {
      'ends early': filePart('f', 'a.bin', 'x'.repeat(5000)).slice(0, -2),
      'no boundary at all': 'just some text',
      empty: '',
      'a part without a name': `--${B}\r\nContent-Disposition: form-data; filename="a.txt"\r\n\r\nabc\r\n${end}`,
    }
    for (const [what, body] of Object.entries(cases)) {
      const res = await send(app, '/upload', body)
      assert.equal(res.status, 400, what)
      assert.equal(res.headers['content-type'], 'application/problem+json')
    }
    await eventually(() => leftovers().length === 0, 'no temporary file is left')
  })

  const over = async (url: string, form: FormData, detail: RegExp): Promise<void> => {
    const res = await fetch(`${server.url}${url}`, { method: 'POST', body: form })
    assert.equal(res.status, 413, url)
    assert.match(((await res.json()) as { detail: string }).detail, detail)
    await eventually(() => leftovers().length === 0, `no temporary file is left after ${url}`)
  }

  it('answers 413 for a file over fileSize, and removes what was written of it', async () => {
    const form = new FormData()
    form.append('small', new Blob(['ok']), 'small.txt')
    form.append('big', new Blob([noise(5000)]), 'big.bin')
    await over('/limits/file', form, /larger than 1000 bytes/)
  })

  it('answers 413 for more files, fields or parts than allowed, or a field value too long', async () => {
    const files = new FormData()
    for (const n of [1, 2, 3]) files.append('f', new Blob([`file ${n}`]), `${n}.txt`)
    await over('/limits/files', files, /more than 2 files/)

    const fields = new FormData()
    for (const n of [1, 2, 3]) fields.append(`k${n}`, 'v')
    await over('/limits/fields', fields, /more than 2 fields/)

    const parts = new FormData()
    parts.append('a', 'v')
    parts.append('f', new Blob(['x']), 'x.txt')
    parts.append('b', 'v')
    parts.append('g', new Blob(['y']), 'y.txt')
    await over('/limits/parts', parts, /more than 3 parts/)

    const long = new FormData()
    long.append('bio', 'x'.repeat(17))
    await over('/limits/field-size', long, /larger than 16 bytes/)
  })

  it('answers 413 for a declared body over the limit, at once, without writing anything', async () => {
    const form = new FormData()
    form.append('f', new Blob([noise(5000)]), 'f.bin')
    const { body, type } = await encode(form)
    for (const url of ['/limits/body', '/limits/subtree']) {
      const res = await inject(app, { method: 'POST', url, headers: { 'content-type': type }, body })
      assert.equal(res.status, 413, url)
      assert.match(res.json<{ detail: string }>().detail, /larger than 4096 bytes/)
      assert.deepEqual(leftovers(), [])
    }
  })

  it('answers 413 for a chunked body that goes past the limit', { timeout: 10_000 }, async () => {
    const { port } = new URL(server.url)
    const chunks = [
      filePart('f', 'f.bin', '').slice(0, -2),
      ...Array.from({ length: 6 }, () => 'x'.repeat(1000)),
      `\r\n${end}`,
    ]
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: Number(port),
          method: 'POST',
          path: '/limits/subtree',
          headers: { 'content-type': TYPE },
        },
        (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        },
      )
      req.on('error', reject)
      assert.equal(req.getHeader('content-length'), undefined)
      // written one by one, without a length: node sends them chunked
      const write = (i: number): void => {
        if (i === chunks.length) {
          req.end()
          return
        }
        req.write(chunks[i], () => setTimeout(() => write(i + 1), 5))
      }
      write(0)
    })
    assert.equal(status, 413)
    await eventually(() => leftovers().length === 0, 'no temporary file is left')
  })

  it(
    'removes what an aborted upload wrote, says nothing on the console, and keeps serving',
    { timeout: 10_000 },
    async () => {
      const quiet = console.error
      const logged: unknown[][] = []
      console.error = (...args: unknown[]) => void logged.push(args)
      const socket = connect(Number(new URL(server.url).port), '127.0.0.1')
      try {
        socket.on('error', () => undefined)
        await new Promise<void>((resolve) => socket.once('connect', resolve))
        const head = [
          'POST /upload HTTP/1.1',
          'Host: localhost',
          `Content-Type: ${TYPE}`,
          'Content-Length: 900000',
          '',
          '',
        ].join('\r\n')
        socket.write(head + filePart('f', 'f.bin', '').slice(0, -2))
        socket.write(noise(100 * 1024))
        // the file is being written: then the client goes away
        await eventually(
          () => leftovers().some((d) => readdirSync(join(scratch, d)).length > 0),
          'the upload reaches a temporary file',
        )
        socket.destroy()
        await eventually(() => leftovers().length === 0, 'the temporary files of the aborted upload are removed')
        const res = await fetch(`${server.url}/health`)
        assert.equal(await res.text(), 'fine')
        assert.deepEqual(logged, [])
      } finally {
        socket.destroy()
        console.error = quiet
      }
    },
  )

  it('refuses limits that are not whole numbers when the Part is made', () => {
    assert.throws(() => multipartBody({ limit: 0 }), RangeError)
    assert.throws(() => multipartBody({ fileSize: 1.5 }), RangeError)
    assert.throws(() => multipartBody({ files: -1 }), RangeError)
    assert.throws(() => multipartBody({ parts: Number.NaN }), RangeError)
    assert.doesNotThrow(() => multipartBody({ files: 0 }))
  })
})
