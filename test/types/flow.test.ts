// Types flow through the tree: what `npm run typecheck` must accept, and (`@ts-expect-error`)
// what it must refuse. The runtime tests check that the typed apps answer as their types say,
// and that hover types read as `Conn<{ readonly id: string; }, {}, unknown>` (the third, the body type, `unknown` until a decoder says more).
import assert from 'node:assert/strict'
import { dirname, join, resolve } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import {
  assign,
  choose,
  get,
  handle,
  json,
  notFound,
  ok,
  path,
  pipe,
  prefix,
  recover,
  respJson,
  type Conn,
  type Params,
  type Part,
} from 'sapwood'
import { inject } from 'sapwood/testing'

/** True when X and Y are the same type (not merely assignable either way). */
type Equal<X, Y> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? true : false
const expect = <T extends true>(): T => true as T

interface User {
  readonly name: string
}
const ada: User = { name: 'ada' }

// ---------------------------------------------------------------------------------------------
// Params and assigns established before a `choose` reach its options

const users = pipe(
  prefix('/users/:uid'),
  assign('user', ada),
  choose([
    pipe(
      get,
      path('/name'),
      handle((c) => {
        expect<Equal<typeof c.params.uid, string>>()
        expect<Equal<typeof c.assigns.user, User>>()
        return ok(`${c.params.uid} ${c.assigns.user.name}`)
      }),
    ),
    pipe(
      get,
      path('/posts/:pid'),
      handle((c) => {
        expect<Equal<typeof c, Conn<{ readonly uid: string; readonly pid: string }, { readonly user: User }>>>()
        return json({ uid: c.params.uid, pid: c.params.pid })
      }),
    ),
  ]),
)

// three levels deep, through nested prefixes and assigns
const nested = choose([
  pipe(
    prefix('/a/:x'),
    choose([
      pipe(
        prefix('/b/:y'),
        assign('k', 1),
        choose([
          pipe(
            get,
            path('/c/:z'),
            handle((c) => {
              expect<
                Equal<
                  typeof c,
                  Conn<{ readonly x: string; readonly y: string; readonly z: string }, { readonly k: number }>
                >
              >()
              return ok(`${c.params.x}${c.params.y}${c.params.z}${c.assigns.k}`)
            }),
          ),
        ]),
      ),
    ]),
  ),
])

// recover passes them on, to its inner Part and to its own function
const recovered = pipe(
  prefix('/r/:uid'),
  recover(
    choose([
      pipe(
        get,
        path('/ok'),
        handle((c) => ok(c.params.uid)),
      ),
    ]),
    (_rejection, c) => pipe(respJson, notFound(JSON.stringify({ missing: c.params.uid }))),
  ),
)

// ---------------------------------------------------------------------------------------------
// A name no pattern (or assign) gave is a type error

pipe(
  get,
  path('/todos/:id'),
  handle((c) => {
    // @ts-expect-error -- 'idd' is not a param of '/todos/:id'
    void c.params.idd
    return ok(c.params.id)
  }),
)
pipe(
  get,
  path('/todos'),
  handle((c) => {
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the record of no names
    expect<Equal<typeof c, Conn<{}, {}>>>()
    // @ts-expect-error -- nothing was assigned
    return ok(String(c.assigns.user))
  }),
)
pipe(
  assign('user', { name: 'ada' }),
  // @ts-expect-error -- 'age' is not part of the assigned value's type
  handle((c) => ok(String(c.assigns.user.age))),
)

// a pattern known only at run time gives any name, maybe missing
const pattern: string = '/any/:thing'
const dynamic = pipe(
  get,
  path(pattern),
  handle((c) => {
    expect<Equal<typeof c.params.thing, string | undefined>>()
    return ok(c.params['thing'] ?? 'none')
  }),
)

// ---------------------------------------------------------------------------------------------
// pipe keeps its types up to 16 Parts

const sixteen = pipe(
  get,
  respJson,
  respJson,
  respJson,
  respJson,
  respJson,
  respJson,
  respJson,
  respJson,
  prefix('/long/:a'),
  respJson,
  respJson,
  assign('n', 1),
  respJson,
  path('/:b'),
  handle((c) => {
    expect<Equal<typeof c, Conn<{ readonly a: string; readonly b: string }, { readonly n: number }>>>()
    return ok(`${c.params.a} ${c.params.b} ${c.assigns.n}`)
  }),
)
expect<Equal<typeof sixteen, Part<Conn, Conn<{ readonly a: string; readonly b: string }, { readonly n: number }>>>>()

// ---------------------------------------------------------------------------------------------
// A handler written apart says what it needs; pipe accepts it where it is given, refuses it elsewhere

const showTodo = (c: Conn<{ id: string }>) => ok(`todo ${c.params.id}`)
const greet = (c: Conn<Params, { user: User }>) => ok(`hello ${c.assigns.user.name}`)

const todos = choose([
  pipe(get, path('/todos/:id'), handle(showTodo)),
  pipe(prefix('/lists/:list'), choose([pipe(get, path('/todos/:id'), handle(showTodo))])),
  pipe(assign('user', { name: 'ada' }), get, path('/hello'), handle(greet)),
])
pipe(
  get,
  path('/todos'),
  // @ts-expect-error -- no pattern gives an `id`
  handle(showTodo),
)
pipe(
  get,
  path('/hello'),
  // @ts-expect-error -- nothing assigned a `user`
  handle(greet),
)

// the same with a Part written apart, and a whole subtree written apart
const showTodoPart = handle(showTodo)
pipe(get, path('/todos/:id'), showTodoPart)
pipe(
  get,
  path('/todos/:todo'),
  // @ts-expect-error -- the param is called `todo` here, not `id`
  showTodoPart,
)
const profile = choose<Conn<{ uid: string }>>([
  pipe(
    get,
    path('/profile'),
    handle((c) => ok(c.params.uid)),
  ),
])
pipe(prefix('/people/:uid'), profile)
pipe(
  prefix('/teams/:tid'),
  // @ts-expect-error -- `profile` needs a `uid`
  profile,
)
// a pipe that begins with a Part that needs a param needs it too
const needsId: Part<Conn<{ id: string }>, Conn> = pipe(showTodoPart, respJson)
void needsId

describe('types flow through the tree', () => {
  it('gives the options of a choose the params and assigns established before it', async () => {
    assert.equal((await inject(users, { url: '/users/7/name' })).body, '7 ada')
    assert.deepEqual((await inject(users, { url: '/users/7/posts/3' })).json(), { uid: '7', pid: '3' })
    assert.equal((await inject(nested, { url: '/a/1/b/2/c/3' })).body, '1231')
    assert.equal((await inject(recovered, { url: '/r/9/ok' })).body, '9')
    assert.deepEqual((await inject(recovered, { url: '/r/9/nope' })).json(), { missing: '9' })
    assert.equal((await inject(dynamic, { url: '/any/x' })).body, 'x')
  })

  it('keeps the params and assigns of a 16-Part pipe', async () => {
    assert.equal((await inject(sixteen, { url: '/long/x/y' })).body, 'x y 1')
  })

  it('runs handlers written apart where their params are given', async () => {
    assert.equal((await inject(todos, { url: '/todos/4' })).body, 'todo 4')
    assert.equal((await inject(todos, { url: '/lists/l/todos/5' })).body, 'todo 5')
    assert.equal((await inject(todos, { url: '/hello' })).body, 'hello ada')
  })

  it('shows a handler its Conn as Conn<{ ...params }, { ...assigns }>', () => {
    const here = dirname(fileURLToPath(import.meta.url))
    const root = resolve(here, '../..')
    const file = join(here, 'hover.ts')
    const source = [
      `import { pipe, prefix, assign, choose, get, path, handle, ok } from 'sapwood'`,
      `export const app = pipe(prefix('/users/:uid'), assign('n', 1), choose([pipe(get, path('/posts/:pid'), handle((c) => ok(c.params.pid)))]))`,
      `export const plain = pipe(get, path('/todos/:id'), handle((c) => ok(c.params.id)))`,
    ].join('\n')
    const config = ts.getParsedCommandLineOfConfigFile(
      join(root, 'tsconfig.json'),
      {},
      {
        ...ts.sys,
        onUnRecoverableConfigFileDiagnostic: () => assert.fail('tsconfig.json'),
      },
    )!
    const host = ts.createCompilerHost(config.options)
    const read = host.getSourceFile.bind(host)
    host.getSourceFile = (name, version) =>
      name === file ? ts.createSourceFile(name, source, version) : read(name, version)
    const program = ts.createProgram([file], config.options, host)
    const checker = program.getTypeChecker()
    const shown: string[] = []
    const visit = (node: ts.Node): void => {
      if (ts.isParameter(node) && node.name.getText() === 'c') {
        shown.push(checker.typeToString(checker.getTypeAtLocation(node)))
      }
      ts.forEachChild(node, visit)
    }
    visit(program.getSourceFile(file)!)
    assert.deepEqual(shown, [
      'Conn<{ readonly uid: string; readonly pid: string; }, { readonly n: number; }, unknown>',
      'Conn<{ readonly id: string; }, {}, unknown>',
    ])
    assert.deepEqual(
      ts.getPreEmitDiagnostics(program, program.getSourceFile(file)).map((d) => d.messageText),
      [],
    )
  })
})
