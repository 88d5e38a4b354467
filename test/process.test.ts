/**
 * spawnProcess on every backend with real children (/bin/sh, cat, true):
 * event order, exit codes and signals, pipes beyond stdio, passed-through
 * fds, env/path, the restored fd limit, nothing of ours leaking into the
 * child, typed errors for bad input, writes to a dead child, no zombies
 * after 500 children, and Node's child_process working alongside.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { NotConnectedError, ProcessDone, ProcessExitedAlready, ProcessTerminated, SpawnError } from '../lib/errors';
import { Failure } from '../lib/failure';
import { log, LogEvent } from '../lib/log';
import { loadNative } from '../lib/native';
import { Process, ProcessProtocol } from '../lib/process';
import type { SpawnProcessOptions } from '../lib/spawn-options';
import { createReactor, Reactor } from '../lib/reactor';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { openFdCount } from './helpers/fds';

jest.setTimeout(30000);

const PATH_ENV = { PATH: '/usr/bin:/bin' };

/** Records every callback in order and resolves `ended` with processEnded's reason. */
class Recorder extends ProcessProtocol {
  events: string[] = [];
  out: Buffer[] = [];
  err: Buffer[] = [];
  byFd = new Map<number, string>();
  exitReason: Failure | null = null;
  readonly ended: Promise<Failure>;
  readonly exited: Promise<Failure>;
  private endedResolve!: (f: Failure) => void;
  private exitedResolve!: (f: Failure) => void;

  constructor() {
    super();
    this.ended = new Promise((res) => (this.endedResolve = res));
    this.exited = new Promise((res) => (this.exitedResolve = res));
  }
  override connectionMade(): void {
    this.events.push('connectionMade');
  }
  override childDataReceived(fd: number, data: Buffer): void {
    this.byFd.set(fd, (this.byFd.get(fd) ?? '') + data.toString());
    super.childDataReceived(fd, data);
  }
  override outReceived(data: Buffer): void {
    this.out.push(data);
  }
  override errReceived(data: Buffer): void {
    this.err.push(data);
  }
  override childConnectionLost(fd: number): void {
    this.events.push(`lost ${fd}`);
    super.childConnectionLost(fd);
  }
  override processExited(reason: Failure): void {
    this.events.push('processExited');
    this.exitReason = reason;
    this.exitedResolve(reason);
  }
  override processEnded(reason: Failure): void {
    this.events.push('processEnded');
    this.endedResolve(reason);
  }
  get stdout(): string {
    return Buffer.concat(this.out).toString();
  }
  get stderr(): string {
    return Buffer.concat(this.err).toString();
  }
}

/** Zombie children of this process, from /proc/<pid>/stat (state Z, ppid = us). */
function zombies(): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' && Number(fields[1]) === process.pid) found.push(Number(entry));
  }
  return found;
}

forEachBackend('spawnProcess', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (reactor) => (r = reactor), () => r);

  function sh(p: ProcessProtocol, script: string, opts: SpawnProcessOptions = {}): Process {
    return r.spawnProcess(p, '/bin/sh', ['sh', '-c', script], { env: PATH_ENV, ...opts });
  }

  it('runs cat: stdin to stdout, then the events in order with processEnded last', async () => {
    const p = new Recorder();
    expect(p.hasTransport).toBe(false);
    expect(() => p.transport).toThrow(NotConnectedError); // typed as present, so never a silent null
    const t = r.spawnProcess(p, 'cat', ['cat'], { env: PATH_ENV });
    expect(typeof t.pid).toBe('number');
    expect(p.hasTransport).toBe(true);
    expect(p.transport).toBe(t);
    t.write('hello ');
    t.writeSequence(['wor', Buffer.from('ld')]);
    t.closeStdin();
    const reason = await p.ended;
    expect(p.stdout).toBe('hello world');
    expect(reason.check(ProcessDone)).toBe(ProcessDone);
    expect(p.events[0]).toBe('connectionMade');
    expect(p.events[p.events.length - 1]).toBe('processEnded');
    expect(p.events.filter((e) => e.startsWith('lost')).sort()).toEqual(['lost 0', 'lost 1', 'lost 2']);
    expect(p.events).toContain('processExited');
    expect(t.pid).toBeNull();
    expect(t.status).toBe(0);
    expect(p.connected).toBe(false);
  });

  it('reports a non-zero exit code and stderr', async () => {
    const p = new Recorder();
    sh(p, 'echo oops >&2; exit 3');
    const reason = await p.ended;
    expect(reason.value).toBeInstanceOf(ProcessTerminated);
    const e = reason.value as ProcessTerminated;
    expect(e.exitCode).toBe(3);
    expect(e.signal).toBeNull();
    expect(e.status).toBe(3 << 8);
    expect(p.stderr).toBe('oops\n');
    expect(p.exitReason?.value).toBe(reason.value);
  });

  it('signalProcess ends the child; afterwards it raises ProcessExitedAlready', async () => {
    const p = new Recorder();
    const t = sh(p, 'exec sleep 30');
    expect(() => t.signalProcess('NOPE')).toThrow(TypeError);
    t.signalProcess('TERM');
    const reason = await p.ended;
    const e = reason.value as ProcessTerminated;
    expect(e).toBeInstanceOf(ProcessTerminated);
    expect(e.signal).toBe('SIGTERM');
    expect(e.exitCode).toBeNull();
    expect(() => t.signalProcess('KILL')).toThrow(ProcessExitedAlready);
    expect(() => t.signalProcess(9)).toThrow(ProcessExitedAlready);
  });

  it('accepts signal names with or without SIG and numbers', async () => {
    for (const sig of ['SIGKILL', 'INT', 1] as const) {
      const p = new Recorder();
      const t = sh(p, 'exec sleep 30');
      t.signalProcess(sig);
      const e = (await p.ended).value as ProcessTerminated;
      expect(e.signal).toBe(sig === 'SIGKILL' ? 'SIGKILL' : sig === 'INT' ? 'SIGINT' : 'SIGHUP');
    }
  });

  it('reads extra pipes with childDataReceived and childConnectionLost', async () => {
    const p = new Recorder();
    sh(p, 'echo three >&3; echo out', { childFDs: { 0: 'w', 1: 'r', 2: 'r', 3: 'r' } });
    await p.ended;
    expect(p.byFd.get(3)).toBe('three\n');
    expect(p.stdout).toBe('out\n');
    expect(p.events).toContain('lost 3');
  });

  it('writes to a child fd other than stdin with writeToChild', async () => {
    const p = new Recorder();
    const t = sh(p, 'cat <&4', { childFDs: { 1: 'r', 4: 'w' } });
    t.writeToChild(4, 'via four');
    t.closeChildFD(4);
    await p.ended;
    expect(p.stdout).toBe('via four');
    expect(() => t.write('x')).toThrow(TypeError); // fd 0 was never a pipe we write
  });

  it('passes one of our fds through, and keeps it open for us', async () => {
    const file = path.join(os.tmpdir(), `ioreactor-pass-${process.pid}-${Date.now()}`);
    const fd = fs.openSync(file, 'w');
    try {
      const p = new Recorder();
      sh(p, 'echo passed', { childFDs: { 1: fd } });
      await p.ended;
      fs.writeSync(fd, 'ours\n');
      expect(fs.readFileSync(file, 'utf8')).toBe('passed\nours\n');
    } finally {
      fs.closeSync(fd);
      fs.unlinkSync(file);
    }
  });

  it('gives the child an empty env by default, ours with env: null, or exactly the one given', async () => {
    const none = new Recorder();
    r.spawnProcess(none, '/usr/bin/env', ['env']);
    expect((await none.ended).value).toBeInstanceOf(ProcessDone);
    expect(none.stdout).toBe('');
    process.env.IOREACTOR_TEST_VAR = 'inherited';
    try {
      const inherit = new Recorder();
      r.spawnProcess(inherit, '/usr/bin/env', ['env'], { env: null });
      await inherit.ended;
      expect(inherit.stdout).toContain('IOREACTOR_TEST_VAR=inherited\n');
    } finally {
      delete process.env.IOREACTOR_TEST_VAR;
    }
    const given = new Recorder();
    r.spawnProcess(given, '/usr/bin/env', ['env'], { env: { A: '1', B: 'two words' } });
    await given.ended;
    expect(given.stdout).toBe('A=1\nB=two words\n');
  });

  it('runs in `path` and finds a bare name in the PATH of the env given', async () => {
    const p = new Recorder();
    r.spawnProcess(p, 'pwd', ['pwd'], { env: PATH_ENV, path: '/tmp' });
    await p.ended;
    expect(p.stdout).toBe('/tmp\n');
  });

  it('restores the RLIMIT_NOFILE soft limit the process started with', async () => {
    const p = new Recorder();
    sh(p, 'ulimit -n');
    await p.ended;
    const original = loadNative().fdLimits().original;
    expect(p.stdout.trim()).toBe(Number.isFinite(original) ? String(original) : 'unlimited');
  });

  it('gives the child no fd of ours beyond its childFDs', async () => {
    const held = fs.openSync('/dev/null', 'r'); // an fd of ours the child must not see
    try {
      const p = new Recorder();
      r.spawnProcess(p, '/bin/ls', ['ls', '/proc/self/fd'], { env: PATH_ENV });
      await p.ended;
      // 0, 1, 2 and the directory ls itself has open.
      expect(p.stdout.trim().split('\n').map(Number).sort((a, b) => a - b)).toEqual([0, 1, 2, 3]);
    } finally {
      fs.closeSync(held);
    }
  });

  const asRoot = process.getuid?.() === 0 ? it : it.skip;
  asRoot('runs the child as uid/gid, without our supplementary groups (root only)', async () => {
    const p = new Recorder();
    sh(p, 'id -u; id -g; id -G', { uid: 65534, gid: 65534 });
    expect((await p.ended).value).toBeInstanceOf(ProcessDone);
    expect(p.stdout).toBe('65534\n65534\n65534\n');
  });

  it('throws SpawnError at once for a missing or non-executable program, leaking nothing', () => {
    const before = openFdCount();
    const p = new Recorder();
    expect(() => r.spawnProcess(p, '/nonexistent/program', ['x'])).toThrow(SpawnError);
    try {
      r.spawnProcess(p, 'no-such-program-ioreactor', ['x'], { env: PATH_ENV });
      throw new Error('not reached');
    } catch (e) {
      expect(e).toBeInstanceOf(SpawnError);
      expect((e as SpawnError).code).toBe('ENOENT');
      expect((e as SpawnError).message).toContain('no-such-program-ioreactor');
    }
    const file = path.join(os.tmpdir(), `ioreactor-noexec-${process.pid}`);
    fs.writeFileSync(file, '#!/bin/sh\n', { mode: 0o644 });
    try {
      expect(() => r.spawnProcess(p, file, ['x'])).toThrow(expect.objectContaining({ code: 'EACCES' }));
    } finally {
      fs.unlinkSync(file);
    }
    expect(() => r.spawnProcess(p, '/bin/true', ['true'], { path: '/nonexistent-dir' })).toThrow(SpawnError);
    expect(p.events).toEqual([]);
    expect(openFdCount()).toBe(before);
    expect(r.stats().handlers).toBe(0);
  });

  it('rejects bad arguments with TypeError naming them', () => {
    const p = new Recorder();
    const bad = (fn: () => unknown, what: RegExp): void => expect(fn).toThrow(what);
    bad(() => r.spawnProcess(p, '/bin/true', ['true', 42 as unknown as string]), /args\[1\] must be a string/);
    bad(() => r.spawnProcess(p, '/bin/true', 'true' as unknown as string[]), /args must be an array/);
    bad(() => r.spawnProcess(p, '', []), /executable must not be empty/);
    bad(() => r.spawnProcess(p, 7 as unknown as string, []), /executable must be a string/);
    bad(() => r.spawnProcess(p, '/bin/true', ['a\0b']), /NUL/);
    bad(() => r.spawnProcess({} as ProcessProtocol, '/bin/true', []), /processProtocol/);
    bad(() => r.spawnProcess(p, '/bin/true', [], { env: { A: 1 as unknown as string } }), /env A must be a string/);
    bad(() => r.spawnProcess(p, '/bin/true', [], { env: { 'A=B': 'x' } }), /contains '='/);
    bad(() => r.spawnProcess(p, '/bin/true', [], { childFDs: { 0: 'x' as unknown as 'r' } }), /childFDs\[0\]/);
    bad(() => r.spawnProcess(p, '/bin/true', [], { childFDs: { [-1]: 'r' } }), /childFDs key/);
    bad(() => r.spawnProcess(p, '/bin/true', [], { uid: -5 }), /uid/);
    bad(() => r.spawnProcess(p, '/bin/true', [], { usePTY: true }), /usePTY/);
    expect(r.stats().handlers).toBe(0);
  });

  it('throws SpawnError EBADF for a closed fd in childFDs, leaking nothing', () => {
    const before = openFdCount();
    const p = new Recorder();
    try {
      r.spawnProcess(p, '/bin/true', ['true'], { childFDs: { 0: 'w', 1: 'r', 3: 987654 } });
      throw new Error('not reached');
    } catch (e) {
      expect(e).toBeInstanceOf(SpawnError);
      expect((e as SpawnError).code).toBe('EBADF');
      expect((e as SpawnError).message).toContain('987654');
    }
    expect(openFdCount()).toBe(before);
    expect(zombies()).toEqual([]);
  });

  it('writing to a child that exited ends stdin cleanly, without SIGPIPE', async () => {
    const p = new Recorder();
    const t = sh(p, 'exit 0');
    await p.exited;
    t.write('nobody reads this'); // stdin was closed at exit: dropped
    const quick = new Recorder();
    // head reads 10 bytes and exits while a megabyte is still queued for it.
    const h = r.spawnProcess(quick, 'head', ['head', '-c', '10'], { env: PATH_ENV });
    h.write(Buffer.alloc(1 << 20, 0x61));
    const reason = await quick.ended;
    expect(reason.value).toBeInstanceOf(ProcessDone);
    expect(quick.stdout).toBe('aaaaaaaaaa');
    expect(quick.events.filter((e) => e === 'lost 0')).toHaveLength(1);
    expect((await p.ended).value).toBeInstanceOf(ProcessDone);
  });

  it('notices a running child closing its stdin: inConnectionLost at once, nothing written', async () => {
    const p = new Recorder();
    const stdinLost = new Promise<void>((res) => (p.inConnectionLost = res));
    const t = sh(p, 'exec 0<&-; exec sleep 30');
    await stdinLost;
    expect(p.events).toEqual(['connectionMade', 'lost 0']);
    expect(t.pid).not.toBeNull(); // still running
    t.write('dropped'); // the pipe has gone: dropped, no SIGPIPE, no second loss
    t.signalProcess('KILL');
    expect((await p.ended).value).toBeInstanceOf(ProcessTerminated);
    expect(p.events.filter((e) => e === 'lost 0')).toHaveLength(1);
  });

  it('moves a megabyte through cat with flow control', async () => {
    const p = new Recorder();
    const t = r.spawnProcess(p, 'cat', ['cat'], { env: PATH_ENV });
    const chunk = Buffer.alloc(64 * 1024, 0x62);
    for (let i = 0; i < 16; i++) t.write(chunk);
    t.closeStdin();
    await p.ended;
    expect(Buffer.concat(p.out).length).toBe(16 * chunk.length);
  });

  it('logs a throwing outReceived, drops that pipe, and still ends the process', async () => {
    const events: LogEvent[] = [];
    const obs = (e: LogEvent): void => void events.push(e);
    log.addObserver(obs);
    try {
      const p = new Recorder();
      p.outReceived = () => {
        throw new Error('boom in outReceived');
      };
      sh(p, 'echo hi; sleep 0.1');
      const reason = await p.ended;
      expect(reason.value).toBeInstanceOf(ProcessDone);
      expect(p.events).toContain('lost 1');
      expect(events.some((e) => String(e.failure?.value).includes('boom in outReceived'))).toBe(true);
    } finally {
      log.removeObserver(obs);
    }
  });

  it('costs no CPU while an idle child runs and after it has exited', async () => {
    const p = new Recorder();
    const t = sh(p, 'exec sleep 30');
    const idle = async (): Promise<number> => {
      const before = process.cpuUsage();
      await new Promise((res) => setTimeout(res, 300)); // a measurement window, not synchronisation
      const used = process.cpuUsage(before);
      return (used.user + used.system) / 1000;
    };
    expect(await idle()).toBeLessThan(150); // a spin would use the whole 300 ms
    t.signalProcess('KILL');
    await p.ended;
    expect(await idle()).toBeLessThan(150); // a spin would use the whole 300 ms
  });

  it('loseConnection closes every pipe; the child sees EOF on stdin', async () => {
    const p = new Recorder();
    const t = sh(p, 'cat >/dev/null; exit 4', { childFDs: { 0: 'w', 1: 'r' } });
    t.loseConnection();
    const reason = await p.ended;
    expect((reason.value as ProcessTerminated).exitCode).toBe(4);
    expect(p.events.filter((e) => e.startsWith('lost')).sort()).toEqual(['lost 0', 'lost 1']);
  });
});

describe('spawnProcess at scale', () => {
  let r: Reactor;
  beforeEach(() => {
    r = createReactor();
    r.backend; // open the native loop before counting fds
  });
  afterEach(() => r.close());

  it('leaves no zombie after 500 short-lived children', async () => {
    const fdsBefore = openFdCount();
    let ended = 0;
    for (let batch = 0; batch < 10; batch++) {
      const ps = Array.from({ length: 50 }, () => {
        const p = new Recorder();
        r.spawnProcess(p, '/bin/true', ['true'], { childFDs: batch % 2 === 0 ? {} : undefined });
        return p.ended.then((reason) => {
          expect(reason.value).toBeInstanceOf(ProcessDone);
          ended++;
        });
      });
      await Promise.all(ps);
    }
    expect(ended).toBe(500);
    expect(zombies()).toEqual([]);
    expect(openFdCount()).toBeLessThanOrEqual(fdsBefore);
    expect(r.stats().handlers).toBe(0);
  });

  it('works alongside child_process, each seeing its own exit codes', async () => {
    const node = (code: number): Promise<number | null> =>
      new Promise((resolve) => execFile('/bin/sh', ['-c', `exit ${code}`], (err) => resolve(err ? ((err as { code?: number }).code ?? null) : 0)));
    const ours = (code: number): Promise<number | null> => {
      const p = new Recorder();
      r.spawnProcess(p, '/bin/sh', ['sh', '-c', `exit ${code}`]);
      return p.ended.then((f) => (f.value instanceof ProcessTerminated ? f.value.exitCode : 0));
    };
    for (let round = 0; round < 5; round++) {
      const [a, b, c, d] = await Promise.all([node(5), ours(6), node(0), ours(7)]);
      expect([a, b, c, d]).toEqual([5, 6, 0, 7]);
    }
    expect(zombies()).toEqual([]);
  });
});
