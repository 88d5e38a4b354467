/**
 * Twisted's `wantPID` for UNIX servers: `<address>.lock` holds the listening
 * process's pid, so a second server fails fast and a dead one's lock is taken over.
 */
import * as fs from 'fs';
import { CannotListenError } from '../errors';
import type { IAddress } from '../address';
import type { IListeningPort } from '../interfaces';

/** True when a process with this pid exists (EPERM counts: it exists, it is not ours). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Creates the lock file, taking over a stale one; throws CannotListenError if a live process holds it. */
function acquire(address: string, lockPath: string): void {
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

/** Takes the lock, listens with start(), and frees the lock when the port stops listening (or start fails). */
export function listenWithLock<A extends IAddress>(address: string, start: () => IListeningPort<A>): IListeningPort<A> {
  const lockPath = `${address}.lock`;
  acquire(address, lockPath);
  let port: IListeningPort<A>;
  try {
    port = start();
  } catch (e) {
    fs.rmSync(lockPath, { force: true });
    throw e;
  }
  const stop = port.stopListening.bind(port);
  Object.defineProperty(port, 'stopListening', {
    configurable: true,
    writable: true,
    value: () =>
      stop().addBoth((result: unknown) => {
        fs.rmSync(lockPath, { force: true });
        return result;
      }),
  });
  return port;
}
