/** Endpoints against a MemoryReactor: what they ask the reactor, and how their Deferreds fire. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import {
  TCP4ClientEndpoint,
  TCP4ServerEndpoint,
  TCP6ClientEndpoint,
  TCP6ServerEndpoint,
  UNIXClientEndpoint,
  UNIXServerEndpoint,
  clientFromString,
  connectProtocol,
  serverFromString,
} from '../lib/endpoints';
import { CannotListenError, ConnectError, ConnectingCancelledError, ConnectionRefusedError, DNSLookupError } from '../lib/errors';
import { IPv4Address } from '../lib/address';
import { ClientFactory, Factory, Protocol } from '../lib/protocol';
import { MemoryReactor } from './helpers/memory-reactor';
import type { FakeConnector } from './helpers/memory-reactor';
import { assertNoResult, failureResultOf, successResultOf, watch } from './helpers/results';

class Greeter extends Protocol {
  made = 0;
  override connectionMade(): void {
    this.made += 1;
    this.transport?.write('hi');
  }
}

describe('server endpoints', () => {
  test('TCP4ServerEndpoint listens with backlog 50 on every IPv4 address by default', () => {
    const r = new MemoryReactor();
    const f = Factory.forProtocol(Greeter);
    const port = successResultOf(new TCP4ServerEndpoint(r, 8080).listen(f));
    expect(r.tcpServers).toHaveLength(1);
    expect(r.tcpServers[0]).toMatchObject({ port: 8080, factory: f, opts: { backlog: 50, interface: '' } });
    expect(port).toBe(r.tcpServers[0].result);
  });

  test('TCP6ServerEndpoint defaults to ::, options pass through', () => {
    const r = new MemoryReactor();
    successResultOf(new TCP6ServerEndpoint(r, 0).listen(new Factory()));
    successResultOf(new TCP6ServerEndpoint(r, 0, { interface: '::1', backlog: 7 }).listen(new Factory()));
    expect(r.tcpServers.map((s) => s.opts)).toEqual([
      { backlog: 50, interface: '::' },
      { backlog: 7, interface: '::1' },
    ]);
  });

  test('a listen error becomes a failed Deferred', () => {
    const r = new MemoryReactor();
    r.listenError = new CannotListenError('', 80, 'Address already in use', 'EADDRINUSE');
    const f = failureResultOf(new TCP4ServerEndpoint(r, 80).listen(new Factory()));
    expect(f.check(CannotListenError)).toBe(CannotListenError);
  });

  test('UNIXServerEndpoint passes mode and backlog', () => {
    const r = new MemoryReactor();
    successResultOf(new UNIXServerEndpoint(r, '/tmp/x.sock', { mode: 0o600, backlog: 3 }).listen(new Factory()));
    expect(r.unixServers[0]).toMatchObject({ path: '/tmp/x.sock', opts: { backlog: 3, mode: 0o600 } });
  });

  test('UNIXServerEndpoint hands wantPID (or its other name, lockfile) to listenUNIX, once', () => {
    const r = new MemoryReactor();
    successResultOf(new UNIXServerEndpoint(r, '/tmp/a.sock', { wantPID: true }).listen(new Factory()));
    successResultOf(new UNIXServerEndpoint(r, '/tmp/b.sock', { lockfile: true }).listen(new Factory()));
    successResultOf(new UNIXServerEndpoint(r, '/tmp/c.sock').listen(new Factory()));
    expect(r.unixServers.map((s) => [s.path, s.opts])).toEqual([
      ['/tmp/a.sock', { backlog: 50, mode: 0o666, wantPID: true }],
      ['/tmp/b.sock', { backlog: 50, mode: 0o666, wantPID: true }],
      ['/tmp/c.sock', { backlog: 50, mode: 0o666, wantPID: false }],
    ]);
  });
});

describe('client endpoints', () => {
  const lastConnector = (r: MemoryReactor): FakeConnector => r.tcpClients[r.tcpClients.length - 1].connector;

  test('connect asks connectTCP with timeout 30 and no bindAddress by default', () => {
    const r = new MemoryReactor();
    new TCP4ClientEndpoint(r, 'example.com', 80).connect(new Factory());
    new TCP4ClientEndpoint(r, '127.0.0.1', 81, { timeout: 5, bindAddress: ['127.0.0.2', 0] }).connect(new Factory());
    expect(r.tcpClients.map(({ host, port, opts }) => [host, port, opts])).toEqual([
      ['example.com', 80, { timeout: 30, bindAddress: null }],
      ['127.0.0.1', 81, { timeout: 5, bindAddress: ['127.0.0.2', 0] }],
    ]);
  });

  test('fires with the factory-built protocol after connectionMade ran', () => {
    const r = new MemoryReactor();
    const f = Factory.forProtocol(Greeter);
    const d = new TCP4ClientEndpoint(r, 'example.com', 80).connect(f);
    assertNoResult(d);
    lastConnector(r).succeed();
    const p = successResultOf(d) as Greeter;
    expect(p).toBeInstanceOf(Greeter);
    expect(p.made).toBe(1);
    expect(p.factory).toBe(f);
    expect(lastConnector(r).transport?.value().toString()).toBe('hi');
    expect(lastConnector(r).protocol).toBe(p);
  });

  test('fails with the connect error', () => {
    const r = new MemoryReactor();
    const d = new TCP4ClientEndpoint(r, 'example.com', 80).connect(new Factory());
    lastConnector(r).fail(new ConnectionRefusedError());
    expect(failureResultOf(d).check(ConnectionRefusedError)).toBe(ConnectionRefusedError);
  });

  test('cancelling stops connecting and fails with ConnectingCancelledError naming the destination', () => {
    const r = new MemoryReactor();
    const d = new TCP4ClientEndpoint(r, 'example.com', 80).connect(new Factory());
    const outcome = watch(d);
    d.cancel();
    const c = lastConnector(r);
    expect(c.stopConnectingCalls).toBe(1);
    const o = outcome();
    expect(o.state).toBe('failure');
    if (o.state !== 'failure') return;
    expect(o.failure.check(ConnectingCancelledError)).toBe(ConnectingCancelledError);
    expect((o.failure.value as ConnectingCancelledError).address).toEqual(new IPv4Address('TCP', 'example.com', 80));
  });

  test('cancelling after the connection is made changes nothing', () => {
    const r = new MemoryReactor();
    const d = new TCP4ClientEndpoint(r, 'h', 1).connect(Factory.forProtocol(Greeter));
    lastConnector(r).succeed();
    d.cancel();
    expect(successResultOf(d)).toBeInstanceOf(Greeter);
  });

  test('a factory that builds no protocol fails the Deferred', () => {
    const r = new MemoryReactor();
    class Refusing extends Factory {
      override buildProtocol(): null {
        return null;
      }
    }
    const d = new TCP4ClientEndpoint(r, 'h', 1).connect(new Refusing());
    lastConnector(r).succeed();
    expect(failureResultOf(d).check(ConnectError)).toBe(ConnectError);
  });

  test('a connectTCP that throws becomes a failed Deferred', () => {
    const r = new MemoryReactor();
    r.connectTCP = () => {
      throw new TypeError('bad host');
    };
    expect(failureResultOf(new TCP4ClientEndpoint(r, '', 1).connect(new Factory())).getErrorMessage()).toBe('bad host');
  });

  test('the user factory is started and stopped through the wrapper', () => {
    const r = new MemoryReactor();
    const calls: string[] = [];
    class F extends ClientFactory {
      override startFactory(): void {
        calls.push('start');
      }
      override stopFactory(): void {
        calls.push('stop');
      }
    }
    new TCP4ClientEndpoint(r, 'h', 1).connect(new F());
    const wrapper = lastConnector(r).factory;
    wrapper.doStart();
    wrapper.doStop();
    expect(calls).toEqual(['start', 'stop']);
  });

  test('connectProtocol connects a protocol instance', () => {
    const r = new MemoryReactor();
    const mine = new Greeter();
    const d = connectProtocol(new TCP4ClientEndpoint(r, 'h', 1), mine);
    lastConnector(r).succeed();
    expect(successResultOf(d)).toBe(mine);
    expect(mine.made).toBe(1);
  });

  test('UNIXClientEndpoint connects to the path with its timeout', () => {
    const r = new MemoryReactor();
    const d = new UNIXClientEndpoint(r, '/tmp/s', { timeout: 2 }).connect(Factory.forProtocol(Greeter));
    expect(r.unixClients[0]).toMatchObject({ path: '/tmp/s', opts: { timeout: 2 } });
    r.unixClients[0].connector.succeed();
    expect(successResultOf(d)).toBeInstanceOf(Greeter);
  });

  describe('TCP6ClientEndpoint', () => {
    test('connects to an IPv6 literal at once', () => {
      const r = new MemoryReactor();
      new TCP6ClientEndpoint(r, '::1', 80).connect(new Factory());
      expect(r.tcpClients[0].host).toBe('::1');
    });

    test('resolves a name to an IPv6 address first', async () => {
      const r = new MemoryReactor();
      const e = new TCP6ClientEndpoint(r, 'six.example', 80);
      e.resolve = async () => '2001:db8::1';
      const d = e.connect(Factory.forProtocol(Greeter));
      await Promise.resolve();
      await Promise.resolve();
      expect(r.tcpClients[0].host).toBe('2001:db8::1');
      r.tcpClients[0].connector.succeed();
      expect(successResultOf(d)).toBeInstanceOf(Greeter);
    });

    test('a name that does not resolve fails with DNSLookupError', async () => {
      const r = new MemoryReactor();
      const e = new TCP6ClientEndpoint(r, 'nowhere.invalid', 80);
      e.resolve = async () => {
        throw new Error('ENOTFOUND');
      };
      const outcome = watch(e.connect(new Factory()));
      await new Promise((ok) => setImmediate(ok));
      const o = outcome();
      expect(o.state === 'failure' && o.failure.check(DNSLookupError)).toBe(DNSLookupError);
    });

    test('cancelling while resolving never connects', async () => {
      const r = new MemoryReactor();
      const e = new TCP6ClientEndpoint(r, 'six.example', 80);
      e.resolve = async () => '2001:db8::1';
      const d = e.connect(new Factory());
      const outcome = watch(d);
      d.cancel();
      await new Promise((ok) => setImmediate(ok));
      expect(r.tcpClients).toHaveLength(0);
      const o = outcome();
      expect(o.state === 'failure' && o.failure.check(ConnectingCancelledError)).toBe(ConnectingCancelledError);
    });
  });
});

describe('serverFromString / clientFromString', () => {
  test('build the endpoint the description names', () => {
    const r = new MemoryReactor();
    expect(serverFromString(r, 'tcp:8080:interface=127.0.0.1')).toBeInstanceOf(TCP4ServerEndpoint);
    expect(serverFromString(r, 'tcp6:8080')).toBeInstanceOf(TCP6ServerEndpoint);
    expect(serverFromString(r, 'unix:/tmp/s:lockfile=0')).toBeInstanceOf(UNIXServerEndpoint);
    expect(clientFromString(r, 'tcp:example.com:80')).toBeInstanceOf(TCP4ClientEndpoint);
    expect(clientFromString(r, 'tcp6:host=\\:\\:1:port=80')).toBeInstanceOf(TCP6ClientEndpoint);
    expect(clientFromString(r, 'unix:path=/tmp/s:timeout=5')).toBeInstanceOf(UNIXClientEndpoint);
  });

  test('the parsed options reach the reactor', () => {
    const r = new MemoryReactor();
    successResultOf(serverFromString(r, 'tcp:8080:interface=127.0.0.1:backlog=1024').listen(new Factory()));
    successResultOf(serverFromString(r, 'unix:address=/tmp/s:mode=660:lockfile=0').listen(new Factory()));
    clientFromString(r, 'tcp:host=example.com:port=80:timeout=5').connect(new Factory());
    clientFromString(r, 'unix:/tmp/s:timeout=1.5').connect(new Factory());
    expect(r.tcpServers[0]).toMatchObject({ port: 8080, opts: { interface: '127.0.0.1', backlog: 1024 } });
    expect(r.unixServers[0]).toMatchObject({ path: '/tmp/s', opts: { mode: 0o660, backlog: 50 } });
    expect(r.tcpClients[0]).toMatchObject({ host: 'example.com', port: 80, opts: { timeout: 5, bindAddress: null } });
    expect(r.unixClients[0]).toMatchObject({ path: '/tmp/s', opts: { timeout: 1.5 } });
  });
});
