/**
 * Undoing the bridge's unmasking (Rec.FrameKept, native/ws_frames.h). The
 * bridge unmasks a read that looks like one whole masked WebSocket frame
 * from its first byte, without knowing whether the read begins at a frame
 * boundary; only the protocol knows. When it does not (the read continues a
 * frame cut by an earlier read, or the connection is not reading frames
 * now), XOR with the same key gives the peer's bytes back exactly: the
 * bridge left the header and the key in place. Rare; the XOR is the one
 * every frame's masking uses (applyMask).
 */
import { applyMask } from './mask';

/** The header length, key included (6, or 8 with a 16-bit length), of the frame-shaped read at `at` of `b`. */
export function keptFrameHead(b: Uint8Array, at: number): number {
  return (b[at + 1] & 0x7f) === 126 ? 8 : 6;
}

/** Masks again the payload of the frame-shaped read of `length` bytes at `offset` of `memory`, as the peer sent it. */
export function remaskFrame(memory: ArrayBuffer, offset: number, length: number): void {
  const b = new Uint8Array(memory, offset, length);
  const head = keptFrameHead(b, 0);
  applyMask(b, head, length, b, head - 4);
}
