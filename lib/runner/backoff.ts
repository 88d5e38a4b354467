/**
 * When to restart a worker that died: at once after a worker that had run
 * for a while, then doubling delays while its replacements keep dying
 * quickly, so a crash loop costs a spawn per `max` seconds, not a spinning core.
 */

/** Restart delays of one worker slot. */
export class RestartBackoff {
  private quickDeaths = 0;

  /**
   * `stable`: seconds a worker must have run for its death to count as a
   * fresh failure (restarted at once); `first`, `max`: the delays, in seconds.
   */
  constructor(
    private readonly stable = 10,
    private readonly first = 0.25,
    private readonly max = 30,
  ) {}

  /** A worker of this slot died after running `lived` seconds: seconds to wait before starting the next. */
  died(lived: number): number {
    this.quickDeaths = lived >= this.stable ? 1 : this.quickDeaths + 1;
    if (this.quickDeaths === 1) return 0;
    return Math.min(this.first * 2 ** (this.quickDeaths - 2), this.max);
  }
}
