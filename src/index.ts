/**
 * sapwood: a whole web app as one decision tree of combinators.
 *
 * @since 0.1.0
 */
export {
  type Assigns,
  type Body,
  type Conn,
  type Cookies,
  type ConnInit,
  type ConnPatch,
  type Params,
  type Query,
  type RequestHeaders,
  type ResponseHeaders,
  isConn,
  makeConn,
  update,
} from './context/conn.js'
export {
  type BodySource,
  type ChunkSink,
  type Flow,
  BodyAbortedError,
  BodyConsumedError,
  PayloadTooLargeError,
  ChunkedBody,
  bytesSource,
  iterableSource,
} from './context/body-source.js'
export {
  type Context,
  type Part,
  type PathMatch,
  type Result,
  type Shape,
  builder,
  left,
  part,
  right,
} from './context/context.js'
export type { FieldError, ProblemInit, Rejection, RejectionTag } from './context/rejection.js'
export * as rejection from './context/rejection.js'

export { choose, handle, pipe, recover, type Returned } from './combinators/compose.js'
export { decorate } from './combinators/decorate.js'
export { type CorsOptions, cors } from './combinators/cors.js'
export {
  accepts,
  contentType,
  del,
  del as delete,
  filter,
  get,
  head,
  header,
  host,
  method,
  options,
  patch,
  path,
  post,
  prefix,
  put,
  query,
  trace,
} from './combinators/filters.js'
export {
  appendHeader,
  assign,
  json,
  removeHeader,
  respHtml,
  respJson,
  respText,
  response,
  setBody,
  setHeader,
  setMimeType,
  setStatus,
} from './combinators/builders.js'
export * from './combinators/status.js'
// request side (#9): each block is owned by its module
export type { Infer, JsonSchema, Schema } from './internal/schema.js'
// -- body decoders
export {
  type BodyStreamOptions,
  type FormBodyOptions,
  type FormFields,
  type JsonBodyOptions,
  type RawBodyOptions,
  type TextBodyOptions,
  DEFAULT_BODY_LIMIT,
  bodyLimit,
  bodyStream,
  formBody,
  jsonBody,
  rawBody,
  textBody,
} from './combinators/body.js'
// -- cookies
export {
  type CookieAttributes,
  type SignedCookieOptions,
  clearCookie,
  setCookie,
  setSignedCookie,
  signedCookie,
} from './combinators/cookies.js'
// -- auth
export { type BasicAuthOptions, type BearerOptions, basicAuth, bearer } from './combinators/auth.js'
// -- response schemas
export {
  type BodyOf,
  type ResponseSchemas,
  type Responds,
  type StatusOf,
  responds,
  serializer,
} from './combinators/responds.js'
// -- query and params schemas
export { type ValidateOptions, params, queryParams } from './combinators/validate.js'

// streaming (#10): each block is owned by its module
export {
  type FileBody,
  type StreamBody,
  type StreamSource,
  type UpgradeBody,
  streamBody,
} from './context/response-body.js'
export { ClientGoneError, ServerClosingError } from './context/body-source.js'
// -- stream
export { type StreamOptions, stream } from './combinators/stream.js'
// -- websocket
export {
  type WebSocketHandlers,
  type WebSocketOptions,
  type WebSocketPeer,
  websocket,
} from './combinators/websocket.js'
// -- channel
export { type Channel, type ChannelOptions, channel } from './channel/channel.js'
export { type Hub, type HubListener, type HubSubscription, HubClosedError } from './channel/hub.js'
export { memoryHub } from './channel/memory.js'
export { type Subscription, ChannelOverflowError } from './channel/subscription.js'
// -- sse
export {
  type SseFields,
  type SseOptions,
  type SseProducer,
  type SseStream,
  formatEvent,
  sse,
} from './combinators/sse.js'

export type { Adapter, ListenOptions, Listening, TlsOptions } from './adapters/adapter.js'
export { type Handler, type RespondOptions, HandlerTimeoutError, respond, respondOrPass } from './adapters/respond.js'
export { type BunAdapterOptions, type BunServer, bunAdapter } from './adapters/bun.js'
export { type DenoAdapterOptions, type DenoServer, denoAdapter } from './adapters/deno.js'
export { type ServeOptions, serve } from './serve.js'
export { type CompileOptions, type Plan, compile } from './compile/trie.js'
export { type Explanation, type Route, type TraceStep, explain, routes, warnings } from './compile/inspect.js'
