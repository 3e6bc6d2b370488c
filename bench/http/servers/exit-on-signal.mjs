// Preloaded (`node --import`) into a server started with --cpu-prof (CPU_PROF=dir in
// bench/http/streaming.ts): node writes the profile only on a normal exit, so SIGTERM exits.
/* eslint-disable @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-return -- plain JavaScript, linted without types: see ../tsconfig.json */
import process from 'node:process'

process.once('SIGTERM', () => process.exit(0))
