/**
 * UTF-8 validation of text messages, incremental across fragments (RFC 6455
 * 8.1: an invalid text payload fails the connection with 1007, as soon as
 * the bad byte arrives). The bulk of each piece is checked by Node's native
 * buffer.isUtf8; only the up to 3 bytes of a code point cut by a fragment
 * boundary are carried, checked as a prefix here and completed with the
 * next piece.
 */
import { isUtf8 } from 'buffer';

/** Checks a text message piece by piece. */
export class Utf8Validator {
  /** The bytes of a code point cut at the end of the last piece (0-3 of them). */
  private carry: number[] = [];

  /** Forgets any partial code point (a new message starts). */
  reset(): void {
    if (this.carry.length !== 0) this.carry = [];
  }

  /** False when `data` cannot continue valid UTF-8; with `last`, also when the message ends inside a code point. */
  feed(data: Buffer, last: boolean): boolean {
    let start = 0;
    if (this.carry.length !== 0) {
      start = this.completeCarry(data);
      if (start < 0) return false;
      if (this.carry.length !== 0) return !last && validPrefix(this.carry);
    }
    const cut = incompleteTail(data, start);
    if (!isUtf8(start === 0 && cut === data.length ? data : data.subarray(start, cut))) return false;
    if (cut === data.length) return true;
    for (let i = cut; i < data.length; i++) this.carry.push(data[i]);
    return !last && validPrefix(this.carry);
  }

  /** Moves bytes of `data` into the carried code point until it is whole; where `data` goes on, or -1 if invalid. */
  private completeCarry(data: Buffer): number {
    const need = seqLength(this.carry[0]);
    let i = 0;
    while (this.carry.length < need && i < data.length) this.carry.push(data[i++]);
    if (this.carry.length < need) return i;
    const ok = isUtf8(Uint8Array.from(this.carry));
    this.carry = [];
    return ok ? i : -1;
  }
}

/** The length of the sequence a lead byte starts (1 for anything that is not a multi-byte lead). */
function seqLength(lead: number): number {
  if (lead >= 0xf0) return 4;
  if (lead >= 0xe0) return 3;
  if (lead >= 0xc0) return 2;
  return 1;
}

/** Where a code point cut off by the end of `data` starts (data.length when none is). */
function incompleteTail(data: Buffer, start: number): number {
  const end = data.length;
  for (let i = end - 1; i >= start && i >= end - 3; i--) {
    const b = data[i];
    if ((b & 0xc0) === 0x80) continue; // a continuation byte: look further back
    return b >= 0xc0 && end - i < seqLength(b) ? i : end;
  }
  return end;
}

/** True when `bytes` (shorter than its sequence) can still become a valid code point. */
function validPrefix(bytes: number[]): boolean {
  const lead = bytes[0];
  if (lead < 0xc2 || lead > 0xf4) return false;
  for (let i = 1; i < bytes.length; i++) if ((bytes[i] & 0xc0) !== 0x80) return false;
  if (bytes.length < 2) return true;
  const second = bytes[1];
  if (lead === 0xe0) return second >= 0xa0; // overlong
  if (lead === 0xed) return second <= 0x9f; // surrogates
  if (lead === 0xf0) return second >= 0x90; // overlong
  if (lead === 0xf4) return second <= 0x8f; // beyond U+10FFFF
  return true;
}
