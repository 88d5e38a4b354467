/**
 * Comma-separated header tokens (RFC 9110 5.6.1: `Connection: keep-alive,
 * Upgrade`), matched case-insensitively without splitting: a request's
 * Connection, Upgrade and the like are checked on every request, and a
 * split, a trim and a lower-casing per token would make garbage each time.
 */

const SP = 0x20;
const HTAB = 0x09;

/** Whether `value` holds `token` (lower-case ASCII) as one of its comma-separated, whitespace-trimmed tokens. */
function valueHasToken(value: string, token: string): boolean {
  const n = value.length;
  let i = 0;
  while (i < n) {
    while (i < n && (value.charCodeAt(i) === SP || value.charCodeAt(i) === HTAB)) i++;
    let end = value.indexOf(',', i);
    if (end < 0) end = n;
    let last = end;
    while (last > i && (value.charCodeAt(last - 1) === SP || value.charCodeAt(last - 1) === HTAB)) last--;
    if (last - i === token.length && sameToken(value, i, token)) return true;
    i = end + 1;
  }
  return false;
}

/** value[at, at + token.length) equals `token` (lower-case ASCII), ASCII letters compared case-insensitively. */
function sameToken(value: string, at: number, token: string): boolean {
  for (let k = 0; k < token.length; k++) {
    let c = value.charCodeAt(at + k);
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== token.charCodeAt(k)) return false;
  }
  return true;
}

/** Whether any of `values` (a header's values, or undefined/null when absent) holds `token` (lower-case ASCII). */
export function hasToken(values: readonly string[] | null | undefined, token: string): boolean {
  if (values === null || values === undefined) return false;
  for (let i = 0; i < values.length; i++) if (valueHasToken(values[i], token)) return true;
  return false;
}
