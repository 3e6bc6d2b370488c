// Express 5. ETag and X-Powered-By are turned off so that every server sends the same answer
// (both would only cost Express time).
/* eslint-disable @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access -- plain JavaScript, linted without types: see ../tsconfig.json */
import process from 'node:process'
import express from 'express'
import { APP, BODY_LIMIT, HELLO, bodyOf, listening, loadRoutes, user } from './common.mjs'

const app = express()
app.set('etag', false)
app.disable('x-powered-by')

if (APP === 'basic') {
  app.get('/', (_req, res) => {
    res.type('text/plain').send(HELLO)
  })
  app.get('/users/:id', (req, res) => {
    res.json(user(req.params.id))
  })
  app.post('/echo', express.json({ limit: BODY_LIMIT }), (req, res) => {
    res.json(req.body)
  })
} else {
  // path-to-regexp 8 (Express 5) wants its wildcards named.
  for (const [method, path] of loadRoutes()) {
    const body = bodyOf(method, path)
    app[method.toLowerCase()](path.replace(/\*$/, '*splat'), (_req, res) => {
      res.type('text/plain').send(body)
    })
  }
}

const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => listening(server))
