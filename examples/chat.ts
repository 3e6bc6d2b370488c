// The SSE chat room that `npm run example:chat` serves on http://127.0.0.1:4000 (PORT and HOST
// override). Open it in two browser tabs. With REDIS_URL set (redis://127.0.0.1:6379), the room
// is shared by every process that serves it with the same Redis.
// Try: curl -N localhost:4000/events
//      curl -i localhost:4000/messages -H 'content-type: application/json' -d '{"name":"ada","text":"hi"}'
import { fileURLToPath } from 'node:url'
import * as sap from 'sapwood'
import * as sapNode from 'sapwood/node'
import { Type } from '@sinclair/typebox'

const { choose, pipe, get, post, path, channel, sse, jsonBody, handle, created, json } = sap
const { sendFile } = sapNode

/** What a client posts: who, and one line of text (not blank). */
const NewMessage = Type.Object(
  {
    name: Type.String({ maxLength: 40, pattern: '\\S' }),
    text: Type.String({ maxLength: 500, pattern: '\\S' }),
  },
  { additionalProperties: false },
)

/** A message of the room, as the channel carries it and the page shows it. */
export interface Message {
  readonly id: number
  readonly name: string
  readonly text: string
  /** When it was posted (ISO 8601). */
  readonly at: string
}

/** Options of `makeApp`. */
export interface ChatOptions {
  /** What carries the room: default this process's memory; `await sapNode.redisHub(url)` to share it. */
  readonly hub?: sap.Hub
  /** How many messages the room keeps for clients that reconnect, and for newcomers (default 100). */
  readonly history?: number
}

/**
 * The chat app: `GET /` the page, `POST /messages` a message (201), `GET /events` the room's
 * messages as Server-Sent Events. Closing the hub ends the room (and its open streams).
 */
export const makeApp = ({ hub, history = 100 }: ChatOptions = {}): sap.Part<sap.Conn, sap.Conn> => {
  const room = channel<Message>('chat', hub === undefined ? {} : { hub })

  // The room's memory: the last messages of the channel, from this process or another, in the
  // order the hub delivered them.
  const kept: Message[] = []
  let lastId = 0
  const remember = async (): Promise<void> => {
    for await (const message of room.subscribe()) {
      kept.push(message)
      if (kept.length > history) kept.shift()
      lastId = Math.max(lastId, message.id)
    }
  }
  remember().catch((e: unknown) => console.error('chat: the room stopped keeping its history:', e))

  // Ids grow with time and past every id seen here: they order the messages of every process
  // that shares the room, so a client can resume from its Last-Event-ID on any of them.
  const nextId = (): number => (lastId = Math.max(Date.now(), lastId + 1))

  return choose([
    pipe(get, path('/'), sendFile(fileURLToPath(new URL('chat.html', import.meta.url)))),
    pipe(
      post,
      path('/messages'),
      // 415 for another content type, 400 for JSON that does not parse, 422 for the wrong fields
      jsonBody(NewMessage),
      handle(async (c) => {
        const message: Message = { id: nextId(), name: c.body.name, text: c.body.text, at: new Date().toISOString() }
        await room.publish(message)
        return pipe(created(), json(message))
      }),
    ),
    pipe(
      get,
      path('/events'),
      sse(
        // register_stream: this client joins the room until it leaves (the signal fires)
        async ({ send, lastEventId, signal }) => {
          const live = room.subscribe(signal)
          await live.ready
          // what the client missed (a newcomer: all that is kept), then what comes live; a
          // message that arrived while subscribing may be in both, and is sent once
          const after = Number(lastEventId ?? 0)
          const missed = kept.filter((m) => m.id > (Number.isFinite(after) ? after : 0))
          await send({ resumedFrom: lastEventId ?? null, missed: missed.length }, { event: 'handshake' })
          for (const m of missed) await send(m, { id: String(m.id) })
          const sent = new Set(missed.map((m) => m.id))
          try {
            for await (const m of live) if (!sent.has(m.id)) await send(m, { id: String(m.id) })
          } catch (e) {
            // a client that fell too far behind: its stream ends, its EventSource reconnects and
            // catches up from the history
            if (!(e instanceof sap.ChannelOverflowError)) throw e
          }
        },
        { retry: 2000 },
      ),
    ),
  ])
}

/** The chat app over this process's memory. */
export const app = makeApp()

if (import.meta.url === `file://${process.argv[1]}`) {
  const redisUrl = process.env['REDIS_URL']
  const hub = redisUrl === undefined ? undefined : await sapNode.redisHub(redisUrl)
  const server = await sap.serve(hub === undefined ? app : makeApp({ hub }))
  console.log(`sapwood chat listening on ${server.url}${hub === undefined ? '' : ' (the room is shared over Redis)'}`)
  const stop = (): void => {
    server
      .close()
      .then(() => hub?.close())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      )
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}
