/**
 * The reactor: IReactorCore (run/stop/triggers), IReactorTime, IReactorTCP,
 * IReactorUNIX, IReactorUDP, IReactorProcess and IReactorFDSet (all in
 * lib/interfaces.ts) in one object. I/O and timers work without run(); run()
 * adds the startup/shutdown events and keeps the process alive.
 */
import * as os from 'os';
import type { IPv4Address, IPv6Address, UNIXAddress } from '../address';
import { ReactorAlreadyRunning, ReactorNotRunning } from '../errors';
import { Failure } from '../failure';
import { log } from '../log';
import type { Factory } from '../protocol';
import type {
  IReactorCore,
  IReactorFDSet,
  IReactorProcess,
  IReactorSSL,
  IReactorSocket,
  IReactorTCP,
  IReactorTime,
  IReactorUDP,
  IReactorUNIX,
  IReadDescriptor,
  IWriteDescriptor,
} from '../interfaces';
import type { DelayedCall } from '../timers';
import { Connector } from '../tcp/connector';
import {
  ConnectTCPOptions,
  ConnectUNIXOptions,
  ListenTCPOptions,
  ListenUNIXOptions,
  tcpConnectorConfig,
  tcpPortConfig,
  unixConnectorConfig,
  unixPortConfig,
} from '../tcp/options';
import { adoptArgs, adoptStreamConnection, SocketFamily } from '../tcp/adopt';
import { Port } from '../tcp/port';
import { DEFAULT_HIGH_WATER } from '../transport/high-water';
import { Process, ProcessProtocol, spawnProcess } from '../process';
import type { SpawnProcessOptions } from '../spawn-options';
import type { IOpenSSLContextFactory } from '../tls/options';
import { connectSSL, listenSSL } from '../tls/reactor';
import { DatagramProtocol, listenUDP, ListenUDPOptions, UDPPort } from '../udp';
import { ReactorCore, ReactorParts, ReactorStats } from './core';
import { FDSet } from './fdset';
import { checkReactorOptions } from './options';
import { ReactorClock } from './time';
import { SystemEventTriggers, TriggerId, TriggerPhase } from './triggers';

/** Options of createReactor. */
export interface ReactorOptions {
  /** 'epoll', 'kqueue' or 'poll'; the platform's best when omitted. */
  backend?: string;
  /** Default write-buffer high-water mark for transports, in bytes (64 KiB). */
  highWaterMark?: number;
  /**
   * Seconds stop() waits, over all phases, for shutdown triggers that return
   * a Deferred or Promise before it goes on without them (10).
   */
  shutdownTimeout?: number;
  /**
   * Keep Node's `performance.eventLoopUtilization()` exact (default true).
   * Node counts only time blocked in libuv's own poll as idle, so by default
   * the reactor's epoll set is polled inside libuv's. False lets an epoll
   * reactor block in its own set instead, which holds libuv's: one kernel
   * call less per wake-up (~3 µs of ~36 µs per one-event round trip here),
   * but Node's event loop utilization then reads as busy while the reactor
   * waits, so anything that sheds load or scales on it would be misled.
   */
  exactLoopUtilization?: boolean;
  /**
   * The own-set wait's coalescing window: `'auto'` (the default), or a fixed
   * window in whole microseconds, 0 to 1000 (0: never). It applies on the
   * epoll backend with `exactLoopUtilization: false`, to the reactor that
   * holds its thread's own wait (the first one started on the thread;
   * another started while it runs polls inside libuv's set and has none);
   * in the exact mode `'auto'` does nothing and a number above 0 is refused.
   *
   * With a window, when a wake-up's work is done and nothing more is ready,
   * the reactor sleeps that long before it waits again, so that events
   * arriving meanwhile are served in one wake-up instead of one each. Below
   * saturation (many connections, each request finished before the next
   * arrives) that saves most of a sleep and wake-up of the thread per
   * request, kernel time (at half the C ceiling's rate ~1-3 µs of ~13 µs
   * CPU per request, bench/PERFORMANCE.md), at the price of up to the
   * window of added latency for requests that arrive while it sleeps (the
   * thread's timer slack is made 1 µs for that sleep only, so the sleep is
   * what it says); Node's own I/O and timers may wait as long. A loop that
   * finds work ready never sleeps, so saturated throughput is unchanged.
   *
   * `'auto'` is a window of {@link AUTO_COALESCE_MICROS} µs that is open
   * only while the recent wake-ups served many distinct connections (64 in
   * the last 128 wake-ups) and their events together come at least one
   * per window (20,000 a second), and closes within 256 wake-ups when they
   * did not: a crowd of open-loop clients is coalesced, while a lone ping-pong
   * client, or any closed-loop client with fewer than 64 connections
   * (`redis-benchmark`'s default 50), never waits for a window. A fixed
   * number applies on every wake-up, whatever the load.
   */
  coalesceMicros?: number | 'auto';
  /**
   * Gather what protocols write while the reactor delivers a wake-up's
   * events, and send it when that delivery ends (default true): one send
   * per connection for all it was written in the delivery, the
   * connections' sends back to back. The bytes leave microseconds later
   * than they would have, before the reactor waits again; a peer on
   * another core is woken once for the batch instead of once per reply
   * (on a VM each wake-up costs the sender an interrupt), and a protocol
   * that writes a message at a time (sendLine per line) makes one system
   * call per connection instead of one per message, as Node's
   * `socket.cork()` would. Applies to plaintext TCP, UNIX and pipe writes
   * of up to 4 KiB while what is gathered, with the write, stays within 256 KiB; larger writes,
   * writes from timers and other callbacks outside a delivery, and TLS
   * (which gathers its records anyway) go as before. Closing, half-closing,
   * aborting, `bufferedAmount()` and starting TLS send what was gathered
   * first.
   * `stats().corkedWrites` and `corkedSends` count it.
   */
  corkWrites?: boolean;
}

export { AUTO_COALESCE_MICROS } from './core';

/** The default of ReactorOptions.shutdownTimeout, in seconds. */
export const DEFAULT_SHUTDOWN_TIMEOUT = 10;

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/** A Twisted-style reactor living inside Node's event loop. */
export class Reactor
  implements ReactorParts, IReactorCore, IReactorTime, IReactorTCP, IReactorUNIX, IReactorSocket, IReactorUDP, IReactorProcess, IReactorFDSet, IReactorSSL
{
  /** @internal The native loop and handler table. */
  readonly core: ReactorCore;
  /** @internal The timer queue. */
  readonly clock = new ReactorClock();
  /** Default write-buffer high-water mark for new transports, in bytes. */
  highWaterMark: number;
  /** Seconds stop() waits for shutdown triggers' Deferreds (see ReactorOptions). */
  shutdownTimeout: number;
  /** True from run() until the shutdown 'during' phase has finished. */
  running = false;
  private stopping = false;
  private readonly triggers = new SystemEventTriggers();
  private readonly fds: FDSet;
  private startup: Promise<void> = Promise.resolve();
  private keepAlive: NodeJS.Timeout | null = null;
  private resolveRun: (() => void) | null = null;
  /** The signal that started the shutdown under way, if one did. */
  private stopSignal: NodeJS.Signals | null = null;

  /**
   * Prefer createReactor(), which also settles the default backend now rather
   * than at first I/O. Throws TypeError for a bad option and
   * BackendUnavailableError for a backend this platform lacks.
   */
  constructor(options: ReactorOptions = {}) {
    const opts = checkReactorOptions(options, 'new Reactor');
    this.core = new ReactorCore(opts.backend, opts.exactLoopUtilization !== false, opts.coalesceMicros ?? 'auto', opts.corkWrites !== false);
    this.highWaterMark = opts.highWaterMark ?? DEFAULT_HIGH_WATER;
    this.shutdownTimeout = opts.shutdownTimeout ?? DEFAULT_SHUTDOWN_TIMEOUT;
    this.fds = new FDSet(this.core);
  }

  /** The poller backend in use ('epoll', 'kqueue', 'poll'); loads the addon. */
  get backend(): string {
    return this.core.backend;
  }

  // ---- IReactorCore ----

  /** Fires 'startup', then resolves once stop() has run the 'shutdown' triggers. */
  run(): Promise<void> {
    if (this.running || this.stopping) throw new ReactorAlreadyRunning('The reactor is already running');
    this.running = true;
    this.keepAlive = setInterval(() => {}, 2 ** 31 - 1);
    for (const sig of SIGNALS) process.on(sig, this.onSignal);
    const done = new Promise<void>((resolve) => (this.resolveRun = resolve));
    this.startup = this.triggers.fire('startup');
    return done;
  }

  /**
   * Fires 'shutdown' (closing every port and connection in its 'during'
   * phase, waiting up to shutdownTimeout for triggers' Deferreds), then
   * cancels every pending delayed call, so nothing of the reactor keeps Node
   * alive; run() then resolves. After SIGINT/SIGTERM the process then exits
   * with 128 + the signal's number, as Node's default handling would.
   */
  stop(): void {
    if (!this.running || this.stopping) throw new ReactorNotRunning("Can't stop reactor that isn't running.");
    this.stopping = true;
    void this.shutdown();
  }

  /** Calls fn(...args) now if running, else once the reactor has started. */
  callWhenRunning<A extends unknown[]>(fn: (...args: A) => unknown, ...args: A): TriggerId | undefined {
    if (this.running) {
      try {
        fn(...args);
      } catch (e) {
        log.failure('Unhandled error in callWhenRunning', new Failure(e));
      }
      return undefined;
    }
    return this.addSystemEventTrigger('after', 'startup', fn, ...args);
  }

  /** Adds fn(...args) to a phase of a system event ('startup', 'shutdown'); a returned Deferred is waited for. */
  addSystemEventTrigger<A extends unknown[]>(phase: TriggerPhase, eventType: string, fn: (...args: A) => unknown, ...args: A): TriggerId {
    return this.triggers.add(phase, eventType, fn, args);
  }

  /** Removes a trigger added with addSystemEventTrigger. */
  removeSystemEventTrigger(id: TriggerId): void {
    this.triggers.remove(id);
  }

  /** Fires a system event's triggers by hand (Twisted's fireSystemEvent). */
  fireSystemEvent(eventType: string): Promise<void> {
    return this.triggers.fire(eventType);
  }

  // ---- IReactorTime ----

  /** Runs fn(...args) once, `seconds` from now; the DelayedCall can cancel, reset or delay it. */
  callLater<A extends unknown[]>(seconds: number, fn: (...args: A) => unknown, ...args: A): DelayedCall {
    return this.clock.callLater(seconds, fn, ...args);
  }

  /** Epoch seconds from a monotonic clock (never jumps back). */
  seconds(): number {
    return this.clock.seconds();
  }

  /** Every pending DelayedCall, in the order they will run. */
  getDelayedCalls(): DelayedCall[] {
    return this.clock.getDelayedCalls();
  }

  // ---- IReactorTCP / IReactorUNIX ----

  /** Listens on a TCP port (0 = any free port); CannotListenError when it cannot. */
  listenTCP(port: number, factory: Factory, opts?: ListenTCPOptions): Port<IPv4Address | IPv6Address> {
    const p = new Port<IPv4Address | IPv6Address>(this, tcpPortConfig(port, factory, opts), factory);
    p.startListening();
    return p;
  }


  /** Connects to host:port (names resolved with dns.lookup); returns the Connector. */
  connectTCP(host: string, port: number, factory: Factory, opts?: ConnectTCPOptions): Connector<IPv4Address | IPv6Address> {
    const c = new Connector<IPv4Address | IPv6Address>(this, tcpConnectorConfig(host, port, factory, opts), factory);
    c.connect();
    return c;
  }


  /** Listens on a UNIX socket path; a stale socket file is replaced, a live one is CannotListenError. */
  listenUNIX(path: string, factory: Factory, opts?: ListenUNIXOptions): Port<UNIXAddress> {
    const p = new Port<UNIXAddress>(this, unixPortConfig(path, factory, opts), factory);
    p.startListening();
    return p;
  }


  /** Connects to a UNIX socket path; returns the Connector. */
  connectUNIX(path: string, factory: Factory, opts?: ConnectUNIXOptions): Connector<UNIXAddress> {
    const c = new Connector<UNIXAddress>(this, unixConnectorConfig(path, factory, opts), factory);
    c.connect();
    return c;
  }


  // ---- IReactorSocket (lib/tcp/adopt.ts) ----

  /**
   * Accepts connections on an already-listening stream socket of `family`
   * ('INET', 'INET6', 'UNIX'), such as one passed down by a supervisor or
   * systemd. The reactor listens on a dup: close your `fd` when you like;
   * stopListening closes only the dup (and never removes a UNIX socket file).
   * CannotAdoptError when fd is closed, not a socket, not a stream socket,
   * of another family or not listening; TypeError for malformed arguments.
   */
  adoptStreamPort(fd: number, family: SocketFamily, factory: Factory): Port {
    const fam = adoptArgs(fd, family, 'adoptStreamPort');
    if (factory === null || typeof factory !== 'object' || typeof factory.buildProtocol !== 'function') {
      throw new TypeError('adoptStreamPort: factory must be a Factory (an object with buildProtocol)');
    }
    const p = new Port(this, { family: fam, host: '', port: 0, backlog: 0, reusePort: false, adoptFd: fd }, factory);
    p.startListening();
    return p;
  }

  /**
   * Runs a protocol from `factory` on a dup of a connected stream socket of
   * `family`, as if a port had accepted it; close your `fd` when you like.
   * CannotAdoptError when fd is not a connected stream socket of that family.
   */
  adoptStreamConnection(fd: number, family: SocketFamily, factory: Factory): void {
    adoptStreamConnection(this, fd, family, factory);
  }

  // ---- IReactorSSL (lib/tls) ----

  /** Listens on a TCP port for TLS (contextFactory: CertificateOptions with a key and certificate). */
  listenSSL(port: number, factory: Factory, contextFactory: IOpenSSLContextFactory, opts?: ListenTCPOptions): Port<IPv4Address | IPv6Address> {
    return listenSSL(this, port, factory, contextFactory, opts);
  }

  /** Connects to host:port over TLS (contextFactory: optionsForClientTLS(host) to verify the server). */
  connectSSL(
    host: string,
    port: number,
    factory: Factory,
    contextFactory: IOpenSSLContextFactory,
    opts?: ConnectTCPOptions,
  ): Connector<IPv4Address | IPv6Address> {
    return connectSSL(this, host, port, factory, contextFactory, opts);
  }

  // ---- IReactorUDP / IReactorProcess ----

  /** Binds a UDP port (0 = any free port) for a DatagramProtocol; CannotListenError when it cannot. */
  listenUDP(port: number, protocol: DatagramProtocol, opts?: ListenUDPOptions): UDPPort {
    return listenUDP(this, port, protocol, opts);
  }

  /** Starts a child process; SpawnError when it cannot be started. Returns its ProcessTransport. */
  spawnProcess(processProtocol: ProcessProtocol, executable: string, args?: readonly string[], opts?: SpawnProcessOptions): Process {
    return spawnProcess(this, processProtocol, executable, args, opts);
  }

  // ---- IReactorFDSet ----

  /** Calls reader.doRead() whenever reader.fileno() is readable. */
  addReader(reader: IReadDescriptor): void {
    this.fds.addReader(reader);
  }

  /** Calls writer.doWrite() whenever writer.fileno() is writable. */
  addWriter(writer: IWriteDescriptor): void {
    this.fds.addWriter(writer);
  }

  /** Stops watching a reader. */
  removeReader(reader: IReadDescriptor): void {
    this.fds.removeReader(reader);
  }

  /** Stops watching a writer. */
  removeWriter(writer: IWriteDescriptor): void {
    this.fds.removeWriter(writer);
  }

  /** Removes every reader and writer; returns them. */
  removeAll(): (IReadDescriptor | IWriteDescriptor)[] {
    return this.fds.removeAll();
  }

  /** The readers watched now. */
  getReaders(): IReadDescriptor[] {
    return this.fds.getReaders();
  }

  /** The writers watched now. */
  getWriters(): IWriteDescriptor[] {
    return this.fds.getWriters();
  }

  // ---- ioreactor's own ----

  /** Native counters (wakeups, accepts, acceptBatches, ...) plus record batches and live registrations. */
  stats(): ReactorStats {
    return this.core.stats();
  }

  /** Stops every port, connection attempt, connection and fd registration now (ConnectionLost). */
  disconnectAll(): void {
    this.core.disconnectAll();
  }

  /** disconnectAll(), then closes the native loop (tests; the reactor can open a new one on next use). */
  close(): void {
    this.disconnectAll();
    this.core.close();
  }

  private readonly onSignal = (sig: NodeJS.Signals): void => {
    if (this.stopping && this.stopSignal !== null) {
      // A second signal while shutting down: stop waiting, as a user pressing ^C twice expects.
      log.msg(`Received ${sig} again, exiting now.`);
      process.exit(signalStatus(sig));
    }
    if (!this.running || this.stopping) return;
    log.msg(`Received ${sig}, shutting down.`);
    this.stopSignal = sig;
    this.stop();
  };

  private async shutdown(): Promise<void> {
    await this.startup;
    await this.triggers.fire(
      'shutdown',
      (phase) => {
        if (phase === 'during') this.disconnectAll();
        if (phase === 'after') this.running = false;
      },
      this.shutdownTimeout,
    );
    this.clock.cancelAll();
    for (const sig of SIGNALS) process.removeListener(sig, this.onSignal);
    if (this.keepAlive !== null) clearInterval(this.keepAlive);
    this.keepAlive = null;
    this.running = false;
    this.stopping = false;
    const sig = this.stopSignal;
    this.stopSignal = null;
    const resolve = this.resolveRun;
    this.resolveRun = null;
    resolve?.();
    // Let run()'s awaiters see it end first, then end as the signal would have.
    if (sig !== null) setImmediate(() => process.exit(signalStatus(sig)));
  }
}

/** The conventional exit status after a fatal signal: 128 + its number. */
function signalStatus(sig: NodeJS.Signals): number {
  return 128 + (os.constants.signals[sig] ?? 0);
}
