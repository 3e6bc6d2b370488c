/**
 * `sapwood/testing`: call any branch on a test Conn, or run a whole request in memory.
 *
 * @since 0.1.0
 */
export { conn, inject, type InjectRequest, type InjectResponse, type TestConnInit } from './adapters/memory.js'
