/**
 * Listening ports for TCP and UNIX streams (Twisted's tcp.Port / unix.Port):
 * accepting is native and batched; each accepted connection gets a protocol
 * from the factory. Running out of fds pauses accepting with a backoff.
 */
import * as fs from 'fs';
import { IAddress, UNIXAddress } from '../address';
import { Deferred } from '../defer';
import { CannotListenError } from '../errors';
import { Failure } from '../failure';
import type { IListeningPort } from '../interfaces';
import { log } from '../log';
import { errnoError, errnoName, NativeLoop } from '../native';
import type { Factory } from '../protocol';
import type { DelayedCall } from '../timers';
import type { ReactorCore, ReactorParts } from '../reactor/core';
import { Handler } from '../reactor/handler';
import { Family, toAddress } from '../transport/addresses';
import { StreamTransport, TransportOwner } from '../transport/stream';
import { cannotAdopt } from './adopt';
import { acquireLock, releaseLock } from './unix-lock';
import { removeOwnSocket, removeStaleSocket, socketInode } from './unix-path';
import type { IOpenSSLContextFactory } from '../tls/options';
import { startTLSOrClose } from '../tls/start';

/** Counters of one listening port. */
export interface PortStats {
  /** Connections accepted. */
  accepts: number;
  /** Record batches that carried at least one accepted connection (wake-ups that accepted). */
  acceptBatches: number;
  /** Accept errors reported (EMFILE, ENFILE, ...). */
  acceptErrors: number;
  /** Connections from this port still open. */
  connections: number;
}

/** Where and how a Port listens (already checked by the reactor). */
export interface PortConfig {
  family: Family;
  /** Numeric host, or the socket path for UNIX. */
  host: string;
  port: number;
  backlog: number;
  reusePort: boolean;
  /** Max accepts per wake-up (native default when undefined). */
  acceptBatch?: number;
  /** UNIX only: chmod the socket file to this mode. */
  mode?: number;
  /** listenSSL: every accepted connection starts TLS with this. */
  tls?: IOpenSSLContextFactory;
  /** UNIX only: hold `<path>.lock` with our pid while listening (Twisted's wantPID). */
  wantPID?: boolean;
  /**
   * adoptStreamPort: listen on a dup of this already-listening fd instead of
   * binding (host, port, backlog and the UNIX options are then unused; the
   * socket file of an adopted UNIX port is never removed: it is not ours).
   */
  adoptFd?: number;
}

const FIRST_BACKOFF = 0.01;
const MAX_BACKOFF = 1;

/**
 * A listening TCP or UNIX socket: IListeningPort plus stats(). `A` is what
 * getHost() returns: IPv4Address | IPv6Address from listenTCP, UNIXAddress
 * from listenUNIX.
 */
export class Port<A extends IAddress = IAddress> extends Handler implements IListeningPort<A>, TransportOwner {
  /** Address family (0 = UNIX). */
  readonly family: Family;
  private listening = false;
  private host: IAddress | null = null;
  private inode: number | bigint | null = null;
  private accepts = 0;
  private acceptBatches = 0;
  private acceptErrors = 0;
  private lastBatch = -1;
  private connections = 0;
  private backoff = 0;
  private resumeCall: DelayedCall | null = null;
  private idleWaiters: Deferred<void>[] = [];

  /** Made by listenTCP/listenUNIX; call startListening() to bind. */
  /** @internal TransportOwner: the handler table of this port's reactor. */
  get reactorCore(): ReactorCore {
    return this.reactor.core;
  }

  constructor(
    /** The reactor this port belongs to. */
    protected readonly reactor: ReactorParts,
    private readonly config: PortConfig,
    /** The factory building a protocol per connection. */
    readonly factory: Factory,
  ) {
    super();
    this.family = config.family;
  }

  /** Binds and listens; CannotListenError when the address (or its lock file, with wantPID) is in use or invalid. */
  startListening(): void {
    if (this.listening) return;
    const c = this.config;
    if (c.wantPID === true) acquireLock(c.host);
    try {
      this.bindAndStart();
    } catch (e) {
      if (c.wantPID === true) releaseLock(c.host);
      throw e;
    }
  }

  private bindAndStart(): void {
    const c = this.config;
    const where = c.family === Family.Unix ? c.host : c.port;
    const native = this.reactor.core.nativeOr((e) => new CannotListenError(c.host, where, e.message, e.code));
    const r = c.adoptFd !== undefined ? this.adopt(native, c.adoptFd) : this.listenOn(native);
    this.takeSlot(native, r);
    if (c.acceptBatch !== undefined) native.setAcceptBatch(r, this.gen, c.acceptBatch);
    if (c.family === Family.Unix && c.adoptFd === undefined) {
      this.inode = socketInode(c.host);
      if (c.mode !== undefined) {
        try {
          fs.chmodSync(c.host, c.mode);
        } catch (e) {
          native.remove(r, this.gen);
          removeOwnSocket(c.host, this.inode);
          throw new CannotListenError(c.host, c.host, `chmod failed: ${(e as Error).message}`, (e as NodeJS.ErrnoException).code);
        }
      }
      this.host = new UNIXAddress(c.host);
    } else {
      const a = native.localAddress(r, this.gen);
      this.host = typeof a === 'number' ? null : toAddress(a);
    }
    try {
      this.factory.doStart();
    } catch (e) {
      // startFactory failed: no half-started port is left behind.
      native.remove(r, this.gen);
      if (c.family === Family.Unix) removeOwnSocket(c.host, this.inode);
      throw e;
    }
    this.reactor.core.register(this);
    this.listening = true;
  }

  /** Stops listening; fires once the socket is closed and the factory's doStop ran. */
  stopListening(): Deferred<void> {
    const d = new Deferred<void>();
    if (!this.listening) {
      d.callback(undefined);
      return d;
    }
    this.listening = false;
    if (this.resumeCall !== null && this.resumeCall.active()) this.resumeCall.cancel();
    this.resumeCall = null;
    this.reactor.core.unregister(this);
    if (this.family === Family.Unix) removeOwnSocket(this.config.host, this.inode);
    if (this.config.wantPID === true) releaseLock(this.config.host);
    try {
      this.factory.doStop();
    } catch (e) {
      d.errback(new Failure(e));
      return d;
    }
    d.callback(undefined);
    return d;
  }

  /** The address bound: the real port after listening on port 0. */
  getHost(): A {
    if (this.host === null) throw new Error('getHost: the port is not listening');
    return this.host as A; // the reactor chose A from the family this port was made with
  }

  /** Accept counters and open connections of this port. */
  stats(): PortStats {
    return { accepts: this.accepts, acceptBatches: this.acceptBatches, acceptErrors: this.acceptErrors, connections: this.connections };
  }

  /** Twisted's repr: `<Factory on 8080>`. */
  override toString(): string {
    const h = this.host;
    const where = h === null ? this.config.port : h instanceof UNIXAddress ? h.name ?? this.config.host : (h as { port: number }).port;
    return `<${this.factory.constructor.name} on ${where}>`;
  }

  /** @internal A connection arrived in stream slot (slot, gen). */
  override onAccepted(slot: number, gen: number): void {
    const core = this.reactor.core;
    this.accepts++;
    if (core.batches !== this.lastBatch) {
      this.lastBatch = core.batches;
      this.acceptBatches++;
    }
    if (this.backoff !== 0) {
      this.backoff = 0;
      log.msg(`${this.toString()}: accepting connections again`);
    }
    const t = this.makeTransport(slot, gen);
    core.register(t);
    if (this.config.tls !== undefined && !startTLSOrClose(t, this.config.tls, this)) return;
    let protocol;
    try {
      protocol = this.factory.buildProtocol(t.getPeer());
    } catch (e) {
      log.failure(`${this.toString()}: buildProtocol raised; connection closed`, new Failure(e));
      protocol = null;
    }
    if (protocol === null || protocol === undefined) {
      t.closeSilently();
      return;
    }
    this.connections++;
    t.attach(protocol);
  }

  /** @internal Accepting failed: log once per episode, retry with a growing delay. */
  override onAcceptError(errno: number): void {
    this.acceptErrors++;
    const code = errnoName(-Math.abs(errno));
    if (code === 'EPERM') {
      log.emit('warn', `${this.toString()}: a connection was refused by the system (EPERM)`, { errno: code });
      return;
    }
    if (this.backoff === 0) {
      const why = code === 'EMFILE' || code === 'ENFILE' ? 'out of file descriptors' : 'accept failed';
      log.emit('error', `${this.toString()}: ${why} (${code}); pausing accept, retrying until it succeeds`, { errno: code });
      this.backoff = FIRST_BACKOFF;
    } else {
      this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF);
    }
    this.resumeCall = this.reactor.clock.callLater(this.backoff, this.resume);
  }

  /** Fires once no connection accepted by this port is open (at once when none is). */
  whenConnectionsClosed(): Deferred<void> {
    const d = new Deferred<void>();
    if (this.connections === 0) d.callback(undefined);
    else this.idleWaiters.push(d);
    return d;
  }

  /** @internal One of our connections closed. */
  transportLost(): void {
    this.connections--;
    if (this.connections !== 0 || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const d of waiters) d.callback(undefined);
  }

  /** @internal Reactor shutdown: stop listening. */
  override disconnect(): void {
    void this.stopListening();
  }

  /** @internal A callback of the port itself threw: keep listening (the connection was dropped). */
  override failed(): void {}

  /** The transport for an accepted connection in (slot, gen); a port for another transport kind overrides it. */
  protected makeTransport(slot: number, gen: number): StreamTransport {
    const core = this.reactor.core;
    return new StreamTransport(core, this.loop!, slot, gen, this, this.reactor.highWaterMark);
  }

  private readonly resume = (): void => {
    this.resumeCall = null;
    if (this.listening) this.loop!.resumeAccepting(this.slot, this.gen);
  };

  /** A new listening socket's slot; CannotListenError when the address is taken or invalid. */
  private listenOn(native: NativeLoop): number {
    const c = this.config;
    let r = native.listen(c.family, c.host, c.port, c.backlog, c.reusePort);
    if (r < 0 && errnoName(r) === 'EADDRINUSE' && c.family === Family.Unix && removeStaleSocket(c.host)) {
      r = native.listen(c.family, c.host, c.port, c.backlog, c.reusePort);
    }
    if (r < 0) throw this.cannotListen(r);
    return r;
  }

  /** The slot of a dup of a listening fd; CannotAdoptError when it is not one of our family. */
  private adopt(native: NativeLoop, fd: number): number {
    const r = native.adoptSocket(fd, this.family, true);
    if (r < 0) throw cannotAdopt(fd, r, this.family);
    return r;
  }

  private cannotListen(r: number): CannotListenError {
    const c = this.config;
    return new CannotListenError(c.host, c.family === Family.Unix ? c.host : c.port, errnoError(r, 'listen').message, errnoName(r));
  }
}
