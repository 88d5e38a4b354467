/** Seeded randomness for tests whose input is a generated mix. */

/** A small deterministic generator (xorshift), so a failing mix can be run again. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}
