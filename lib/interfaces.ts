/**
 * The interfaces the layers meet at, after `twisted/internet/interfaces.py`.
 * Each method says what it does and what it returns.
 */
import type { IAddress, IPv4Address, IPv6Address, UNIXAddress } from './address';
import type { Deferred } from './defer';
import type { Failure } from './failure';
import type { ProcessProtocol } from './process';
import type { Factory } from './protocol';
import type { TriggerId, TriggerPhase } from './reactor/triggers';
import type { SpawnProcessOptions } from './spawn-options';
import type { SocketFamily } from './tcp/adopt';
import type { ConnectTCPOptions, ConnectUNIXOptions, ListenTCPOptions, ListenUNIXOptions } from './tcp/options';
import type { IOpenSSLContextFactory } from './tls/options';
import type { PeerCertificate } from './tls/session';
import type { Bytes } from './transport/bytes';
import type { DatagramProtocol, ListenUDPOptions } from './udp';

/** A producer that can be told to stop for good. */
export interface IProducer {
  /** Stops producing data for good; the consumer is going away. */
  stopProducing(): void;
}

/** A producer that writes on its own until paused (streaming). */
export interface IPushProducer extends IProducer {
  /** Stops producing until resumeProducing() is called. */
  pauseProducing(): void;
  /** Resumes producing after pauseProducing(). */
  resumeProducing(): void;
}

/** A producer that writes one chunk each time it is asked (non-streaming). */
export interface IPullProducer extends IProducer {
  /** Produces one more chunk by writing it to the consumer. */
  resumeProducing(): void;
}

/** Something data can be written to, with flow control from a producer. */
export interface IConsumer {
  /** Registers a producer; streaming=true for push producers, false for pull. */
  registerProducer(producer: IPushProducer | IPullProducer, streaming: boolean): void;
  /** Unregisters the current producer. */
  unregisterProducer(): void;
  /** Writes bytes (a string is UTF-8 encoded). */
  write(data: Buffer | Uint8Array | string): void;
}

/** A bidirectional byte stream: what a Protocol talks to. */
export interface ITransport {
  /** Writes bytes at once when the socket allows; the rest is buffered in order. A string is UTF-8 encoded. */
  write(data: Buffer | Uint8Array | string): void;
  /** Writes several buffers in one system call where possible. */
  writeSequence(data: ReadonlyArray<Buffer | Uint8Array | string>): void;
  /** Flushes what is buffered, then closes; connectionLost gets ConnectionDone. */
  loseConnection(): void;
  /** Local address of this connection. */
  getHost(): IAddress;
  /** Remote address of this connection. */
  getPeer(): IAddress;
}

/** A transport whose connection can be torn down at once. */
export interface ITCPTransport extends ITransport, IConsumer, IPushProducer {
  /** Closes now, discarding buffered data; connectionLost gets ConnectionAborted. */
  abortConnection(): void;
  /** Half-closes: flushes, then shuts down the write side; reading continues. */
  loseWriteConnection(): void;
  /** Enables or disables Nagle's algorithm (TCP_NODELAY). */
  setTcpNoDelay(enabled: boolean): void;
  /** Enables or disables SO_KEEPALIVE. */
  setTcpKeepAlive(enabled: boolean): void;
}

/** A listening port returned by listenTCP/listenUNIX; `A` is the kind of address it is bound to. */
export interface IListeningPort<A extends IAddress = IAddress> {
  /** Starts listening (listenTCP already did). */
  startListening(): void;
  /** Stops listening; the Deferred fires once the socket is closed and stopFactory ran. */
  stopListening(): Deferred<void>;
  /** The address actually bound (the real port after listening on port 0). */
  getHost(): A;
}

/** An outgoing connection attempt, as returned by connectTCP/connectUNIX; `A` is the kind of address it goes to. */
export interface IConnector<A extends IAddress = IAddress> {
  /** Starts (or restarts) connecting. */
  connect(): void;
  /** Stops connecting, or disconnects if connected. */
  disconnect(): void;
  /** Stops a connection attempt in progress. */
  stopConnecting(): void;
  /** Where this connector connects to. */
  getDestination(): A;
}

/**
 * What a protocol implements to hear that the server is shutting down
 * gracefully (drainConnections; `ioreactor serve` on SIGTERM and SIGHUP):
 * its port has stopped accepting, and it should finish the work in hand,
 * take no new work, and close (a keep-alive HTTP channel closes when idle, a
 * WebSocket sends its close frame). Connections still open when the grace
 * period ends are dropped. Optional: a protocol without it is left to close
 * on its own until then.
 */
export interface IGracefulShutdown {
  /** The server is shutting down: finish what is in hand, then close. */
  gracefulShutdown(): void;
}

/**
 * A protocol that wants to hear about half-closed connections (Twisted's
 * IHalfCloseableProtocol). Without readConnectionLost, a peer's EOF flushes
 * what was written before it, stops a registered producer, then closes the
 * connection (ConnectionDone).
 */
export interface IHalfCloseableProtocol {
  /** The peer shut down its write side; the connection stays open for writing. */
  readConnectionLost(): void;
  /** Our write side was shut down (loseWriteConnection finished). */
  writeConnectionLost(): void;
}

/** A call scheduled for later: what `callLater` returns (twisted IDelayedCall). */
export interface IDelayedCall {
  /** The time (in the scheduler's seconds) at which the call will run. */
  getTime(): number;
  /** Stops the call from running; AlreadyCalled/AlreadyCancelled if it is too late. */
  cancel(): void;
  /** Moves the call to `seconds` from now. */
  reset(seconds: number): void;
  /** Moves the call `seconds` later than currently scheduled. */
  delay(seconds: number): void;
  /** True until the call has run or been cancelled. */
  active(): boolean;
}

/** What a ProcessProtocol's transport offers (Twisted's IProcessTransport). */
export interface IProcessTransport {
  /** The child's process id, or null once it has exited. */
  readonly pid: number | null;
  /** Writes to the child's stdin (fd 0). */
  write(data: Bytes): void;
  /** Writes several buffers to the child's stdin at once. */
  writeSequence(data: ReadonlyArray<Bytes>): void;
  /** Writes to a child fd set up as 'w'. */
  writeToChild(childFD: number, data: Bytes): void;
  /** Closes the child's stdin once what was written has gone. */
  closeStdin(): void;
  /** Closes our end of the child's stdout. */
  closeStdout(): void;
  /** Closes our end of the child's stderr. */
  closeStderr(): void;
  /** Closes our end of one child fd (flushing first when we write it). */
  closeChildFD(childFD: number): void;
  /** Sends a signal: 'TERM', 'KILL', 'INT', 'HUP', any other name, or a number. */
  signalProcess(signal: string | number): void;
  /** Closes stdin (after flushing) and every pipe we read. */
  loseConnection(): void;
}

/** Something with an fd that wants doRead() when it is readable (Twisted's IReadDescriptor). */
export interface IReadDescriptor {
  /** The fd to watch. */
  fileno(): number;
  /** The fd is readable (or hung up); returning an Error disconnects it. */
  doRead(): unknown;
  /** Called when the descriptor is dropped after an error. */
  connectionLost?(reason: Failure): void;
}

/** Something with an fd that wants doWrite() when it is writable (Twisted's IWriteDescriptor). */
export interface IWriteDescriptor {
  /** The fd to watch. */
  fileno(): number;
  /** The fd is writable; returning an Error disconnects it. */
  doWrite(): unknown;
  /** Called when the descriptor is dropped after an error. */
  connectionLost?(reason: Failure): void;
}

// ---- what a reactor provides (twisted.internet.interfaces.IReactor*) ----

/** Running and stopping, and the system events around them (Twisted's IReactorCore). */
export interface IReactorCore {
  /** True from run() until the shutdown event's 'during' phase has finished. */
  readonly running: boolean;
  /** Fires 'startup' and keeps the process alive; resolves once stop() has run the 'shutdown' triggers. */
  run(): Promise<void>;
  /** Fires 'shutdown', which closes every port and connection; ReactorNotRunning when not running. */
  stop(): void;
  /** Calls fn(...args) now when running, else once started; returns the trigger id in the second case. */
  callWhenRunning<A extends unknown[]>(fn: (...args: A) => unknown, ...args: A): TriggerId | undefined;
  /** Adds fn(...args) to a phase ('before', 'during', 'after') of an event; a returned Deferred is waited for. */
  addSystemEventTrigger<A extends unknown[]>(phase: TriggerPhase, eventType: string, fn: (...args: A) => unknown, ...args: A): TriggerId;
  /** Removes a trigger added with addSystemEventTrigger. */
  removeSystemEventTrigger(id: TriggerId): void;
  /** Fires an event's triggers, phase by phase; resolves when all have run. */
  fireSystemEvent(eventType: string): Promise<void>;
}

/** Scheduling calls and telling the time (Twisted's IReactorTime). */
export interface IReactorTime {
  /** Runs `fn(...args)` once, `seconds` from now; returns the call, which can be cancelled or moved. */
  callLater<A extends unknown[]>(seconds: number, fn: (...args: A) => unknown, ...args: A): IDelayedCall;
  /** The current time in seconds. */
  seconds(): number;
  /** Every call still waiting, earliest first. */
  getDelayedCalls(): IDelayedCall[];
}

/** TCP servers and clients (Twisted's IReactorTCP). */
export interface IReactorTCP {
  /** Listens on `port` (0 = any free one) with a protocol per connection from `factory`; CannotListenError when it cannot. */
  listenTCP(port: number, factory: Factory, opts?: ListenTCPOptions): IListeningPort<IPv4Address | IPv6Address>;
  /** Connects to host:port (names resolved without blocking); the factory hears how it went. Returns the attempt. */
  connectTCP(host: string, port: number, factory: Factory, opts?: ConnectTCPOptions): IConnector<IPv4Address | IPv6Address>;
}

/** UNIX-socket servers and clients (Twisted's IReactorUNIX). */
export interface IReactorUNIX {
  /** Listens on a socket path (a stale socket file is replaced); CannotListenError when it cannot. */
  listenUNIX(path: string, factory: Factory, opts?: ListenUNIXOptions): IListeningPort<UNIXAddress>;
  /** Connects to a socket path; the factory hears how it went. Returns the attempt. */
  connectUNIX(path: string, factory: Factory, opts?: ConnectUNIXOptions): IConnector<UNIXAddress>;
}

/**
 * Adopting sockets opened elsewhere (Twisted's IReactorSocket): the reactor
 * dups `fd`, so the caller still owns (and should close) its own fd.
 * `family` is 'INET', 'INET6' or 'UNIX' (Twisted's AF_* without the prefix).
 */
export interface IReactorSocket {
  /** Accepts on an already-listening stream socket; CannotAdoptError when fd is not one of `family`. */
  adoptStreamPort(fd: number, family: SocketFamily, factory: Factory): IListeningPort;
  /** Runs a protocol from `factory` on a connected stream socket; CannotAdoptError when fd is not one. */
  adoptStreamConnection(fd: number, family: SocketFamily, factory: Factory): void;
}

/** UDP (Twisted's IReactorUDP). */
export interface IReactorUDP {
  /** Binds a UDP port (0 = any free one) for `protocol`, which gets the port as its transport; CannotListenError when it cannot. */
  listenUDP(port: number, protocol: DatagramProtocol, opts?: ListenUDPOptions): IListeningPort<IPv4Address | IPv6Address>;
}

/** Child processes (Twisted's IReactorProcess). */
export interface IReactorProcess {
  /** Starts `executable` with `args` (args[0] is its name) and pipes per `childFDs`; SpawnError when it cannot. Returns its transport. */
  spawnProcess(processProtocol: ProcessProtocol, executable: string, args?: readonly string[], opts?: SpawnProcessOptions): IProcessTransport;
}

/** Watching any fd for reading or writing (Twisted's IReactorFDSet); the fd stays the caller's. */
export interface IReactorFDSet {
  /** Calls reader.doRead() whenever reader.fileno() is readable. */
  addReader(reader: IReadDescriptor): void;
  /** Calls writer.doWrite() whenever writer.fileno() is writable. */
  addWriter(writer: IWriteDescriptor): void;
  /** Stops watching a reader (nothing happens when it is not watched). */
  removeReader(reader: IReadDescriptor): void;
  /** Stops watching a writer (nothing happens when it is not watched). */
  removeWriter(writer: IWriteDescriptor): void;
  /** Stops watching everything; returns what was watched, each once. */
  removeAll(): (IReadDescriptor | IWriteDescriptor)[];
  /** The readers watched now. */
  getReaders(): IReadDescriptor[];
  /** The writers watched now. */
  getWriters(): IWriteDescriptor[];
}

/** What a transport talks to (Twisted's IProtocol): Protocol implements it. */
export interface IProtocol {
  /** Called once with the connected transport; then connectionMade() runs. */
  makeConnection(transport: ITransport): void;
  /** Bytes arrived. */
  dataReceived(data: Buffer): void;
  /**
   * The connection ended, cleanly (ConnectionDone: one instance shared by
   * every clean close, so annotate the Failure rather than its `value`) or not.
   */
  connectionLost(reason: Failure): void;
}

/** What ports and connectors ask of a factory (Twisted's IProtocolFactory): Factory implements it. */
export interface IProtocolFactory {
  /** Makes a protocol for a connection from addr, or null to refuse it. */
  buildProtocol(addr: IAddress): IProtocol | null;
  /** A port or connector started using this factory. */
  doStart(): void;
  /** A port or connector stopped using this factory. */
  doStop(): void;
}

// ---- TLS (twisted.internet.interfaces: IReactorSSL, ISSLTransport, IHandshakeListener) ----

/** A transport that is, or can become, a TLS connection. */
export interface ISSLTransport extends ITCPTransport {
  /** Starts TLS on the connection (STARTTLS); later writes are encrypted. */
  startTLS(contextFactory: IOpenSSLContextFactory): void;
  /** The ALPN protocol negotiated, or null. */
  readonly negotiatedProtocol: string | null;
  /** The peer's certificate once the handshake completed, else null. */
  getPeerCertificate(): PeerCertificate | null;
  /** True when the handshake resumed an earlier session (a ticket) instead of a full handshake. */
  isSessionReused(): boolean;
}

/** A protocol told when its TLS handshake completed. */
export interface IHandshakeListener {
  /** Called once, after the handshake, before the first decrypted data. */
  handshakeCompleted(): void;
}

/** listenSSL and connectSSL. */
export interface IReactorSSL {
  /** Listens on a TCP port for TLS connections. */
  listenSSL(port: number, factory: Factory, contextFactory: IOpenSSLContextFactory, opts?: ListenTCPOptions): IListeningPort<IPv4Address | IPv6Address>;
  /** Connects over TLS. */
  connectSSL(host: string, port: number, factory: Factory, contextFactory: IOpenSSLContextFactory, opts?: ConnectTCPOptions): IConnector<IPv4Address | IPv6Address>;
}
