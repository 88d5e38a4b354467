/**
 * What one accepted connection asks of native, on every backend: the calls
 * made on its slot from the accept to connectionLost, for a TLS echo that
 * the peer ends with close_notify, one the server ends with loseConnection,
 * and a plain TCP echo the peer closes. The handshake's record carries what
 * it settled (no tlsSettled), an IPv4 peer comes as one number (peerIPv4,
 * not peerAddress's object), and the end is one `finish` (close_notify, the
 * check that nothing is buffered, the close) instead of shutdownWrite,
 * buffered and remove. Twisted's semantics stay: buildProtocol gets the
 * peer's address, connectionLost gets ConnectionDone, and the peer sees
 * close_notify (Node's tls emits 'end' only after one).
 */
import * as net from 'net';
import * as tls from 'tls';
import { IPv4Address } from '../lib/address';
import { ConnectionDone } from '../lib/errors';
import type { NativeLoop, NativeTLSContext } from '../lib/native';
import { Port } from '../lib/tcp/port';
import type { Reactor } from '../lib/reactor';
import type { ReactorCore } from '../lib/reactor/core';
import { CertificateOptions } from '../lib/tls';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { closed } from './helpers/checks';
import { makeCerts, TestCerts } from './helpers/certs';
import { captureLog, Echo, keeping, KeepingFactory, until } from './helpers/tcp';

jest.setTimeout(20000);

let certs: TestCerts;
beforeAll(() => {
  certs = makeCerts();
});
afterAll(() => certs.cleanup());

/** The NativeLoop writes whose slot is in writeArgs rather than their first argument. */
const FAST_WRITES = new Set(['write', 'writeAt', 'writeString']);

/**
 * Records every NativeLoop method called with `slot` as its first argument
 * (or in writeArgs: write, writeAt, writeString), a stream's calls, while `run` runs; tlsFlushAll, which names no slot, is
 * left out. The wrappers are own properties, removed afterwards.
 */
async function callsOn(r: Reactor, slotOf: () => number, run: () => Promise<void>): Promise<string[]> {
  const loop = (r as unknown as { core: ReactorCore }).core.native as unknown as Record<string, unknown>;
  const names = new Set<string>([...Object.getOwnPropertyNames(Object.getPrototypeOf(loop)), ...Object.getOwnPropertyNames(loop)]);
  const calls: [string, unknown][] = [];
  const own = new Map<string, unknown>(); // own properties (the fast writes) and what they were
  const wrapped: string[] = [];
  for (const name of names) {
    const fn = loop[name];
    if (name === 'constructor' || typeof fn !== 'function') continue;
    if (Object.prototype.hasOwnProperty.call(loop, name)) own.set(name, fn);
    wrapped.push(name);
    loop[name] = function (this: NativeLoop, ...args: unknown[]) {
      // the fast writes name their slot in writeArgs, the others as their first argument
      calls.push([name, FAST_WRITES.has(name) ? (this as NativeLoop).writeArgs[0] : args[0]]);
      return (fn as (...a: unknown[]) => unknown).apply(this, args);
    };
  }
  try {
    await run();
  } finally {
    for (const name of wrapped) {
      if (own.has(name)) loop[name] = own.get(name);
      else delete loop[name];
    }
  }
  const slot = slotOf();
  return calls.filter(([, first]) => first === slot).map(([name]) => name);
}

/** The first server connection's slot, as noted at connectionMade. */
function slotNoting(f: KeepingFactory<NotingEcho>): () => number {
  return () => f.built[0].slotAtMade;
}

/** Echoes and notes its slot at connectionMade (it is -1 after the close); closes after the echo when `closeAfter`. */
class NotingEcho extends Echo {
  slotAtMade = -1;
  closeAfter = false;
  override connectionMade(): void {
    this.slotAtMade = (this.transport as unknown as { slot: number }).slot;
    super.connectionMade();
  }
  override dataReceived(data: Buffer): void {
    super.dataReceived(data);
    if (this.closeAfter) this.transport!.loseConnection();
  }
}

class NotingEchoThenClose extends NotingEcho {
  override closeAfter = true;
}

/** A Node tls client: writes `ping`, ends (close_notify) once echoed when `end`; resolves on 'end' with what it got. */
function tlsVisit(port: number, end: boolean): { local: Promise<number>; done: Promise<string> } {
  const s = tls.connect({ host: '127.0.0.1', port, ca: certs.ca.cert, servername: 'localhost' });
  let got = '';
  const local = new Promise<number>((res) => s.once('secureConnect', () => res(s.localPort!)));
  s.on('data', (d: Buffer) => {
    got += d.toString();
    if (end && got === 'ping') s.end();
  });
  s.write('ping');
  const done = new Promise<string>((res, rej) => {
    s.once('error', rej);
    s.once('end', () => res(got)); // only after the server's close_notify
  }).finally(() => {
    s.destroy();
    return closed(s);
  });
  return { local, done };
}

forEachBackend('Native calls per connection', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (x) => (r = x), () => r);

  function listenTLS(protocol: new () => NotingEcho): { f: KeepingFactory<NotingEcho>; num: number; stop: () => Promise<void> } {
    const f = keeping(protocol);
    const opts = new CertificateOptions({ privateKey: certs.server.key, certificate: certs.server.cert });
    const port = r.listenSSL(0, f, opts, { interface: '127.0.0.1' });
    return { f, num: (port.getHost() as IPv4Address).port, stop: async () => void (await port.stopListening()) };
  }

  async function expectPeer(f: KeepingFactory<NotingEcho>, local: Promise<number>): Promise<void> {
    const peer = f.built[0].transport!.getPeer();
    expect(peer).toBeInstanceOf(IPv4Address);
    expect(peer).toEqual(new IPv4Address('TCP', '127.0.0.1', await local));
  }

  it.each([
    ['the peer ends with close_notify', NotingEcho, true],
    ['the server ends with loseConnection', NotingEchoThenClose, false],
  ] as const)('TLS, %s: tlsStart, peerIPv4, write, finish; ConnectionDone; our close_notify', async (_how, protocol, peerCloses) => {
    const { f, num, stop } = listenTLS(protocol);
    let visit!: ReturnType<typeof tlsVisit>;
    const calls = await callsOn(r, slotNoting(f), async () => {
      visit = tlsVisit(num, peerCloses);
      expect(await visit.done).toBe('ping');
      expect((await f.built[0].lost).value).toBeInstanceOf(ConnectionDone);
    });
    expect(calls).toEqual(['tlsStart', 'peerIPv4', 'write', 'finish']);
    await expectPeer(f, visit.local);
    await stop();
  });

  it('TLS: the port describes itself (toString) only when starting TLS fails, in the log line', async () => {
    const described = jest.spyOn(Port.prototype, 'toString');
    try {
      const { f, num, stop } = listenTLS(NotingEcho);
      const visit = tlsVisit(num, true);
      expect(await visit.done).toBe('ping');
      await f.built[0].lost;
      expect(described).not.toHaveBeenCalled();
      await stop();
      class Failing extends CertificateOptions {
        override tlsContext(server: boolean): NativeTLSContext {
          if (server && this.armed) throw new Error('no context today');
          return super.tlsContext(server);
        }
        armed = false;
      }
      const opts = new Failing({ privateKey: certs.server.key, certificate: certs.server.cert });
      const port = r.listenSSL(0, keeping(NotingEcho), opts, { interface: '127.0.0.1' });
      opts.armed = true; // after listenSSL, which builds the context once to check it
      const logged = captureLog();
      try {
        const s = net.connect((port.getHost() as IPv4Address).port, '127.0.0.1');
        s.on('error', () => undefined);
        await closed(s);
        await until(() => logged.events.length > 0, 10000, 'the log line');
      } finally {
        logged.stop();
      }
      expect(logged.events.map((e) => e.message)).toEqual([`${port.toString()}: could not start TLS; connection closed`]);
      expect((logged.events[0].failure?.value as Error).message).toBe('no context today');
      await port.stopListening();
    } finally {
      described.mockRestore();
    }
  });

  it('TCP, the peer closes: peerIPv4, write, finish; ConnectionDone', async () => {
    const f = keeping(NotingEcho);
    const port = r.listenTCP(0, f, { interface: '127.0.0.1' });
    const num = (port.getHost() as IPv4Address).port;
    let local = 0;
    const calls = await callsOn(r, slotNoting(f), async () => {
      const s = net.connect(num, '127.0.0.1');
      await new Promise<void>((res) => s.once('connect', res));
      local = s.localPort!;
      let got = '';
      s.on('data', (d: Buffer) => {
        got += d.toString();
        if (got === 'ping') s.end();
      });
      s.write('ping');
      await until(() => f.built.length > 0, 10000, 'the connection');
      const lost = await f.built[0].lost;
      expect(lost.value).toBeInstanceOf(ConnectionDone);
      await closed(s);
      expect(got).toBe('ping');
    });
    expect(calls).toEqual(['peerIPv4', 'write', 'finish']);
    expect(f.built[0].transport!.getPeer()).toEqual(new IPv4Address('TCP', '127.0.0.1', local));
    await port.stopListening();
  });

  it('connections closed cleanly share one ConnectionDone (Twisted\'s CONNECTION_DONE), each with a Failure of its own', async () => {
    const f = keeping(NotingEchoThenClose);
    const port = r.listenTCP(0, f, { interface: '127.0.0.1' });
    const num = (port.getHost() as IPv4Address).port;
    for (let i = 0; i < 2; i++) {
      const s = net.connect(num, '127.0.0.1');
      s.resume();
      s.write('ping');
      await closed(s);
    }
    await until(() => f.built.length === 2, 10000, 'both connections');
    const [a, b] = await Promise.all(f.built.map((p) => p.lost));
    expect(a).not.toBe(b);
    expect(a.value).toBe(b.value);
    expect(a.value).toBeInstanceOf(ConnectionDone);
    expect(a.getTraceback()).toBe('ConnectionDone: Connection was closed cleanly.');
    await port.stopListening();
  });
});
