/**
 * How long a request body is (RFC 9112 6.1-6.3), decided from the head
 * alone, refusing every ambiguous framing that request smuggling relies on:
 * Content-Length with Transfer-Encoding, more than one Content-Length, a length
 * that is not plain digits, a Transfer-Encoding whose last coding is not
 * chunked, or any Transfer-Encoding on an HTTP/1.0 request.
 */
import type { RequestHead } from './head';

/** The body is chunked. */
export const CHUNKED = -1;

/** The body length in bytes, CHUNKED, or minus an HTTP status (-400, -501) when the framing is refused. */
export function bodyLength(head: RequestHead): number {
  const te = head.transferEncoding;
  const cl = head.contentLength;
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

/**
 * The length a single Content-Length field gives, or -400. RFC 9112 6.3
 * lets a recipient accept repeated identical values; we refuse any repeat or
 * list, as llhttp does, so no two parsers can disagree about it.
 */
function contentLength(values: string[]): number {
  if (values.length !== 1) return -400;
  const n = digits(values[0]);
  return n < 0 ? -400 : n;
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
