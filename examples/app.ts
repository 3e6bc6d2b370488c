// The example app that `npm start` serves on http://127.0.0.1:4000 (PORT and HOST override).
// Try: curl -i localhost:4000/  ·  /api/users/1  ·  -X DELETE /  ·  -I /api/users  ·  -X OPTIONS /api/users
import * as sap from 'sapwood'

const { choose, pipe, get, post, path, prefix, respJson, ok, created, handle, json, contentType, notFound } = sap

interface User {
  readonly id: string
  readonly name: string
}

const users = new Map<string, User>([
  ['1', { id: '1', name: 'Ada Lovelace' }],
  ['2', { id: '2', name: 'Grace Hopper' }],
])

const readJson = async (c: sap.Conn): Promise<unknown> =>
  JSON.parse(new TextDecoder().decode(await c.source.read(64 * 1024)))

/** The whole app: one decision tree. */
export const app = choose([
  pipe(get, path('/'), ok('sapwood example: try /api/users, /api/users/1, /health\n')),
  pipe(get, path('/health'), respJson, ok('{"status":"up"}')),
  pipe(
    prefix('/api'),
    choose([
      pipe(
        get,
        path('/users'),
        handle(() => json([...users.values()])),
      ),
      pipe(
        get,
        path('/users/:id'),
        handle((c) => {
          const user = users.get(c.params.id)
          return user === undefined ? pipe(respJson, notFound(JSON.stringify({ error: 'no such user' }))) : json(user)
        }),
      ),
      pipe(
        post,
        path('/users'),
        contentType('application/json'),
        handle(async (c) => {
          let input: unknown
          try {
            input = await readJson(c)
          } catch (error) {
            // a body over the limit is thrown on: handle answers it with 413
            if (!(error instanceof SyntaxError)) throw error
            return sap.left(sap.rejection.badRequest('The body is not valid JSON'))
          }
          const name = (input as { name?: unknown } | null)?.name
          if (typeof name !== 'string' || name === '')
            return sap.left(sap.rejection.badRequest('"name" must be a string'))
          const user = { id: String(users.size + 1), name }
          users.set(user.id, user)
          return pipe(respJson, sap.setHeader('location', `/api/users/${user.id}`), created(JSON.stringify(user)))
        }),
      ),
    ]),
  ),
])

if (import.meta.url === `file://${process.argv[1]}`) {
  const server = await sap.serve(app)
  console.log(`sapwood example listening on ${server.url}`)
  const stop = (): void => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}
