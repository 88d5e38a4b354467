/**
 * Twisted's twisted.protocols.haproxy for ioreactor: a factory wrapping
 * another so that each connection first reads a PROXY protocol header (v1 or
 * v2, parse.ts), then hands the connection to a protocol from the wrapped
 * factory, built for the client's real address, whose transport.getPeer()
 * and getHost() return the addresses the header carried.
 *
 * The wrapped protocol sees no byte before the header is complete: bytes are
 * kept until it is (at most the longest header), and whatever came after it
 * in the same read is the wrapped protocol's first dataReceived. Once handed
 * over the wrapper is out of the path: the transport delivers straight to the
 * wrapped protocol. A malformed, missing or over-long header drops that
 * connection only, with one 'warn' log line naming the peer and why; so
 * does a header not complete within `headerTimeout` seconds (a proxy sends
 * it at once, so a slow one is a client holding a connection open).
 */
import type { IAddress } from '../../address';
import type { IDelayedCall, IReactorTime } from '../../interfaces';
import { log } from '../../log';
import { AnyProtocol, Factory, Protocol } from '../../protocol';
import { reactor } from '../../reactor/index';
import type { IOpenSSLContextFactory } from '../../tls/options';
import { StreamTransport } from '../../transport/stream';
import { parseProxyHeader, ProxyHeader } from './parse';

/** Seconds a connection may take to send its PROXY header, by default. */
export const DEFAULT_HEADER_TIMEOUT = 10;

/** Builds, per connection, a protocol that reads the PROXY header before handing over to `wrappedFactory`'s. */
export class HAProxyWrappingFactory extends Factory {
  constructor(
    /** The factory whose protocols serve connections once their header is read. */
    readonly wrappedFactory: Factory,
    /**
     * Start TLS as the server right after the header (which comes in the
     * clear, before the client's TLS bytes): `haproxy:ssl:`. null: plain.
     */
    readonly tls: IOpenSSLContextFactory | null = null,
    /** Seconds a connection may take to send its whole header (DEFAULT_HEADER_TIMEOUT). */
    readonly headerTimeout: number = DEFAULT_HEADER_TIMEOUT,
    /**
     * Where the header timeout is scheduled: the reactor the port listens
     * on (the default reactor unless given; a task.Clock in tests), so the
     * timer is the loop's own and goes when the reactor stops.
     */
    readonly clock: IReactorTime = reactor,
  ) {
    super();
    if (typeof headerTimeout !== 'number' || !(headerTimeout > 0) || !Number.isFinite(headerTimeout)) {
      throw new TypeError(`HAProxyWrappingFactory: headerTimeout must be a positive number of seconds, got ${String(headerTimeout)}`);
    }
  }

  /** Starts the wrapped factory with us. */
  override startFactory(): void {
    this.wrappedFactory.doStart();
  }

  /** Stops the wrapped factory with us. */
  override stopFactory(): void {
    this.wrappedFactory.doStop();
  }

  /** A header reader for this connection (addr is the proxy's address, not the client's). */
  override buildProtocol(_addr: IAddress): AnyProtocol {
    const p = new HAProxyProtocol();
    p.factory = this;
    return p;
  }

  /** Twisted's repr names the wrapped factory. */
  override toString(): string {
    return `HAProxyWrappingFactory(${this.wrappedFactory.constructor.name})`;
  }
}

/** Reads the PROXY header of one connection, then steps aside (HAProxyWrappingFactory). */
export class HAProxyProtocol extends Protocol<HAProxyWrappingFactory> {
  /** The header once read (null before). */
  header: ProxyHeader | null = null;
  /** Bytes received so far, copies (a received slab is not ours to keep). */
  private chunks: Buffer[] = [];
  private have = 0;
  /** Bytes to wait for before parsing again (a v2 header's whole length, once known). */
  private need = 0;
  private timer: IDelayedCall | null = null;

  /** Bytes of a header still incomplete, held until the rest arrives. */
  get heldBytes(): number {
    return this.have;
  }

  /** Starts the clock on the header. */
  override connectionMade(): void {
    const seconds = this.factory.headerTimeout;
    this.timer = this.factory.clock.callLater(seconds, () => {
      this.timer = null;
      this.refuse(`no complete header within ${seconds} s`);
    });
  }

  /** Gathers bytes until the header is complete, then hands the connection over. */
  override dataReceived(data: Buffer): void {
    if (this.header !== null) return; // handed over: the transport no longer calls us
    this.chunks.push(Buffer.from(data));
    this.have += data.length;
    // A v2 header trickled in small reads is parsed once, not once per read.
    if (this.have < this.need) return;
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    const r = parseProxyHeader(all);
    if (r.state === 'more') {
      this.chunks = [all];
      this.need = r.need ?? 0;
      return;
    }
    this.stopTimer();
    this.chunks = [];
    this.have = 0;
    if (r.state === 'error') return this.refuse(r.reason);
    this.header = r.header;
    this.handOver(r.header, all.subarray(r.length));
  }

  /** Before the header was whole: nothing to pass on, only the clock to stop. */
  override connectionLost(): void {
    this.stopTimer();
  }

  private stopTimer(): void {
    if (this.timer !== null && this.timer.active()) this.timer.cancel();
    this.timer = null;
  }

  private handOver(header: ProxyHeader, rest: Buffer): void {
    const t = this.transport;
    if (!(t instanceof StreamTransport)) return this.refuse('the transport is not one of the reactor\'s streams');
    const peer = header.source ?? t.getPeer();
    const host = header.destination ?? t.getHost();
    t.carriedAddresses(peer, host);
    const tls = this.factory.tls;
    if (tls !== null) {
      // What followed the header is the client's first TLS flight: the engine's, not the protocol's.
      try {
        t.startTLSWithReceived(tls, rest);
      } catch (e) {
        return this.refuse(`TLS could not start: ${(e as Error).message}`);
      }
      rest = rest.subarray(rest.length);
    }
    const inner = this.factory.wrappedFactory.buildProtocol(peer);
    if (inner === null || inner === undefined) {
      t.loseConnection();
      return;
    }
    t.attach(inner);
    if (rest.length > 0 && t.connected && !t.disconnecting) inner.dataReceived(rest);
  }

  private refuse(why: string): void {
    this.stopTimer();
    log.emit('warn', `PROXY protocol: dropping the connection from ${String(this.transport.getPeer())}: ${why}`, { system: 'haproxy' });
    this.transport.abortConnection();
  }
}
