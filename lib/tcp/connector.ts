/**
 * Outgoing TCP and UNIX connections (Twisted's tcp.Connector + BaseClient):
 * host names are resolved with dns.lookup (never blocking the loop), each
 * address is tried in turn, and the factory hears how it went.
 */
import * as dns from 'dns';
import * as net from 'net';
import { IAddress, IPv4Address, IPv6Address, UNIXAddress } from '../address';
import { ConnectError, ConnectingCancelledError, ConnectionRefusedError, DNSLookupError, ReactorLoopError, TimeoutError } from '../errors';
import { Failure } from '../failure';
import type { IConnector } from '../interfaces';
import { log } from '../log';
import { errnoName, type NativeLoop } from '../native';
import { ClientFactory, Factory, Protocol } from '../protocol';
import type { AnyProtocol } from '../protocol';
import type { DelayedCall } from '../timers';
import type { ReactorCore, ReactorParts } from '../reactor/core';
import { Family } from '../transport/addresses';
import { StreamTransport, TransportOwner } from '../transport/stream';
import type { IOpenSSLContextFactory } from '../tls/options';

/** Where and how a Connector connects (already checked by the reactor). */
export interface ConnectorConfig {
  /** Unix for a path; V4 for TCP (the actual family follows the resolved address). */
  kind: Family.Unix | Family.V4;
  /** Host name or numeric address, or the socket path for UNIX. */
  host: string;
  port: number;
  /** Seconds before giving up with TimeoutError; null for never. */
  timeout: number | null;
  /** Local [host, port] to bind before connecting. */
  bindAddress: [string, number] | null;
  /** connectSSL: the connection starts TLS with this once connected. */
  tls?: IOpenSSLContextFactory;
}

type ConnectorState = 'disconnected' | 'connecting' | 'connected';
type Candidate = { family: Family; host: string };

/** The error a failed connect reports for errno. */
function connectErrorFor(errno: number, what: string): Error {
  const code = errnoName(-Math.abs(errno));
  if (code === 'ECONNREFUSED') return new ConnectionRefusedError(`Connection was refused by other side (${what})`, code);
  if (code === 'ETIMEDOUT') return new TimeoutError(`Connecting to ${what} timed out (ETIMEDOUT)`);
  return new ConnectError(`An error occurred while connecting to ${what}`, code);
}

/**
 * An outgoing connection attempt: IConnector (connect, disconnect,
 * stopConnecting, getDestination). `A` is what getDestination() returns:
 * IPv4Address | IPv6Address from connectTCP, UNIXAddress from connectUNIX.
 */
export class Connector<A extends IAddress = IAddress> implements IConnector<A>, TransportOwner {
  /** 'disconnected', 'connecting' or 'connected'. */
  state: ConnectorState = 'disconnected';
  /** Family of the current or last attempt. */
  family: Family;
  /** The connection's transport while connecting or connected. */
  transport: StreamTransport | null = null;
  private factoryStarted = false;
  private attempt = 0;
  private timeoutCall: DelayedCall | null = null;
  private candidates: Candidate[] = [];
  private next = 0;

  /** Made by connectTCP/connectUNIX, which then call connect(). */
  /** @internal TransportOwner: the handler table of this connector's reactor. */
  get reactorCore(): ReactorCore {
    return this.reactor.core;
  }

  constructor(
    /** The reactor this connector belongs to. */
    protected readonly reactor: ReactorParts,
    private readonly config: ConnectorConfig,
    /** The factory told about the connection (ClientFactory hooks are optional). */
    readonly factory: Factory,
  ) {
    this.family = config.kind;
  }

  /** Starts connecting; throws when already connecting or connected. */
  connect(): void {
    if (this.state !== 'disconnected') throw new Error(`connect: cannot connect while ${this.state}`);
    if (!this.factoryStarted) {
      this.factory.doStart();
      this.factoryStarted = true;
    }
    this.state = 'connecting';
    const attempt = ++this.attempt;
    const c = this.config;
    if (c.timeout !== null) this.timeoutCall = this.reactor.clock.callLater(c.timeout, this.timedOut, attempt);
    this.hook('startedConnecting', this);
    if (this.attempt !== attempt || this.state !== 'connecting') return;
    const ipFamily = net.isIP(c.host);
    if (c.kind === Family.Unix) {
      this.tryAddresses([{ family: Family.Unix, host: c.host }]);
    } else if (ipFamily !== 0) {
      this.tryAddresses([{ family: ipFamily === 6 ? Family.V6 : Family.V4, host: c.host }]);
    } else {
      this.reactor.core.resolving.add(this);
      dns.lookup(c.host, { all: true }, (err, addrs) => {
        if (this.attempt !== attempt || this.state !== 'connecting') return;
        this.reactor.core.resolving.delete(this);
        if (err || addrs.length === 0) {
          this.failed(new DNSLookupError(`DNS lookup failed: ${c.host}: ${err ? err.code ?? err.message : 'no addresses'}`));
        } else {
          this.tryAddresses(addrs.map((a) => ({ family: a.family === 6 ? Family.V6 : Family.V4, host: a.address })));
        }
      });
    }
  }

  /** Stops connecting, or closes the connection (loseConnection) when connected. */
  disconnect(): void {
    if (this.state === 'connecting') this.stopConnecting();
    else if (this.state === 'connected' && this.transport !== null) this.transport.loseConnection();
  }

  /** Abandons a connection attempt in progress: ConnectingCancelledError. */
  stopConnecting(): void {
    if (this.state !== 'connecting') throw new Error(`stopConnecting: not connecting (${this.state})`);
    this.failed(new ConnectingCancelledError(this.getDestination()));
  }

  /** Where this connector connects to. */
  getDestination(): A {
    const c = this.config;
    // The reactor chose A from the family this connector was made with.
    if (c.kind === Family.Unix) return new UNIXAddress(c.host) as A;
    return (net.isIP(c.host) === 6 ? new IPv6Address('TCP', c.host, c.port) : new IPv4Address('TCP', c.host, c.port)) as A;
  }

  /** Twisted's repr. */
  toString(): string {
    return `<Connector to ${this.getDestination().toString()}>`;
  }

  /** @internal The native connect finished. */
  connectFinished(t: StreamTransport, errno: number): void {
    if (t !== this.transport || this.state !== 'connecting') return;
    if (errno !== 0) {
      t.closeSilently();
      this.transport = null;
      if (this.next < this.candidates.length) this.tryNext();
      else this.failed(connectErrorFor(errno, this.describe()));
      return;
    }
    if (this.config.tls !== undefined) {
      try {
        t.startTLS(this.config.tls);
      } catch (e) {
        this.failed(e instanceof Error ? e : new Error(String(e)));
        return;
      }
    }
    this.cancelTimeout();
    this.state = 'connected';
    let protocol: AnyProtocol | null;
    try {
      protocol = this.factory.buildProtocol(t.getPeer());
    } catch (e) {
      log.failure(`${this.toString()}: buildProtocol raised; closing the connection`, new Failure(e));
      protocol = null;
    }
    if (protocol === null || protocol === undefined) {
      // As Twisted: a stand-in protocol, then a clean close (clientConnectionLost).
      t.attach(new Protocol());
      t.loseConnection();
      return;
    }
    t.attach(protocol);
  }

  /** @internal Reactor shutdown while `t` connects: stopConnecting() (ConnectingCancelledError). */
  abandonConnect(t: StreamTransport): boolean {
    if (t !== this.transport || this.state !== 'connecting') return false;
    this.stopConnecting();
    return true;
  }

  /** @internal The established connection ended. */
  transportLost(t: StreamTransport, reason: Failure): void {
    if (t !== this.transport) return;
    this.transport = null;
    this.state = 'disconnected';
    this.hook('clientConnectionLost', this, reason);
    this.maybeStopFactory();
  }

  private tryAddresses(candidates: Candidate[]): void {
    this.candidates = candidates;
    this.next = 0;
    this.tryNext();
  }

  private tryNext(): void {
    const core = this.reactor.core;
    let native: NativeLoop | null = null;
    let r = -1;
    try {
      native = core.native;
    } catch (e) {
      // No loop (EMFILE...): this attempt fails like any connect, through clientConnectionFailed.
      if (!(e instanceof ReactorLoopError)) throw e;
      r = e.errno;
    }
    const bind = this.config.bindAddress;
    while (native !== null && this.next < this.candidates.length) {
      const c = this.candidates[this.next++];
      this.family = c.family;
      r = native.connect(c.family, c.host, this.config.port, bind ? bind[0] : null, bind ? bind[1] : 0);
      if (r >= 0) {
        const t = this.makeTransport(r, native.generation(r));
        core.register(t);
        this.transport = t;
        return;
      }
    }
    // Every address failed at once: report after the caller's stack unwinds.
    const attempt = this.attempt;
    const err = connectErrorFor(r, this.describe());
    core.atEndOfStep(() => {
      if (this.attempt === attempt && this.state === 'connecting') this.failed(err);
    });
  }

  /** The transport for a connection being made in (slot, gen); a connector for another transport kind overrides it. */
  protected makeTransport(slot: number, gen: number): StreamTransport {
    const core = this.reactor.core;
    return new StreamTransport(core, core.native, slot, gen, this, this.reactor.highWaterMark);
  }

  private readonly timedOut = (attempt: number): void => {
    this.timeoutCall = null;
    if (this.attempt !== attempt || this.state !== 'connecting') return;
    this.failed(new TimeoutError(`Connecting to ${this.describe()} timed out after ${this.config.timeout} seconds`));
  };

  /** Ends the attempt in progress with `err`: clientConnectionFailed, then doStop unless reconnecting. */
  private failed(err: Error): void {
    this.attempt++;
    this.reactor.core.resolving.delete(this);
    this.cancelTimeout();
    if (this.transport !== null) {
      this.transport.closeSilently();
      this.transport = null;
    }
    this.state = 'disconnected';
    this.hook('clientConnectionFailed', this, new Failure(err));
    this.maybeStopFactory();
  }

  private maybeStopFactory(): void {
    if (this.state === 'disconnected' && this.factoryStarted) {
      this.factoryStarted = false;
      this.factory.doStop();
    }
  }

  private cancelTimeout(): void {
    if (this.timeoutCall !== null && this.timeoutCall.active()) this.timeoutCall.cancel();
    this.timeoutCall = null;
  }

  /** Calls an optional ClientFactory hook; a throw is logged. */
  private hook<K extends 'startedConnecting' | 'clientConnectionFailed' | 'clientConnectionLost'>(
    name: K,
    ...args: Parameters<ClientFactory[K]>
  ): void {
    const fn = (this.factory as Partial<ClientFactory>)[name] as ((...a: unknown[]) => void) | undefined;
    if (typeof fn !== 'function') return;
    try {
      fn.apply(this.factory, args);
    } catch (e) {
      log.failure(`Unhandled error in ${this.factory.constructor.name}.${name}`, new Failure(e));
    }
  }

  private describe(): string {
    const c = this.config;
    return c.kind === Family.Unix ? c.host : `${c.host}:${c.port}`;
  }
}
