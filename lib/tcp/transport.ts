/**
 * The stream transport shared by TCP and UNIX connections (Twisted's
 * tcp.Connection + abstract.FileDescriptor): writes go to native at once,
 * only the remainder is buffered; flow control, half-close, and a
 * connectionLost that fires exactly once, never nested in another callback.
 */
import type { IAddress } from '../address';
import { ConnectionAborted, ConnectionDone, ConnectionLost } from '../errors';
import { Failure } from '../failure';
import type { IHalfCloseableProtocol, IPullProducer, IPushProducer, ITCPTransport } from '../interfaces';
import { log } from '../log';
import { errnoName, NativeAddress, NativeLoop } from '../native';
import type { Protocol } from '../protocol';
import { Handler, ReactorCore } from '../reactor/core';
import { Family, toAddress, unknownAddress } from './addresses';
import { WRITE_CHUNK, WriteBacklog } from './write-backlog';

// State bits. The low four are NO_DELIVER in core.ts: data is not handed
// straight to the protocol while any of them is set.
const CLOSED = 0x1; // the slot is gone; connectionLost is queued or done
const DISCONNECTING = 0x2; // loseConnection(): flush, then close
const PAUSED = 0x4; // pauseProducing(): reading stopped
const HOLDING = 0x8; // resumed, but data held while paused is not delivered yet
const READ_EOF = 0x10; // the peer shut down its write side
const WRITE_SHUT_ASKED = 0x20; // loseWriteConnection() called
const WRITE_SHUT = 0x40; // the write side is shut down
const STREAMING = 0x80; // the registered producer is a push producer
const PRODUCER_PAUSED = 0x100; // we paused it at the high-water mark
const PULL_QUEUED = 0x200; // a pull producer's resumeProducing is scheduled
const SILENT = 0x400; // no protocol was attached: close without connectionLost
const EOF_HELD = 0x800; // EOF arrived while paused: handled after the held data

/** Default high-water mark of a transport's write buffer, in bytes. */
export const DEFAULT_HIGH_WATER = 64 * 1024;

/** A protocol that may implement IHalfCloseableProtocol's hooks. */
type HalfCloseable = Partial<IHalfCloseableProtocol>;

/** Whoever made a transport: a listening port or a connector. */
export interface TransportOwner {
  /** Address family of the connection (for addresses that cannot be read). */
  readonly family: Family;
  /** Runs after the protocol's connectionLost. */
  transportLost(t: StreamTransport, reason: Failure): void;
  /** A connect finished: errno 0 or the failure. */
  connectFinished?(t: StreamTransport, errno: number): void;
}

type Producer = IPushProducer | IPullProducer;
type Bytes = Buffer | Uint8Array | string;

/** `data` as bytes (a string as UTF-8); a TypeError naming `what` for anything else. */
export function toBytes(data: unknown, what: string): Uint8Array {
  if (typeof data === 'string') return Buffer.from(data);
  if (data instanceof Uint8Array) return data;
  throw new TypeError(`${what}: data must be a Buffer, Uint8Array or string, got ${data === null ? 'null' : typeof data}`);
}

/**
 * Why a connection ended, made without a stack trace. The stack would show
 * only the reactor's own frames (Twisted's connectionDone carries no
 * traceback either), and capturing it from optimized code, then formatting
 * it when the Failure is made, was ~75,000 instructions per connection: most
 * of the CPU a short-lived connection costs.
 */
function endReason<E extends Error>(Type: new (message?: string) => E, message?: string): E {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new Type(message);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

function lostReason(errno: number): ConnectionLost {
  return endReason(ConnectionLost, `Connection to the other side was lost in a non-clean fashion: ${errnoName(-Math.abs(errno))}.`);
}

/** A connected TCP or UNIX stream: ITCPTransport, IConsumer and IPushProducer. */
export class StreamTransport extends Handler implements ITCPTransport {
  /** @internal State bits (see the constants above). */
  state = 0;
  /** The protocol this transport delivers to (set once connected). */
  protocol!: Protocol;
  /** Write-buffer size above which a streaming producer is paused. */
  highWaterMark: number;
  private producer: Producer | null = null;
  private host: IAddress | null = null;
  private peer: IAddress | null = null;
  private held: Buffer[] | null = null;
  /** Bytes beyond what one call hands to native (see write-backlog.ts); null when none wait. */
  private backlog: WriteBacklog | null = null;

  /** Made by ports and connectors, never by user code. */
  constructor(
    private readonly core: ReactorCore,
    private readonly native: NativeLoop,
    slot: number,
    gen: number,
    /** The port or connector that made this transport. */
    readonly owner: TransportOwner,
    highWaterMark: number,
  ) {
    super();
    this.slot = slot;
    this.gen = gen;
    this.highWaterMark = highWaterMark;
  }

  /** True until the connection is closed. */
  get connected(): boolean {
    return (this.state & CLOSED) === 0;
  }

  /** True once loseConnection() was called. */
  get disconnecting(): boolean {
    return (this.state & DISCONNECTING) !== 0;
  }

  /** @internal Attaches the protocol and calls its makeConnection (connectionMade). */
  attach(protocol: Protocol): void {
    this.protocol = protocol;
    protocol.makeConnection(this);
  }

  /**
   * Writes bytes now; what the kernel does not take is buffered. Ignored once
   * closing. Beyond the first MiB, a larger Buffer is kept by reference until
   * sent, as Node's streams do: do not change it meanwhile.
   */
  write(data: Bytes): void {
    if ((this.state & (CLOSED | DISCONNECTING | WRITE_SHUT_ASKED)) !== 0) return;
    const bytes = toBytes(data, 'write');
    if (this.backlog !== null || bytes.length > WRITE_CHUNK) return this.queueWrite([bytes]);
    const r = this.native.write(this.slot, bytes);
    if (r !== 0 || this.producer !== null) this.afterWrite(r);
  }

  /** Writes several buffers with one writev. Ignored once closing. */
  writeSequence(data: Iterable<Bytes>): void {
    if (data === null || typeof data !== 'object' || typeof (data as Iterable<Bytes>)[Symbol.iterator] !== 'function') {
      throw new TypeError('writeSequence: data must be an array (or iterable) of Buffers or strings');
    }
    if ((this.state & (CLOSED | DISCONNECTING | WRITE_SHUT_ASKED)) !== 0) return;
    const chunks = Array.from(data, (d) => toBytes(d, 'writeSequence'));
    if (chunks.length === 0) return;
    if (this.backlog !== null || chunks.reduce((n, c) => n + c.length, 0) > WRITE_CHUNK) return this.queueWrite(chunks);
    this.afterWrite(this.native.writev(this.slot, chunks));
  }

  /** Bytes written but not yet taken by the kernel. */
  bufferedAmount(): number {
    if ((this.state & CLOSED) !== 0) return 0;
    const n = this.native.buffered(this.slot);
    return (n > 0 ? n : 0) + (this.backlog !== null ? this.backlog.bytes : 0);
  }

  /** Stops reading, flushes the buffer, then closes; connectionLost gets ConnectionDone. */
  loseConnection(): void {
    if ((this.state & (CLOSED | DISCONNECTING)) !== 0) return;
    this.state |= DISCONNECTING;
    if ((this.state & WRITE_SHUT) !== 0 || (this.producer === null && this.bufferedAmount() === 0)) {
      this.closeNow(endReason(ConnectionDone));
    } else {
      this.native.pauseReading(this.slot);
    }
  }

  /** Closes now, discarding buffered data; connectionLost gets ConnectionAborted. */
  abortConnection(): void {
    this.closeNow(endReason(ConnectionAborted));
  }

  /** Half-close: flushes, then shuts down the write side; reading goes on. */
  loseWriteConnection(): void {
    if ((this.state & (CLOSED | DISCONNECTING | WRITE_SHUT_ASKED)) !== 0) return;
    this.state |= WRITE_SHUT_ASKED;
    if (this.backlog !== null) return; // shut down once the backlog is in native (feedBacklog)
    const r = this.native.shutdownWrite(this.slot);
    if (r < 0) return this.closeNow(lostReason(r));
    if (this.bufferedAmount() === 0) this.core.atEndOfStep(() => this.writeSideShut());
  }

  /** Local address (computed on first use; after the close, only if read before). */
  getHost(): IAddress {
    if (this.host === null) this.host = this.readAddress(this.native.localAddress(this.slot));
    return this.host;
  }

  /** Remote address (computed on first use). */
  getPeer(): IAddress {
    if (this.peer === null) this.peer = this.readAddress(this.native.peerAddress(this.slot));
    return this.peer;
  }

  /** The socket's fd number, or -1 once closed. */
  fileno(): number {
    return (this.state & CLOSED) !== 0 ? -1 : this.native.fdOf(this.slot);
  }

  /** Enables or disables TCP_NODELAY (ignored on UNIX sockets). */
  setTcpNoDelay(enabled: boolean): void {
    if ((this.state & CLOSED) === 0) this.native.setNoDelay(this.slot, !!enabled);
  }

  /** Enables or disables SO_KEEPALIVE. */
  setTcpKeepAlive(enabled: boolean): void {
    if ((this.state & CLOSED) === 0) this.native.setKeepAlive(this.slot, !!enabled);
  }

  // ---- IConsumer ----

  /** Registers a push (streaming) or pull producer feeding this transport. */
  registerProducer(producer: Producer, streaming: boolean): void {
    if (producer === null || typeof producer !== 'object' || typeof producer.resumeProducing !== 'function') {
      throw new TypeError('registerProducer: producer must have resumeProducing and stopProducing');
    }
    if (this.producer !== null) throw new Error('registerProducer: a producer is already registered; unregister it first');
    if ((this.state & CLOSED) !== 0) {
      producer.stopProducing();
      return;
    }
    this.producer = producer;
    if (streaming) {
      this.state |= STREAMING;
      if (this.bufferedAmount() > this.highWaterMark) this.pauseProducer();
    } else {
      producer.resumeProducing();
    }
  }

  /** Unregisters the producer; a pending loseConnection may now complete. */
  unregisterProducer(): void {
    this.producer = null;
    this.state &= ~(STREAMING | PRODUCER_PAUSED);
    if ((this.state & (DISCONNECTING | CLOSED)) === DISCONNECTING && this.bufferedAmount() === 0) {
      this.closeNow(endReason(ConnectionDone));
    }
  }

  // ---- IPushProducer (the transport as a producer of received data) ----

  /** Stops reading until resumeProducing(). */
  pauseProducing(): void {
    if ((this.state & (CLOSED | PAUSED)) !== 0) return;
    this.state |= PAUSED;
    this.native.pauseReading(this.slot);
  }

  /** Starts reading again; data held while paused is delivered first. */
  resumeProducing(): void {
    if ((this.state & PAUSED) === 0) return;
    this.state &= ~PAUSED;
    if ((this.state & (CLOSED | DISCONNECTING)) !== 0) return;
    this.native.resumeReading(this.slot);
    if (this.held !== null) this.state |= HOLDING;
    if ((this.state & (HOLDING | EOF_HELD)) !== 0) this.core.atEndOfStep(() => this.deliverHeld());
  }

  /** Closes the connection (as loseConnection). */
  stopProducing(): void {
    this.loseConnection();
  }

  // ---- records from the dispatch loop ----

  /** @internal Data that arrived while paused (or before held data went out) is kept; while closing it is dropped. */
  heldData(data: Buffer): void {
    if ((this.state & (CLOSED | DISCONNECTING)) !== 0) return;
    if (this.held === null) this.held = [];
    this.held.push(data);
  }

  /** @internal The write buffer became empty. */
  override onDrained(): void {
    if (this.backlog !== null) {
      const r = this.feedBacklog();
      if (r < 0) return this.closeNow(lostReason(r));
      if (r > 0) return; // native buffered the next chunk: its Drained record comes back here
    }
    const state = this.state;
    if ((state & (WRITE_SHUT_ASKED | WRITE_SHUT)) === WRITE_SHUT_ASKED) this.writeSideShut();
    const p = this.producer;
    if (p !== null) {
      if ((state & STREAMING) === 0) {
        p.resumeProducing();
      } else if ((state & PRODUCER_PAUSED) !== 0) {
        this.state &= ~PRODUCER_PAUSED;
        p.resumeProducing();
      }
    } else if ((this.state & (DISCONNECTING | CLOSED)) === DISCONNECTING) {
      this.closeNow(endReason(ConnectionDone));
    }
  }

  /** @internal The peer shut down its write side (kept until held data is delivered). */
  override onEof(): void {
    if ((this.state & (PAUSED | HOLDING)) !== 0) {
      this.state |= EOF_HELD;
      return;
    }
    this.state = (this.state | READ_EOF) & ~EOF_HELD;
    const p = this.protocol as unknown as HalfCloseable;
    if (typeof p.readConnectionLost === 'function') {
      p.readConnectionLost();
      if ((this.state & WRITE_SHUT) !== 0) this.closeNow(endReason(ConnectionDone));
    } else if (this.producer === null && this.bufferedAmount() > 0) {
      this.loseConnection();
    } else {
      this.closeNow(endReason(ConnectionDone));
    }
  }

  /** @internal The connection failed (reset, broken pipe...). */
  override onError(errno: number): void {
    this.closeNow(lostReason(errno));
  }

  /** @internal A client connect finished. */
  override onConnected(errno: number): void {
    this.owner.connectFinished?.(this, errno);
  }

  /** @internal A callback of this connection threw: drop it with that failure. */
  override failed(failure: Failure): void {
    this.closeNow(failure);
  }

  /** @internal Closes without calling connectionLost (no protocol was attached). */
  closeSilently(): void {
    this.state |= SILENT;
    this.closeNow(null);
  }

  // ---- internals ----

  /** Queues bytes behind the backlog (native gets them chunk by chunk); starts feeding a new one. */
  private queueWrite(chunks: Uint8Array[]): void {
    const fresh = this.backlog === null;
    const backlog = (this.backlog ??= new WriteBacklog());
    for (const c of chunks) backlog.push(c);
    // An older backlog means native is still flushing: its Drained record feeds this too.
    this.afterWrite(fresh ? this.feedBacklog() : this.bufferedAmount());
  }

  /**
   * Hands the backlog to native until it buffers a chunk. Returns the bytes
   * still waiting (0: all sent, a pending loseWriteConnection went to native) or -errno.
   */
  private feedBacklog(): number {
    const backlog = this.backlog as WriteBacklog;
    const r = backlog.feed((chunks) => (chunks.length === 1 ? this.native.write(this.slot, chunks[0]) : this.native.writev(this.slot, chunks)));
    if (r < 0) return r;
    if (backlog.bytes !== 0) return this.bufferedAmount();
    this.backlog = null;
    if ((this.state & (WRITE_SHUT_ASKED | WRITE_SHUT)) === WRITE_SHUT_ASKED) {
      const s = this.native.shutdownWrite(this.slot);
      if (s < 0) return s;
    }
    return this.bufferedAmount();
  }

  private afterWrite(r: number): void {
    if (r < 0) {
      this.closeNow(lostReason(r));
      return;
    }
    const p = this.producer;
    if (p === null) return;
    if ((this.state & STREAMING) !== 0) {
      if (r > this.highWaterMark && (this.state & PRODUCER_PAUSED) === 0) this.pauseProducer();
    } else if (r === 0) {
      this.queuePull();
    }
  }

  private pauseProducer(): void {
    this.state |= PRODUCER_PAUSED;
    (this.producer as IPushProducer).pauseProducing();
  }

  /** A pull producer whose chunk went out at once is asked again on the next turn. */
  private queuePull(): void {
    if ((this.state & PULL_QUEUED) !== 0) return;
    this.state |= PULL_QUEUED;
    setImmediate(() => {
      this.state &= ~PULL_QUEUED;
      const p = this.producer;
      // Something got buffered since: the Drained record will ask instead.
      if (p === null || (this.state & (CLOSED | STREAMING)) !== 0 || this.bufferedAmount() !== 0) return;
      this.guarded(() => p.resumeProducing());
    });
  }

  private deliverHeld(): void {
    this.guarded(() => {
      const held = this.held;
      while (held !== null && held.length !== 0 && (this.state & (CLOSED | DISCONNECTING | PAUSED)) === 0) {
        this.protocol.dataReceived(held.shift() as Buffer);
      }
      if (held !== null && held.length === 0 && this.held === held) {
        this.held = null;
        this.state &= ~HOLDING;
      }
      if ((this.state & (EOF_HELD | CLOSED | PAUSED | HOLDING)) === EOF_HELD) this.onEof();
    });
  }

  /** Runs a user callback outside dispatch: a throw is logged and drops the connection. */
  private guarded(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      const f = new Failure(e);
      log.failure('Unhandled error in a protocol callback; dropping its connection', f);
      this.closeNow(f);
    }
  }

  private writeSideShut(): void {
    if ((this.state & (CLOSED | WRITE_SHUT)) !== 0) return;
    this.state |= WRITE_SHUT;
    const p = this.protocol as unknown as HalfCloseable;
    if (typeof p.writeConnectionLost === 'function') this.guarded(() => p.writeConnectionLost!());
    if ((this.state & READ_EOF) !== 0) this.closeNow(endReason(ConnectionDone));
  }

  private readAddress(a: NativeAddress | number): IAddress {
    return typeof a === 'number' ? unknownAddress(this.owner.family) : toAddress(a);
  }

  /** Closes the slot now; connectionLost follows at the end of the current step. */
  private closeNow(reason: unknown): void {
    if ((this.state & CLOSED) !== 0) return;
    this.state |= CLOSED;
    this.backlog = null;
    this.core.unregister(this);
    if ((this.state & SILENT) === 0) this.core.atEndOfStep(() => this.connectionLost(reason));
  }

  private connectionLost(reason: unknown): void {
    const failure = reason instanceof Failure ? reason : new Failure(reason);
    this.held = null;
    if (this.protocol === undefined) return; // still connecting: the connector reports it
    const p = this.producer;
    if (p !== null) {
      this.producer = null;
      try {
        p.stopProducing();
      } catch (e) {
        log.failure('Error in producer.stopProducing', new Failure(e));
      }
    }
    this.protocol.connected = false;
    try {
      this.protocol.connectionLost(failure);
    } catch (e) {
      log.failure('Unhandled error in connectionLost', new Failure(e));
    }
    this.owner.transportLost(this, failure);
  }
}
