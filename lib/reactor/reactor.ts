/**
 * The reactor: IReactorCore (run/stop/triggers), IReactorTime, IReactorTCP,
 * IReactorUNIX and IReactorFDSet in one object. I/O and timers work without
 * run(); run() adds the startup/shutdown events and keeps the process alive.
 */
import { ConnectionLost, ReactorAlreadyRunning, ReactorNotRunning } from '../errors';
import { Failure } from '../failure';
import { log } from '../log';
import type { Factory } from '../protocol';
import type { DelayedCall, IReactorTime } from '../timers';
import { checkFactory, checkNonNegative, checkPort, Family, listenInterface } from '../tcp/addresses';
import { Connector } from '../tcp/connector';
import { Port } from '../tcp/port';
import { DEFAULT_HIGH_WATER, StreamTransport } from '../tcp/transport';
import { ReactorCore, ReactorParts, ReactorStats } from './core';
import { FDSet, IReadDescriptor, IWriteDescriptor } from './fdset';
import { ReactorClock } from './time';
import { SystemEventTriggers, TriggerId, TriggerPhase } from './triggers';

/** Options of createReactor. */
export interface ReactorOptions {
  /** 'epoll', 'kqueue' or 'poll'; the platform's best when omitted. */
  backend?: string;
  /** Default write-buffer high-water mark for transports, in bytes (64 KiB). */
  highWaterMark?: number;
}

/** Options of listenTCP. */
export interface ListenTCPOptions {
  /** listen() backlog (50). */
  backlog?: number;
  /** Numeric address to bind: '' = every IPv4 address, '::' = IPv6 (and IPv4), 'localhost'. */
  interface?: string;
  /** Most connections accepted per wake-up; 1 pins one accept per wake-up. */
  acceptBatch?: number;
  /** SO_REUSEPORT, so several listeners can share the port. */
  reusePort?: boolean;
}

/** Options of connectTCP. */
export interface ConnectTCPOptions {
  /** Seconds before the attempt fails with TimeoutError (30); null for none. */
  timeout?: number | null;
  /** Local [host, port] to bind before connecting. */
  bindAddress?: [string, number] | null;
}

/** Options of listenUNIX. */
export interface ListenUNIXOptions {
  /** listen() backlog (50). */
  backlog?: number;
  /** File mode for the socket file (e.g. 0o660). */
  mode?: number;
}

/** Options of connectUNIX. */
export interface ConnectUNIXOptions {
  /** Seconds before the attempt fails with TimeoutError (30); null for none. */
  timeout?: number | null;
}

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

function checkOptions<T extends object>(opts: T | undefined, what: string): Partial<T> {
  if (opts === undefined) return {};
  if (opts === null || typeof opts !== 'object') throw new TypeError(`${what}: options must be an object`);
  return opts;
}

function checkTimeout(opts: { timeout?: number | null }, what: string): number | null {
  if (!('timeout' in opts) || opts.timeout === undefined) return 30;
  if (opts.timeout === null || opts.timeout === Infinity) return null;
  return checkNonNegative(opts.timeout, `${what}: timeout`);
}

function checkPath(path: unknown, what: string): string {
  if (typeof path !== 'string' || path === '') throw new TypeError(`${what}: path must be a non-empty string, got ${String(path)}`);
  return path;
}

/** A Twisted-style reactor living inside Node's event loop. */
export class Reactor implements ReactorParts, IReactorTime {
  /** @internal The native loop and handler table. */
  readonly core: ReactorCore;
  /** @internal The timer queue. */
  readonly clock = new ReactorClock();
  /** Default write-buffer high-water mark for new transports, in bytes. */
  highWaterMark: number;
  /** True from run() until the shutdown 'during' phase has finished. */
  running = false;
  private stopping = false;
  private readonly triggers = new SystemEventTriggers();
  private readonly fds: FDSet;
  private startup: Promise<void> = Promise.resolve();
  private keepAlive: NodeJS.Timeout | null = null;
  private resolveRun: (() => void) | null = null;

  /** Prefer createReactor(); `backend` must already be a checked name. */
  constructor(opts: ReactorOptions = {}) {
    this.core = new ReactorCore(opts.backend);
    this.highWaterMark = opts.highWaterMark ?? DEFAULT_HIGH_WATER;
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

  /** Fires 'shutdown' (closing every port and connection in its 'during' phase); run() then resolves. */
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
  listenTCP(port: number, factory: Factory, opts?: ListenTCPOptions): Port {
    checkPort(port, 'listenTCP');
    checkFactory(factory, 'listenTCP');
    const o = checkOptions(opts, 'listenTCP');
    const { family, host } = listenInterface(o.interface, port);
    const backlog = checkNonNegative(o.backlog ?? 50, 'listenTCP: backlog', true);
    let acceptBatch: number | undefined;
    if (o.acceptBatch !== undefined) {
      acceptBatch = checkNonNegative(o.acceptBatch, 'listenTCP: acceptBatch', true);
      if (acceptBatch < 1 || acceptBatch > 65536) throw new RangeError(`listenTCP: acceptBatch must be in 1..65536, got ${acceptBatch}`);
    }
    const p = new Port(this, { family, host, port, backlog, reusePort: !!o.reusePort, acceptBatch }, factory);
    p.startListening();
    return p;
  }

  /** Connects to host:port (names resolved with dns.lookup); returns the Connector. */
  connectTCP(host: string, port: number, factory: Factory, opts?: ConnectTCPOptions): Connector {
    if (typeof host !== 'string' || host === '') throw new TypeError(`connectTCP: host must be a non-empty string, got ${String(host)}`);
    checkPort(port, 'connectTCP');
    checkFactory(factory, 'connectTCP');
    const o = checkOptions(opts, 'connectTCP');
    const timeout = checkTimeout(o, 'connectTCP');
    let bind: [string, number] | null = null;
    if (o.bindAddress !== undefined && o.bindAddress !== null) {
      const b = o.bindAddress;
      if (!Array.isArray(b) || b.length !== 2 || typeof b[0] !== 'string') {
        throw new TypeError('connectTCP: bindAddress must be [host, port]');
      }
      bind = [b[0] === '' ? '0.0.0.0' : b[0], checkPort(b[1], 'connectTCP bindAddress')];
    }
    const c = new Connector(this, { kind: Family.V4, host, port, timeout, bindAddress: bind }, factory);
    c.connect();
    return c;
  }

  /** Listens on a UNIX socket path; a stale socket file is replaced, a live one is CannotListenError. */
  listenUNIX(path: string, factory: Factory, opts?: ListenUNIXOptions): Port {
    checkPath(path, 'listenUNIX');
    checkFactory(factory, 'listenUNIX');
    const o = checkOptions(opts, 'listenUNIX');
    const backlog = checkNonNegative(o.backlog ?? 50, 'listenUNIX: backlog', true);
    if (o.mode !== undefined && (!Number.isInteger(o.mode) || o.mode < 0 || o.mode > 0o7777)) {
      throw new TypeError(`listenUNIX: mode must be an integer file mode such as 0o660, got ${String(o.mode)}`);
    }
    const p = new Port(this, { family: Family.Unix, host: path, port: 0, backlog, reusePort: false, mode: o.mode }, factory);
    p.startListening();
    return p;
  }

  /** Connects to a UNIX socket path; returns the Connector. */
  connectUNIX(path: string, factory: Factory, opts?: ConnectUNIXOptions): Connector {
    checkPath(path, 'connectUNIX');
    checkFactory(factory, 'connectUNIX');
    const timeout = checkTimeout(checkOptions(opts, 'connectUNIX'), 'connectUNIX');
    const c = new Connector(this, { kind: Family.Unix, host: path, port: 0, timeout, bindAddress: null }, factory);
    c.connect();
    return c;
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

  /** Stops every port and closes every connection and fd registration now (ConnectionLost). */
  disconnectAll(): void {
    this.fds.disconnectAll();
    for (const h of this.core.liveHandlers()) {
      if (h instanceof Port) {
        void h.stopListening();
      } else if (h instanceof StreamTransport) {
        const owner = h.owner;
        if (owner instanceof Connector && owner.state === 'connecting') owner.stopConnecting();
        else h.failed(new Failure(new ConnectionLost('The reactor shut down')));
      }
    }
  }

  /** disconnectAll(), then closes the native loop (tests; the reactor can open a new one on next use). */
  close(): void {
    this.disconnectAll();
    this.core.close();
  }

  private readonly onSignal = (sig: NodeJS.Signals): void => {
    if (!this.running || this.stopping) return;
    log.msg(`Received ${sig}, shutting down.`);
    this.stop();
  };

  private async shutdown(): Promise<void> {
    await this.startup;
    await this.triggers.fire('shutdown', (phase) => {
      if (phase === 'during') this.disconnectAll();
      if (phase === 'after') this.running = false;
    });
    for (const sig of SIGNALS) process.removeListener(sig, this.onSignal);
    if (this.keepAlive !== null) clearInterval(this.keepAlive);
    this.keepAlive = null;
    this.running = false;
    this.stopping = false;
    const resolve = this.resolveRun;
    this.resolveRun = null;
    resolve?.();
  }
}
