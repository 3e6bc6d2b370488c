/**
 * `sapwood/node`: what needs node's own modules (node:http, node:fs, node:zlib, node:cluster)
 * or a package made for node (`ws`, busboy, ioredis).
 * Node runs all of it; Bun and Deno run all of it but `nodeAdapter` through their node
 * compatibility; a Worker runs none of it. The main entry (`sapwood`) imports no `node:` module.
 *
 * @since 0.3.0
 */
// -- the node server
export {
  type NodeAdapterOptions,
  type NodeUpgradeListener,
  nodeAdapter,
  nodeListener,
  nodeUpgradeListener,
  toNodeHandler,
} from './adapters/node.js'
// -- files
export {
  type PrecompressedEncoding,
  type SendFileOptions,
  type ServeDirOptions,
  sendFile,
  serveDir,
} from './combinators/files.js'
// -- multipart
export {
  type IncomingFile,
  type Multipart,
  type MultipartOptions,
  type MultipartStreamOptions,
  type UploadedFile,
  multipartBody,
} from './combinators/multipart.js'
// -- compress
export { type CompressEncoding, type CompressOptions, compress } from './combinators/compress.js'
// -- a channel hub over Redis (ioredis)
export { type RedisHubOptions, redisHub } from './channel/redis.js'
