/**
 * IReactorFDSet on real fds (named pipes), every backend: readers and
 * writers on any fd, removal, removeAll, and a doRead that throws; files
 * that cannot be polled are refused alike, and an fd closed without
 * removeReader never blocks its number's next owner.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import type { IPv4Address } from '../lib/address';
import { PollerError } from '../lib/errors';
import type { Failure } from '../lib/failure';
import { createReactor, Reactor } from '../lib/reactor';
import type { IReadDescriptor, IWriteDescriptor } from '../lib/reactor';
import { forEachBackend } from './helpers/backends';
import { drain, fill, Pipes } from './helpers/fds';
import { captureLog, keeping, Recorder, signal, tcpOf, until } from './helpers/tcp';

// Opens `count` connections to the port given as argv[1] once a line arrives
// on stdin, and keeps them: a child process, so the fds are not ours.
const CLIENTS = `
const net = require('net');
const [port, count] = process.argv.slice(1).map(Number);
process.stdin.once('data', () => {
  for (let i = 0; i < count; i++) net.connect(port, '127.0.0.1').on('error', () => {});
});
`;

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

  it('refuses a regular file or a directory with EPERM, as epoll does', () => {
    for (const path of [__filename, os.tmpdir()]) {
      const fd = pipes.track(fs.openSync(path, 'r'));
      const reader: IReadDescriptor = { fileno: () => fd, doRead: () => undefined };
      expect(() => r.addReader(reader)).toThrow(expect.objectContaining({ name: 'PollerError', code: 'EPERM', fd }));
      expect(r.getReaders()).toEqual([]);
    }
  });

  it('an fd closed without removeReader does not block accepts that reuse its number', async () => {
    const cap = captureLog();
    const f = keeping(Recorder);
    const port = r.listenTCP(0, f, { interface: '127.0.0.1' });
    const portNo = (port.getHost() as IPv4Address).port;
    const child = spawn(process.execPath, ['-e', CLIENTS, String(portNo), '20'], { stdio: ['pipe', 'ignore', 'inherit'] });
    const exited = new Promise((res) => child.once('exit', res));
    const p = pipes.one(); // the lowest free numbers: the next accept gets p.r once it is closed
    const reader: IReadDescriptor = { fileno: () => p.r, doRead: () => undefined };
    try {
      r.addReader(reader);
      pipes.close(p.r);
      child.stdin!.write('go\n');
      await until(() => f.built.length === 20, 5000, '20 connections accepted');
      // The test shows what it means to: an accepted connection got the closed number.
      expect(f.built.some((c) => (tcpOf(c) as unknown as { fileno(): number }).fileno() === p.r)).toBe(true);
      expect(cap.events).toEqual([]);
    } finally {
      cap.stop();
      child.kill();
      await exited;
      for (const c of f.built) tcpOf(c).abortConnection();
      r.removeReader(reader);
      await port.stopListening();
    }
  });

  it('bad descriptors are typed errors', () => {
    expect(() => r.addReader({} as IReadDescriptor)).toThrow(TypeError);
    expect(() => r.addReader({ fileno: () => -1, doRead: () => undefined })).toThrow(PollerError);
    expect(() => r.addWriter({ fileno: () => 1.5, doWrite: () => undefined })).toThrow(PollerError);
  });
});
