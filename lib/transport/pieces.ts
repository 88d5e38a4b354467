/**
 * A message kept as the pieces it arrived in (an HTTP body's chunks, a
 * WebSocket message's fragments, a WebSocket frame's reads): each piece is
 * a view of a read, an object of ~100 bytes that pins the read it came in.
 * A peer that cuts its message into 1-byte pieces would make that ~150
 * bytes kept per byte sent, so every MERGE_PIECES pieces, each run of small
 * ones becomes one Buffer. Large pieces are left as they are (merging
 * would copy them again for nothing), and a window once looked at is not
 * looked at again, so each byte is copied here at most once and the work
 * stays linear.
 */

/** How many pieces mergeSmallPieces looks at at a time. */
export const MERGE_PIECES = 256;

/** Below this many bytes a piece is merged with its small neighbours (above, a view's own ~100 bytes are nothing beside its payload). */
const SMALL_PIECE = 1024;

/**
 * Merges each run of two or more small pieces in pieces[from, length) into
 * one Buffer, in order; returns where the next look starts (the new
 * length). Called once `pieces.length - from` reaches MERGE_PIECES.
 */
export function mergeSmallPieces(pieces: Buffer[], from: number): number {
  let out = from;
  for (let i = from; i < pieces.length; ) {
    let end = i;
    while (end < pieces.length && pieces[end].length < SMALL_PIECE) end++;
    if (end - i > 1) pieces[out++] = Buffer.concat(pieces.slice(i, end));
    else if (end > i) pieces[out++] = pieces[i];
    if (end < pieces.length) pieces[out++] = pieces[end];
    i = end + 1;
  }
  pieces.length = out;
  return out;
}

/**
 * Appends `piece` (unless it is empty) to `pieces`, whose [0, merged) were
 * looked at already, merging small ones once MERGE_PIECES wait; returns the
 * new `merged`, for the caller to keep beside its pieces.
 */
export function keepPiece(pieces: Buffer[], piece: Buffer, merged: number): number {
  if (piece.length === 0 || pieces.push(piece) - merged < MERGE_PIECES) return merged;
  return mergeSmallPieces(pieces, merged);
}
