// The published package: what `npm pack` ships, and that the built entry points work when
// imported by name, as another project would import them.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))

describe('package', () => {
  it('packs the built entry points with their types, and no sources or tests', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: root,
      encoding: 'utf8',
    })
    const files = (JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path)
    for (const f of [
      'dist/index.js',
      'dist/index.d.ts',
      'dist/testing.js',
      'dist/testing.d.ts',
      'dist/fetch.js',
      'dist/fetch.d.ts',
      'dist/express.js',
      'dist/express.d.ts',
      'dist/fastify.js',
      'dist/fastify.d.ts',
      'README.md',
      'LICENSE',
      'CHANGELOG.md',
    ]) {
      assert.ok(files.includes(f), `${f} is missing from the package`)
    }
    assert.deepEqual(
      files.filter((f) => f.startsWith('src/') || f.startsWith('test/') || f.startsWith('bench/')),
      [],
    )
  })

  it('serves `sapwood` and `sapwood/testing` from dist by name', () => {
    const script = `
      import * as sap from 'sapwood'
      import { inject, conn } from 'sapwood/testing'
      const app = sap.choose([sap.pipe(sap.get, sap.path('/users/:id'), sap.handle((c) => sap.json({ id: c.params.id })))])
      const res = await inject(app, { url: '/users/7' })
      const direct = app(conn('GET', '/users/8'))
      console.log(JSON.stringify([res.status, res.body, direct._tag, typeof sap.delete, import.meta.resolve('sapwood')]))
    `
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' })
    const [status, body, tag, del, resolved] = JSON.parse(out) as [number, string, string, string, string]
    assert.equal(status, 200)
    assert.equal(body, '{"id":"7"}')
    assert.equal(tag, 'Right')
    assert.equal(del, 'function')
    assert.match(resolved, /\/dist\/index\.js$/)
  })

  it('serves sapwood/fetch, sapwood/express and sapwood/fastify from dist by name, without loading express or fastify', () => {
    const script = `
      import * as sap from 'sapwood'
      import { toFetchHandler } from 'sapwood/fetch'
      import { toExpress } from 'sapwood/express'
      import { toFastify } from 'sapwood/fastify'
      import { createRequire } from 'node:module'
      const app = sap.pipe(sap.get, sap.path('/hi'), sap.ok('hi'))
      const res = await toFetchHandler(app)(new Request('http://localhost/hi'))
      const loaded = Object.keys(createRequire(import.meta.url).cache).filter((f) => /node_modules\\/(express|fastify)\\//.test(f))
      console.log(JSON.stringify([res.status, await res.text(), typeof toExpress(app), typeof toFastify(app), loaded.length, import.meta.resolve('sapwood/fetch')]))
    `
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' })
    const [status, body, middleware, plugin, loaded, resolved] = JSON.parse(out) as [
      number,
      string,
      string,
      string,
      number,
      string,
    ]
    assert.equal(status, 200)
    assert.equal(body, 'hi')
    assert.equal(middleware, 'function')
    assert.equal(plugin, 'function')
    assert.equal(loaded, 0, 'express or fastify was loaded by sapwood')
    assert.match(resolved, /\/dist\/fetch\.js$/)
  })
})
