/**
 * Headers: HTTP header fields with case-insensitive names, as
 * twisted.web.http_headers.Headers. Names are kept lower-cased; each name
 * holds its values in the order they came.
 */

/** Names already lower-cased, by the spelling they were given in (bounded). */
const lowered = new Map<string, string>();

/**
 * @internal `name` lower-cased. The same few names (often string constants, whose
 * hash V8 keeps) are set on every response: a lookup is cheaper than
 * lower-casing them again.
 */
export function lower(name: string): string {
  let key = lowered.get(name);
  if (key === undefined) {
    key = name.toLowerCase();
    if (lowered.size < 1000) {
      // Kept internalized (a property name comes back from Object.keys so): comparing it with a constant is then a pointer test.
      key = Object.keys({ [key]: 0 })[0];
      lowered.set(name, key);
    }
  }
  return key;
}

/** A case-insensitive multimap of header names to values. */
export class Headers {
  private readonly map = new Map<string, string[]>();

  /** Headers from `[name, value]` pairs (a name may repeat). */
  constructor(pairs: Iterable<readonly [string, string]> = []) {
    for (const [name, value] of pairs) this.addRawHeader(name, value);
  }

  /** True when a header of this name is present. */
  hasHeader(name: string): boolean {
    return this.map.has(lower(name));
  }

  /** Every value of `name` in order, or null when it is absent. */
  getRawHeaders(name: string): string[] | null {
    return this.map.get(lower(name)) ?? null;
  }

  /** Replaces every value of `name` with `values`. */
  setRawHeaders(name: string, values: readonly string[]): void {
    this.map.set(lower(name), values.slice());
  }

  /** Adds one more value of `name`. */
  addRawHeader(name: string, value: string): void {
    const key = lower(name);
    const have = this.map.get(key);
    if (have === undefined) this.map.set(key, [value]);
    else have.push(value);
  }

  /** Removes every value of `name`. */
  removeHeader(name: string): void {
    this.map.delete(lower(name));
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

  /** @internal Sets `name` to the one value `value`. */
  setOne(name: string, value: string): void {
    this.map.set(lower(name), [value]);
  }

  /** @internal Calls `fn` with each lower-cased name and its values, in the order names were first added. */
  forEachLower(fn: (values: string[], name: string) => void): void {
    this.map.forEach(fn);
  }

  /** @internal Whether an already lower-cased name is present. */
  hasLower(key: string): boolean {
    return this.map.has(key);
  }

  /** @internal The values of an already lower-cased name. */
  getLower(key: string): string[] | undefined {
    return this.map.get(key);
  }
}
