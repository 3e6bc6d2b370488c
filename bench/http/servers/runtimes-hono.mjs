// Hono on Bun and on Deno, served as Hono's docs show for each: its `fetch` under Bun.serve or
// Deno.serve.
/* eslint-disable @typescript-eslint/no-unsafe-member-access -- plain JavaScript, linted without types: see ../tsconfig.json */
import { honoApp, serveFetch } from './runtime-apps.mjs'

serveFetch(honoApp().fetch)
