/**
 * An app mounted inside another framework on node (`sapwood/express`, `sapwood/fastify`): the
 * node adapter's machinery, with a miss handed back to the host.
 *
 * @since 0.3.0
 */
import type * as http from 'node:http'
import { type ChunkedBody, ServerClosingError } from '../context/body-source.js'
import { type Conn, makeConn, update } from '../context/conn.js'
import { isThenable } from '../context/context.js'
import { RequestBody, fail, requestHeaders, write } from './node.js'
import { type Report, type ServerState, unmanaged } from './outgoing.js'
import type { respondOrPass } from './respond.js'

/**
 * @internal How a framework hands one request to an app mounted inside it (`sapwood/express`,
 * `sapwood/fastify`).
 */
export interface Mount {
  /** The URL the app routes on: the request's, less the mount path. */
  readonly url: string
  /** The mount path as the client wrote it ('' at the root), put in front of a redirect to a path of the app. */
  readonly base: string
  /** Gives the request back to the framework: no branch of the app matched it. */
  readonly pass: () => void
  /** Called once before anything is written (Fastify's `reply.hijack()`). */
  readonly claim?: () => void
}

/**
 * A redirect to a path of the mounted app (`/login`; not `//host/...` nor `https://...`) gets the
 * mount path in front, so that it stays inside the mount.
 */
const withinMount = (c: Conn, base: string): Conn => {
  const location = c.respHeaders['location']
  if (base === '' || location === undefined) return c
  // `//host` and `/\host` are read by browsers as another host: left as the app wrote them
  const inside = (l: string): string =>
    l.charCodeAt(0) === 47 && l.charCodeAt(1) !== 47 && l.charCodeAt(1) !== 92 ? base + l : l
  const moved = typeof location === 'string' ? inside(location) : location.map(inside)
  return update(c, { respHeaders: { ...c.respHeaders, location: moved } })
}

/**
 * Headers that the framework set before the app answered (Express's `X-Powered-By`, a CORS or
 * session middleware's) stay, under the app's own of the same name, except `Set-Cookie`, whose
 * lines add up. node 20's `writeHead`, given a list while headers are set, sets its pairs one by
 * one, so that only the last line of a repeated name would be sent: those leave the list and are
 * set on the response as arrays first.
 */
const underHost = (res: http.ServerResponse, c: Conn): Conn => {
  const h = c.respHeaders
  let kept: Record<string, string | readonly string[]> | undefined
  for (const name in h) {
    const value = h[name]!
    // the framing is the adapter's (toWire drops these), a single value goes in the list
    if (name === 'content-length' || name === 'transfer-encoding') continue
    if (name !== 'set-cookie' && typeof value === 'string') continue
    if (name === 'set-cookie') {
      // appendHeader, not in every node 20 (nor on HTTP/2 responses before 20.12)
      const before = res.getHeader(name)
      res.setHeader(name, before === undefined ? value : ([] as string[]).concat(before as string | string[], value))
    } else res.setHeader(name, value)
    if (kept === undefined) kept = { ...h }
    delete kept[name]
  }
  return kept === undefined ? c : update(c, { respHeaders: kept })
}

/** @internal What `mountListener` makes: the listener, and `close()` for the host's shutdown. */
export interface MountListener {
  (req: http.IncomingMessage, res: http.ServerResponse, mount: Mount): void
  /**
   * The host is closing: answers from now on close their connections, and the producers of the
   * streams being sent (SSE) are told to stop (their signal fires), so that those answers end.
   */
  close(): void
}

/** A mounted request whose answer failed: claimed (unless it was), then a 500 or a cut. */
const mountFailed = (
  res: http.ServerResponse,
  body: ChunkedBody,
  mount: Mount,
  claimed: boolean,
  error: unknown,
  server: ServerState,
): void => {
  body.release()
  try {
    if (!claimed) mount.claim?.()
  } catch {
    // the framework would not let go of the response: the 500 goes out on it all the same
  }
  fail(res, error, server)
}

/** Passes a mounted request on, or writes its answer; never throws (it runs in a promise's callback too). */
const settleMounted = (
  req: http.IncomingMessage,
  res: http.ServerResponse,
  body: ChunkedBody,
  mount: Mount,
  c: Conn | undefined,
  server: ServerState,
  report: Report,
): void => {
  if (c === undefined) {
    body.release()
    try {
      mount.pass()
    } catch (error) {
      mountFailed(res, body, mount, false, error, server)
    }
    return
  }
  try {
    mount.claim?.()
  } catch (error) {
    mountFailed(res, body, mount, true, error, server)
    return
  }
  let out: Conn
  try {
    // a header value that node refuses throws here: a 500, as in `write`
    out = underHost(res, withinMount(c, mount.base))
  } catch (error) {
    mountFailed(res, body, mount, true, error, server)
    return
  }
  write(res, out, req.method === 'HEAD', server, body, report)
}

/**
 * @internal The listener of a mounted app: runs a `respondOrPass` handler on node's request and
 * writes its answer as `nodeListener` does, or calls `mount.pass()` when no branch matched (the
 * body is then left as it is for the framework). Not on `serve`'s path: a mount pays for its
 * `Mount` and the redirect check, a plain server does not. Passing a miss on costs 140-175 ns
 * with the 302-route app, measured alone (bench/mounts.ts).
 */
export const mountListener = (handler: ReturnType<typeof respondOrPass>): MountListener => {
  const server = unmanaged()
  const report = handler.report
  const listen = (req: http.IncomingMessage, res: http.ServerResponse, mount: Mount): void => {
    const body = new RequestBody(req, res)
    let out: Conn | undefined | PromiseLike<Conn | undefined>
    try {
      out = handler(
        makeConn({ method: req.method ?? 'GET', url: mount.url, headers: requestHeaders(req), source: body }),
      )
    } catch (error) {
      mountFailed(res, body, mount, false, error, server)
      return
    }
    if (isThenable(out)) {
      out.then(
        (c) => settleMounted(req, res, body, mount, c, server, report),
        (error: unknown) => mountFailed(res, body, mount, false, error, server),
      )
    } else settleMounted(req, res, body, mount, out, server, report)
  }
  return Object.assign(listen, {
    close: (): void => {
      server.closing = true
      for (const source of server.streaming) source.abort(new ServerClosingError())
    },
  })
}
