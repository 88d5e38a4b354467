/**
 * Headers: HTTP header fields with case-insensitive names, as
 * twisted.web.http_headers.Headers. Names are kept lower-cased; each name
 * holds its values in the order they came.
 */

/** A case-insensitive multimap of header names to values. */
export class Headers {
  private readonly map = new Map<string, string[]>();

  /** Headers from `[name, value]` pairs (a name may repeat). */
  constructor(pairs: Iterable<readonly [string, string]> = []) {
    for (const [name, value] of pairs) this.addRawHeader(name, value);
  }

  /** True when a header of this name is present. */
  hasHeader(name: string): boolean {
    return this.map.has(name.toLowerCase());
  }

  /** Every value of `name` in order, or null when it is absent. */
  getRawHeaders(name: string): string[] | null {
    return this.map.get(name.toLowerCase()) ?? null;
  }

  /** Replaces every value of `name` with `values`. */
  setRawHeaders(name: string, values: readonly string[]): void {
    this.map.set(name.toLowerCase(), values.slice());
  }

  /** Adds one more value of `name`. */
  addRawHeader(name: string, value: string): void {
    const key = name.toLowerCase();
    const have = this.map.get(key);
    if (have === undefined) this.map.set(key, [value]);
    else have.push(value);
  }

  /** Removes every value of `name`. */
  removeHeader(name: string): void {
    this.map.delete(name.toLowerCase());
  }

  /** Every (lower-case name, values) pair, in the order names were first added. */
  getAllRawHeaders(): IterableIterator<[string, string[]]> {
    return this.map.entries();
  }

  /** @internal Adds a value under a name the caller already lower-cased. */
  addLower(key: string, value: string): void {
    const have = this.map.get(key);
    if (have === undefined) this.map.set(key, [value]);
    else have.push(value);
  }

  /** @internal The values of an already lower-cased name. */
  getLower(key: string): string[] | undefined {
    return this.map.get(key);
  }
}
