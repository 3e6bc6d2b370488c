// A throwaway self-signed certificate for 127.0.0.1 and localhost, made at test time with
// openssl (Debian's openssl package, installed when missing); the reason when it cannot be made.
import { spawnSync } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { aptInstall } from './debian.js'

export interface Certificate {
  readonly key: Buffer
  readonly cert: Buffer
}

const version = (): string | undefined => {
  const run = spawnSync('openssl', ['version'], { encoding: 'utf8', timeout: 10_000 })
  return run.status === 0 ? run.stdout.trim() : undefined
}

/** A key and a certificate valid for a day, or why there is none. */
export const selfSigned = async (): Promise<Certificate | { readonly skip: string }> => {
  if (version() === undefined) {
    const why = aptInstall({ pkg: 'openssl', found: version, say: (line) => console.log(`[openssl] ${line}`) })
    if (why !== undefined) return { skip: why }
  }
  const dir = await mkdtemp(join(tmpdir(), 'sapwood-cert-'))
  try {
    const key = join(dir, 'key.pem')
    const cert = join(dir, 'cert.pem')
    const run = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ],
      { encoding: 'utf8', timeout: 30_000 },
    )
    if (run.status !== 0) return { skip: `openssl could not make a certificate: ${run.stderr.trim()}` }
    return { key: await readFile(key), cert: await readFile(cert) }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
