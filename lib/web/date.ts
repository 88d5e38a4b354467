/**
 * The Date header value (RFC 9110 6.6.1, IMF-fixdate), formatted at most
 * once a second however many responses are sent in it.
 */

let second = -1;
let value = '';

/** Now as an HTTP date, e.g. "Fri, 04 Dec 2026 19:45:37 GMT". */
export function httpDate(nowMs: number = Date.now()): string {
  const s = Math.floor(nowMs / 1000);
  if (s !== second) {
    second = s;
    value = new Date(s * 1000).toUTCString();
  }
  return value;
}
