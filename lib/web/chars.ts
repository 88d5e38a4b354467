/**
 * Byte classes of RFC 9110/9112, so the request parser checks each byte of
 * a method, target, header name or value with one array read or a couple of
 * comparisons instead of a regular expression over a string.
 */

function table(accept: (c: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) t[c] = accept(c) ? 1 : 0;
  return t;
}

const TCHAR_SYMBOLS = "!#$%&'*+-.^_`|~";

/** tchar (RFC 9110 5.6.2): the bytes of a method or a header name. */
export const TCHAR = table(
  (c) =>
    (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || TCHAR_SYMBOLS.includes(String.fromCharCode(c)),
);

/**
 * A byte of a request-target: visible US-ASCII (no space, no control, no
 * obs-text). (Comparisons, not a table: these classes are ranges, and a
 * second typed-array read per byte costs more. Out of range, undefined, is
 * not one.)
 */
export function isTargetByte(c: number): boolean {
  return c > 0x20 && c < 0x7f;
}

/** field-vchar, SP or HTAB (RFC 9110 5.5): a byte a header value may hold (obs-text included). */
export function isValueByte(c: number): boolean {
  return c > 0x1f ? c !== 0x7f : c === 0x09;
}

/** Hex digit values, or 255 for a byte that is not one. */
export const HEX = (() => {
  const t = new Uint8Array(256).fill(255);
  for (let i = 0; i < 10; i++) t[0x30 + i] = i;
  for (let i = 0; i < 6; i++) {
    t[0x41 + i] = 10 + i;
    t[0x61 + i] = 10 + i;
  }
  return t;
})();

/** Byte values used by name. */
export const enum Ch {
  HTAB = 0x09,
  LF = 0x0a,
  CR = 0x0d,
  SP = 0x20,
  COLON = 0x3a,
  SEMI = 0x3b,
  EQUALS = 0x3d,
  DQUOTE = 0x22,
  BACKSLASH = 0x5c,
}
