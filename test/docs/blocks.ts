// The code blocks of the project's markdown: found, type-checked in one TypeScript program, and
// run in this process, so that what the README and docs/ show is what the code does.
//
// Info strings (the words after the opening ```):
//
// - ```ts: a self-contained module (its own imports, no state shared with other blocks). It is
//   type-checked against src ('sapwood' → src/index.ts, 'sapwood/testing' → src/testing.ts, by
//   the tsconfig paths) and run; top-level await is allowed. It runs with PORT=0 and
//   HOST=127.0.0.1, so `serve(app)` listens on a free local port, and every server it leaves open
//   is closed after it. What it prints on the console is kept, not shown.
// - ```text output, right after a ```ts block: what that block prints, line for line. The block's
//   own file appears in it as /tmp/scratch/app.ts (`npx tsx app.ts` run in /tmp/scratch).
// - any other language (```sh, ```bash, ```console, ```text): shown, never run.
//
// A block in another spelling of TypeScript (```typescript, ```tsx, ```js ...) or with a word the
// harness does not know is an error, so that no example is skipped by accident.
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs'
import { Server } from 'node:net'
import { join, relative, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { format } from 'node:util'
import ts from 'typescript'

/** Where the output of a ```ts block shows the block's own file. */
export const SCRATCH_FILE = '/tmp/scratch/app.ts'

/** A heading of a markdown file. */
export interface Heading {
  readonly level: number
  readonly text: string
  readonly line: number
}

/** A fenced code block. */
export interface Block {
  /** The markdown file, relative to the repository root. */
  readonly doc: string
  /** The line of the opening fence. */
  readonly line: number
  readonly lang: string
  /** The words of the info string after the language. */
  readonly words: readonly string[]
  readonly code: string
  /** The nearest heading above the block, if any. */
  readonly heading: Heading | undefined
  /** For a ```ts block followed by a ```text output block: that block's text. */
  readonly output?: string
}

/** A markdown file, its headings and its code blocks, and what the harness cannot read in it. */
export interface Doc {
  readonly doc: string
  readonly headings: readonly Heading[]
  readonly blocks: readonly Block[]
  readonly errors: readonly string[]
}

const TS_SPELLINGS = new Set(['typescript', 'tsx', 'mts', 'cts', 'js', 'javascript', 'jsx', 'mjs'])

/** Reads the headings and fenced code blocks of one markdown file. */
export const parseDoc = (root: string, file: string): Doc => {
  const doc = relative(root, file)
  const lines = readFileSync(file, 'utf8').split('\n')
  const headings: Heading[] = []
  const blocks: Block[] = []
  const errors: string[] = []
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    const heading = /^(#{1,6})\s+(.*)$/.exec(line)
    if (heading !== null) {
      headings.push({ level: heading[1]!.length, text: heading[2]!.trim(), line: i + 1 })
      continue
    }
    const fence = /^(`{3,})\s*(.*)$/.exec(line)
    if (fence === null) continue
    const open = i + 1
    const close = new RegExp(`^${fence[1]!}\\s*$`)
    const body: string[] = []
    for (i++; i < lines.length && !close.test(lines[i]!); i++) body.push(lines[i]!)
    if (i === lines.length) errors.push(`${doc}:${open}: unclosed code block`)
    const [lang = '', ...words] = fence[2]!.split(/\s+/).filter((w) => w !== '')
    const block: Block = { doc, line: open, lang, words, code: body.join('\n') + '\n', heading: headings.at(-1) }
    const where = `${doc}:${open}: \`\`\`${fence[2]!}`
    if (TS_SPELLINGS.has(lang)) errors.push(`${where}: write TypeScript examples as \`\`\`ts`)
    else if (lang === 'ts' && words.length > 0) errors.push(`${where}: unknown info string`)
    else if (lang === 'text' && words.length === 1 && words[0] === 'output') {
      const previous = blocks.at(-1)
      if (previous?.lang !== 'ts' || previous.output !== undefined) {
        errors.push(`${where}: an output block must follow a \`\`\`ts block`)
      } else blocks[blocks.length - 1] = { ...previous, output: block.code }
      continue
    } else if (lang === 'text' && words.length > 0) errors.push(`${where}: unknown info string`)
    blocks.push(block)
  }
  return { doc, headings, blocks, errors }
}

/** README.md and every docs/*.md. */
export const projectDocs = (root: string): Doc[] => [
  parseDoc(root, join(root, 'README.md')),
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => parseDoc(root, join(root, 'docs', name))),
]

/** The ```ts blocks, each written to its own file so that they can be type-checked and run. */
export class Examples {
  readonly #root: string
  readonly #dir: string
  readonly files = new Map<Block, string>()
  readonly #blocks = new Map<string, Block>()

  /**
   * Writes the blocks to a fresh directory under test/docs/.tmp: inside the repository, so that
   * the tsconfig there (and tsx, when they run) maps 'sapwood' and 'sapwood/testing' to src.
   */
  constructor(root: string, blocks: readonly Block[]) {
    this.#root = root
    const tmp = join(root, 'test/docs/.tmp')
    mkdirSync(tmp, { recursive: true })
    this.#dir = mkdtempSync(join(tmp, 'blocks-'))
    for (const block of blocks) {
      if (block.lang !== 'ts') continue
      const file = join(this.#dir, `${block.doc.replace(/[/.]/g, '-')}-${block.line}.ts`)
      // No header line: a line of the file is a line of the block, for diagnostics and output.
      writeFileSync(file, `${block.code}export {}\n`)
      this.files.set(block, file)
      this.#blocks.set(resolve(file), block)
    }
  }

  /** Removes the files, and test/docs/.tmp itself when nothing else is in it. */
  dispose(): void {
    rmSync(this.#dir, { recursive: true, force: true })
    try {
      rmdirSync(join(this.#root, 'test/docs/.tmp'))
    } catch {
      // another test still uses it, or removed it first
    }
  }

  /** Type-checks every block in one program; returns the problems as `doc.md:line: message`. */
  typeCheck(): string[] {
    const config = ts.getParsedCommandLineOfConfigFile(
      join(this.#root, 'tsconfig.json'),
      {},
      {
        ...ts.sys,
        onUnRecoverableConfigFileDiagnostic: (d) => assert.fail(ts.flattenDiagnosticMessageText(d.messageText, '\n')),
      },
    )
    assert.ok(config !== undefined, 'cannot read tsconfig.json')
    const program = ts.createProgram([...this.files.values()], { ...config.options, noEmit: true })
    return ts.getPreEmitDiagnostics(program).flatMap((d) => {
      const block = d.file === undefined ? undefined : this.#blocks.get(resolve(d.file.fileName))
      if (block === undefined) return []
      const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0)
      return [`${block.doc}:${block.line + line + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`]
    })
  }

  /**
   * Runs one block in this process and resolves to what it printed. Runs are sequential: the
   * environment, the console and the servers are this process's own.
   */
  async run(block: Block): Promise<string> {
    const file = this.files.get(block)
    assert.ok(file !== undefined, `${block.doc}:${block.line} is not a ts block`)
    const printed: string[] = []
    const restore = [
      setEnv({ PORT: '0', HOST: '127.0.0.1' }),
      captureConsole((line) => printed.push(line.replaceAll(file, SCRATCH_FILE))),
    ]
    const servers = trackServers()
    try {
      await import(pathToFileURL(file).href)
    } catch (error) {
      const shown = printed.length === 0 ? '' : `\n--- printed ---\n${printed.join('\n')}`
      throw new Error(`${block.doc}:${block.line} failed: ${String(error)}${shown}`, { cause: error })
    } finally {
      for (const undo of restore.reverse()) undo()
      await servers.closeAll()
    }
    return printed.length === 0 ? '' : printed.join('\n') + '\n'
  }
}

const setEnv = (vars: Readonly<Record<string, string>>): (() => void) => {
  const saved = Object.keys(vars).map((name) => [name, process.env[name]] as const)
  Object.assign(process.env, vars)
  return () => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
  }
}

const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug'] as const

const captureConsole = (sink: (line: string) => void): (() => void) => {
  const saved = CONSOLE_METHODS.map((name) => [name, Object.getOwnPropertyDescriptor(console, name)!] as const)
  for (const name of CONSOLE_METHODS) console[name] = (...args: unknown[]) => sink(format(...args))
  return () => {
    for (const [name, descriptor] of saved) Object.defineProperty(console, name, descriptor)
  }
}

/** Records every net server (node:http ones included) that starts listening until `closeAll`. */
const trackServers = (): { closeAll(): Promise<void> } => {
  const servers = new Set<Server>()
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called below with its server
  const listen = Server.prototype.listen
  Server.prototype.listen = function (this: Server, ...args: unknown[]) {
    servers.add(this)
    this.once('close', () => servers.delete(this))
    return (listen as (...a: unknown[]) => Server).apply(this, args)
  } as typeof listen
  return {
    async closeAll() {
      Server.prototype.listen = listen
      await Promise.all([...servers].map(closeServer))
    },
  }
}

/** Closes a server at once, its open connections too, once a listen still under way is done. */
const closeServer = async (server: Server): Promise<void> => {
  if (!server.listening) {
    const settled = await new Promise<boolean>((done) => {
      const timer = setTimeout(() => done(false), 1000)
      server.once('listening', () => (clearTimeout(timer), done(true)))
      server.once('error', () => (clearTimeout(timer), done(false)))
      server.once('close', () => (clearTimeout(timer), done(false)))
    })
    if (!settled) return
  }
  await new Promise<void>((done) => {
    server.close(() => done())
    const http = server as Server & { closeAllConnections?: () => void }
    http.closeAllConnections?.()
  })
}
