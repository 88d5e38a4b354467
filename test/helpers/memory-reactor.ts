/**
 * MemoryReactor, after Twisted's `twisted.internet.testing.MemoryReactor`:
 * records listen/connect calls and lets a test decide how each connect ends.
 */
import { IPv4Address, UNIXAddress } from '../../lib/address';
import type { IAddress } from '../../lib/address';
import { Deferred } from '../../lib/defer';
import { CannotListenError, ConnectionDone, UserError } from '../../lib/errors';
import { Failure } from '../../lib/failure';
import type { IConnector, IListeningPort } from '../../lib/interfaces';
import type { AnyProtocol, ClientFactory, Factory } from '../../lib/protocol';
import { StringTransport } from './string-transport';

type Hooks = Partial<Pick<ClientFactory, 'startedConnecting' | 'clientConnectionFailed' | 'clientConnectionLost'>>;

/** A connector the test drives: succeed(), fail(err), lose(err). */
export class FakeConnector<A extends IAddress = IAddress> implements IConnector<A> {
  /** 'connecting', 'connected' or 'disconnected'. */
  state: 'connecting' | 'connected' | 'disconnected' = 'disconnected';
  /** How many times connect() was called (the first call included). */
  connects = 0;
  stopConnectingCalls = 0;
  /** The protocol of the current connection, once succeed() built one. */
  protocol: AnyProtocol | null = null;
  transport: StringTransport | null = null;

  constructor(
    readonly factory: Factory,
    private readonly destination: A,
  ) {}

  private get hooks(): Hooks {
    return this.factory as Hooks;
  }

  connect(): void {
    this.connects += 1;
    this.state = 'connecting';
    this.hooks.startedConnecting?.call(this.factory, this);
  }

  stopConnecting(): void {
    if (this.state !== 'connecting') throw new Error(`stopConnecting while ${this.state}`);
    this.stopConnectingCalls += 1;
    this.fail(new UserError('Connection was cancelled'));
  }

  disconnect(): void {
    if (this.state === 'connecting') this.stopConnecting();
    else if (this.state === 'connected') this.transport?.loseConnection();
  }

  getDestination(): A {
    return this.destination;
  }

  /** The attempt succeeds: builds the protocol and connects it to a StringTransport. */
  succeed(transport = new StringTransport()): AnyProtocol | null {
    const p = this.factory.buildProtocol(this.destination);
    if (p === null) {
      this.state = 'disconnected';
      return null;
    }
    this.state = 'connected';
    this.protocol = p;
    this.transport = transport;
    p.makeConnection(transport);
    return p;
  }

  /** The attempt fails with err. */
  fail(err: Error): void {
    this.state = 'disconnected';
    this.hooks.clientConnectionFailed?.call(this.factory, this, new Failure(err));
  }

  /** The established connection ends with err (ConnectionDone by default). */
  lose(err: Error = new ConnectionDone()): void {
    const p = this.protocol;
    this.state = 'disconnected';
    this.protocol = null;
    if (p !== null) {
      p.connected = false;
      p.connectionLost(new Failure(err));
    }
    this.hooks.clientConnectionLost?.call(this.factory, this, new Failure(err));
  }
}

/** A listening port that records stopListening. */
export class FakePort<A extends IAddress = IAddress> implements IListeningPort<A> {
  listening = true;
  constructor(private readonly address: A) {}
  startListening(): void {
    this.listening = true;
  }
  stopListening(): Deferred<void> {
    this.listening = false;
    const d = new Deferred<void>();
    d.callback(undefined);
    return d;
  }
  getHost(): A {
    return this.address;
  }
}

interface Call<O> {
  factory: Factory;
  opts: O | undefined;
}

/** Records every listen/connect; `listenError` makes the next listen throw it. */
export class MemoryReactor {
  tcpServers: (Call<{ backlog?: number; interface?: string }> & { port: number; result: FakePort<IPv4Address> })[] = [];
  tcpClients: (Call<{ timeout?: number | null; bindAddress?: [string, number] | null }> & { host: string; port: number; connector: FakeConnector<IPv4Address> })[] = [];
  unixServers: (Call<{ backlog?: number; mode?: number }> & { path: string; result: FakePort<UNIXAddress> })[] = [];
  unixClients: (Call<{ timeout?: number | null }> & { path: string; connector: FakeConnector<UNIXAddress> })[] = [];
  listenError: Error | null = null;

  listenTCP(port: number, factory: Factory, opts?: { backlog?: number; interface?: string }): FakePort<IPv4Address> {
    this.throwListenError(opts?.interface ?? '', port);
    const result = new FakePort(new IPv4Address('TCP', opts?.interface || '0.0.0.0', port === 0 ? 40000 + this.tcpServers.length : port));
    this.tcpServers.push({ port, factory, opts, result });
    return result;
  }

  connectTCP(host: string, port: number, factory: Factory, opts?: { timeout?: number | null; bindAddress?: [string, number] | null }): FakeConnector<IPv4Address> {
    const connector = new FakeConnector(factory, new IPv4Address('TCP', host, port));
    this.tcpClients.push({ host, port, factory, opts, connector });
    connector.connect();
    return connector;
  }

  listenUNIX(path: string, factory: Factory, opts?: { backlog?: number; mode?: number }): FakePort<UNIXAddress> {
    this.throwListenError(path, path);
    const result = new FakePort(new UNIXAddress(path));
    this.unixServers.push({ path, factory, opts, result });
    return result;
  }

  connectUNIX(path: string, factory: Factory, opts?: { timeout?: number | null }): FakeConnector<UNIXAddress> {
    const connector = new FakeConnector(factory, new UNIXAddress(path));
    this.unixClients.push({ path, factory, opts, connector });
    connector.connect();
    return connector;
  }

  private throwListenError(iface: string, port: number | string): void {
    const err = this.listenError;
    if (err === null) return;
    this.listenError = null;
    throw err instanceof CannotListenError ? err : new CannotListenError(iface, port, err.message);
  }
}
