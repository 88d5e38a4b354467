/**
 * Reading a thrown value without throwing again. Anything can be thrown,
 * including a revoked Proxy (every inspection, even `instanceof`, throws) or
 * an object whose `message`, `stack` or `constructor` getter throws. Failure
 * and the logger read thrown values through these so that reporting an error
 * is a total function: it never raises a second error of its own.
 */

/** `read()`, or `fallback` when reading throws. */
export function attempt<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

/** `String(value)`, or a placeholder when the value cannot be turned into text. */
export function safeString(value: unknown): string {
  return attempt(() => String(value), '<unprintable value>');
}
