// sapwood on its node adapter, loaded from the built package (dist/), as users run it.
/* eslint-disable @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-return -- plain JavaScript, linted without types: see ../tsconfig.json */
import process from 'node:process'
import * as sap from '../../../dist/index.js'
import { APP, BODY_LIMIT, ECHO_SCHEMA, HELLO, USER_SCHEMA, bodyOf, listening, loadRoutes, user } from './common.mjs'

const basic = () => {
  // the same schemas as Fastify's: the user's answer serialized with its schema, the echo's body
  // validated and its answer serialized with one
  const userOut = sap.responds({ 200: USER_SCHEMA })
  const echoOut = sap.responds({ 200: ECHO_SCHEMA })
  return sap.choose([
    sap.pipe(sap.get, sap.path('/'), sap.ok(HELLO)),
    sap.pipe(
      sap.get,
      sap.path('/users/:id'),
      userOut,
      sap.handle((c) => userOut.json(user(c.params.id))),
    ),
    sap.pipe(
      sap.post,
      sap.path('/echo'),
      sap.jsonBody(ECHO_SCHEMA, { limit: BODY_LIMIT }),
      echoOut,
      sap.handle((c) => echoOut.json(c.body)),
    ),
  ])
}

const github = () =>
  sap.choose(loadRoutes().map(([m, p]) => sap.pipe(sap.method(m), sap.path(p), sap.ok(bodyOf(m, p)))))

const server = await sap.serve(APP === 'basic' ? basic() : github(), {
  port: Number(process.env.PORT ?? 0),
  host: '127.0.0.1',
})
listening(server.native)
