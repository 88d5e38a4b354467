/**
 * The bytes of a response head: status line and header fields, with header
 * names in their usual capitalisation, and the checks that keep a header
 * set by the application from splitting the response (no CR, LF or NUL).
 */
import type { Headers } from './headers';

const canonical = new Map<string, string>();

/** "content-type" as "Content-Type" (remembered: the same few names recur). */
function canonicalName(lower: string): string {
  let name = canonical.get(lower);
  if (name === undefined) {
    name = lower.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
    if (canonical.size < 1000) canonical.set(lower, name);
  }
  return name;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE = /[\0\r\n]/;

/** Throws a TypeError unless `name` is a token and `value` holds no CR, LF or NUL. */
export function checkHeader(name: unknown, value: unknown): void {
  if (typeof name !== 'string' || !TOKEN.test(name)) throw new TypeError(`setHeader: invalid header name ${JSON.stringify(name)}`);
  if (typeof value !== 'string' || BAD_VALUE.test(value)) {
    throw new TypeError(`setHeader: the value of ${name} must be a string without CR, LF or NUL`);
  }
}

/** "HTTP/1.1 <code> <message>", every header, `extra` (whole header lines), and the blank line, as one latin1 string. */
export function responseHead(code: number, message: string, headers: Headers, extra: string): string {
  let head = 'HTTP/1.1 ' + code + ' ' + message + '\r\n';
  for (const [name, values] of headers.getAllRawHeaders()) {
    const n = canonicalName(name);
    for (let i = 0; i < values.length; i++) head += n + ': ' + values[i] + '\r\n';
  }
  return head + extra + '\r\n';
}
