/**
 * UNIX socket path housekeeping: telling a live listener from a stale socket
 * file left by a dead process, and removing only the file we created.
 *
 * Liveness is asked of the kernel, never decided from how a path is spelled:
 * a relative path, `a//b` or a symlinked directory all name the same socket,
 * and only a connect (or the inode) sees through them. A file is reclaimed
 * only when a connect to it is refused; anything else (a listener took it,
 * its backlog is full, no permission, not a stream socket) leaves it alone.
 */
import * as fs from 'fs';
import * as os from 'os';
import { loadNative } from '../native';

const ECONNREFUSED = os.constants.errno.ECONNREFUSED;

/** True unless a connect to `path` is refused: a listener, or no way to tell (never take over a live socket). */
export function hasLiveListener(path: string): boolean {
  return loadNative().probeUnix(path) !== -ECONNREFUSED;
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

/** Removes a socket file nobody listens on; false when it is live, in doubt or not a socket. */
export function removeStaleSocket(path: string): boolean {
  const ino = socketInode(path);
  if (ino === null || hasLiveListener(path)) return false;
  // The file probed must still be the file removed (a new listener may have replaced it).
  if (socketInode(path) !== ino) return false;
  try {
    fs.unlinkSync(path);
    return true;
  } catch {
    return false;
  }
}
