/**
 * UNIX stream sockets through the same transports, every backend: echo,
 * the socket file's life (removed on stop, stale file replaced, live
 * listener refused), mode, and connect failures.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { UNIXAddress } from '../lib/address';
import { CannotListenError, ConnectError, ConnectionDone, ConnectionRefusedError } from '../lib/errors';
import { serverFromString } from '../lib/endpoints';
import { Factory } from '../lib/protocol';
import { createReactor, Reactor } from '../lib/reactor';
import { forEachBackend } from './helpers/backends';
import { Echo, keeping, Recorder, recording, signal } from './helpers/tcp';

jest.setTimeout(15000);

/** Node `net` in a child process serving `sock`: each client gets "other" and EOF. Resolves once listening. */
async function otherProgram(sock: string): Promise<ChildProcess> {
  const script = `require('net').createServer((c) => c.on('error', () => {}).end('other')).listen(process.argv[1], () => console.log('ready'))`;
  const child = spawn(process.execPath, ['-e', script, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    child.stdout!.once('data', () => resolve());
  });
  return child;
}

/** What a Node client connecting to `sock` reads before EOF. */
function readFrom(sock: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    net
      .connect(sock)
      .setEncoding('utf8')
      .on('data', (d: string) => (got += d))
      .on('end', () => resolve(got))
      .on('error', reject);
  });
}

forEachBackend('UNIX sockets', (backend) => {
  let r: Reactor;
  let dir: string;
  beforeEach(() => {
    r = createReactor({ backend });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ioreactor-unix-'));
  });
  afterEach(() => {
    r.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('echoes over listenUNIX/connectUNIX; the file goes away on stopListening', async () => {
    const sock = path.join(dir, 's');
    const sf = keeping(Echo);
    const port = r.listenUNIX(sock, sf, { mode: 0o600 });
    expect(port.getHost()).toEqual(new UNIXAddress(sock));
    expect(fs.statSync(sock).mode & 0o777).toBe(0o600);
    const c = new Recorder();
    const cf = Factory.forProtocol(Recorder);
    cf.buildProtocol = () => c;
    const connector = r.connectUNIX(sock, cf);
    expect(connector.getDestination()).toEqual(new UNIXAddress(sock));
    await c.made;
    expect(c.transport!.getPeer()).toEqual(new UNIXAddress(sock));
    c.transport!.write('over unix');
    await c.waitForBytes(9);
    expect(c.bytes.toString()).toBe('over unix');
    c.transport!.loseConnection();
    expect((await c.lost).check(ConnectionDone)).toBe(ConnectionDone);
    expect((await sf.built[0].lost).check(ConnectionDone)).toBe(ConnectionDone);
    await port.stopListening();
    expect(fs.existsSync(sock)).toBe(false);
  });

  it('a path held by a live listener is CannotListenError; the live file is left alone', () => {
    const sock = path.join(dir, 'live');
    r.listenUNIX(sock, Factory.forProtocol(Echo));
    expect(() => r.listenUNIX(sock, Factory.forProtocol(Echo))).toThrow(CannotListenError);
    // the path is named once, not as `path:path`
    expect(() => r.listenUNIX(sock, Factory.forProtocol(Echo))).toThrow(new RegExp(`^Couldn't listen on ${sock.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
    expect(fs.existsSync(sock)).toBe(true);
  });

  it('a stale socket file (no listener) is replaced', async () => {
    const sock = path.join(dir, 'stale');
    // A listener that goes away without removing its file.
    const server = net.createServer();
    await new Promise<void>((res) => server.listen(sock, res));
    // Close the socket but keep the file: Node unlinks on close, so relink it first.
    const keep = path.join(dir, 'keep');
    fs.linkSync(sock, keep);
    await new Promise<void>((res) => server.close(() => res()));
    fs.renameSync(keep, sock);
    expect(fs.lstatSync(sock).isSocket()).toBe(true);
    const port = r.listenUNIX(sock, keeping(Echo));
    const c = new Recorder();
    const cf = Factory.forProtocol(Recorder);
    cf.buildProtocol = () => c;
    r.connectUNIX(sock, cf);
    await c.made;
    await port.stopListening();
  });

  describe("another program's live socket", () => {
    let other: ChildProcess;
    let sock: string;
    beforeEach(async () => {
      sock = path.join(dir, 'other');
      other = await otherProgram(sock);
    });
    afterEach(async () => {
      const gone = new Promise((res) => other.once('exit', res));
      other.kill('SIGKILL');
      await gone;
    });

    const spellings: Array<[string, () => string]> = [
      ['the same path', () => sock],
      ['a relative path', () => path.relative(process.cwd(), sock)],
      ["a path with '//'", () => `${dir}//other`],
      ['a path through a symlinked directory', () => {
        const link = path.join(os.tmpdir(), `ioreactor-link-${process.pid}-${path.basename(dir)}`);
        fs.symlinkSync(dir, link);
        return path.join(link, 'other');
      }],
    ];
    for (const [name, spell] of spellings) {
      it(`is refused through ${name}, and its clients still reach it`, async () => {
        const spelled = spell();
        try {
          let err: unknown;
          try {
            r.listenUNIX(spelled, Factory.forProtocol(Echo));
          } catch (e) {
            err = e;
          }
          expect(err).toBeInstanceOf(CannotListenError);
          expect((err as CannotListenError).code).toBe('EADDRINUSE');
          expect(await readFrom(sock)).toBe('other');
        } finally {
          if (spelled.includes('ioreactor-link-')) fs.unlinkSync(path.dirname(spelled));
        }
      });
    }
  });

  it('a regular file in the way is not removed', () => {
    const file = path.join(dir, 'file');
    fs.writeFileSync(file, 'data');
    expect(() => r.listenUNIX(file, Factory.forProtocol(Echo))).toThrow(CannotListenError);
    expect(fs.readFileSync(file, 'utf8')).toBe('data');
  });

  it('connecting to a missing path or a dead socket fails the connector', async () => {
    const cf = recording(Recorder);
    r.connectUNIX(path.join(dir, 'missing'), cf);
    const why = await cf.failed;
    expect(why.value).toBeInstanceOf(ConnectError);
    // A socket file with nobody listening: refused.
    const sock = path.join(dir, 'dead');
    const p = r.listenUNIX(sock, Factory.forProtocol(Echo));
    const keep = path.join(dir, 'keep');
    fs.linkSync(sock, keep);
    await p.stopListening();
    fs.renameSync(keep, sock);
    const cf2 = recording(Recorder);
    const failed = signal();
    cf2.clientConnectionFailed = (_c, reason) => {
      cf2.failures.push(reason);
      failed.resolve();
    };
    r.connectUNIX(sock, cf2);
    await failed.promise;
    expect(cf2.failures[0].check(ConnectionRefusedError)).toBe(ConnectionRefusedError);
  });

  it('rejects bad arguments', () => {
    expect(() => r.listenUNIX('', Factory.forProtocol(Echo))).toThrow(TypeError);
    expect(() => r.listenUNIX(path.join(dir, 'x'), Factory.forProtocol(Echo), { mode: 0o77777 })).toThrow(/mode/);
    expect(() => r.connectUNIX(42 as unknown as string, Factory.forProtocol(Echo))).toThrow(/path/);
    expect(() => r.listenUNIX(path.join(dir, 'x'), Factory.forProtocol(Echo), { wantPID: 1 as unknown as boolean })).toThrow(/wantPID/);
  });

  describe('wantPID', () => {
    it('holds <path>.lock with our pid while listening; a second server fails; stopListening frees it', async () => {
      const sock = path.join(dir, 's');
      const port = r.listenUNIX(sock, Factory.forProtocol(Echo), { wantPID: true });
      expect(fs.readFileSync(`${sock}.lock`, 'utf8')).toBe(String(process.pid));
      let err: unknown;
      try {
        r.listenUNIX(sock, Factory.forProtocol(Echo), { wantPID: true });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(CannotListenError);
      expect((err as Error).message).toMatch(/held by process/);
      expect(fs.existsSync(sock)).toBe(true); // the first server's socket is untouched
      await port.stopListening();
      expect(fs.existsSync(`${sock}.lock`)).toBe(false);
    });

    it('takes over the lock of a process that is gone', async () => {
      const sock = path.join(dir, 's');
      const dead = spawnSync(process.execPath, ['-e', '0']).pid;
      fs.writeFileSync(`${sock}.lock`, String(dead));
      const port = r.listenUNIX(sock, Factory.forProtocol(Echo), { wantPID: true });
      expect(fs.readFileSync(`${sock}.lock`, 'utf8')).toBe(String(process.pid));
      await port.stopListening();
    });

    it('frees the lock when listening fails', () => {
      const sock = path.join(dir, 's');
      fs.writeFileSync(sock, 'a regular file in the way');
      expect(() => r.listenUNIX(sock, Factory.forProtocol(Echo), { wantPID: true })).toThrow(CannotListenError);
      expect(fs.existsSync(`${sock}.lock`)).toBe(false);
    });

    it('unix: endpoint with lockfile=1 on a real reactor: one listenUNIX, the lock held and freed', async () => {
      const sock = path.join(dir, 's');
      const calls: unknown[] = [];
      const listen = r.listenUNIX.bind(r);
      r.listenUNIX = (p, f, o) => {
        calls.push(o);
        return listen(p, f, o);
      };
      const port = await serverFromString(r, `unix:${sock}:lockfile=1`).listen(Factory.forProtocol(Echo));
      expect(calls).toEqual([{ backlog: 50, mode: 0o666, wantPID: true }]);
      expect(fs.readFileSync(`${sock}.lock`, 'utf8')).toBe(String(process.pid));
      await port.stopListening();
      expect(fs.existsSync(`${sock}.lock`)).toBe(false);
    });
  });
});
