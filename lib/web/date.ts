/**
 * The Date header value (RFC 9110 6.6.1, IMF-fixdate), formatted at most
 * once a second however many responses are sent in it.
 *
 * Reading the clock per response cost ~1% of a pipelined hello's server
 * time, so the line is kept until a timer (unref'd: it never holds the
 * process open) marks it stale at the next second boundary; only while
 * responses are being sent does that timer exist.
 */

let second = -1;
let value = '';
let line = '';
/** The cached line is for the current second (a timer clears this at the next boundary). */
let fresh = false;

/** Now as an HTTP date, e.g. "Fri, 04 Dec 2026 19:45:37 GMT". */
export function httpDate(nowMs: number = Date.now()): string {
  const s = Math.floor(nowMs / 1000);
  if (s !== second) {
    second = s;
    value = new Date(s * 1000).toUTCString();
    line = 'Date: ' + value + '\r\n';
  }
  return value;
}

/** The whole header line for now: "Date: <httpDate()>\r\n". */
export function dateLine(): string {
  if (fresh) return line;
  const now = Date.now();
  httpDate(now);
  fresh = true;
  setTimeout(stale, 1000 - (now % 1000)).unref();
  return line;
}

function stale(): void {
  fresh = false;
}
