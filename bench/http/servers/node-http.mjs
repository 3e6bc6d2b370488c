// Raw node:http: a hand-written switch on method and URL, no router. It serves the basic app only
// (a switch over 302 patterns with params is not a thing anyone writes by hand).
/* eslint-disable @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access -- plain JavaScript, linted without types: see ../tsconfig.json */
import process from 'node:process'
import { Buffer } from 'node:buffer'
import { createServer } from 'node:http'
import { APP, HELLO, JSON_TYPE, TEXT, echo, listening, send, user } from './common.mjs'

if (APP !== 'basic') throw new Error('node-http serves the basic app only')

const HELLO_LENGTH = String(Buffer.byteLength(HELLO))

const server = createServer((req, res) => {
  const url = req.url
  if (req.method === 'GET') {
    if (url === '/') {
      res.writeHead(200, { 'content-type': TEXT, 'content-length': HELLO_LENGTH })
      res.end(HELLO)
      return
    }
    if (url.startsWith('/users/')) {
      const id = url.slice(7)
      if (id !== '' && !id.includes('/')) {
        send(res, 200, JSON_TYPE, JSON.stringify(user(id)))
        return
      }
    }
  } else if (req.method === 'POST' && url === '/echo') {
    echo(req, res)
    return
  }
  send(res, 404, TEXT, 'Not Found')
})

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => listening(server))
