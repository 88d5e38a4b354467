/**
 * The `systemd:` endpoint: the LISTEN_* checks in process (as systemd sets
 * the variables), and for real under systemd-socket-activate (Debian's
 * systemd package), which opens the socket, waits for a connection and
 * starts a child (test/fixtures/systemd-echo.js) with it as fd 3.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { listenFds, serverFromString, SocketActivationError, SystemdServerEndpoint } from '../lib/endpoints';
import { EndpointDescriptionError } from '../lib/endpoints';
import { Factory, Protocol } from '../lib/protocol';
import type { Reactor } from '../lib/reactor';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { ROOT } from './helpers/child';

jest.setTimeout(20000);

const ACTIVATE = '/usr/bin/systemd-socket-activate';

describe('LISTEN_* as systemd sets them', () => {
  const pid = 4242;
  it('lists fds from 3 with their names', () => {
    expect(listenFds({ LISTEN_PID: '4242', LISTEN_FDS: '2', LISTEN_FDNAMES: 'web:admin' }, pid)).toEqual([
      { fd: 3, name: 'web' },
      { fd: 4, name: 'admin' },
    ]);
    expect(listenFds({ LISTEN_PID: '4242', LISTEN_FDS: '1' }, pid)).toEqual([{ fd: 3, name: 'unknown' }]);
  });

  it.each([
    [{}, 'not-activated'],
    [{ LISTEN_FDS: '1' }, 'not-activated'],
    [{ LISTEN_PID: '4243', LISTEN_FDS: '1' }, 'other-pid'],
    [{ LISTEN_PID: 'abc', LISTEN_FDS: '1' }, 'malformed'],
    [{ LISTEN_PID: '4242', LISTEN_FDS: '-1' }, 'malformed'],
    [{ LISTEN_PID: '4242', LISTEN_FDS: '99999999' }, 'malformed'],
  ])('%j is refused: %s', (env, reason) => {
    expect(() => listenFds(env, pid)).toThrow(SocketActivationError);
    try {
      listenFds(env, pid);
    } catch (e) {
      expect((e as SocketActivationError).reason).toBe(reason);
    }
  });

  it('descriptions: domain and exactly one of index and name', () => {
    const r = {} as never;
    expect(() => serverFromString(r, 'systemd:domain=INET')).toThrow(/exactly one of index= and name=/);
    expect(() => serverFromString(r, 'systemd:domain=INET:index=0:name=x')).toThrow(EndpointDescriptionError);
    expect(() => serverFromString(r, 'systemd:domain=AF_INET:index=0')).toThrow(/domain must be INET, INET6 or UNIX/);
    expect(() => serverFromString(r, 'systemd:domain=INET:index=0')).toThrow(/cannot adopt sockets/);
  });
});

forEachBackend('systemd: endpoint', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (x) => (r = x), () => r);
  const f = Factory.forProtocol(Protocol);

  it('fails listen() with a typed error when there is no such socket', async () => {
    const env = { LISTEN_PID: String(process.pid), LISTEN_FDS: '1', LISTEN_FDNAMES: 'web' };
    const reasonOf = (e: SystemdServerEndpoint): Promise<string> =>
      e.listen(f).then(
        () => 'listened',
        (e: unknown) => (e as SocketActivationError).reason,
      );
    expect(await reasonOf(new SystemdServerEndpoint(r, 'INET', { index: 1 }, env))).toBe('no-such-index');
    expect(await reasonOf(new SystemdServerEndpoint(r, 'INET', { name: 'admin' }, env))).toBe('no-such-name');
    expect(await reasonOf(new SystemdServerEndpoint(r, 'INET', { index: 0 }, { ...env, LISTEN_PID: '1' }))).toBe('other-pid');
    expect(await reasonOf(new SystemdServerEndpoint(r, 'INET', { index: 0 }, {}))).toBe('not-activated');
  });

  describe('under systemd-socket-activate', () => {
    let child: ChildProcess | null = null;
    let dir: string;
    beforeAll(() => {
      if (!fs.existsSync(ACTIVATE)) throw new Error(`${ACTIVATE} is missing: install Debian's systemd package (.ci/run does)`);
    });
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ioreactor-systemd-'));
    });
    afterEach(async () => {
      if (child !== null && child.exitCode === null && child.signalCode === null) {
        const gone = new Promise((res) => child!.once('exit', res));
        child.kill('SIGKILL');
        await gone;
      }
      child = null;
      fs.rmSync(dir, { recursive: true, force: true });
    });

    /** Starts the activator listening on `listen`; resolves once it listens (it says so on stderr). */
    async function activate(listen: string, description: string, extra: string[] = []): Promise<{ out: () => string }> {
      const fixture = path.join(ROOT, 'test', 'fixtures', 'systemd-echo.js');
      const c = spawn(ACTIVATE, ['-l', listen, ...extra, process.execPath, fixture, description, backend], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      child = c;
      let out = '';
      let err = '';
      c.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
      await new Promise<void>((resolve, reject) => {
        c.stderr!.setEncoding('utf8').on('data', (d: string) => {
          err += d;
          if (/Listening on/.test(err)) resolve();
        });
        c.once('exit', (code) => reject(new Error(`systemd-socket-activate exited with ${code}: ${err}`)));
      });
      return { out: () => out };
    }

    /** Connects, reads the greeting line, checks an echo, closes; returns the greeting and the client's own port. */
    function converse(where: net.NetConnectOpts): Promise<{ greeting: string; local: number }> {
      return new Promise((resolve, reject) => {
        let got = '';
        const s = net.connect(where);
        s.setEncoding('utf8');
        s.on('data', (d: string) => {
          got += d;
          const nl = got.indexOf('\n');
          if (nl >= 0 && got.length === nl + 1) s.write('echo me');
          if (got.endsWith('echo me')) {
            resolve({ greeting: got.slice(0, nl), local: s.localPort ?? 0 });
            s.end();
          }
        });
        s.on('error', reject);
      });
    }

    it('INET by index: the child serves on the socket systemd opened', async () => {
      // The activator needs a fixed port: take a free one from the OS (a tiny race, accepted).
      const probe = net.createServer();
      await new Promise<void>((res) => probe.listen(0, '127.0.0.1', res));
      const port = (probe.address() as net.AddressInfo).port;
      await new Promise<void>((res) => probe.close(() => res()));
      const run = await activate(`127.0.0.1:${port}`, 'systemd:domain=INET:index=0');
      const { greeting, local } = await converse({ host: '127.0.0.1', port });
      expect(greeting).toBe(`peer 127.0.0.1 ${local}`);
      await new Promise((res) => child!.once('exit', res));
      expect(run.out()).toContain(`listening 127.0.0.1 ${port} inherited-fd-open false`);
    });

    it('UNIX by name (LISTEN_FDNAMES)', async () => {
      const sock = path.join(dir, 'activated.sock');
      await activate(sock, 'systemd:domain=UNIX:name=web', ['--fdname=web']);
      const { greeting } = await converse({ path: sock });
      expect(greeting).toBe('peer  '); // an unnamed client socket
      await new Promise((res) => child!.once('exit', res));
    });

    it('the wrong family is a typed error in the child', async () => {
      const sock = path.join(dir, 'wrong.sock');
      const run = await activate(sock, 'systemd:domain=INET:index=0');
      const s = net.connect(sock);
      s.on('error', () => {});
      await new Promise((res) => child!.once('exit', res));
      s.destroy();
      expect(run.out()).toContain('error CannotAdoptError wrong-family');
    });
  });
});
