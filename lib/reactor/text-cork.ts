/**
 * String writes gathered in JS while a record batch is dispatched. Native
 * already gathers every write made during a delivery and sends each
 * connection's bytes once as the delivery ends (native/loop_cork.cc), but
 * each write is still a native call: for a protocol that answers line by
 * line (sendLine per request, as Twisted's examples do) that call costs
 * ~1,000 instructions a line, half again what the line's own work costs
 * (bench/PERFORMANCE.md, "Strings gathered before the native call"). Here
 * the strings one transport writes in a row are joined instead, and go to
 * native as one write when that transport does anything else, when another
 * transport writes a string, or when the batch ends: still inside the
 * delivery, so native sends them exactly as it would have.
 */
import { STRING_AT_ONCE } from '../native';

/**
 * The most UTF-16 units held for one writer: a third of native's 4 KiB
 * bound on a gathered write (kCorkMaxWrite), so a joined string, at most 3
 * bytes a unit in UTF-8, is always gathered there too and never sent in the
 * middle of the delivery. Within one native string write (STRING_AT_ONCE).
 */
export const HOLD_AT_MOST = Math.min(Math.floor(4096 / 3), STRING_AT_ONCE);

/** A transport whose gathered strings can be written. */
export interface TextWriter {
  /** Writes `text` (at most HOLD_AT_MOST UTF-16 units) as one write. */
  sendHeldText(text: string): void;
}

/** One reactor core's gathered strings: one writer's at a time. */
export class TextCork {
  /** The writer whose strings are held, or null. */
  owner: TextWriter | null = null;
  /** True while the core dispatches a batch with corkWrites on: only then are strings held. */
  on = false;
  private text = '';

  /**
   * Holds `s` for `w` (appended to what `w` holds) and returns true, or
   * returns false when strings are not held now or `s` alone is longer
   * than HOLD_AT_MOST; `w` writes it itself then, after what it held has
   * gone down (released here).
   */
  hold(w: TextWriter, s: string): boolean {
    if (!this.on) return false;
    if (this.owner === w) {
      if (this.text.length + s.length <= HOLD_AT_MOST) {
        this.text += s;
        return true;
      }
      this.release();
    }
    if (s.length > HOLD_AT_MOST) return false;
    if (this.owner !== null) this.release();
    this.owner = w;
    this.text = s;
    return true;
  }

  /** Writes what the owner holds, now. */
  release(): void {
    const w = this.owner;
    if (w !== null) w.sendHeldText(this.take());
  }

  /** What is held, given up: nothing is held after. */
  take(): string {
    const text = this.text;
    this.owner = null;
    this.text = '';
    return text;
  }

  /** Forgets what is held (its loop is gone). */
  drop(): void {
    this.take();
  }
}
