/**
 * IReactorFDSet on real fds (named pipes), every backend: readers and
 * writers on any fd, removal, removeAll, and a doRead that throws.
 */
import * as fs from 'fs';
import { PollerError } from '../lib/errors';
import type { Failure } from '../lib/failure';
import { createReactor, Reactor } from '../lib/reactor';
import type { IReadDescriptor, IWriteDescriptor } from '../lib/reactor';
import { forEachBackend } from './helpers/backends';
import { drain, fill, Pipes } from './helpers/fds';
import { captureLog, signal } from './helpers/tcp';

jest.setTimeout(10000);

forEachBackend('FD set', (backend) => {
  let r: Reactor;
  let pipes: Pipes;
  beforeEach(() => {
    r = createReactor({ backend });
    pipes = new Pipes();
  });
  afterEach(() => {
    r.removeAll();
    r.close();
    pipes.closeAll();
  });

  it('calls doRead when the fd is readable and stops after removeReader', async () => {
    const p = pipes.one();
    const reads: number[] = [];
    const got = signal();
    const reader: IReadDescriptor = {
      fileno: () => p.r,
      doRead: () => {
        reads.push(drain(p.r));
        got.resolve();
      },
    };
    r.addReader(reader);
    r.addReader(reader);
    expect(r.getReaders()).toEqual([reader]);
    fill(p.w, 5);
    await got.promise;
    expect(reads).toEqual([5]);
    r.removeReader(reader);
    expect(r.getReaders()).toEqual([]);
    fill(p.w, 3);
    await new Promise((res) => setTimeout(res, 30)); // proving an absence
    expect(reads).toEqual([5]);
    expect(drain(p.r)).toBe(3);
  });

  it('calls doWrite while the fd is writable; removeAll returns every reader and writer', async () => {
    const p = pipes.one();
    let writes = 0;
    const wrote = signal();
    const writer: IWriteDescriptor = {
      fileno: () => p.w,
      doWrite: () => {
        writes++;
        fs.writeSync(p.w, 'x');
        r.removeWriter(writer);
        wrote.resolve();
      },
    };
    r.addWriter(writer);
    expect(r.getWriters()).toEqual([writer]);
    await wrote.promise;
    expect(writes).toBe(1);
    expect(drain(p.r)).toBe(1);
    expect(r.getWriters()).toEqual([]);
    const reader: IReadDescriptor = { fileno: () => p.r, doRead: () => drain(p.r) };
    r.addReader(reader);
    r.addWriter(writer);
    expect(new Set(r.removeAll())).toEqual(new Set([reader, writer]));
    expect(r.getReaders()).toEqual([]);
    expect(r.getWriters()).toEqual([]);
  });

  it('a doRead that throws is logged and drops that descriptor (connectionLost), others carry on', async () => {
    const cap = captureLog();
    try {
      const [a, b] = pipes.make(2);
      const lost = signal<Failure>();
      const bad: IReadDescriptor = {
        fileno: () => a.r,
        doRead: () => {
          throw new Error('reader boom');
        },
        connectionLost: (f) => lost.resolve(f),
      };
      const goodRead = signal();
      const good: IReadDescriptor = { fileno: () => b.r, doRead: () => (drain(b.r), goodRead.resolve()) };
      r.addReader(bad);
      r.addReader(good);
      fill(a.w);
      expect((await lost.promise).getErrorMessage()).toBe('reader boom');
      expect(r.getReaders()).toEqual([good]);
      expect(cap.events.some((e) => (e.failure?.value as Error)?.message === 'reader boom')).toBe(true);
      fill(b.w);
      await goodRead.promise;
    } finally {
      cap.stop();
    }
  });

  it('bad descriptors are typed errors', () => {
    expect(() => r.addReader({} as IReadDescriptor)).toThrow(TypeError);
    expect(() => r.addReader({ fileno: () => -1, doRead: () => undefined })).toThrow(PollerError);
    expect(() => r.addWriter({ fileno: () => 1.5, doWrite: () => undefined })).toThrow(PollerError);
  });
});
