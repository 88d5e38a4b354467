/**
 * The request head (request line and header fields, RFC 9112 3 and 5),
 * parsed from bytes already known to end in an empty line whose every line
 * ends in CRLF (the parser's scan checked that). One pass of byte-table
 * checks over the Buffer. Returns an HTTP status (400, 431, 505) for a head
 * it refuses.
 *
 * Why it makes so few strings: a string cut from a Buffer costs a call into
 * C++ (~60 ns), and a header name then costs a lower-casing and a hash
 * before it can be a Map key; most requests are answered without anyone
 * reading most of their headers. So the pass keeps each field as offsets
 * into the received bytes (which the connection owns: received.ts) and makes
 * strings only for the method (a known one is the interned constant), the
 * target, and the values of the five fields the server itself acts on
 * (Content-Length, Transfer-Encoding, Connection, Expect, Upgrade); Host
 * fields are only counted. The
 * Headers map is built from the offsets the first time the application asks
 * for it; one field's values can be read without it (fieldValues: a
 * WebSocket handshake reads five fields of a head it then drops).
 */
import { Ch, isTargetByte, isValueByte, TCHAR } from './chars';
import { Headers } from './headers';
import { methodAt } from './methods';

/** A parsed request line and its header fields. */
export class RequestHead {
  /** Values of Content-Length, in order (undefined when absent). */
  contentLength: string[] | undefined = undefined;
  /** Values of Transfer-Encoding. */
  transferEncoding: string[] | undefined = undefined;
  /** Values of Connection. */
  connection: string[] | undefined = undefined;
  /** Values of Expect. */
  expect: string[] | undefined = undefined;
  /** Values of Upgrade. */
  upgrade: string[] | undefined = undefined;
  /** How many Host fields came (more than one is refused: RFC 9112 3.2). */
  hosts = 0;
  private built: Headers | null = null;

  /** @internal Made by parseHead. */
  constructor(
    /** The method, case kept (methods are case-sensitive). */
    readonly method: string,
    /** The request-target as sent. */
    readonly target: string,
    /** The HTTP minor version: 0 or 1. */
    readonly minor: number,
    /** The bytes holding the fields. */
    private readonly raw: Buffer,
    /** Per field: name start, name end, value start, value end (trimmed) in `raw`. */
    private readonly fields: number[],
  ) {}

  /** The header fields (names lower-cased), built on first use. */
  get headers(): Headers {
    if (this.built === null) {
      const h = new Headers();
      const b = this.raw;
      const f = this.fields;
      for (let i = 0; i < f.length; i += 4) h.addLower(latin1(b, f[i], f[i + 1]).toLowerCase(), latin1(b, f[i + 2], f[i + 3]));
      this.built = h;
    }
    return this.built;
  }

  /**
   * The values of field `lower` (a lower-case name), in order, or undefined
   * when absent: from the Headers once built (the application may have
   * changed them), else read from the bytes, making strings only for the
   * values asked for.
   */
  fieldValues(lower: string): string[] | undefined {
    if (this.built !== null) return this.built.getLower(lower);
    const b = this.raw;
    const f = this.fields;
    let out: string[] | undefined;
    for (let i = 0; i < f.length; i += 4) {
      if (f[i + 1] - f[i] === lower.length && nameIs(b, f[i], lower)) out = addValue(out, latin1(b, f[i + 2], f[i + 3]));
    }
    return out;
  }
}

/**
 * `values` with `value` added: a new one-element array for the first (an
 * empty array grown by push would reserve room for 17), else pushed.
 */
function addValue(values: string[] | undefined, value: string): string[] {
  if (values === undefined) return [value];
  values.push(value);
  return values;
}

/** Whether the name at b[at] (as long as `lower`) is `lower`, ASCII letters compared case-insensitively. */
function nameIs(b: Buffer, at: number, lower: string): boolean {
  for (let k = 0; k < lower.length; k++) {
    let c = b[at + k];
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== lower.charCodeAt(k)) return false;
  }
  return true;
}

/** Node's Buffer.prototype method behind toString('latin1'), not in its typings. */
type SliceableBuffer = Buffer & { latin1Slice(start: number, end: number): string };

/** b[start, end) as a string of latin1 characters. */
export function latin1(b: Buffer, start: number, end: number): string {
  // One character comes from V8's single-character table, with no call into C++.
  if (end - start === 1) return String.fromCharCode(b[start]);
  // latin1Slice is what toString('latin1', ...) calls after checking its arguments.
  return end === start ? '' : (b as SliceableBuffer).latin1Slice(start, end);
}

/**
 * Parses the head in b[start, end) (end just past the blank line), keeping
 * at most `maxFields` fields; a status number when it is refused.
 */
export function parseHead(b: Buffer, start: number, end: number, maxFields: number): RequestHead | number {
  const versionAt = checkRequestLine(b, start);
  if (versionAt < 0) return -versionAt;
  const methodEnd = found.methodEnd;
  const n = parseFields(b, versionAt + 10, end - 2, 4 * maxFields);
  if (n < 0) return -n;
  return madeHead(b, start, methodEnd, versionAt, n);
}

/**
 * The head at b[start], in one pass, when all of it is there, it is well
 * formed and within the limits: the offset just past its blank line, with
 * what madeHead needs left in SCRATCH and `found`. Else 0, and nothing is
 * said about why: the parser then takes the careful path (scan, then
 * parseHead), which refuses with the right status or waits for more bytes.
 * That path looks at every byte twice (once for the line ends, once for
 * their content); a head that arrives whole needs only this one look.
 */
export function wholeHead(b: Buffer, start: number, maxFields: number, maxRequestLine: number, maxHeaderBytes: number): number {
  const versionAt = checkRequestLine(b, start);
  if (versionAt < 0 || versionAt + 9 - start > maxRequestLine) return 0;
  const max = 4 * maxFields;
  let n = 0;
  let i = versionAt + 10;
  while (b[i] !== Ch.CR) {
    if (n >= max) return 0;
    i = fieldLine(b, i, n);
    if (i < 0) return 0;
    n += 4;
  }
  if (b[i + 1] !== Ch.LF || i + 2 - start > maxHeaderBytes) return 0;
  found.versionAt = versionAt;
  found.n = n;
  return i + 2;
}

/** What checkRequestLine and wholeHead found beyond SCRATCH (parsing is never re-entered). */
const found = { methodEnd: 0, versionAt: 0, n: 0 };

/** The head wholeHead just found at b[start]. */
export function wholeHeadMade(b: Buffer, start: number): RequestHead {
  return madeHead(b, start, found.methodEnd, found.versionAt, found.n);
}

/** The RequestHead of a checked head at b[start]: its request line's parts, and its `n` field offsets in SCRATCH. */
function madeHead(b: Buffer, start: number, methodEnd: number, versionAt: number, n: number): RequestHead {
  const method = methodAt(b, start, methodEnd) ?? latin1(b, start, methodEnd);
  const target = latin1(b, methodEnd + 1, versionAt - 1);
  const minor = b[versionAt + 7] - 0x30;
  const fields = n === 0 ? NO_FIELDS : scratchCopy(n);
  const head = new RequestHead(method, target, minor, b, fields);
  for (let i = 0; i < n; i += 4) noteField(head, b, fields[i], fields[i + 1], fields[i + 2], fields[i + 3]);
  return head;
}

/**
 * SCRATCH[0, n) in an array of exactly n (an array grown by push would keep
 * room for 17, then 41). Copied by hand: Array.prototype.slice costs ~250
 * instructions for the 4 offsets of one field, the copy ~40.
 */
function scratchCopy(n: number): number[] {
  const s = SCRATCH;
  if (n === 4) return [s[0], s[1], s[2], s[3]];
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = s[i];
  return out;
}

/** The offsets of a head without fields (never written to). */
const NO_FIELDS: number[] = [];

/**
 * Checks the request line starting at b[start] (known to end in CRLF):
 * where its version starts, or minus a status (-400, -505). The parser
 * calls it as soon as the line is in, so junk is refused before any header.
 */
export function checkRequestLine(b: Buffer, start: number): number {
  // (the tables as locals: an imported binding is a property load on the module object at every use)
  const tchar = TCHAR;
  let i = start;
  while (tchar[b[i]] === 1) i++;
  if (i === start || b[i] !== Ch.SP) return -400;
  found.methodEnd = i;
  const targetStart = ++i;
  while (isTargetByte(b[i])) i++;
  if (i === targetStart || b[i] !== Ch.SP) return -400;
  const minor = parseVersion(b, i + 1);
  return minor < 0 ? minor : i + 1;
}

/**
 * The minor version of "HTTP/1.x\r\n" at i, or minus a status: -505 for
 * another major version, -400 for junk. The LF is checked here, not assumed
 * from the line's end: "HTTP/1.1\rX-Y: 1\r\n" would otherwise pass, and the
 * field parse (which starts 10 bytes on) would read a Content-Length that a
 * front end ending lines at the bare CR never saw (a smuggled body).
 */
function parseVersion(b: Buffer, i: number): number {
  if (b[i] !== 0x48 || b[i + 1] !== 0x54 || b[i + 2] !== 0x54 || b[i + 3] !== 0x50 || b[i + 4] !== 0x2f) return -400;
  const major = b[i + 5] - 0x30;
  const minor = b[i + 7] - 0x30;
  if (major < 0 || major > 9 || b[i + 6] !== 0x2e || minor < 0 || minor > 9 || b[i + 8] !== Ch.CR || b[i + 9] !== Ch.LF) return -400;
  if (major !== 1 || minor > 1) return -505; // HTTP/1.2+ too, as llhttp
  return minor;
}

/** Where parseFields puts the offsets it finds (reused: parsing is never re-entered). */
const SCRATCH: number[] = [];

/** Header lines from i (a line start) to end (the start of the final CRLF) as offsets into SCRATCH: how many, or -400, or -431 past `max` offsets. */
function parseFields(b: Buffer, i: number, end: number, max: number): number {
  let n = 0;
  while (i < end) {
    if (n >= max) return -431;
    i = fieldLine(b, i, n);
    if (i < 0) return -400;
    n += 4;
  }
  return n;
}

/**
 * The field line at b[i] (one that ends in CRLF): its name and trimmed
 * value's offsets into SCRATCH[n, n + 4), and the offset past its CRLF; -1
 * when it is malformed.
 */
function fieldLine(b: Buffer, i: number, n: number): number {
  const tchar = TCHAR;
  const nameStart = i;
  while (tchar[b[i]] === 1) i++;
  // An empty name is either junk or obs-fold (a line starting with SP/HTAB): both refused (RFC 9112 5.2).
  if (i === nameStart || b[i] !== Ch.COLON) return -1;
  const nameEnd = i++;
  while (b[i] === Ch.SP || b[i] === Ch.HTAB) i++;
  const valueStart = i;
  while (isValueByte(b[i])) i++;
  if (b[i] !== Ch.CR || b[i + 1] !== Ch.LF) return -1; // a CR, LF or other control inside the value
  let valueEnd = i;
  while (valueEnd > valueStart && (b[valueEnd - 1] === Ch.SP || b[valueEnd - 1] === Ch.HTAB)) valueEnd--;
  const out = SCRATCH;
  out[n] = nameStart;
  out[n + 1] = nameEnd;
  out[n + 2] = valueStart;
  out[n + 3] = valueEnd;
  return i + 2;
}

// The names the server acts on, lower-case.
const CONTENT_LENGTH = 'content-length';
const TRANSFER_ENCODING = 'transfer-encoding';
const CONNECTION = 'connection';
const EXPECT = 'expect';
const HOST = 'host';
const UPGRADE = 'upgrade';

/** Keeps the value of a field the server acts on (picked by the name's length, then compared). */
function noteField(head: RequestHead, b: Buffer, ns: number, ne: number, vs: number, ve: number): void {
  switch (ne - ns) {
    case 4:
      if (nameIs(b, ns, HOST)) head.hosts++;
      return;
    case 6:
      if (nameIs(b, ns, EXPECT)) head.expect = addValue(head.expect, latin1(b, vs, ve));
      return;
    case 7:
      if (nameIs(b, ns, UPGRADE)) head.upgrade = addValue(head.upgrade, latin1(b, vs, ve));
      return;
    case 10:
      if (nameIs(b, ns, CONNECTION)) head.connection = addValue(head.connection, latin1(b, vs, ve));
      return;
    case 14:
      if (nameIs(b, ns, CONTENT_LENGTH)) head.contentLength = addValue(head.contentLength, latin1(b, vs, ve));
      return;
    case 17:
      if (nameIs(b, ns, TRANSFER_ENCODING)) head.transferEncoding = addValue(head.transferEncoding, latin1(b, vs, ve));
      return;
  }
}
