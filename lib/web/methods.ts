/**
 * The request methods a Site recognises: those of RFC 9110 and PATCH, and
 * the WebDAV, versioning and other registered methods that Node's parser
 * (llhttp) knows too. Any other method, or one in other case (methods are
 * case-sensitive), is answered 501 Not Implemented (RFC 9110 9.1), as
 * node:http refuses it, so both agree on what is a request.
 */

/** Methods recognised by a Site. */
export const KNOWN_METHODS: ReadonlySet<string> = new Set([
  'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH',
  'COPY', 'LOCK', 'MKCOL', 'MOVE', 'PROPFIND', 'PROPPATCH', 'SEARCH', 'UNLOCK', 'BIND', 'REBIND', 'UNBIND', 'ACL',
  'REPORT', 'MKACTIVITY', 'CHECKOUT', 'MERGE', 'M-SEARCH', 'NOTIFY', 'SUBSCRIBE', 'UNSUBSCRIBE', 'PURGE', 'MKCALENDAR',
  'LINK', 'UNLINK', 'SOURCE', 'QUERY',
]);

/** The known methods by length, as bytes and interned strings. */
const BY_LENGTH: [Buffer, string][][] = [];
for (const m of KNOWN_METHODS) (BY_LENGTH[m.length] ??= []).push([Buffer.from(m, 'latin1'), m]);

/**
 * The known method spelled by b[start, end), as the interned constant
 * (a fresh string would be hashed again by every lookup keyed on it), or
 * null when it is not one.
 */
export function methodAt(b: Uint8Array, start: number, end: number): string | null {
  const candidates = BY_LENGTH[end - start];
  if (candidates === undefined) return null;
  for (const [bytes, name] of candidates) {
    let i = 0;
    while (i < bytes.length && b[start + i] === bytes[i]) i++;
    if (i === bytes.length) return name;
  }
  return null;
}
