/**
 * TCP endpoints (twisted.internet.endpoints TCP4/TCP6 Server/ClientEndpoint):
 * listenTCP and connectTCP behind listen()/connect() returning Deferreds.
 */
import { lookup } from 'dns';
import { isIPv6 } from 'net';
import { Deferred, maybeDeferred } from '../defer';
import { ConnectingCancelledError, DNSLookupError } from '../errors';
import { IPv6Address } from '../address';
import type { IPv4Address } from '../address';
import type { IListeningPort } from '../interfaces';
import type { AnyProtocol, Factory } from '../protocol';
import { connectWith } from './connect';
import type { IReactorTCP } from '../interfaces';
import type { IStreamClientEndpoint, IStreamServerEndpoint } from './types';

/** Options of a TCP server endpoint. */
export interface TCPServerOptions {
  /** listen() backlog (50). */
  backlog?: number;
  /** Address to bind: '' (every IPv4 address) for TCP4, '::' for TCP6. */
  interface?: string;
}

/** Options of a TCP client endpoint. */
export interface TCPClientOptions {
  /** Seconds before connecting fails with TimeoutError (30). */
  timeout?: number;
  /** Local [host, port] to bind before connecting. */
  bindAddress?: [string, number] | null;
}

/** Listens on a TCP port over IPv4 (interface '' = every address). */
export class TCP4ServerEndpoint implements IStreamServerEndpoint<IPv4Address | IPv6Address> {
  /** The interface listened on when none is given. */
  protected readonly defaultInterface: string = '';

  constructor(
    /** The reactor that listens. */
    readonly reactor: IReactorTCP,
    /** The port to listen on (0: any free one). */
    readonly port: number,
    /** Backlog and interface. */
    readonly options: TCPServerOptions = {},
  ) {}

  /** Listens with factory; fires with the Port, or fails with CannotListenError. */
  listen(factory: Factory): Deferred<IListeningPort<IPv4Address | IPv6Address>> {
    const opts = { backlog: this.options.backlog ?? 50, interface: this.options.interface ?? this.defaultInterface };
    return maybeDeferred(() => this.reactor.listenTCP(this.port, factory, opts));
  }
}

/** Listens on a TCP port over IPv6 (interface '::' by default). */
export class TCP6ServerEndpoint extends TCP4ServerEndpoint {
  protected override readonly defaultInterface: string = '::';
}

/** Connects to host:port over TCP (IPv4, or whatever the reactor resolves the host to). */
export class TCP4ClientEndpoint implements IStreamClientEndpoint {
  constructor(
    /** The reactor that connects. */
    readonly reactor: IReactorTCP,
    /** Host name or address to connect to. */
    readonly host: string,
    /** Port to connect to. */
    readonly port: number,
    /** Timeout and bind address. */
    readonly options: TCPClientOptions = {},
  ) {}

  /** Connects; fires with the protocol built, fails with the connect error; cancel stops it. */
  connect<P extends AnyProtocol>(factory: Factory<P>): Deferred<P> {
    return this.connectTo(this.host, factory);
  }

  /** Starts connectTCP to the given (resolved) host. */
  protected connectTo<P extends AnyProtocol>(host: string, factory: Factory<P>): Deferred<P> {
    const opts = { timeout: this.options.timeout ?? 30, bindAddress: this.options.bindAddress ?? null };
    return connectWith(factory, (wf) => this.reactor.connectTCP(host, this.port, wf, opts));
  }
}

/** Connects over IPv6: a host name is first resolved to an IPv6 address (AAAA). */
export class TCP6ClientEndpoint extends TCP4ClientEndpoint {
  /** Resolves host names to IPv6 addresses; replaceable in tests. */
  resolve: (host: string) => Promise<string> = (host) =>
    new Promise((ok, fail) => lookup(host, { family: 6 }, (err, address) => (err ? fail(err) : ok(address))));

  /** Resolves the host (unless it is an IPv6 literal), then connects; cancel works in both stages. */
  override connect<P extends AnyProtocol>(factory: Factory<P>): Deferred<P> {
    if (isIPv6(this.host)) return this.connectTo(this.host, factory);
    let inner: Deferred<P> | null = null;
    const outer = new Deferred<P>((d) => {
      if (inner !== null) inner.cancel();
      else d.errback(new ConnectingCancelledError(new IPv6Address('TCP', this.host, this.port)));
    });
    this.resolve(this.host).then(
      (address) => {
        if (outer.called) return;
        inner = this.connectTo(address, factory);
        inner.chainDeferred(outer);
      },
      (err: Error) => {
        if (!outer.called) outer.errback(new DNSLookupError(`Could not resolve ${this.host} to an IPv6 address: ${err.message}`));
      },
    );
    return outer;
  }
}
