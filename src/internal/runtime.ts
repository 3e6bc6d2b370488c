// Which runtime this is: `serve` picks its server by it.

/** The runtimes `serve` knows, and 'other' (a Worker, a browser). */
export type Runtime = 'node' | 'bun' | 'deno' | 'workerd' | 'other'

/**
 * The runtime this code runs on. Bun and Deno also say they are node (`process.versions.node`),
 * and a Worker with node compatibility may too: they are asked first.
 */
export const runtime = (): Runtime => {
  const g = globalThis as {
    Bun?: unknown
    Deno?: { version?: { deno?: string } }
    navigator?: { userAgent?: string }
    process?: { versions?: { node?: string } }
  }
  if (g.Bun !== undefined) return 'bun'
  if (typeof g.Deno?.version?.deno === 'string') return 'deno'
  if (g.navigator?.userAgent === 'Cloudflare-Workers') return 'workerd'
  if (typeof g.process?.versions?.node === 'string') return 'node'
  return 'other'
}
