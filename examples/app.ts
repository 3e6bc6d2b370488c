// The example app that `npm start` serves on http://127.0.0.1:4000 (PORT and HOST override).
// Try: curl -i localhost:4000/  ·  /api/users/1  ·  -X DELETE /  ·  -I /api/users  ·  -X OPTIONS /api/users
import * as sap from 'sapwood'
import { Type } from '@sinclair/typebox'

const { choose, pipe, get, post, path, prefix, respJson, ok, handle, jsonBody, queryParams, responds, notFound } = sap

// Schemas: TypeBox builds JSON Schemas that carry their TypeScript type (any JSON Schema, or a
// zod/valibot/ArkType schema, works too).
const User = Type.Object({ id: Type.String(), name: Type.String() })
const NewUser = Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false })
const Page = Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }) })

const users = new Map<string, { id: string; name: string }>([
  ['1', { id: '1', name: 'Ada Lovelace' }],
  ['2', { id: '2', name: 'Grace Hopper' }],
])

// Answers are written by fast-json-stringify with these schemas, compiled once, here.
const userOut = responds({ 200: User, 201: User })
const listOut = responds({ 200: Type.Array(User) })

/** The whole app: one decision tree. */
export const app = choose([
  pipe(get, path('/'), ok('sapwood example: try /api/users, /api/users/1, /health\n')),
  pipe(get, path('/health'), respJson, ok('{"status":"up"}')),
  pipe(
    prefix('/api'),
    // bodies over 64 KiB are refused (413) under /api
    sap.bodyLimit(64 * 1024),
    choose([
      pipe(
        get,
        path('/users'),
        queryParams(Page),
        listOut,
        handle((c) => listOut.json([...users.values()].slice(0, c.assigns.query.limit))),
      ),
      pipe(
        get,
        path('/users/:id'),
        userOut,
        handle((c) => {
          const user = users.get(c.params.id)
          return user === undefined ? pipe(respJson, notFound('{"error":"no such user"}')) : userOut.json(user)
        }),
      ),
      pipe(
        post,
        path('/users'),
        // the right content type (415), JSON that parses (400), the schema (422), the limit (413)
        jsonBody(NewUser),
        userOut,
        handle((c) => {
          const user = { id: String(users.size + 1), name: c.body.name }
          users.set(user.id, user)
          return pipe(sap.setHeader('location', `/api/users/${user.id}`), userOut.json(201, user))
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
