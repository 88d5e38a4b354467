/**
 * The bytes of a response head: status line and header fields, with header
 * names in their usual capitalisation, and the checks that keep a header
 * set by the application from splitting the response (no CR, LF or NUL).
 * The same few names recur on every response, so a name's "Name: " prefix
 * and the fact that it is a valid token are each worked out once.
 */
import { lower, type Headers } from './headers';
import { reasonPhrase } from './status';

/** "Content-Type: " by "content-type" (bounded). */
const prefixes = new Map<string, string>();

/** The line prefix for lower-cased `lower`: its usual capitalisation, then ": ". */
function prefix(lower: string): string {
  let p = prefixes.get(lower);
  if (p === undefined) {
    p = lower.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase()) + ': ';
    if (prefixes.size < 1000) prefixes.set(lower, p);
  }
  return p;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** The lower-cased key of each name already found to be a token (bounded). */
const tokenKeys = new Map<string, string>();
/** The name fieldKey was last asked for and its key (most responses set the same one or two names). */
let lastName = 'content-type';
let lastKey = 'content-type';
/** The value last found safe. */
let lastValue = '';

/** Whether `value` holds no CR, LF or NUL (a loop: cheaper than a RegExp on short values). */
function safeValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x0d || c === 0x0a || c === 0) return false;
  }
  return true;
}

/** Throws a TypeError unless `name` is a token and `value` holds no CR, LF or NUL. */
export function checkHeader(name: unknown, value: unknown): void {
  checkedKey(name, value);
}

/** `name` lower-cased, once checked as checkHeader does with `value`. */
export function checkedKey(name: unknown, value: unknown): string {
  let key = lastKey;
  if (name !== lastName) {
    if (typeof name !== 'string') throw new TypeError(`setHeader: invalid header name ${JSON.stringify(name)}`);
    const known = tokenKeys.get(name);
    if (known !== undefined) {
      key = known;
    } else {
      if (!TOKEN.test(name)) throw new TypeError(`setHeader: invalid header name ${JSON.stringify(name)}`);
      key = lower(name);
      if (tokenKeys.size < 1000) tokenKeys.set(name, key);
    }
    lastName = name;
    lastKey = key;
  }
  if (value !== lastValue) {
    if (typeof value !== 'string' || !safeValue(value)) {
      throw new TypeError(`setHeader: the value of ${String(name)} must be a string without CR, LF or NUL`);
    }
    lastValue = value;
  }
  return key;
}

/** Status lines with their usual reason phrase, by code (an array: a Map hashes the number each time). */
const statusLines: (string | undefined)[] = new Array<string | undefined>(1000).fill(undefined);

/** The phrase each remembered status line holds. */
const statusMessages: (string | undefined)[] = new Array<string | undefined>(1000).fill(undefined);

/** "HTTP/1.1 <code> <message>\r\n" (remembered for a code's standard phrase). */
function statusLine(code: number, message: string): string {
  const known = statusLines[code];
  if (known !== undefined && message === statusMessages[code]) return known;
  const line = 'HTTP/1.1 ' + code + ' ' + message + '\r\n';
  if (message === reasonPhrase(code)) {
    statusLines[code] = line;
    statusMessages[code] = message;
  }
  return line;
}

/** "HTTP/1.1 <code> <message>", every header, `extra` (whole header lines), and the blank line, as one latin1 string. */
export function responseHead(code: number, message: string, headers: Headers, extra: string): string {
  let head = statusLine(code, message);
  headers.forEachLower((values, name) => {
    const p = prefix(name);
    for (let i = 0; i < values.length; i++) head += p + values[i] + '\r\n';
  });
  return head + extra + '\r\n';
}
