// Every ```ts block of README.md and docs/*.md type-checks and runs (see blocks.ts for the info
// strings), and a ```text output block after one is exactly what it prints.
import assert from 'node:assert/strict'
import { dirname, resolve } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { Examples, projectDocs } from './blocks.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const docs = projectDocs(root)
const blocks = docs.flatMap((d) => d.blocks)
let examples: Examples | undefined

before(() => {
  examples = new Examples(root, blocks)
})

after(() => examples?.dispose())

describe('markdown code blocks', () => {
  it('reads every code block of README.md and docs/*.md', () => {
    assert.deepEqual(
      docs.flatMap((d) => d.errors),
      [],
    )
    assert.ok(docs.some((d) => d.doc === 'README.md'))
  })

  it('type-checks every ```ts block, in one program', () => {
    assert.ok(examples !== undefined)
    assert.deepEqual(examples.typeCheck(), [])
  })

  for (const doc of docs) {
    describe(doc.doc, () => {
      for (const block of doc.blocks.filter((b) => b.lang === 'ts')) {
        const title = `runs the block at line ${block.line}${block.heading === undefined ? '' : ` (${block.heading.text})`}`
        it(title, { timeout: 10_000 }, async () => {
          assert.ok(examples !== undefined)
          const printed = await examples.run(block)
          if (block.output !== undefined) assert.equal(printed, block.output)
        })
      }
    })
  }
})
