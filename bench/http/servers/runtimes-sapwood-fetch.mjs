// sapwood's fetch handler (`sapwood/fetch`) under the runtime's own server by hand (Bun.serve or
// Deno.serve): the core's cost apart from whatever adapter `serve` picks.
/* eslint-disable @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call -- plain JavaScript, linted without types: see ../tsconfig.json */
import { loadFetch, loadSapwood, sapwoodApp, serveFetch } from './runtime-apps.mjs'

const sap = await loadSapwood()
const { toFetchHandler } = await loadFetch()
serveFetch(toFetchHandler(sapwoodApp(sap)))
