// The third app the fuzz test drives: what the examples do not decode. A JSON body with a schema,
// a form, a multipart upload, cookies (signed and plain), a streamed answer, a raw body stream, a
// WebSocket and a directory of files, each at the paths the raw request generators aim at.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import * as sap from 'sapwood'
import { multipartBody, serveDir } from 'sapwood/node'
import { Type } from '@sinclair/typebox'

const { choose, pipe, get, post, put, path, prefix, handle, ok, json } = sap

const Note = Type.Object({ text: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false })
const Login = Type.Object({ user: Type.String(), remember: Type.Optional(Type.Boolean()) })

/** Writes the files `serveDir` serves under `/files` into `dir`. */
export const writeFiles = (dir: string): void => {
  mkdirSync(join(dir, 'sub'), { recursive: true })
  writeFileSync(join(dir, 'a.txt'), 'the file a\n')
  writeFileSync(join(dir, 'sub', 'b.txt'), 'b'.repeat(4096))
  writeFileSync(join(dir, 'index.html'), '<p>index</p>\n')
  writeFileSync(join(dir, '.hidden'), 'hidden\n')
}

/** The app over the files in `dir` (see `writeFiles`). */
export const bodiesApp = (dir: string): sap.Part<sap.Conn, sap.Conn> =>
  choose([
    pipe(get, path('/'), ok('bodies')),
    pipe(
      post,
      path('/json'),
      sap.jsonBody(Note, { limit: 64 * 1024 }),
      handle((c) => json({ text: c.body.text })),
    ),
    pipe(
      post,
      path('/form'),
      sap.formBody(Login, { maxFields: 20 }),
      handle((c) => json({ user: c.body.user, remember: c.body.remember ?? false })),
    ),
    pipe(
      post,
      path('/upload'),
      multipartBody({ files: 2, fileSize: 10_000, limit: 64 * 1024 }),
      handle((c) => json({ fields: Object.keys(c.body.fields).length, files: c.body.files.map((f) => f.filename) })),
    ),
    pipe(
      put,
      path('/raw'),
      sap.bodyStream({ limit: 64 * 1024 }),
      handle(async (c) => {
        let size = 0
        for await (const chunk of c.body) size += chunk.byteLength
        return json({ size })
      }),
    ),
    pipe(
      get,
      path('/cookies'),
      sap.signedCookie('session', ['fuzz key'], { as: 'sid' }),
      handle((c) =>
        pipe(
          sap.setCookie('seen', String(Object.keys(c.cookies).length), { path: '/', httpOnly: true }),
          json({ names: Object.keys(c.cookies), sid: c.assigns.sid ?? null }),
        ),
      ),
    ),
    pipe(
      get,
      path('/stream'),
      sap.stream(async function* (c) {
        for (let i = 0; i < 3 && !c.signal.aborted; i++) yield `tick ${i}\n`
      }),
    ),
    pipe(path('/ws'), sap.websocket({ open: (ws) => ws.send('hello'), message: (ws, data) => ws.send(data) })),
    pipe(get, prefix('/files'), serveDir(dir)),
  ])
