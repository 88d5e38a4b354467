/**
 * HostnameEndpoint: the happy-eyeballs race driven by task.Clock on a
 * MemoryReactor (stagger, early start after a failure, losers cancelled,
 * every way to fail), and real connections on every backend.
 */
import { IPv4Address } from '../lib/address';
import { Deferred } from '../lib/defer';
import { HostnameEndpoint, interleaveFamilies } from '../lib/endpoints';
import { ConnectingCancelledError, ConnectionRefusedError, DNSLookupError } from '../lib/errors';
import type { Failure } from '../lib/failure';
import { Factory, Protocol } from '../lib/protocol';
import { Reactor } from '../lib/reactor';
import { Clock } from '../lib/task';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { MemoryReactor } from './helpers/memory-reactor';
import { keeping, Recorder } from './helpers/tcp';

jest.setTimeout(15000);

/** A MemoryReactor whose time is a task.Clock. */
class ClockedMemoryReactor extends MemoryReactor {
  readonly clock = new Clock();
  callLater<A extends unknown[]>(seconds: number, fn: (...args: A) => unknown, ...args: A) {
    return this.clock.callLater(seconds, fn, ...args);
  }
  seconds(): number {
    return this.clock.seconds();
  }
  getDelayedCalls() {
    return this.clock.getDelayedCalls();
  }
}

/** A fired Deferred's outcome, read synchronously. */
function outcome<T>(d: Deferred<T>): { ok: true; value: T } | { ok: false; failure: Failure } | 'pending' {
  let out: { ok: true; value: T } | { ok: false; failure: Failure } | 'pending' = 'pending';
  d.addCallbacks(
    (value) => {
      out = { ok: true, value };
      return value;
    },
    (failure) => {
      out = { ok: false, failure };
    },
  );
  return out;
}

/** Resolves by hand: the test decides when the name lookup answers. */
function manualResolver(): { resolver: (host: string) => Promise<string[]>; answer: (a: string[]) => Promise<void>; hosts: string[] } {
  let ok!: (a: string[]) => void;
  const hosts: string[] = [];
  const p = new Promise<string[]>((res) => (ok = res));
  return {
    hosts,
    resolver: (host) => {
      hosts.push(host);
      return p;
    },
    answer: async (a) => {
      ok(a);
      await p;
      await Promise.resolve();
    },
  };
}

describe('HostnameEndpoint (MemoryReactor, task.Clock)', () => {
  it('interleaves families, starting with the first one returned', () => {
    expect(interleaveFamilies(['::1', '::2', '127.0.0.2', '::3', '127.0.0.3'])).toEqual(['::1', '127.0.0.2', '::2', '127.0.0.3', '::3']);
    expect(interleaveFamilies(['127.0.0.2', '127.0.0.3'])).toEqual(['127.0.0.2', '127.0.0.3']);
  });

  it('staggers the attempts by attemptDelay; the first to connect wins and the others are cancelled', async () => {
    const r = new ClockedMemoryReactor();
    const m = manualResolver();
    const d = new HostnameEndpoint(r, 'example.test', 80, { nameResolver: m.resolver, attemptDelay: 0.25 }).connect(Factory.forProtocol(Protocol));
    await m.answer(['127.0.0.2', '127.0.0.3', '::1']);
    expect(m.hosts).toEqual(['example.test']);
    expect(r.tcpClients.map((c) => c.host)).toEqual(['127.0.0.2']);
    r.clock.advance(0.24);
    expect(r.tcpClients).toHaveLength(1);
    r.clock.advance(0.01);
    expect(r.tcpClients.map((c) => c.host)).toEqual(['127.0.0.2', '::1']);
    const proto = r.tcpClients[1].connector.succeed();
    expect(outcome(d)).toEqual({ ok: true, value: proto });
    expect(r.tcpClients[0].connector.stopConnectingCalls).toBe(1);
    expect(r.clock.getDelayedCalls()).toEqual([]);
    r.clock.advance(10);
    expect(r.tcpClients).toHaveLength(2); // the third address never started
  });

  it('a failed attempt starts the next one at once; when all fail, the last failure is the result', async () => {
    const r = new ClockedMemoryReactor();
    const m = manualResolver();
    const d = new HostnameEndpoint(r, 'example.test', 80, { nameResolver: m.resolver }).connect(Factory.forProtocol(Protocol));
    await m.answer(['127.0.0.2', '127.0.0.3']);
    r.tcpClients[0].connector.fail(new ConnectionRefusedError('first refused'));
    expect(r.tcpClients.map((c) => c.host)).toEqual(['127.0.0.2', '127.0.0.3']);
    expect(d.called).toBe(false);
    r.tcpClients[1].connector.fail(new ConnectionRefusedError('second refused'));
    const out = outcome(d);
    expect(out !== 'pending' && !out.ok && out.failure.getErrorMessage()).toBe('second refused');
    expect(r.clock.getDelayedCalls()).toEqual([]);
  });

  it('an address literal is not resolved; timeout and bindAddress reach connectTCP', () => {
    const r = new ClockedMemoryReactor();
    const m = manualResolver();
    new HostnameEndpoint(r, '127.0.0.9', 81, { nameResolver: m.resolver, timeout: 5, bindAddress: ['127.0.0.1', 0] }).connect(new Factory());
    expect(m.hosts).toEqual([]);
    expect(r.tcpClients.map((c) => [c.host, c.port, c.opts])).toEqual([['127.0.0.9', 81, { timeout: 5, bindAddress: ['127.0.0.1', 0] }]]);
  });

  it('a failed or empty lookup is DNSLookupError', async () => {
    const r = new ClockedMemoryReactor();
    const bad = new HostnameEndpoint(r, 'nowhere.test', 80, { nameResolver: () => Promise.reject(new Error('ENOTFOUND')) }).connect(new Factory());
    const empty = new HostnameEndpoint(r, 'empty.test', 80, { nameResolver: () => Promise.resolve([]) }).connect(new Factory());
    await Promise.resolve();
    await Promise.resolve();
    for (const [d, msg] of [
      [bad, 'Could not resolve nowhere.test: ENOTFOUND'],
      [empty, 'empty.test resolved to no address'],
    ] as const) {
      const out = outcome(d);
      expect(out !== 'pending' && !out.ok && [out.failure.check(DNSLookupError), out.failure.getErrorMessage()]).toEqual([DNSLookupError, msg]);
    }
  });

  it('cancelling while resolving or connecting stops everything (ConnectingCancelledError)', async () => {
    const r = new ClockedMemoryReactor();
    const m = manualResolver();
    const ep = new HostnameEndpoint(r, 'example.test', 80, { nameResolver: m.resolver });
    const early = ep.connect(new Factory());
    early.cancel();
    const late = ep.connect(Factory.forProtocol(Protocol));
    await m.answer(['127.0.0.2', '127.0.0.3']);
    expect(r.tcpClients).toHaveLength(1); // only `late` started
    late.cancel();
    expect(r.tcpClients[0].connector.stopConnectingCalls).toBe(1);
    expect(r.clock.getDelayedCalls()).toEqual([]);
    for (const d of [early, late]) {
      const out = outcome(d);
      expect(out !== 'pending' && !out.ok && out.failure.check(ConnectingCancelledError)).toBe(ConnectingCancelledError);
    }
  });

  it('refuses a bad attemptDelay', () => {
    expect(() => new HostnameEndpoint(new ClockedMemoryReactor(), 'h', 1, { attemptDelay: -1 })).toThrow(TypeError);
  });
});

forEachBackend('HostnameEndpoint (real sockets)', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (reactor) => (r = reactor), () => r);

  it('an address that refuses is passed over; the next one connects', async () => {
    const sf = keeping(Recorder);
    const port = r.listenTCP(0, sf, { interface: '127.0.0.1' });
    const portNumber = (port.getHost() as IPv4Address).port;
    // ::1 on the same port number is refused (or unreachable without IPv6); 127.0.0.1 then connects.
    const ep = new HostnameEndpoint(r, 'dual.test', portNumber, { nameResolver: async () => ['::1', '127.0.0.1'] });
    const serverMade = sf.nextProtocol();
    const client = (await ep.connect(Factory.forProtocol(Recorder)).asPromise()) as Recorder;
    const server = await serverMade;
    expect((client.transport!.getPeer() as IPv4Address).host).toBe('127.0.0.1');
    client.transport!.write('hi');
    await server.waitForBytes(2);
    client.transport!.loseConnection();
    await server.lost;
    await port.stopListening();
  });

  it('resolves localhost with Node dns and connects', async () => {
    const sf = keeping(Recorder);
    const port = r.listenTCP(0, sf, { interface: '127.0.0.1' });
    const serverMade = sf.nextProtocol();
    const client = (await new HostnameEndpoint(r, 'localhost', (port.getHost() as IPv4Address).port).connect(Factory.forProtocol(Recorder)).asPromise()) as Recorder;
    await serverMade;
    client.transport!.loseConnection();
    await client.lost;
    await port.stopListening();
  });
});
