// sapwood on its node adapter, loaded from the built package (dist/), as users run it.
/* eslint-disable @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-return -- plain JavaScript, linted without types: see ../tsconfig.json */
import process from 'node:process'
import { TextDecoder } from 'node:util'
import * as sap from '../../../dist/index.js'
import { APP, BODY_LIMIT, HELLO, bodyOf, listening, loadRoutes, user } from './common.mjs'

const decoder = new TextDecoder()

const basic = () =>
  sap.choose([
    sap.pipe(sap.get, sap.path('/'), sap.ok(HELLO)),
    sap.pipe(
      sap.get,
      sap.path('/users/:id'),
      sap.handle((c) => sap.json(user(c.params.id))),
    ),
    // No body decoders yet: read the bytes and parse them by hand.
    sap.pipe(
      sap.post,
      sap.path('/echo'),
      sap.handle(async (c) => sap.json(JSON.parse(decoder.decode(await c.source.read(BODY_LIMIT))))),
    ),
  ])

const github = () =>
  sap.choose(loadRoutes().map(([m, p]) => sap.pipe(sap.method(m), sap.path(p), sap.ok(bodyOf(m, p)))))

const server = await sap.serve(APP === 'basic' ? basic() : github(), {
  port: Number(process.env.PORT ?? 0),
  host: '127.0.0.1',
})
listening(server.native)
