// The ceiling on Bun and on Deno: the runtime's own server (Bun.serve or Deno.serve) with
// find-my-way by hand, one find() per request.
import { bareHandler, serveFetch } from './runtime-apps.mjs'

serveFetch(bareHandler())
