// The app of the conformance suite (conformance.ts), written once for every runtime: it takes the
// sapwood modules as parameters, so that Node runs it on the sources (tsx) and Bun, Deno, Node
// from npm and workerd run it on the BUILT package (dist/). It imports no `node:` module and
// nothing from src/ (types only), and it runs as it is under type stripping (Node 22+).
import type * as Sapwood from 'sapwood'
import type * as SapwoodNode from 'sapwood/node'

/** The sapwood modules the app is made of: `node` is undefined where there is no file system (a Worker). */
export interface Modules {
  readonly sap: typeof Sapwood
  readonly node?: typeof SapwoodNode | undefined
}

/** What the suite watches on the server side, read remotely with `GET /__state` (JSON). */
export interface State {
  /** A `/forever` producer saw its signal abort. */
  signalled: number
  /** A `/forever` producer stopped. */
  stopped: number
  /** An `/events` producer saw the client leave. */
  sseGone: number
  /** A `/ws` socket closed (its `close` handler ran). */
  wsClosed: number
  /** Handler errors seen by the server's `onError`. */
  errors: number
  /** An `/upload` body stopped short: its client left mid-body. */
  uploadsCut: number
}

/** A state with every counter at 0. */
export const freshState = (): State => ({
  signalled: 0,
  stopped: 0,
  sseGone: 0,
  wsClosed: 0,
  errors: 0,
  uploadsCut: 0,
})

/** The file the file route serves, under the directory given to `appOf`. */
export const LETTERS_FILE = 'letters.txt'
/** Its contents. */
export const LETTERS = 'abcdefghijklmnopqrstuvwxyz'
/** What the file route answers (501, this text) where the app was made without `sapwood/node`. */
export const NO_FILES = 'no file system here: the app was made without sapwood/node'
/** The 256 byte values, in order: the body of `/bytes`. */
export const BYTES = Uint8Array.from({ length: 256 }, (_, i) => i)
/** The route whose handler throws: its message must never reach the client. */
export const SECRET = 'secret detail of a failing handler'

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * The suite's app, made of `modules`, counting in `state`; `dir` holds `letters.txt` (ignored
 * without `modules.node`). The server counts its handler errors in `state.errors` itself (onError).
 */
export const appOf = (
  { sap, node }: Modules,
  state: State,
  dir: string | undefined,
): Sapwood.Part<Sapwood.Conn, Sapwood.Conn> => {
  const { choose, pipe, get, post, del, path, ok, handle } = sap
  const file =
    node === undefined || dir === undefined
      ? pipe(get, path('/file'), sap.notImplemented(NO_FILES))
      : pipe(
          get,
          path('/file'),
          node.sendFile(() => `${dir}/${LETTERS_FILE}`),
        )
  return choose([
    pipe(
      get,
      path('/__state'),
      handle(() => sap.json({ ...state })),
    ),
    pipe(get, path('/text'), ok('héllo wörld')),
    pipe(post, path('/created'), sap.created('made')),
    pipe(del, path('/gone'), sap.noContent()),
    pipe(get, path('/cached'), sap.notModified()),
    pipe(get, path('/empty'), ok('')),
    pipe(get, path('/bytes'), ok(BYTES)),
    pipe(get, path('/json'), sap.json({ a: 1, b: [true, null], c: 'é' })),
    pipe(get, path('/cookies'), sap.setCookie('a', '1'), sap.setCookie('b', '2'), ok('two cookies')),
    pipe(
      get,
      path('/stream'),
      sap.stream(
        async function* () {
          yield 'one '
          await sleep(10)
          yield 'two '
          await sleep(10)
          yield 'three'
        },
        { type: 'text/plain; charset=utf-8' },
      ),
    ),
    file,
    pipe(
      get,
      path('/boom'),
      handle((): never => {
        throw new Error(SECRET)
      }),
    ),
    pipe(
      post,
      path('/echo'),
      sap.rawBody({ limit: 4 * 1_048_576 }),
      handle((c) => ok(c.body)),
    ),
    pipe(
      post,
      path('/upload'),
      sap.bodyStream({ limit: 4 * 1_048_576 }),
      handle(async (c) => {
        let bytes = 0
        try {
          for await (const chunk of c.body) bytes += chunk.byteLength
        } catch (error) {
          // the client left mid-body: the read fails (BodyAbortedError), never hangs
          if (error instanceof sap.BodyAbortedError) state.uploadsCut++
          throw error
        }
        return ok(String(bytes))
      }),
    ),
    pipe(
      get,
      path('/forever'),
      sap.stream((c) => {
        c.signal.addEventListener('abort', () => state.signalled++, { once: true })
        return (async function* () {
          try {
            for (let i = 0; i < 10_000 && !c.signal.aborted; i++) {
              yield `tick ${i}\n`
              await sleep(5)
            }
          } finally {
            state.stopped++
          }
        })()
      }),
    ),
    pipe(
      get,
      path('/events'),
      sap.sse(
        async ({ send, signal }) => {
          await send('one', { id: '1' })
          // open until the client leaves (or the server closes): its signal is the only way out
          await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
          state.sseGone++
        },
        // a runtime may notice a client that left only when it next writes to it (workerd does):
        // a heartbeat each second keeps that within the suite's wait
        { heartbeat: 1_000 },
      ),
    ),
    pipe(
      path('/ws'),
      sap.websocket({
        // an echo, text as text and bytes as bytes; 'close' asks the server to close with 4000
        message: (ws, data) => (data === 'close' ? ws.close(4000, 'asked to') : ws.send(data)),
        close: () => void state.wsClosed++,
      }),
    ),
  ])
}
