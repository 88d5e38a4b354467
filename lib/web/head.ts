/**
 * The request head (request line and header fields, RFC 9112 3 and 5),
 * parsed from bytes already known to end in an empty line whose every line
 * ends in CRLF (the parser's scan checked that). One pass of byte-table
 * checks over the Buffer; strings are made once per method, target, name and
 * value, never byte by byte. Returns an HTTP status (400, 505) for a head it
 * refuses.
 */
import { Ch, FIELD_VALUE, TARGET, TCHAR } from './chars';
import { Headers } from './headers';

/** A parsed request line and its header fields. */
export interface RequestHead {
  /** The method, case kept (methods are case-sensitive). */
  method: string;
  /** The request-target as sent. */
  target: string;
  /** The HTTP minor version: 0 or 1. */
  minor: number;
  /** The header fields. */
  headers: Headers;
}

/** Parses the head in b[start, end) (end just past the blank line); a status number when it is refused. */
export function parseHead(b: Buffer, start: number, end: number): RequestHead | number {
  const versionAt = checkRequestLine(b, start);
  if (versionAt < 0) return -versionAt;
  const methodEnd = b.indexOf(Ch.SP, start);
  const method = b.toString('latin1', start, methodEnd);
  const target = b.toString('latin1', methodEnd + 1, versionAt - 1);
  const minor = b[versionAt + 7] - 0x30;
  const headers = new Headers();
  const status = parseFields(b, versionAt + 10, end - 2, headers);
  return status !== 0 ? status : { method, target, minor, headers };
}

/**
 * Checks the request line starting at b[start] (known to end in CRLF):
 * where its version starts, or minus a status (-400, -505). The parser
 * calls it as soon as the line is in, so junk is refused before any header.
 */
export function checkRequestLine(b: Buffer, start: number): number {
  let i = start;
  while (TCHAR[b[i]] === 1) i++;
  if (i === start || b[i] !== Ch.SP) return -400;
  const targetStart = ++i;
  while (TARGET[b[i]] === 1) i++;
  if (i === targetStart || b[i] !== Ch.SP) return -400;
  const minor = parseVersion(b, i + 1);
  return minor < 0 ? minor : i + 1;
}

/** The minor version of "HTTP/1.x\r\n" at i, or minus a status: -505 for another major version, -400 for junk. */
function parseVersion(b: Buffer, i: number): number {
  if (b[i] !== 0x48 || b[i + 1] !== 0x54 || b[i + 2] !== 0x54 || b[i + 3] !== 0x50 || b[i + 4] !== 0x2f) return -400;
  const major = b[i + 5] - 0x30;
  const minor = b[i + 7] - 0x30;
  if (major < 0 || major > 9 || b[i + 6] !== 0x2e || minor < 0 || minor > 9 || b[i + 8] !== Ch.CR) return -400;
  if (major !== 1 || minor > 1) return -505; // HTTP/1.2+ too, as llhttp
  return minor;
}

/** Header lines from i (a line start) to end (the start of the final CRLF); 0, or 400. */
function parseFields(b: Buffer, i: number, end: number, headers: Headers): number {
  while (i < end) {
    const nameStart = i;
    while (TCHAR[b[i]] === 1) i++;
    // An empty name is either junk or obs-fold (a line starting with SP/HTAB): both refused (RFC 9112 5.2).
    if (i === nameStart || b[i] !== Ch.COLON) return 400;
    const name = b.toString('latin1', nameStart, i).toLowerCase();
    i++;
    while (b[i] === Ch.SP || b[i] === Ch.HTAB) i++;
    const valueStart = i;
    while (FIELD_VALUE[b[i]] === 1) i++;
    if (b[i] !== Ch.CR || b[i + 1] !== Ch.LF) return 400; // a CR, LF or other control inside the value
    let valueEnd = i;
    while (valueEnd > valueStart && (b[valueEnd - 1] === Ch.SP || b[valueEnd - 1] === Ch.HTAB)) valueEnd--;
    headers.addLower(name, b.toString('latin1', valueStart, valueEnd));
    i += 2;
  }
  return 0;
}
