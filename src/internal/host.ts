// The one rule for a request's Host header, for every adapter that parses the head itself or
// takes it from a runtime that does not check it (node's parser, Bun.serve, Deno.serve).

import { badRequest } from '../context/rejection.js'

/** A Host value: `host[:port]`, the host a name, an IPv4 address or an IP literal (RFC 3986 §3.2.2). */
const VALID_HOST = /^(?:[\w.~!$&'()*+,;=%-]+|\[[\dA-Fa-f:.]+\]|\[v[\dA-Fa-f]+\.[\w.~!$&'()*+,;=:-]+\])(?::\d*)?$/

/**
 * True for a Host value that RFC 9112 §3.2 answers with 400: empty or malformed. Two Host
 * headers joined by a runtime (`a, b`, as Bun joins them) are malformed too.
 */
export const isBadHost = (value: string): boolean => !VALID_HOST.test(value)

/** The 400 for a Host that is missing a valid value, or repeated. */
export const invalidHost = badRequest('The Host header is missing a valid value, or is repeated')
