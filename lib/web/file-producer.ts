/**
 * FileProducer: bytes [start, end) of a file written into a response as a
 * push producer (what twisted.web.static's producers do, pushing rather
 * than pulled). It reads a chunk and writes it, again and again, until the
 * channel pauses it (the connection's write buffer is over its high-water
 * mark) and goes on when the buffer drains. So a response holds about the
 * kernel's send buffer, the high-water mark and one chunk, however large
 * the file, and a client that stops reading stops the reading of the file.
 *
 * Reads are blocking (`fs.readSync`), as Twisted's are: a chunk of a file
 * in the page cache costs microseconds. A file that shrinks while it is
 * sent, or a read that fails, cannot give the length already promised: the
 * response ends there and the connection closes, so the client sees a
 * short body rather than a wrong one.
 */
// (imported: the global Buffer is a getter on globalThis)
import { Buffer } from 'buffer';
import * as fs from 'fs';
import { Failure } from '../failure';
import type { IPushProducer } from '../interfaces';
import { log } from '../log';
import type { Request } from './request';

/** Bytes read and written at a time. */
const CHUNK = 64 * 1024;

/** Streams part of a file into a response. */
export class FileProducer implements IPushProducer {
  private fd: number;
  private paused = false;
  /** Inside produce(): a resume from within our own write must not start a second loop. */
  private producing = false;

  /** Opens `filePath` (throws as fs.openSync does); nothing is read before start(). */
  constructor(
    private readonly request: Request,
    filePath: string,
    private pos: number,
    private readonly end: number,
  ) {
    this.fd = fs.openSync(filePath, 'r');
  }

  /** Registers with the request and writes until paused (at once unless the channel paused it on registering); the file is closed if the request refuses it. */
  start(): void {
    try {
      this.request.registerProducer(this, true);
    } catch (err) {
      this.close();
      throw err;
    }
    if (!this.paused) this.produce();
  }

  pauseProducing(): void {
    this.paused = true;
  }

  resumeProducing(): void {
    this.paused = false;
    this.produce();
  }

  /** The connection is gone: the file is closed. */
  stopProducing(): void {
    this.close();
  }

  private produce(): void {
    if (this.producing || this.fd < 0) return;
    this.producing = true;
    try {
      while (!this.paused && this.fd >= 0 && this.pos < this.end) this.writeChunk();
    } catch (err) {
      return this.cutShort(new Failure(err));
    } finally {
      this.producing = false;
    }
    if (this.fd >= 0 && this.pos >= this.end) this.done();
  }

  private writeChunk(): void {
    const chunk = Buffer.allocUnsafe(Math.min(CHUNK, this.end - this.pos));
    const n = fs.readSync(this.fd, chunk, 0, chunk.length, this.pos);
    if (n === 0) throw new Error(`the file shrank to ${this.pos} bytes while it was sent`);
    this.pos += n;
    this.request.write(n === chunk.length ? chunk : chunk.subarray(0, n));
  }

  private done(): void {
    this.close();
    this.request.unregisterProducer();
    this.request.finish();
  }

  /** The promised length cannot be sent: the response ends short and the connection closes after it. */
  private cutShort(failure: Failure): void {
    log.failure(`Error sending ${this.request.method} ${this.request.uri}`, failure);
    this.request.persistent = false;
    if (this.fd >= 0 && !this.request.finished) this.done();
    else this.close();
  }

  private close(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    fs.closeSync(fd);
  }
}
