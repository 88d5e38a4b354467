/**
 * Real fds for poller tests without native helpers: named pipes (mkfifo),
 * opened non-blocking at both ends and unlinked at once. `Pipes` tracks every
 * fd it opened so `closeAll()` in afterEach never leaks one.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** One pipe: read end `r`, write end `w`. */
export interface PipeFds {
  r: number;
  w: number;
}

const { O_RDONLY, O_WRONLY, O_NONBLOCK } = fs.constants;

/** Opens pipes in a private temp dir and closes whatever is still open on closeAll(). */
export class Pipes {
  private readonly open = new Set<number>();
  private dir: string | null = null;
  private next = 0;

  /** Makes `count` pipes (one mkfifo call for all of them). */
  make(count: number): PipeFds[] {
    return this.fifos(count).map((p) => this.openFifo(p));
  }

  /** Creates `count` named pipes without opening them (open later with openFifo). */
  fifos(count: number): string[] {
    this.dir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'ioreactor-fifo-'));
    const paths = Array.from({ length: count }, () => path.join(this.dir as string, `p${this.next++}`));
    for (let i = 0; i < paths.length; i += 1000) execFileSync('mkfifo', paths.slice(i, i + 1000));
    return paths;
  }

  /** Opens both ends of a fifo made by fifos() and unlinks it; no other fd is opened meanwhile. */
  openFifo(p: string): PipeFds {
    const r = this.track(fs.openSync(p, O_RDONLY | O_NONBLOCK));
    const w = this.track(fs.openSync(p, O_WRONLY | O_NONBLOCK));
    fs.unlinkSync(p);
    return { r, w };
  }

  /** One pipe. */
  one(): PipeFds {
    return this.make(1)[0];
  }

  /** Closes one fd this helper opened (no-op when already closed). */
  close(fd: number): void {
    if (this.open.delete(fd)) fs.closeSync(fd);
  }

  /** Stops tracking an fd someone else now owns and will close. */
  forget(fd: number): void {
    this.open.delete(fd);
  }

  /** Adopts an fd opened elsewhere so closeAll() closes it too. */
  track(fd: number): number {
    this.open.add(fd);
    return fd;
  }

  /** Closes every fd still open and removes the temp dir. */
  closeAll(): void {
    for (const fd of this.open) fs.closeSync(fd);
    this.open.clear();
    if (this.dir !== null) fs.rmSync(this.dir, { recursive: true, force: true });
    this.dir = null;
  }
}

/** Writes bytes into a pipe's write end. */
export function fill(fd: number, bytes = 1): void {
  fs.writeSync(fd, Buffer.alloc(bytes, 0x61));
}

/** Reads whatever is buffered in a non-blocking read end; returns the byte count. */
export function drain(fd: number): number {
  const buf = Buffer.alloc(65536);
  let total = 0;
  for (;;) {
    try {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) return total;
      total += n;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') return total;
      throw e;
    }
  }
}

/** Number of fds this process has open (Linux /proc, else /dev/fd). */
export function openFdCount(): number {
  const dir = fs.existsSync('/proc/self/fd') ? '/proc/self/fd' : '/dev/fd';
  return fs.readdirSync(dir).length;
}
