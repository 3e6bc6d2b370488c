// multipartBody types `c.body` for the Parts after it: what `npm run typecheck` must accept, and
// (`@ts-expect-error`) what it must refuse. The runtime test checks that the typed apps answer as
// their types say.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { choose, handle, json, path, pipe, post, type Conn, type FormFields, type Part } from 'sapwood'
import { multipartBody, type IncomingFile, type Multipart, type UploadedFile } from 'sapwood/node'
import { inject } from 'sapwood/testing'

/** True when X and Y are the same type (not merely assignable either way). */
type Equal<X, Y> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? true : false
const expect = <T extends true>(): T => true as T

// ---------------------------------------------------------------------------------------------
// Temporary files: c.body is a Multipart of UploadedFiles, and the params before it are kept

const saved = pipe(
  post,
  path('/albums/:album'),
  multipartBody(),
  handle((c) => {
    expect<Equal<typeof c.body, Multipart>>()
    expect<Equal<typeof c.body.fields, FormFields>>()
    expect<Equal<typeof c.body.fields, Record<string, string | string[]>>>()
    expect<Equal<(typeof c.body.fields)[string], string | string[]>>()
    expect<Equal<typeof c.body.files, readonly UploadedFile[]>>()
    expect<Equal<typeof c.params.album, string>>()
    const first = c.body.files[0]
    // noUncheckedIndexedAccess: the first file may be missing
    expect<Equal<typeof first, UploadedFile | undefined>>()
    if (first !== undefined) expect<Equal<typeof first.path, string>>()
    expect<Equal<NonNullable<(typeof c.body.files)[0]>['path'], string>>()
    expect<Equal<UploadedFile['size'], number>>()
    // @ts-expect-error -- an UploadedFile has no `stream`
    void first?.stream
    const grow = () =>
      // @ts-expect-error -- the files are read-only
      // eslint-disable-next-line @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return -- the call the type refuses
      c.body.files.push(first!)
    void grow
    const title = c.body.fields['title']
    return json({
      album: c.params.album,
      title: typeof title === 'string' ? title : null,
      paths: c.body.files.map((f) => typeof f.path),
    })
  }),
)
expect<Equal<ReturnType<typeof multipartBody>, Part<Conn, Conn<Conn['params'], Conn['assigns'], Multipart>>>>()

// ---------------------------------------------------------------------------------------------
// Streamed files: c.body.files holds what onFile returned

const streamed = pipe(
  post,
  path('/stream'),
  multipartBody({
    onFile: async (file) => {
      expect<Equal<typeof file, IncomingFile>>()
      let size = 0
      for await (const chunk of file.stream) {
        expect<Equal<typeof chunk, Uint8Array>>()
        size += chunk.byteLength
      }
      return { key: `uploads/${file.filename}`, size }
    },
  }),
  handle((c) => {
    expect<Equal<typeof c.body, Multipart<{ key: string; size: number }>>>()
    // @ts-expect-error -- a streamed file was written nowhere: no `path`
    void c.body.files[0]?.path
    return json(c.body.files.map((f) => f.key))
  }),
)

// onFile may return without a promise
pipe(
  multipartBody({ onFile: (file) => file.field.length }),
  handle((c) => {
    expect<Equal<typeof c.body.files, readonly number[]>>()
    return json(c.body.files)
  }),
)

// a handler written apart says it needs a multipart body; pipe refuses it elsewhere
const needsForm = (c: Conn<Conn['params'], Conn['assigns'], Multipart>) => json(c.body.files.length)
pipe(post, multipartBody(), handle(needsForm))

// what the types refuse (never called: the first one throws when the Part is made)
const refused = (): void => {
  // @ts-expect-error -- onFile must be a function
  multipartBody({ onFile: 'yes' })
  // @ts-expect-error -- a streamed upload has no temporary directory
  multipartBody({ onFile: () => 1, tmpdir: '/tmp' })
}
void refused

const app = choose([saved, streamed])

describe('multipartBody types', () => {
  it('answers as the types say', async () => {
    const form = new FormData()
    form.append('title', 'Summer')
    form.append('photo', new Blob(['png bytes']), 'a.png')
    const req = new Request('http://localhost/', { method: 'POST', body: form })
    const body = new Uint8Array(await req.arrayBuffer())
    const headers = { 'content-type': req.headers.get('content-type')! }
    const one = await inject(app, { method: 'POST', url: '/albums/7', headers, body })
    assert.deepEqual(one.json(), { album: '7', title: 'Summer', paths: ['string'] })
    const two = await inject(app, { method: 'POST', url: '/stream', headers, body })
    assert.deepEqual(two.json(), ['uploads/a.png'])
  })
})
