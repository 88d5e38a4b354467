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
 *
 * What differs: a string written to a connection that has already failed
 * (a reset not yet delivered) is not refused at once; `connected` reads
 * true until the first native call on it reports the failure, and the
 * close's reason is that call's (EPIPE from the released write) or the
 * failure's own record's (ECONNRESET), whichever comes first. A write's
 * result reaches its own transport's afterWrite, guarded there, even when
 * another transport's write or the batch's end sent it. And at the end of
 * a delivery native sends each stream's gathered bytes in the order the
 * streams were first written to natively, which a held string can move
 * later; no stream's own bytes change order.
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

/** A UTF-16 surrogate: joined strings with one are written one by one (see TextCork.release). */
const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * The joined strings of one run of holds: a new object each time a writer
 * starts holding, so it is young while strings are appended to it, and
 * storing the joined string in it skips the write barrier's slow path. When
 * it was kept on the cork, an old object, the store cost ~70 instructions a
 * string written (bench/PERFORMANCE.md, "Where the key-value server's CPU
 * goes, and a line written at a time").
 */
class Held {
  constructor(public text: string) {}
}

/** What a cork holds when no writer holds anything. */
const NOTHING = new Held('');

/** One reactor core's gathered strings: one writer's at a time. */
export class TextCork {
  /** The writer whose strings are held, or null. */
  owner: TextWriter | null = null;
  /** True while the core dispatches a batch with corkWrites on: only then are strings held. */
  on = false;
  /** The held strings joined. */
  private held = NOTHING;
  /** How many strings `held.text` joins, and where each ends in it (a typed array: a store a string, no allocation). */
  private count = 0;
  private readonly ends = new Int32Array(HOLD_AT_MOST);

  /**
   * Holds `s` for `w` (appended to what `w` holds) and returns true, or
   * returns false when strings are not held now or `s` alone is longer
   * than HOLD_AT_MOST; `w` writes it itself then, after what it held has
   * gone down (released here). An empty string writes nothing: taken.
   */
  hold(w: TextWriter, s: string): boolean {
    if (!this.on) return false;
    if (s.length === 0) return true;
    if (this.owner === w) {
      const held = this.held;
      if (held.text.length + s.length <= HOLD_AT_MOST) {
        held.text += s;
        this.ends[this.count++] = held.text.length;
        return true;
      }
    }
    if (this.owner !== null) this.release();
    // A release runs the released writer's afterWrite, protocol code that may write (and so hold) again: then `s` goes
    // as a write of its own, and what that code holds stays held.
    if (this.owner !== null || s.length > HOLD_AT_MOST) return false;
    this.owner = w;
    this.held = new Held(s);
    this.ends[0] = s.length;
    this.count = 1;
    return true;
  }

  /**
   * Writes what the owner holds, now: joined, as one write, unless a
   * string has a surrogate. Then each goes as its own write, as it would
   * have: UTF-8 encodes a lone surrogate as U+FFFD, and one string ending
   * in a high surrogate and the next starting with a low one would make
   * one character joined (V8's regexp engine answers at once for a string
   * of one-byte characters, the usual case, and it flattens the join,
   * which the native write would do anyway).
   */
  release(): void {
    const w = this.owner;
    if (w === null) return;
    if (this.joinable()) {
      const text = this.held.text;
      this.drop();
      return w.sendHeldText(text);
    }
    const pieces = this.pieces();
    this.drop();
    for (const t of pieces) w.sendHeldText(t);
  }

  /** What is held, as the writes release() would make; nothing is held after. */
  take(): string[] {
    const writes = this.owner === null ? [] : this.joinable() ? [this.held.text] : this.pieces();
    this.drop();
    return writes;
  }

  /** Forgets what is held (its loop is gone). */
  drop(): void {
    this.owner = null;
    this.held = NOTHING;
    this.count = 0;
  }

  /** The held strings go as one write: there is one, or none has a surrogate. */
  private joinable(): boolean {
    return this.count === 1 || !SURROGATE.test(this.held.text);
  }

  /** The held strings one by one, as they were written. */
  private pieces(): string[] {
    const out: string[] = [];
    const text = this.held.text;
    for (let i = 0, from = 0; i < this.count; from = this.ends[i++]) out.push(text.slice(from, this.ends[i]));
    return out;
  }
}
