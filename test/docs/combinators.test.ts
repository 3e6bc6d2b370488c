// Every example in docs/combinators.md is type-checked and run, and every combinator has a heading.
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath, pathToFileURL } from 'node:url'
import ts from 'typescript'
import * as sap from 'sapwood'
import * as testing from 'sapwood/testing'

const here = dirname(fileURLToPath(import.meta.url))
const root = resolve(here, '../..')
const doc = join(root, 'docs/combinators.md')

/**
 * Runtime exports of `sapwood` that are not combinators (they neither are a Part nor make one),
 * and so have no heading in docs/combinators.md. Types are not runtime values and need no entry.
 */
const NOT_COMBINATORS: Readonly<Record<string, string>> = {
  rejection: 'namespace of rejection constructors (documented in the guide)',
  part: 'low-level constructor that attaches a shape to a function',
  left: 'Either constructor',
  right: 'Either constructor',
  update: 'Conn helper (documented in the guide)',
  makeConn: 'Conn constructor for adapters',
  isConn: 'guard',
  isThenable: 'guard',
  toWire: 'adapter internals: lays out a final Conn',
  nodeListener: 'adapter internals: serves a Handler on node:http',
  bytesSource: 'body source for adapters',
  PayloadTooLargeError: 'error class',
}

interface Example {
  readonly heading: string
  /** The line of the block's first line of code. */
  readonly line: number
  readonly code: string
}

interface Heading {
  readonly text: string
  readonly line: number
  readonly blocks: number
}

const markdown = readFileSync(doc, 'utf8')

/** The `##` headings and the ```ts blocks under them, in order. */
const parse = (md: string): { headings: Heading[]; examples: Example[]; orphans: number[] } => {
  const headings: { text: string; line: number; blocks: number }[] = []
  const examples: Example[] = []
  const orphans: number[] = []
  const lines = md.split('\n')
  let current: { text: string; line: number; blocks: number } | undefined
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    if (/^#\s/.test(line)) current = undefined
    else if (/^##\s/.test(line)) {
      current = { text: line.replace(/^##\s+/, '').trim(), line: i + 1, blocks: 0 }
      headings.push(current)
    } else if (/^```ts\s*$/.test(line)) {
      const start = i + 1
      const body: string[] = []
      for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!)
      assert.ok(i < lines.length, `docs/combinators.md:${start}: unclosed code block`)
      if (current === undefined) orphans.push(start)
      else {
        current.blocks++
        examples.push({ heading: current.text, line: start + 1, code: body.join('\n') + '\n' })
      }
    }
  }
  return { headings, examples, orphans }
}

/** The export names a heading documents: every `identifier` in backquotes. */
const namesOf = (heading: string): string[] =>
  [...heading.matchAll(/`([A-Za-z_$][\w$]*)`/g)].map((m) => m[1]!).filter((n) => n !== undefined)

const { headings, examples, orphans } = parse(markdown)

// The examples go into a directory inside the repository so that tsx applies the tsconfig
// `paths` that map 'sapwood' and 'sapwood/testing' to src.
const tmpRoot = join(here, '.tmp')
let dir = ''
const files: string[] = []

before(() => {
  mkdirSync(tmpRoot, { recursive: true })
  dir = mkdtempSync(join(tmpRoot, 'run-'))
  examples.forEach((example, n) => {
    const file = join(dir, `${String(n + 1).padStart(3, '0')}.ts`)
    const origin = `// docs/combinators.md:${example.line} (${example.heading})\n`
    writeFileSync(file, origin + example.code)
    files.push(file)
  })
})

after(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true })
  try {
    if (readdirSync(tmpRoot).length === 0) rmSync(tmpRoot, { recursive: true, force: true })
  } catch {
    // another run removed it first
  }
})

describe('docs/combinators.md', () => {
  it('has a ```ts example under every ## heading, and only there', () => {
    assert.ok(examples.length > 0, 'no examples found')
    assert.deepEqual(orphans, [], `code blocks outside a ## heading at lines ${orphans.join(', ')}`)
    for (const h of headings) {
      assert.equal(h.blocks, 1, `docs/combinators.md:${h.line} "## ${h.text}" has ${h.blocks} ts blocks, expected 1`)
    }
  })

  it('has a ## heading for every combinator that sapwood and sapwood/testing export', () => {
    const documented = new Set(headings.flatMap((h) => namesOf(h.text)))
    const exported = new Set([...Object.keys(sap), ...Object.keys(testing)])
    const missing = [...exported].filter((name) => !documented.has(name) && !(name in NOT_COMBINATORS)).sort()
    assert.deepEqual(missing, [], `exports without a heading in docs/combinators.md: ${missing.join(', ')}`)
    const unknown = [...documented].filter((name) => !exported.has(name)).sort()
    assert.deepEqual(unknown, [], `headings that name no export: ${unknown.join(', ')}`)
    const stale = Object.keys(NOT_COMBINATORS).filter((name) => !exported.has(name))
    assert.deepEqual(stale, [], `NOT_COMBINATORS lists names that are no longer exported: ${stale.join(', ')}`)
    const documentedExceptions = Object.keys(NOT_COMBINATORS).filter((name) => documented.has(name))
    assert.deepEqual(documentedExceptions, [], 'a documented name is also listed in NOT_COMBINATORS')
  })

  it('type-checks every example', () => {
    const config = ts.getParsedCommandLineOfConfigFile(
      join(root, 'tsconfig.json'),
      {},
      {
        ...ts.sys,
        onUnRecoverableConfigFileDiagnostic: (d) => assert.fail(ts.flattenDiagnosticMessageText(d.messageText, '\n')),
      },
    )
    assert.ok(config !== undefined, 'cannot read tsconfig.json')
    const program = ts.createProgram(files, { ...config.options, noEmit: true })
    const ours = new Set(files.map((f) => resolve(f)))
    const problems = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file !== undefined && ours.has(resolve(d.file.fileName)))
      .map((d) => {
        const file = d.file!
        const { line } = file.getLineAndCharacterOfPosition(d.start ?? 0)
        const origin = file.text.slice(0, file.text.indexOf('\n'))
        const at = /docs\/combinators\.md:(\d+)/.exec(origin)
        const mdLine = at === null ? '?' : String(Number(at[1]) + line - 1)
        return `docs/combinators.md:${mdLine} (${relative(root, file.fileName)}): ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`
      })
    assert.deepEqual(problems, [])
  })

  describe('examples', () => {
    examples.forEach((example, n) => {
      it(example.heading, async () => {
        const file = files[n]
        assert.ok(file !== undefined)
        await import(pathToFileURL(file).href)
      })
    })
  })
})
