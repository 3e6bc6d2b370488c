// What a runtime does with a fetch handler, on node:http: a Request from the socket's request,
// the Response written back with backpressure kept, and the client leaving as the Request's signal.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'

type FetchHandler = (request: Request) => Promise<Response>

/** A node:http listener that serves `fetch`. */
export const bridge = (fetch: FetchHandler) => async (req: IncomingMessage, res: ServerResponse) => {
  const client = new AbortController()
  res.on('close', () => {
    if (!res.writableFinished) client.abort()
  })
  const headers = new Headers()
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!)
  const bodied = req.method !== 'GET' && req.method !== 'HEAD'
  let request: Request
  try {
    request = new Request(`http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`, {
      method: req.method ?? 'GET',
      headers,
      body: bodied ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : null,
      duplex: 'half',
      signal: client.signal,
    })
  } catch {
    // a Host that makes no URL (`a b`): refused before any handler, as a runtime's parser would
    res.writeHead(400, { 'content-length': 0, connection: 'close' }).end()
    return
  }
  const response = await fetch(request)
  const head: string[] = []
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') head.push(name, value)
  })
  for (const cookie of response.headers.getSetCookie()) head.push('set-cookie', cookie)
  res.writeHead(response.status, head)
  if (response.body === null) return void res.end()
  const reader = response.body.getReader()
  client.signal.addEventListener('abort', () => void reader.cancel())
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done || res.destroyed) break
      if (!res.write(value)) await new Promise((r) => (res.once('drain', r), res.once('close', r)))
    }
    res.end()
  } catch {
    res.destroy()
  }
}

/** `fetch` behind the bridge on 127.0.0.1, a free port; `close()` ends every connection. */
export const serveFetch = async (fetch: FetchHandler): Promise<{ url: string; close(): Promise<void> }> => {
  const server = createServer((req, res) => void bridge(fetch)(req, res))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
