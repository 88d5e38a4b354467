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
