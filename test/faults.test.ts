/**
 * Syscall failures through the real reactor, every backend, using the fault
 * build of the addon (native/fault.h; built by scripts/test-faults.sh into
 * build-faults/). Each accept errno that is about the system gives exactly one
 * log line and the port keeps listening; a read or write errno drops that one
 * connection with a ConnectionLost naming the errno and touches nothing else.
 *
 * Without the fault addon the suite is skipped, unless IOREACTOR_REQUIRE_FAULTS
 * is set (scripts/test-faults.sh sets it), when it fails instead.
 */
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import type { IPv4Address } from '../lib/address';
import { ConnectionLost } from '../lib/errors';
import type { LogEvent } from '../lib/log';
import { loadNative, NativeBinding } from '../lib/native';
import { createReactor, Reactor } from '../lib/reactor';
import type { Port } from '../lib/tcp/port';
import { backendNames } from './helpers/backends';
import { captureLog, KeepingFactory, Recorder, until } from './helpers/tcp';

jest.setTimeout(20000);

const faultAddon = path.resolve(
  process.env.IOREACTOR_FAULT_ADDON ?? path.join(__dirname, '..', 'build-faults', 'Release', 'ioreactor.node'),
);
const haveFaults = fs.existsSync(faultAddon);
const previousAddon = process.env.IOREACTOR_ADDON;
if (haveFaults) process.env.IOREACTOR_ADDON = faultAddon;
afterAll(() => {
  if (previousAddon === undefined) delete process.env.IOREACTOR_ADDON;
  else process.env.IOREACTOR_ADDON = previousAddon;
});

const E = os.constants.errno;

/** The fault API of the loaded addon; throws when this is not a fault build. */
function faults(): Required<Pick<NativeBinding, 'setFault' | 'clearFaults' | 'faultHits'>> {
  const b = loadNative();
  if (!b.setFault || !b.clearFaults || !b.faultHits) throw new Error(`${faultAddon} is not a fault build`);
  return { setFault: b.setFault, clearFaults: b.clearFaults, faultHits: b.faultHits };
}

/** Arms a fault, failing the test if the addon refuses the arguments. */
function arm(name: string, errno: number, count = 1): void {
  expect(faults().setFault(name, errno, count)).toBe(0);
}

function connectClient(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

/** Resolves once the peer closed the socket (end or error, whichever first). */
function closedByPeer(s: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    s.once('close', () => resolve());
    s.once('error', () => resolve());
    s.resume();
  });
}

function suite(backend: string): void {
  let r: Reactor;
  let port: Port;
  let factory: KeepingFactory<Recorder>;
  let logged: { events: LogEvent[]; stop: () => void };
  const clients: net.Socket[] = [];

  beforeEach(() => {
    faults().clearFaults();
    logged = captureLog();
    r = createReactor({ backend });
    factory = new KeepingFactory<Recorder>();
    factory.protocol = Recorder;
    port = r.listenTCP(0, factory, { interface: '127.0.0.1' });
  });
  afterEach(() => {
    faults().clearFaults();
    for (const c of clients.splice(0)) c.destroy();
    r.close();
    logged.stop();
  });

  const portNumber = (): number => (port.getHost() as IPv4Address).port;

  /** A client and the server-side protocol for it. */
  async function connected(): Promise<{ client: net.Socket; server: Recorder }> {
    const next = factory.nextProtocol();
    const client = await connectClient(portNumber());
    clients.push(client);
    const server = await next;
    await server.made;
    return { client, server };
  }

  /** The port still accepts and serves a fresh connection. */
  async function stillServes(): Promise<void> {
    const { client, server } = await connected();
    client.write('ok');
    await server.waitForBytes(2);
    expect(server.bytes.toString()).toBe('ok');
  }

  describe.each(['EMFILE', 'ENFILE', 'ENOBUFS', 'ENOMEM'])('accept %s', (name) => {
    // One error line for the episode, one info line when accepting is back.
    it('logs one error, pauses, and accepts the waiting connection afterwards', async () => {
      arm('accept', E[name as keyof typeof E]);
      const { server } = await connected();
      expect(server.connected).toBe(true);
      expect(faults().faultHits('accept')).toBe(1);
      await until(() => logged.events.length >= 2, 2000, 'the recovery line');
      expect(logged.events.map((e) => e.level)).toEqual(['error', 'info']);
      expect(logged.events[0].message).toContain(name);
      expect(logged.events[1].message).toContain('accepting connections again');
      await stillServes();
      expect(logged.events).toHaveLength(2);
    });
  });

  it('accept EPERM logs one warning and the port keeps accepting', async () => {
    arm('accept', E.EPERM);
    await connected();
    expect(faults().faultHits('accept')).toBe(1);
    expect(logged.events).toHaveLength(1);
    expect(logged.events[0].level).toBe('warn');
    expect(logged.events[0].message).toContain('EPERM');
    await stillServes();
  });

  // These belong to one pending connection (Linux passes the peer's network
  // errors through accept); the loop skips them and takes the next at once.
  it.each(['ECONNABORTED', 'EINTR'])('accept %s is skipped silently', async (name) => {
    arm('accept', E[name as keyof typeof E]);
    await connected();
    expect(faults().faultHits('accept')).toBe(1);
    expect(logged.events).toHaveLength(0);
  });

  /** Expects `server` lost with a ConnectionLost naming `code`, and nothing else happened. */
  async function droppedWith(server: Recorder, client: net.Socket, code: string): Promise<void> {
    const reason = await server.lost;
    expect(reason.check(ConnectionLost)).toBe(ConnectionLost);
    expect(reason.getErrorMessage()).toContain(code);
    expect(server.lostCount).toBe(1);
    await closedByPeer(client);
    expect(logged.events).toHaveLength(0);
    await stillServes();
    expect(server.lostCount).toBe(1);
  }

  it('read ECONNRESET drops that connection only', async () => {
    const other = await connected();
    const { client, server } = await connected();
    arm('read', E.ECONNRESET);
    client.write('x');
    await droppedWith(server, client, 'ECONNRESET');
    expect(server.bytes.length).toBe(0);
    other.client.write('still here');
    await other.server.waitForBytes(10);
    expect(other.server.lostCount).toBe(0);
  });

  it('read EINTR is retried: the bytes arrive, nothing is dropped', async () => {
    const { client, server } = await connected();
    arm('read', E.EINTR, 3);
    client.write('hello');
    await server.waitForBytes(5);
    expect(server.bytes.toString()).toBe('hello');
    expect(faults().faultHits('read')).toBe(3);
    expect(server.lostCount).toBe(0);
  });

  it.each(['EPIPE', 'ENOBUFS'])('write %s at once drops that connection', async (code) => {
    const { client, server } = await connected();
    arm('send', E[code as keyof typeof E]);
    server.transport!.write(Buffer.from('abc'));
    await droppedWith(server, client, code);
  });

  it('write EPIPE while flushing the buffer drops that connection', async () => {
    const { client, server } = await connected();
    arm('send', E.EAGAIN);
    server.transport!.write(Buffer.from('abc'));
    arm('send', E.EPIPE);
    await droppedWith(server, client, 'EPIPE');
  });

  it('write EAGAIN buffers: the peer gets every byte in order', async () => {
    const { client, server } = await connected();
    arm('send', E.EAGAIN, 2);
    const got: Buffer[] = [];
    client.on('data', (d: Buffer) => got.push(d));
    server.transport!.write(Buffer.from('abc'));
    server.transport!.writeSequence([Buffer.from('de'), Buffer.from('f')]);
    await until(() => Buffer.concat(got).length >= 6, 5000, 'six bytes');
    expect(Buffer.concat(got).toString()).toBe('abcdef');
    expect(faults().faultHits('send')).toBe(2);
    expect(server.lostCount).toBe(0);
    expect(logged.events).toHaveLength(0);
  });
}

if (haveFaults) {
  for (const backend of backendNames()) describe(`Syscall faults [${backend}]`, () => suite(backend));
} else if (process.env.IOREACTOR_REQUIRE_FAULTS) {
  it('needs the fault build of the addon', () => {
    throw new Error(`${faultAddon} is missing: run scripts/test-faults.sh`);
  });
} else {
  it.skip(`syscall faults (no fault addon at ${faultAddon}; scripts/test-faults.sh builds it)`, () => undefined);
}
