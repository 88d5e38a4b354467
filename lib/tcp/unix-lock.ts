/**
 * Twisted's `wantPID` for UNIX servers (listenUNIX's option): `<address>.lock`
 * holds the listening process's pid, so a second server fails fast and a
 * dead one's lock is taken over. The Port takes it before binding and frees
 * it when it stops listening.
 */
import * as fs from 'fs';
import { CannotListenError } from '../errors';

/** True when a process with this pid exists (EPERM counts: it exists, it is not ours). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The lock file of a UNIX server at `address`. */
export function lockPathOf(address: string): string {
  return `${address}.lock`;
}

/** Creates the lock file, taking over a stale one; throws CannotListenError if a live process holds it. */
export function acquireLock(address: string): void {
  const lockPath = lockPathOf(address);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockPath, String(process.pid), { flag: 'wx' });
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new CannotListenError(address, address, `cannot create ${lockPath}: ${(e as Error).message}`, (e as NodeJS.ErrnoException).code);
      }
    }
    const holder = Number.parseInt(fs.readFileSync(lockPath, 'utf8'), 10);
    if (Number.isInteger(holder) && holder > 0 && alive(holder)) {
      throw new CannotListenError(address, address, `${lockPath} is held by process ${holder}`, 'EADDRINUSE');
    }
    fs.rmSync(lockPath, { force: true });
  }
  throw new CannotListenError(address, address, `could not take over ${lockPath}`, 'EADDRINUSE');
}

/** Removes the lock file of `address` when it still holds our pid. */
export function releaseLock(address: string): void {
  const lockPath = lockPathOf(address);
  try {
    if (fs.readFileSync(lockPath, 'utf8').trim() !== String(process.pid)) return;
    fs.rmSync(lockPath, { force: true });
  } catch {
    // Already gone: nothing to release.
  }
}
