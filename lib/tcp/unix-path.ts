/**
 * UNIX socket path housekeeping: telling a live listener from a stale socket
 * file left by a dead process, and removing only the file we created.
 */
import * as fs from 'fs';

/** True when some process is listening on the UNIX socket at `path` (Linux: /proc/net/unix). */
export function hasLiveListener(path: string): boolean {
  let table: string;
  try {
    table = fs.readFileSync('/proc/net/unix', 'latin1');
  } catch {
    return true; // cannot tell: assume live, never remove someone's socket
  }
  const ACCEPTCON = 0x10000;
  for (const line of table.split('\n')) {
    // Num RefCount Protocol Flags Type St Inode Path
    const cols = line.trim().split(/\s+/);
    if (cols.length < 8 || cols.slice(7).join(' ') !== path) continue;
    if ((parseInt(cols[3], 16) & ACCEPTCON) !== 0) return true;
  }
  return false;
}

/** The inode of the socket file at `path`, or null when it is not a socket. */
export function socketInode(path: string): number | bigint | null {
  try {
    const st = fs.lstatSync(path);
    return st.isSocket() ? st.ino : null;
  } catch {
    return null;
  }
}

/** Removes `path` when it is still the socket file with inode `ino`. */
export function removeOwnSocket(path: string, ino: number | bigint | null): void {
  if (ino === null || socketInode(path) !== ino) return;
  try {
    fs.unlinkSync(path);
  } catch {
    // already gone
  }
}

/** Removes a socket file nobody listens on; false when it is live or not a socket. */
export function removeStaleSocket(path: string): boolean {
  if (socketInode(path) === null || hasLiveListener(path)) return false;
  try {
    fs.unlinkSync(path);
    return true;
  } catch {
    return false;
  }
}
