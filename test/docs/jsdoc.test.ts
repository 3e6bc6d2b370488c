// Every `@example` in the JSDoc of src/ compiles (STYLE: every export has a short example that
// compiles). The examples are type-checked, not run: some of them listen on a port.
import assert from 'node:assert/strict'
import { mkdirSync, readFileSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { after, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const tmp = join(root, 'test/docs/.tmp', `jsdoc-${process.pid}`)

const sources = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  )

interface Example {
  readonly where: string
  readonly code: string
}

/** The `@example` blocks of the doc comments in a file, with the line they start on. */
const examplesOf = (file: string): Example[] => {
  const text = readFileSync(file, 'utf8')
  const out: Example[] = []
  for (const block of text.matchAll(/\/\*\*([\s\S]*?)\*\//g)) {
    const lines = block[1]!.split('\n').map((l) => l.replace(/^\s*\* ?/, ''))
    const start = lines.indexOf('@example')
    if (start === -1) continue
    const body: string[] = []
    for (const l of lines.slice(start + 1)) {
      if (l.startsWith('@')) break
      body.push(l)
    }
    const line = text.slice(0, block.index).split('\n').length
    out.push({ where: `${relative(root, file)}:${line}`, code: body.join('\n').trim() })
  }
  return out
}

describe('JSDoc examples', () => {
  const examples = sources(join(root, 'src')).flatMap(examplesOf)
  after(() => {
    rmSync(tmp, { recursive: true, force: true })
    try {
      rmdirSync(dirname(tmp))
    } catch {
      // another test still uses it, or removed it first
    }
  })

  it('finds an example on the exported combinators', () => {
    assert.ok(examples.length > 100, `only ${examples.length} examples found`)
  })

  it('type-checks every one of them', () => {
    mkdirSync(tmp, { recursive: true })
    const files = examples.map((e, n) => {
      const file = join(tmp, `${String(n).padStart(3, '0')}.ts`)
      writeFileSync(file, `// ${e.where}\n${e.code}\nexport {}\n`)
      return file
    })
    const config = ts.getParsedCommandLineOfConfigFile(
      join(root, 'tsconfig.json'),
      {},
      {
        ...ts.sys,
        onUnRecoverableConfigFileDiagnostic: (d) => assert.fail(ts.flattenDiagnosticMessageText(d.messageText, '\n')),
      },
    )
    assert.ok(config !== undefined)
    const program = ts.createProgram(files, { ...config.options, noEmit: true, noUnusedLocals: false })
    const ours = new Set(files)
    const problems = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file !== undefined && ours.has(resolve(d.file.fileName)))
      .map((d) => {
        const first = d.file!.text.slice(3, d.file!.text.indexOf('\n'))
        return `${first}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`
      })
    assert.deepEqual(problems, [])
  })
})
