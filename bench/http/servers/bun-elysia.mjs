// Elysia on Bun with its defaults (its compiled handlers, and Bun's own router for the static
// paths: `systemRouter`).
/* eslint-disable @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access -- plain JavaScript, linted without types: see ../tsconfig.json */
import { Elysia } from 'elysia'
import { PORT, listening, routes } from './runtime-apps.mjs'

const app = new Elysia()
for (const [method, path, body] of routes()) app.route(method, path, () => body)
app.listen({ port: PORT, hostname: '127.0.0.1' }, (server) => listening(server.port))
