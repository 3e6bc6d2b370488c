// Fastify 5, logger off, a response schema on the JSON route (its fast serializer), and the echo's
// body validated and its answer serialized with one schema.
/* eslint-disable @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access -- plain JavaScript, linted without types: see ../tsconfig.json */
import process from 'node:process'
import Fastify from 'fastify'
import { APP, BODY_LIMIT, ECHO_SCHEMA, HELLO, USER_SCHEMA, bodyOf, listening, loadRoutes, user } from './common.mjs'

const app = Fastify({ logger: false, bodyLimit: BODY_LIMIT })

if (APP === 'basic') {
  app.get('/', (_req, reply) => {
    reply.send(HELLO)
  })
  app.get(
    '/users/:id',
    {
      schema: {
        response: {
          200: USER_SCHEMA,
        },
      },
    },
    (req, reply) => {
      reply.send(user(req.params.id))
    },
  )
  // the same schema validates the body and serializes the answer, as sapwood's echo does
  app.post('/echo', { schema: { body: ECHO_SCHEMA, response: { 200: ECHO_SCHEMA } } }, (req, reply) => {
    reply.send(req.body)
  })
} else {
  for (const [method, url] of loadRoutes()) {
    const body = bodyOf(method, url)
    app.route({
      method,
      url,
      handler: (_req, reply) => {
        reply.send(body)
      },
    })
  }
}

await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' })
listening(app.server)
