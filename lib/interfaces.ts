/**
 * The interfaces the layers meet at, after `twisted/internet/interfaces.py`.
 * Each method says what it does and what it returns.
 */
import type { IAddress } from './address';
import type { Deferred } from './defer';

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
  /** Writes bytes at once when the socket allows; the rest is buffered in order. */
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

/** A listening port returned by listenTCP/listenUNIX. */
export interface IListeningPort {
  /** Starts listening (listenTCP already did). */
  startListening(): void;
  /** Stops listening; the Deferred fires once the socket is closed and stopFactory ran. */
  stopListening(): Deferred<void>;
  /** The address actually bound (the real port after listening on port 0). */
  getHost(): IAddress;
}

/** An outgoing connection attempt, as returned by connectTCP/connectUNIX. */
export interface IConnector {
  /** Starts (or restarts) connecting. */
  connect(): void;
  /** Stops connecting, or disconnects if connected. */
  disconnect(): void;
  /** Stops a connection attempt in progress. */
  stopConnecting(): void;
  /** Where this connector connects to. */
  getDestination(): IAddress;
}

/** A protocol that wants to hear about half-closed connections (Twisted's IHalfCloseableProtocol). */
export interface IHalfCloseableProtocol {
  /** The peer shut down its write side; the connection stays open for writing. */
  readConnectionLost(): void;
  /** Our write side was shut down (loseWriteConnection finished). */
  writeConnectionLost(): void;
}
