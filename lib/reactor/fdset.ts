/**
 * IReactorFDSet: watch any fd for reading or writing (Twisted's addReader /
 * addWriter). Readers have doRead(), writers doWrite(), both fileno(); the
 * fd stays the caller's and is never closed here.
 */
import { ConnectionLost, PollerError } from '../errors';
import { Failure } from '../failure';
import type { IReadDescriptor, IWriteDescriptor } from '../interfaces';
import { log } from '../log';
import { errnoName, Ev } from '../native';
import type { ReactorCore } from './core';
import { Handler } from './handler';

const READ_EVENTS = Ev.Readable | Ev.Hangup | Ev.Error;
const WRITE_EVENTS = Ev.Writable | Ev.Hangup | Ev.Error;

/** One raw registration: the reader and writer sharing an fd. */
class FdEntry extends Handler {
  reader: IReadDescriptor | null = null;
  writer: IWriteDescriptor | null = null;

  constructor(
    private readonly set: FDSet,
    readonly fd: number,
  ) {
    super();
  }

  override onRaw(events: number): void {
    const reader = this.reader;
    if (reader !== null && (events & READ_EVENTS) !== 0) {
      const why = reader.doRead();
      if (why instanceof Error) return this.set.drop(this, new Failure(why));
    }
    const writer = this.writer;
    if (writer !== null && this.slot >= 0 && (events & WRITE_EVENTS) !== 0) {
      const why = writer.doWrite();
      if (why instanceof Error) this.set.drop(this, new Failure(why));
    }
  }

  override failed(failure: Failure): void {
    this.set.drop(this, failure);
  }

  /** Reactor shutdown: removed, and its descriptors told ConnectionLost. */
  override disconnect(): void {
    this.set.drop(this, new Failure(new ConnectionLost('The reactor shut down')));
  }
}

function fdOf(d: IReadDescriptor | IWriteDescriptor, what: string): number {
  if (d === null || typeof d !== 'object' || typeof d.fileno !== 'function') throw new TypeError(`${what}: expected an object with fileno()`);
  const fd = d.fileno();
  if (!Number.isInteger(fd) || fd < 0) throw new PollerError(`${what}: fileno() returned ${String(fd)}, not an open fd`, fd, 'EBADF');
  return fd;
}

/** The reactor's readers and writers, on raw native registrations. */
export class FDSet {
  private readonly entries = new Map<number, FdEntry>();

  /** Uses `core` for the native registrations. */
  constructor(private readonly core: ReactorCore) {}

  /** Calls reader.doRead() whenever its fd is readable. */
  addReader(reader: IReadDescriptor): void {
    if (typeof reader?.doRead !== 'function') throw new TypeError('addReader: the reader needs a doRead() method');
    const e = this.entry(fdOf(reader, 'addReader'));
    if (e.reader === reader) return;
    const old = e.reader;
    e.reader = reader;
    this.update(e, () => (e.reader = old));
  }

  /** Calls writer.doWrite() whenever its fd is writable. */
  addWriter(writer: IWriteDescriptor): void {
    if (typeof writer?.doWrite !== 'function') throw new TypeError('addWriter: the writer needs a doWrite() method');
    const e = this.entry(fdOf(writer, 'addWriter'));
    if (e.writer === writer) return;
    const old = e.writer;
    e.writer = writer;
    this.update(e, () => (e.writer = old));
  }

  /** Stops watching the reader's fd for reading (no-op when not watched). */
  removeReader(reader: IReadDescriptor): void {
    for (const e of this.entries.values()) {
      if (e.reader === reader) {
        e.reader = null;
        this.update(e);
      }
    }
  }

  /** Stops watching the writer's fd for writing (no-op when not watched). */
  removeWriter(writer: IWriteDescriptor): void {
    for (const e of this.entries.values()) {
      if (e.writer === writer) {
        e.writer = null;
        this.update(e);
      }
    }
  }

  /** Removes every reader and writer; returns them (each once). */
  removeAll(): (IReadDescriptor | IWriteDescriptor)[] {
    const out = new Set<IReadDescriptor | IWriteDescriptor>();
    for (const e of [...this.entries.values()]) {
      if (e.reader) out.add(e.reader);
      if (e.writer) out.add(e.writer);
      e.reader = e.writer = null;
      this.update(e);
    }
    return [...out];
  }

  /** Every reader watched now. */
  getReaders(): IReadDescriptor[] {
    return [...this.entries.values()].flatMap((e) => (e.reader ? [e.reader] : []));
  }

  /** Every writer watched now. */
  getWriters(): IWriteDescriptor[] {
    return [...this.entries.values()].flatMap((e) => (e.writer ? [e.writer] : []));
  }

  /** @internal Drops an entry after doRead/doWrite failed; tells its descriptors. */
  drop(e: FdEntry, failure: Failure): void {
    const told = new Set([e.reader, e.writer].filter((d): d is IReadDescriptor | IWriteDescriptor => d !== null));
    e.reader = e.writer = null;
    this.update(e);
    for (const d of told) {
      if (typeof d.connectionLost !== 'function') continue;
      try {
        d.connectionLost(failure);
      } catch (err) {
        log.failure('Unhandled error in connectionLost of a dropped descriptor', new Failure(err));
      }
    }
  }

  private entry(fd: number): FdEntry {
    let e = this.entries.get(fd);
    if (e === undefined) {
      e = new FdEntry(this, fd);
      this.entries.set(fd, e);
    }
    return e;
  }

  /** Brings the native registration in line with the entry; `undo` restores it on failure. */
  private update(e: FdEntry, undo?: () => void): void {
    const interest = (e.reader ? Ev.Readable : 0) | (e.writer ? Ev.Writable : 0);
    let r = 0;
    if (interest === 0) {
      this.core.unregister(e);
      this.entries.delete(e.fd);
      return;
    }
    if (e.slot < 0) {
      const native = this.core.native;
      r = native.addRaw(e.fd, interest, false, false);
      if (r >= 0) {
        e.takeSlot(native, r);
        this.core.register(e);
      }
    } else {
      r = e.loop!.modifyRaw(e.slot, e.gen, interest, false, false);
    }
    if (r < 0) {
      undo?.();
      if (e.slot < 0) this.entries.delete(e.fd);
      throw new PollerError(`cannot watch fd ${e.fd}: ${errnoName(r)}`, e.fd, errnoName(r));
    }
  }
}
