// A Chromium for the browser tests: PUPPETEER_EXECUTABLE_PATH when set, else `chromium` or
// `chromium-browser` on the PATH, else /usr/bin/chromium; when there is none, Debian's chromium
// package is installed with apt-get (we run as root in CI). Where it cannot be installed, the
// browser tests skip and say why.
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { aptInstall } from './debian.js'

/** A Chromium to launch, or why there is none (for `it(..., { skip })` or `t.skip(why)`). */
export type ChromiumFind =
  { readonly path: string; readonly skip?: undefined } | { readonly path?: undefined; readonly skip: string }

const NAMES = ['chromium', 'chromium-browser']
const DEBIAN_PATH = '/usr/bin/chromium'
// the package and its libraries are a few hundred MB to download
const INSTALL_TIMEOUT_MS = 900_000

const say = (line: string): void => {
  console.log(`[chromium] ${line}`)
}

const executable = (file: string): boolean => {
  try {
    accessSync(file, constants.X_OK)
    return true
  } catch {
    return false
  }
}

const locate = (): string | undefined => {
  const given = process.env['PUPPETEER_EXECUTABLE_PATH']
  if (given !== undefined && given !== '' && executable(given)) return given
  const dirs = (process.env['PATH'] ?? '').split(delimiter).filter((d) => d !== '')
  for (const name of NAMES) {
    for (const dir of dirs) {
      const file = join(dir, name)
      if (executable(file)) return file
    }
  }
  return executable(DEBIAN_PATH) ? DEBIAN_PATH : undefined
}

const describeBinary = (file: string): string => {
  const run = spawnSync(file, ['--version'], { encoding: 'utf8', timeout: 20_000 })
  const version = run.status === 0 ? run.stdout.trim() : 'version unknown'
  return `${file} (${version})`
}

let found: ChromiumFind | undefined

/** Finds Chromium, installing Debian's package when it is missing (once per test process). */
export const findChromium = (): ChromiumFind => {
  if (found !== undefined) return found
  let file = locate()
  if (file !== undefined) say(`found ${describeBinary(file)}`)
  else {
    const why = aptInstall({
      pkg: 'chromium',
      found: () => {
        const at = locate()
        return at === undefined ? undefined : describeBinary(at)
      },
      say,
      timeoutMs: INSTALL_TIMEOUT_MS,
    })
    file = locate()
    if (why !== undefined || file === undefined) {
      const skip = why ?? 'chromium was installed but is not on the PATH'
      say(`skipping the browser tests: ${skip}`)
      return (found = { skip })
    }
  }
  return (found = { path: file })
}
