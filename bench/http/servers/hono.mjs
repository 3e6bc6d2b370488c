// Hono on @hono/node-server, its default router.
/* eslint-disable @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-return -- plain JavaScript, linted without types: see ../tsconfig.json */
import process from 'node:process'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { APP, HELLO, bodyOf, listening, loadRoutes, user } from './common.mjs'

const app = new Hono()

if (APP === 'basic') {
  app.get('/', (c) => c.text(HELLO))
  app.get('/users/:id', (c) => c.json(user(c.req.param('id'))))
  app.post('/echo', async (c) => c.json(await c.req.json()))
} else {
  for (const [method, path] of loadRoutes()) {
    const body = bodyOf(method, path)
    app.on(method, path, (c) => c.text(body))
  }
}

const server = serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 0), hostname: '127.0.0.1' }, () =>
  listening(server),
)
