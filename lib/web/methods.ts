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

/** The known methods by length (interned strings, whose characters are their bytes). */
const BY_LENGTH: string[][] = [];
for (const m of KNOWN_METHODS) (BY_LENGTH[m.length] ??= []).push(m);

/**
 * The known method spelled by b[start, end), as the interned constant
 * (a fresh string would be hashed again by every lookup keyed on it), or
 * null when it is not one. GET is looked at first, by its three bytes: most
 * requests are GETs. (Index loops over plain strings: a for-of over
 * [Buffer, string] pairs, destructured, cost ~200 instructions a GET.)
 */
export function methodAt(b: Uint8Array, start: number, end: number): string | null {
  const n = end - start;
  if (n === 3 && b[start] === 0x47 && b[start + 1] === 0x45 && b[start + 2] === 0x54) return 'GET';
  const candidates = BY_LENGTH[n];
  if (candidates === undefined) return null;
  for (let k = 0; k < candidates.length; k++) {
    const name = candidates[k];
    let i = 0;
    while (i < n && b[start + i] === name.charCodeAt(i)) i++;
    if (i === n) return name;
  }
  return null;
}
