/**
 * The Range request header (RFC 9110 14.2) for one representation of known
 * length: a single "bytes=" range is honoured; several ranges, another
 * unit or a malformed value are ignored (the whole representation is sent,
 * which the RFC allows), and a range wholly past the end is unsatisfiable.
 */

/**
 * [start, end) of `size` bytes that `header` asks for, null to send
 * everything, or 'unsatisfiable' (416).
 */
export function byteRange(header: string, size: number): [number, number] | null | 'unsatisfiable' {
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (m === null) return null; // several ranges, another unit, junk
  const [, first, last] = m;
  if (first === '' && last === '') return null;
  if (first === '') {
    // The last n bytes.
    const n = Number(last);
    if (n === 0) return 'unsatisfiable';
    return [Math.max(0, size - n), size];
  }
  const start = Number(first);
  if (start >= size) return 'unsatisfiable';
  if (last === '') return [start, size];
  const end = Number(last);
  if (end < start) return null; // invalid: ignored
  return [start, Math.min(end + 1, size)];
}
