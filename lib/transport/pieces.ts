/**
 * A message kept as the pieces it arrived in (an HTTP body's chunks, a
 * WebSocket message's fragments): each piece is a view of a read, an object
 * of ~100 bytes that pins the read it came in. A peer that cuts its message
 * into 1-byte pieces would make that ~150 bytes kept per byte sent, so every
 * MERGE_PIECES pieces that are small on average become one Buffer as they
 * come. Large pieces are left as they are (merging would copy them twice);
 * each byte is copied here at most once, so it stays linear.
 */

/** How many pieces mergeSmallPieces looks at at a time. */
export const MERGE_PIECES = 256;

/** Below this many bytes a piece on average, pieces are merged (above, a view's own ~100 bytes are nothing beside its payload). */
const SMALL_PIECE = 1024;

/**
 * Merges pieces[from, length) into one Buffer when they are small on
 * average; returns where the next look starts (the new length). Called
 * once `pieces.length - from` reaches MERGE_PIECES.
 */
export function mergeSmallPieces(pieces: Buffer[], from: number): number {
  let bytes = 0;
  for (let i = from; i < pieces.length; i++) bytes += pieces[i].length;
  if (bytes < (pieces.length - from) * SMALL_PIECE) {
    pieces[from] = Buffer.concat(pieces.slice(from), bytes);
    pieces.length = from + 1;
  }
  return pieces.length;
}
