// sapwood the public way, the same script on Bun and on Deno: `serve(app, { port, host })` from
// the built package, with whatever server `serve` picks on the runtime it runs on.
/* eslint-disable @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access -- plain JavaScript, linted without types: see ../tsconfig.json */
import { URL } from 'node:url'
import { PORT, listening, loadSapwood, sapwoodApp } from './runtime-apps.mjs'

const sap = await loadSapwood()
const server = await sap.serve(sapwoodApp(sap), { port: PORT, host: '127.0.0.1' })
listening(Number(new URL(server.url).port))
