/**
 * How long a request body is (RFC 9112 6.1-6.3), decided from the head
 * alone, refusing every ambiguous framing that request smuggling relies on:
 * Content-Length with Transfer-Encoding, differing Content-Lengths, a length
 * that is not plain digits, a Transfer-Encoding whose last coding is not
 * chunked, or any Transfer-Encoding on an HTTP/1.0 request.
 */
import type { RequestHead } from './head';

/** The body is chunked. */
export const CHUNKED = -1;

/** The body length in bytes, CHUNKED, or minus an HTTP status (-400, -501) when the framing is refused. */
export function bodyLength(head: RequestHead): number {
  const te = head.headers.getLower('transfer-encoding');
  const cl = head.headers.getLower('content-length');
  if (te !== undefined) {
    if (cl !== undefined || head.minor === 0) return -400;
    return transferCoding(te);
  }
  return cl === undefined ? 0 : contentLength(cl);
}

/** CHUNKED when the codings are exactly "chunked"; -400 when chunked is not last (or repeated), -501 for other codings. */
function transferCoding(values: string[]): number {
  const codings = values.join(',').split(',');
  const last = codings.length - 1;
  if (codings[last].trim().toLowerCase() !== 'chunked') return -400;
  for (let i = 0; i < last; i++) {
    const c = codings[i].trim().toLowerCase();
    if (c === '' || c === 'chunked') return -400;
    return -501; // gzip, deflate, ...: not decoded here
  }
  return CHUNKED;
}

/** The one length every Content-Length value (and list member) agrees on, or -400. */
function contentLength(values: string[]): number {
  let length = -1;
  for (const value of values) {
    for (const part of value.split(',')) {
      const n = digits(part.trim());
      if (n < 0 || (length >= 0 && n !== length)) return -400;
      length = n;
    }
  }
  return length < 0 ? -400 : length;
}

/** The value of a string of 1 to 15 ASCII digits, or -1. */
function digits(s: string): number {
  if (s.length === 0 || s.length > 15) return -1;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const d = s.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}
