/**
 * IReactorSocket, every backend: adoptStreamPort on listening sockets another
 * owner made (Node's net here, standing in for a supervisor or systemd), for
 * TCP and UNIX; adoptStreamConnection on a connected socket; each refusal as
 * a typed CannotAdoptError with the caller's fd untouched and nothing leaked.
 */
import * as dgram from 'dgram';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { IPv4Address, UNIXAddress } from '../lib/address';
import { CannotAdoptError } from '../lib/errors';
import { Factory } from '../lib/protocol';
import type { Reactor } from '../lib/reactor';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { openFdCount } from './helpers/fds';
import { Echo, keeping, signal } from './helpers/tcp';

jest.setTimeout(15000);

/** The fd under a Node socket or server (libuv's handle; Unix only, which is all we run on). */
function fdOf(x: net.Server | net.Socket): number {
  const fd = (x as unknown as { _handle: { fd: number } | null })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('no fd under this Node handle');
  return fd;
}

/** The fd under a bound dgram socket (its state, read without the deprecated _handle getter). */
function udpFd(u: dgram.Socket): number {
  const state = Object.getOwnPropertySymbols(u).find((s) => s.description === 'state symbol');
  const fd = state === undefined ? undefined : (u as unknown as Record<symbol, { handle: { fd: number } }>)[state].handle.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('no fd under this dgram socket');
  return fd;
}

async function nodeServer(listen: (s: net.Server, done: () => void) => void): Promise<net.Server> {
  const s = net.createServer();
  await new Promise<void>((res) => listen(s, res));
  return s;
}

function closeServer(s: net.Server): Promise<void> {
  return new Promise((res) => s.close(() => res()));
}

/** What a Node client connecting to `where` reads back after writing `text` and half-closing. */
function echoed(where: net.NetConnectOpts, text: string): Promise<{ got: string; local: number }> {
  return new Promise((resolve, reject) => {
    let got = '';
    const c = net.connect(where, () => c.end(text));
    c.setEncoding('utf8');
    c.on('data', (d: string) => {
      got += d;
      if (got.length >= text.length) {
        const local = c.localPort ?? 0;
        c.destroy();
        resolve({ got, local });
      }
    });
    c.on('error', reject);
  });
}

forEachBackend('adoptStreamPort / adoptStreamConnection', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (x) => (r = x), () => r);

  it('accepts on a TCP listener handed over by another owner, which then closes its own fd', async () => {
    const server = await nodeServer((s, done) => s.listen(0, '127.0.0.1', done));
    const port = (server.address() as net.AddressInfo).port;
    const f = keeping(Echo);
    const p = r.adoptStreamPort(fdOf(server), 'INET', f);
    await closeServer(server); // the supervisor lets go: our dup keeps the socket listening
    expect(p.getHost()).toEqual(new IPv4Address('TCP', '127.0.0.1', port));
    expect(String(p)).toBe(`<KeepingFactory on ${port}>`);
    const { got, local } = await echoed({ host: '127.0.0.1', port }, 'adopted');
    expect(got).toBe('adopted');
    expect(f.built[0].transport.getPeer()).toEqual(new IPv4Address('TCP', '127.0.0.1', local));
    await p.stopListening();
    // Our dup was the last fd of the socket: nothing listens any more.
    await expect(echoed({ host: '127.0.0.1', port }, 'x')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('leaves the caller\'s fd open and working after stopListening', async () => {
    const server = await nodeServer((s, done) => s.listen(0, '127.0.0.1', done));
    const port = (server.address() as net.AddressInfo).port;
    const p = r.adoptStreamPort(fdOf(server), 'INET', Factory.forProtocol(Echo));
    await p.stopListening();
    const accepted = signal();
    server.once('connection', (c) => {
      c.destroy();
      accepted.resolve();
    });
    const c = net.connect(port, '127.0.0.1');
    c.on('error', () => {});
    await accepted.promise;
    c.destroy();
    await closeServer(server);
  });

  it('accepts on an adopted UNIX listener and leaves its socket file alone', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ioreactor-adopt-'));
    try {
      const sock = path.join(dir, 's');
      const server = await nodeServer((s, done) => s.listen(sock, done));
      const p = r.adoptStreamPort(fdOf(server), 'UNIX', Factory.forProtocol(Echo));
      // Node unlinks the path when it closes: keep a second link to put back.
      fs.linkSync(sock, `${sock}.keep`);
      await closeServer(server);
      fs.renameSync(`${sock}.keep`, sock);
      expect(p.getHost()).toEqual(new UNIXAddress(sock));
      expect((await echoed({ path: sock }, 'over unix')).got).toBe('over unix');
      await p.stopListening();
      expect(fs.lstatSync(sock).isSocket()).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs a protocol on an adopted connection; the peer is the real one', async () => {
    const peerSide = signal<net.Socket>();
    const server = await nodeServer((s, done) => s.listen(0, '127.0.0.1', done));
    server.once('connection', (c) => peerSide.resolve(c));
    const port = (server.address() as net.AddressInfo).port;
    const client = net.connect(port, '127.0.0.1');
    await new Promise<void>((res) => client.once('connect', res));
    client.pause();
    const f = keeping(Echo);
    r.adoptStreamConnection(fdOf(client), 'INET', f);
    client.destroy(); // Node's fd goes; the connection lives on in our dup
    const peer = await peerSide.promise;
    const echo = f.built[0];
    expect(echo.transport.getPeer()).toEqual(new IPv4Address('TCP', '127.0.0.1', port));
    peer.setEncoding('utf8');
    let got = '';
    const done = new Promise<void>((res) => peer.on('data', (d: string) => (got += d) === 'ping' && res()));
    peer.write('ping');
    await done;
    expect(got).toBe('ping');
    const ended = new Promise<void>((res) => peer.once('end', res));
    echo.transport.loseConnection();
    await ended;
    peer.destroy();
    await closeServer(server);
  });

  describe('refusals', () => {
    const f = Factory.forProtocol(Echo);
    function refusal(fn: () => unknown): CannotAdoptError {
      try {
        fn();
      } catch (e) {
        if (e instanceof CannotAdoptError) return e;
        throw e;
      }
      throw new Error('expected CannotAdoptError');
    }

    it('a closed fd, a file, a UDP socket: closed, not-socket, not-stream', async () => {
      const before = openFdCount();
      const file = fs.openSync('/dev/null', 'r');
      fs.closeSync(file);
      expect(refusal(() => r.adoptStreamPort(file, 'INET', f))).toMatchObject({ reason: 'closed', code: 'EBADF', fd: file });
      const devnull = fs.openSync('/dev/null', 'r');
      expect(refusal(() => r.adoptStreamPort(devnull, 'INET', f))).toMatchObject({ reason: 'not-socket', code: 'ENOTSOCK' });
      expect(refusal(() => r.adoptStreamConnection(devnull, 'INET', f)).reason).toBe('not-socket');
      expect(fs.fstatSync(devnull).isCharacterDevice()).toBe(true); // still the caller's, still open
      fs.closeSync(devnull);
      const udp = dgram.createSocket('udp4');
      await new Promise<void>((res) => udp.bind(0, '127.0.0.1', res));
      expect(refusal(() => r.adoptStreamPort(udpFd(udp), 'INET', f))).toMatchObject({ reason: 'not-stream', code: 'EPROTOTYPE' });
      await new Promise<void>((res) => udp.close(res));
      expect(openFdCount()).toBe(before);
    });

    it('another family, a connection as a port, a listener as a connection', async () => {
      const server = await nodeServer((s, done) => s.listen(0, '127.0.0.1', done));
      const before = openFdCount();
      const e = refusal(() => r.adoptStreamPort(fdOf(server), 'UNIX', f));
      expect(e).toMatchObject({ reason: 'wrong-family', code: 'EAFNOSUPPORT' });
      expect(e.message).toMatch(/not UNIX/);
      expect(refusal(() => r.adoptStreamPort(fdOf(server), 'INET6', f)).reason).toBe('wrong-family');
      expect(refusal(() => r.adoptStreamConnection(fdOf(server), 'INET', f))).toMatchObject({ reason: 'not-connected', code: 'ENOTCONN' });
      const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
      await new Promise<void>((res) => client.once('connect', res));
      const withClient = openFdCount();
      expect(refusal(() => r.adoptStreamPort(fdOf(client), 'INET', f))).toMatchObject({ reason: 'not-listening', code: 'EINVAL' });
      expect(openFdCount()).toBe(withClient);
      client.destroy();
      await closeServer(server);
      expect(openFdCount()).toBeLessThanOrEqual(before);
    });

    it('malformed arguments are TypeErrors', () => {
      expect(() => r.adoptStreamPort(-1, 'INET', f)).toThrow(TypeError);
      expect(() => r.adoptStreamPort(1.5, 'INET', f)).toThrow(TypeError);
      expect(() => r.adoptStreamPort(3, 'AF_INET' as never, f)).toThrow(/family must be 'INET', 'INET6' or 'UNIX'/);
      expect(() => r.adoptStreamPort(3, 'INET', null as never)).toThrow(/factory/);
      expect(() => r.adoptStreamConnection(3, 'inet' as never, f)).toThrow(TypeError);
    });
  });
});
