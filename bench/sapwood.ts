// The benchmarks measure the built package (dist/, what users run), never the TypeScript
// sources through a loader: tsx wraps every function it transpiles in a naming helper, which
// costs a property definition per closure made and would distort the numbers.
import { existsSync } from 'node:fs'
import type * as Sap from 'sapwood'
import { fileURLToPath } from 'node:url'

const entry = new URL('../dist/index.js', import.meta.url)
if (!existsSync(fileURLToPath(entry))) throw new Error('bench: run `npm run build` first (dist/ is missing)')

export const sap = (await import(entry.href)) as typeof Sap
