/**
 * The write-buffer high-water mark: above it a transport pauses its
 * streaming producer, and resumes it when the buffer has drained.
 */

/** Default high-water mark of a transport's write buffer, in bytes. */
export const DEFAULT_HIGH_WATER = 64 * 1024;

/** `value` when it is a usable high-water mark (a non-negative number), else a TypeError naming `what`. */
export function checkHighWaterMark(value: unknown, what: string): number {
  if (typeof value !== 'number' || !(value >= 0)) {
    throw new TypeError(`${what}: highWaterMark must be a non-negative number, got ${String(value)}`);
  }
  return value;
}
