/**
 * Decorations: shape every answer of an app, rejections and automatic answers included
 * (CORS, security headers, a request id, timing).
 *
 * @since 0.2.0
 */
import type { Conn } from '../context/conn.js'
import { type Context, type Part, type Result, type Shape, isThenable, part } from '../context/context.js'
import { handlerFailed } from '../context/rejection.js'

type Run = (c: Conn) => Result

/** @internal a Decorate Part over any inner run (the compiler passes the compiled inner tree) */
export const decorated = (run: Run, shape: Shape & { _tag: 'Decorate' }, label: string): Part<Conn, Conn> => {
  const { early, finish } = shape
  const settle = (ctx: Context, c: Conn): Context => {
    if (ctx._tag === 'Left') return ctx
    try {
      return { _tag: 'Right', right: finish(ctx.right, c) }
    } catch (error) {
      return { _tag: 'Left', left: handlerFailed(error) }
    }
  }
  return part(
    (c: Conn) => {
      if (early !== undefined) {
        let answered: Conn | undefined
        try {
          answered = early(c)
        } catch (error) {
          return { _tag: 'Left', left: handlerFailed(error) }
        }
        if (answered !== undefined) return settle({ _tag: 'Right', right: answered }, c)
      }
      const r = run(c)
      return isThenable(r) ? r.then((ctx) => settle(ctx, c)) : settle(r, c)
    },
    shape,
    label,
  )
}

/**
 * Shapes every answer of `app` with `fn(answer, request)`. At the root of an app (what `serve`,
 * `respond` and `inject` are given) it sees every answer: the winning branch's, the 404, 405,
 * 413 or 500 made from a rejection, and the automatic HEAD and OPTIONS answers. Inside a tree it
 * shapes the answers of its own branch only. `fn` must return a Conn (change the response with
 * `update` or a builder's `apply`); a throw is a failed handler (500).
 *
 * @example
 * import { decorate, update, choose, pipe, get, path, ok } from 'sapwood'
 * const app = decorate(choose([pipe(get, path('/'), ok('home'))]), (answer) =>
 *   update(answer, { respHeaders: { ...answer.respHeaders, 'x-frame-options': 'DENY' } }),
 * )
 *
 * @category composition
 * @since 0.2.0
 */
export const decorate = (app: Part<Conn, Conn>, fn: (answer: Conn, request: Conn) => Conn): Part<Conn, Conn> =>
  decorated(
    app,
    { _tag: 'Decorate', part: app as unknown as Part<never, unknown>, early: undefined, finish: fn },
    'decorate',
  )

/** @internal a decoration that may also answer a request before the tree runs */
export const decorateWith = (
  app: Part<Conn, Conn>,
  early: (request: Conn) => Conn | undefined,
  finish: (answer: Conn, request: Conn) => Conn,
  label: string,
): Part<Conn, Conn> =>
  decorated(app, { _tag: 'Decorate', part: app as unknown as Part<never, unknown>, early, finish }, label)
