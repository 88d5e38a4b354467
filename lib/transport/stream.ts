/**
 * The stream transport of every native stream slot: TCP and UNIX connections
 * (made by tcp/port.ts and tcp/connector.ts) and process pipes (process.ts),
 * as Twisted's abstract.FileDescriptor serves tcp.py and process.py. Writes
 * go to native at once, only the remainder is buffered (beyond a MiB, by
 * reference: write-backlog.ts); flow control with a high-water mark,
 * half-close, and a connectionLost that fires exactly once, never nested in
 * another callback.
 *
 * A transport with another write path (TLS) extends it: the protected
 * send*()/pendingBytes()/shutdownWriteSide() are the only places bytes go
 * down, onData() the only place they come up to the protocol, and
 * closeNow()/afterWrite()/guarded() the shared close and flow-control steps.
 * One exception: the clean close with nothing buffered in JS (finish()) is
 * one native call that sends close_notify under TLS itself, checks that
 * nothing is left to send and removes the slot, bypassing pendingBytes()
 * and shutdownWriteSide().
 */
import type { IAddress } from '../address';
import { ConnectionAborted, ConnectionLost } from '../errors';
import { Failure } from '../failure';
import type { IHalfCloseableProtocol, IPushProducer, ISSLTransport } from '../interfaces';
import { log } from '../log';
import { errnoName, STRING_AT_ONCE } from '../native';
import type { NativeAddress, NativeLoop } from '../native';
import type { AnyProtocol } from '../protocol';
import type { ReactorCore } from '../reactor/core';
import { Handler } from '../reactor/handler';
import { SlabView } from '../reactor/received';
import type { IOpenSSLContextFactory } from '../tls/options';
import { PeerCertificate, TLSSession } from '../tls/session';
import { Family, ipv4Host, packedPort, sharedHost, toAddress, unknownAddress, unpackAddress } from './addresses';
import { Bytes, toBytes } from './bytes';
import { connectionDone, endReason, lostReason } from './end-reasons';
import { DEFAULT_HIGH_WATER } from './high-water';
import { Producer, StreamExtras } from './stream-extras';
import { StreamState as S } from './stream-state';
import { WRITE_CHUNK, WriteBacklog } from './write-backlog';

/** Whoever made a transport: a listening port, a connector, a Process. */
export interface TransportOwner {
  /** @internal Address family of the connection (for addresses that cannot be read). */
  readonly family: Family;
  /** @internal The handler table the transport is registered in (a transport asks its owner: one field less per connection). */
  readonly reactorCore: ReactorCore;
  /** @internal Runs after the protocol's connectionLost. */
  transportLost(t: StreamTransport, reason: Failure): void;
  /** @internal A connect finished: errno 0 or the failure. */
  connectFinished?(t: StreamTransport, errno: number): void;
  /** @internal Reactor shutdown: if `t` is still connecting, cancel the attempt and return true. */
  abandonConnect?(t: StreamTransport): boolean;
}

/**
 * A protocol that takes a short read as a range of a keep chunk (`length`
 * bytes at `offset` of `memory`, its to keep) and so spares the typed array
 * a Buffer of it costs: WebSocketProtocol, whose whole frames need only a
 * view of their payload.
 */
interface RangeReceiver {
  dataReceivedKept(memory: ArrayBuffer, offset: number, length: number): void;
}

/**
 * A protocol that takes a short read the bridge unmasked as one whole
 * WebSocket frame (Rec.FrameKept) as its range, and masks it again itself
 * when it was not at a frame boundary (lib/reactor/frame-kept.ts).
 */
interface FrameReceiver {
  frameReceivedKept(memory: ArrayBuffer, offset: number, length: number): void;
}

/**
 * A protocol told when a write leaves the buffer past the high-water mark
 * while no producer is registered; true stops reading until the buffer
 * drains (WebSocket's: what fills it answers the peer's own frames). The
 * transport keeps this pause apart from the application's own
 * (pauseProducing), and registers nothing: the application may register a
 * producer meanwhile, and the drain resumes reading only if it did not
 * pause it itself.
 */
interface WriteFullListener {
  writeBufferFull(): boolean;
}

/** A protocol that may implement IHalfCloseableProtocol's hooks. */
type HalfCloseable = Partial<IHalfCloseableProtocol>;

/** A connected stream (TCP, UNIX, a pipe): ITCPTransport (ISSLTransport once startTLS ran), IConsumer and IPushProducer. */
export class StreamTransport extends Handler implements ISSLTransport {
  /** @internal State bits (StreamState). */
  state = 0;
  /** The protocol this transport delivers to (set once connected). */
  protocol!: AnyProtocol;
  /**
   * The peer once read: its host (a shared string, addresses.ts) with
   * `peerPort` holding port and family, or its IAddress (UNIX, unknown,
   * carried by a PROXY header). Two words instead of an address object
   * kept by every connection.
   */
  private peer: IAddress | string | null = null;
  private peerPort = 0;
  /** What few connections use (TLS, a producer, held data, a backlog, the local address, a high-water mark of their own): stream-extras.ts. */
  private extra: StreamExtras | null = null;

  /** Made by ports, connectors and spawnProcess, never by user code. */
  constructor(
    /** The handler table this transport is registered in (the owner's reactorCore; kept there). */
    _core: ReactorCore,
    /** The native loop owning the slot (kept as the handler's `loop`). */
    native: NativeLoop,
    slot: number,
    gen: number,
    /** The port, connector or Process that made this transport. */
    readonly owner: TransportOwner,
    highWaterMark: number,
  ) {
    super();
    this.takeSlot(native, slot, gen);
    if (highWaterMark !== DEFAULT_HIGH_WATER) this.extras().highWaterMark = highWaterMark;
  }

  /** @internal TLS state once startTLS ran (lib/tls/session.ts), else null. */
  get tls(): TLSSession | null {
    const x = this.extra;
    return x === null ? null : x.tls;
  }

  /** The handler table this transport is registered in. */
  protected get core(): ReactorCore {
    return this.owner.reactorCore;
  }

  /** The native loop owning the slot. */
  protected get native(): NativeLoop {
    return this.loop as NativeLoop;
  }

  /** Write-buffer size above which a streaming producer is paused. */
  get highWaterMark(): number {
    const x = this.extra;
    return x === null ? DEFAULT_HIGH_WATER : x.highWaterMark;
  }

  /** Sets this transport's high-water mark (kept apart only when not the default). */
  set highWaterMark(bytes: number) {
    if (bytes !== DEFAULT_HIGH_WATER || this.extra !== null) this.extras().highWaterMark = bytes;
  }

  /** The registered producer, if any. */
  protected get producer(): Producer | null {
    const x = this.extra;
    return x === null ? null : x.producer;
  }

  /** Sets or clears the registered producer. */
  protected set producer(p: Producer | null) {
    if (p !== null) this.extras().producer = p;
    else if (this.extra !== null) this.clearExtra('producer');
  }

  /** Data received while paused, delivered on resumeProducing(). */
  private get held(): Buffer[] | null {
    const x = this.extra;
    return x === null ? null : x.held;
  }

  /** Sets or clears the held data. */
  private set held(h: Buffer[] | null) {
    if (h !== null) this.extras().held = h;
    else if (this.extra !== null) this.clearExtra('held');
  }

  /** Bytes beyond what one call hands to native (see write-backlog.ts); null when none wait. */
  private get backlog(): WriteBacklog | null {
    const x = this.extra;
    return x === null ? null : x.backlog;
  }

  /** Sets or clears the backlog. */
  private set backlog(b: WriteBacklog | null) {
    if (b !== null) this.extras().backlog = b;
    else if (this.extra !== null) this.clearExtra('backlog');
  }

  private extras(): StreamExtras {
    return (this.extra ??= new StreamExtras());
  }

  /** Clears one of the extras; drops them all once none is left (a Site's channel registers as producer, then unregisters at the upgrade). */
  private clearExtra(name: 'producer' | 'held' | 'backlog'): void {
    const x = this.extra!;
    x[name] = null;
    if (x.isEmpty()) this.extra = null;
  }

  /** True until the connection is closed. */
  get connected(): boolean {
    return (this.state & S.Closed) === 0;
  }

  /** True once loseConnection() was called. */
  get disconnecting(): boolean {
    return (this.state & S.Disconnecting) !== 0;
  }

  /** @internal Attaches the protocol and calls its makeConnection (connectionMade). */
  attach(protocol: AnyProtocol): void {
    this.protocol = protocol;
    protocol.makeConnection(this);
  }

  /**
   * Writes bytes now; what the kernel does not take is buffered. Ignored once
   * closing, except while loseConnection waits for a registered producer to
   * unregister: those bytes go out before the close. A registered producer
   * hears stopProducing inside the write that fails, or the first one made
   * after the connection closed, before connectionLost. Beyond the first MiB, a
   * larger Buffer is kept by reference until sent, as Node's streams do: do
   * not change it meanwhile. A string is written as UTF-8; one of up to
   * 4,096 UTF-16 code units is encoded by the native write itself, with no
   * Buffer made for it (as Node's `socket.write(string)` does). Strings
   * written in a row while the reactor delivers a batch are joined before
   * that native call (lib/reactor/text-cork.ts): the bytes and their order
   * are the same.
   */
  write(data: Bytes): void {
    if ((this.state & S.WriteGuard) !== 0 && this.writesRefused()) return;
    if (typeof data === 'string' && this.extra === null && this.holdText(data)) return;
    this.writeNow(data);
  }

  /**
   * write() past the text cork. A method of its own so that write() stays
   * small: optimized code that writes a string a line at a time inlines
   * write() into the line loop, where the whole of this used up the loop's
   * inlining budget (LineReceiver's delimiter search then went out of line,
   * ~35 instructions a line more).
   */
  private writeNow(data: Bytes): void {
    if ((this.state & S.TextHeld) !== 0 && !this.releaseText()) return; // what it held failed to send: the connection is gone
    // Read after the release: its afterWrite runs protocol code, which may have started a backlog or TLS.
    const x = this.extra;
    const direct = typeof data === 'string' && data.length <= STRING_AT_ONCE && (x === null || x.backlog === null);
    const bytes = direct ? null : toBytes(data, 'write');
    if (bytes !== null && (bytes.length > WRITE_CHUNK || (x !== null && x.backlog !== null))) return this.queueWrite([bytes]);
    const r = bytes === null ? this.sendString(data as string) : this.sendBytes(bytes);
    if (r !== 0 || (x !== null && x.producer !== null)) this.afterWrite(r);
  }

  /**
   * @internal write() of the `length` bytes at `offset` of `memory`, handed
   * to native as that range: no typed array is made for them (a WebSocket
   * reply framed where its payload was read: lib/websocket/whole-frame.ts).
   */
  writeAt(memory: ArrayBuffer, offset: number, length: number): void {
    if ((this.state & S.WriteGuard) !== 0 && this.writesRefused()) return;
    if (!this.releaseText()) return;
    const x = this.extra;
    if (length > WRITE_CHUNK || (x !== null && x.backlog !== null)) return this.queueWrite([new SlabView(memory, offset, length)]);
    const n = this.native;
    const a = n.writeArgs;
    a[0] = this.slot;
    a[1] = this.gen;
    a[2] = offset;
    a[3] = length;
    const r = n.writeAt(memory);
    if (x !== null && x.tls !== null) this.core.tlsWritten();
    if (r !== undefined || (x !== null && x.producer !== null)) this.afterWrite(r ?? 0);
  }

  /**
   * @internal Short reads that are one whole masked WebSocket frame arrive
   * unmasked (onFrameKept) while `on`: a server's WebSocket protocol asks
   * once its frames start.
   */
  unmaskFrames(on: boolean): void {
    if ((this.state & S.Closed) === 0) this.native.unmaskFrames(this.slot, this.gen, on);
  }

  /** Writes several buffers with one writev. Ignored once closing (as write()). */
  writeSequence(data: Iterable<Bytes>): void {
    if (data === null || typeof data !== 'object' || typeof (data as Iterable<Bytes>)[Symbol.iterator] !== 'function') {
      throw new TypeError('writeSequence: data must be an array (or iterable) of Buffers or strings');
    }
    if ((this.state & S.WriteGuard) !== 0 && this.writesRefused()) return;
    if (!this.releaseText()) return;
    const chunks = Array.from(data, (d) => toBytes(d, 'writeSequence'));
    if (chunks.length === 0) return;
    if (this.backlog !== null || chunks.reduce((n, c) => n + c.length, 0) > WRITE_CHUNK) return this.queueWrite(chunks);
    this.afterWrite(this.sendChunks(chunks));
  }

  /**
   * Closed, write side shut, or closing with no producer to wait for: a write
   * is dropped. A producer still writing to a closed connection is stopped
   * here (stopLostProducer).
   */
  private writesRefused(): boolean {
    const state = this.state;
    if ((state & S.Closed) !== 0) {
      this.stopLostProducer();
      return true;
    }
    return (state & S.WriteShutAsked) !== 0 || (state & S.ProducerWait) === 0;
  }

  /**
   * The connection is gone while a producer is registered: it is stopped now,
   * inside the write that failed or the first one refused, not when
   * connectionLost comes at the end of the step. A producer that writes until
   * it is told (Twisted's buffer would have paused it) otherwise loops on
   * dropped writes and that step never ends. Stopped, not paused: the consumer
   * is gone for good, as Twisted's FileDescriptor.connectionLost tells it;
   * connectionLost then finds no producer and does not tell it again.
   */
  private stopLostProducer(): void {
    if (this.producer !== null) this.stopProducer();
  }

  /** Bytes written but not yet taken by the kernel. */
  bufferedAmount(): number {
    if (!this.releaseText()) return 0;
    const n = this.pendingBytes();
    return (n > 0 ? n : 0) + (this.backlog !== null ? this.backlog.bytes : 0);
  }

  /**
   * Bytes the peer has yet to get: bufferedAmount() plus what the kernel
   * still holds in the socket's send queue (Linux SIOCOUTQ, macOS
   * SO_NWRITE). It falls as the peer reads, ACK by ACK, where
   * bufferedAmount() falls only when the kernel takes another large step
   * (a megabyte or more on loopback), so a slow reader can look stalled
   * for many seconds by bufferedAmount alone: what a server that drops
   * clients who stopped reading should watch (the Site's abortTimeout).
   */
  unsentToPeer(): number {
    // bufferedAmount() first: it sends what was gathered (and releases held text) before the kernel's queue is read.
    const above = this.bufferedAmount();
    const n = (this.state & S.Closed) !== 0 ? 0 : this.native.kernelSendQueue(this.slot, this.gen);
    return above + (n > 0 ? n : 0);
  }

  /**
   * Stops reading, flushes the buffer (then close_notify under TLS), then
   * closes; connectionLost gets ConnectionDone. With a producer registered,
   * writes are still taken and the flush waits until it unregisters.
   */
  loseConnection(): void {
    if ((this.state & (S.Closed | S.Disconnecting)) !== 0 || !this.releaseText()) return;
    this.state |= S.Disconnecting;
    if (this.producer !== null && (this.state & (S.WriteShutAsked | S.WriteShut)) === 0) {
      this.state |= S.ProducerWait;
      this.native.pauseReading(this.slot, this.gen);
      return;
    }
    if (this.backlog === null && this.producer === null && (this.state & S.WriteShut) === 0) {
      // The usual case: close_notify and the close in one native call (finish).
      return this.finishOrDrain();
    }
    if (this.backlog === null) this.closeNotify(); // else once the backlog is in native (feedBacklog)
    if ((this.state & S.WriteShut) !== 0 || (this.producer === null && this.bufferedAmount() === 0)) {
      this.closeNow(connectionDone());
    } else {
      this.native.pauseReading(this.slot, this.gen);
    }
  }

  /** Closes now, discarding buffered data; connectionLost gets ConnectionAborted. */
  abortConnection(): void {
    this.closeNow(endReason(ConnectionAborted));
  }

  /** Half-close: flushes, then shuts down the write side; reading goes on. */
  loseWriteConnection(): void {
    if ((this.state & (S.Closed | S.Disconnecting | S.WriteShutAsked)) !== 0 || !this.releaseText()) return;
    this.state |= S.WriteShutAsked;
    if (this.backlog !== null) return; // shut down once the backlog is in native (feedBacklog)
    const r = this.shutdownWriteSide();
    if (r < 0) return this.closeNow(lostReason(r));
    if (this.bufferedAmount() === 0) this.core.atEndOfStep(() => this.writeSideShut());
  }

  /** Local address (computed on first use; after the close, only if read before). */
  getHost(): IAddress {
    const x = this.extra;
    if (x !== null && x.host !== null) return x.host;
    return (this.extras().host = this.readAddress(this.native.localAddress(this.slot, this.gen)));
  }

  /** Remote address (read on first use, when a port builds the protocol; a new IAddress each call, as Twisted's). */
  getPeer(): IAddress {
    let p = this.peer;
    if (p === null && this.owner.family === Family.V4) {
      // IPv4, the usual peer, comes as one number: no object, no string made.
      const n = this.native.peerIPv4(this.slot, this.gen);
      if (n >= 0) {
        this.peerPort = (Family.V4 << 16) | n % 65536;
        p = this.peer = ipv4Host(Math.floor(n / 65536));
      }
    }
    if (p === null) {
      const a = this.native.peerAddress(this.slot, this.gen);
      if (typeof a === 'number' || a.family === Family.Unix) {
        p = this.peer = this.readAddress(a);
      } else {
        this.peerPort = packedPort(a);
        p = this.peer = sharedHost(a.host);
      }
    }
    return typeof p === 'string' ? unpackAddress(p, this.peerPort) : p;
  }

  /**
   * @internal The addresses getPeer/getHost report from now on: the ones a
   * PROXY protocol header carried (lib/protocols/haproxy), not the proxy's.
   */
  carriedAddresses(peer: IAddress, host: IAddress): void {
    this.peer = peer;
    this.extras().host = host;
  }

  /** The socket's fd number, or -1 once closed. */
  fileno(): number {
    return (this.state & S.Closed) !== 0 ? -1 : this.native.fdOf(this.slot, this.gen);
  }

  /** Enables or disables TCP_NODELAY (ignored on UNIX sockets). */
  setTcpNoDelay(enabled: boolean): void {
    if ((this.state & S.Closed) === 0) this.native.setNoDelay(this.slot, this.gen, !!enabled);
  }

  /** Enables or disables SO_KEEPALIVE. */
  setTcpKeepAlive(enabled: boolean): void {
    if ((this.state & S.Closed) === 0) this.native.setKeepAlive(this.slot, this.gen, !!enabled);
  }

  /**
   * Wakes for reads only once `bytes` are waiting (SO_RCVLOWAT), or at EOF
   * or an error: for a protocol that knows nothing can come of fewer (an
   * HTTP head still arriving), so a client trickling bytes costs one
   * wake-up per `bytes`, not one per byte. 1 restores the default. Returns
   * false where it cannot be done (TLS: the mark would count ciphertext; a
   * pipe; closed), and reads then wake as before.
   */
  setReadLowWater(bytes: number): boolean {
    if ((this.state & S.Closed) !== 0 || this.tls !== null) return false;
    return this.native.setReadLowWater(this.slot, this.gen, bytes) === 0;
  }

  // ---- ISSLTransport (lib/tls) ----

  /**
   * Starts TLS on this connection (STARTTLS): bytes written before go out in
   * the clear, bytes after are encrypted. A transport from connectTCP/UNIX
   * is the client side, one from listenTCP/UNIX the server side. Throws
   * TLSError when TLS cannot start, Error when already started or closing.
   */
  startTLS(contextFactory: IOpenSSLContextFactory): void {
    this.releaseText(); // what was written before goes in the clear (and a failed send shows as closing, below)
    if (this.tls !== null) throw new Error('startTLS: TLS is already started on this connection');
    if ((this.state & (S.Closed | S.Disconnecting | S.WriteShutAsked)) !== 0) throw new Error('startTLS: the connection is closing');
    const server = typeof this.owner.connectFinished !== 'function';
    this.extras().tls = TLSSession.start(this, this.native, contextFactory, server);
  }

  /** The ALPN protocol the handshake chose, or null (none, not TLS, or not yet). */
  get negotiatedProtocol(): string | null {
    return this.tls !== null ? this.tls.negotiatedProtocol : null;
  }

  /**
   * @internal startTLS as the server when the peer's first TLS bytes were
   * already read in the clear (after a PROXY protocol header): they go to
   * the TLS engine as if just received. TLSError when TLS cannot start.
   */
  startTLSWithReceived(contextFactory: IOpenSSLContextFactory, received: Buffer): void {
    this.startTLS(contextFactory);
    this.tls!.feed(received);
  }

  /** The peer's certificate once the handshake completed, else null. */
  getPeerCertificate(): PeerCertificate | null {
    return this.tls !== null ? this.tls.peerCertificate() : null;
  }

  /** True once a handshake that resumed an earlier session completed (false: a full one, or not TLS). */
  isSessionReused(): boolean {
    return this.tls !== null && this.tls.sessionReused;
  }

  /** @internal The TLS handshake completed. */
  override onHandshake(flags: number, more: number): void {
    if (this.tls !== null) this.tls.handshakeDone(flags, more);
  }

  /** @internal TLS failed; the reason is on the native stream. */
  override onTlsError(): void {
    if (this.tls !== null) this.closeNow(this.tls.failure());
  }

  /** @internal Drops the connection with `reason` (TLS failures). */
  dropWith(reason: Error): void {
    this.closeNow(reason);
  }

  /** Under TLS, queues close_notify (after what is written); nothing otherwise. */
  private closeNotify(): void {
    if (this.tls !== null && (this.state & (S.Closed | S.WriteShutAsked)) === 0) this.native.shutdownWrite(this.slot, this.gen);
  }

  // ---- IConsumer ----

  /** Registers a push (streaming) or pull producer feeding this transport. */
  registerProducer(producer: Producer, streaming: boolean): void {
    if (producer === null || typeof producer !== 'object' || typeof producer.resumeProducing !== 'function') {
      throw new TypeError('registerProducer: producer must have resumeProducing and stopProducing');
    }
    if (this.producer !== null) throw new Error('registerProducer: a producer is already registered; unregister it first');
    if (!this.releaseText()) {
      producer.stopProducing();
      return;
    }
    this.producer = producer;
    if (streaming) {
      this.state |= S.Streaming;
      if (this.bufferedAmount() > this.highWaterMark) this.pauseProducer();
    } else {
      producer.resumeProducing();
    }
  }

  /** Unregisters the producer; a pending loseConnection now flushes what was written (then close_notify under TLS) and closes. */
  unregisterProducer(): void {
    const state = this.state;
    this.dropProducer();
    if ((state & (S.Disconnecting | S.Closed)) !== S.Disconnecting) return;
    if ((state & S.ProducerWait) !== 0) {
      // As loseConnection without a producer; a backlog sends close_notify once fed (feedBacklog) and closes at the drain.
      if (this.backlog === null) this.finishOrDrain();
    } else if (this.bufferedAmount() === 0) {
      this.closeNow(connectionDone());
    }
  }

  // ---- IPushProducer (the transport as a producer of received data) ----

  /** Stops reading until resumeProducing(). */
  pauseProducing(): void {
    const state = this.state;
    if ((state & (S.Closed | S.Paused)) !== 0) return;
    this.state |= S.Paused;
    if ((state & S.ReadGated) === 0) this.native.pauseReading(this.slot, this.gen);
  }

  /** Starts reading again (once the write buffer drains, if reading stopped for it too); data held while paused is delivered first. */
  resumeProducing(): void {
    if ((this.state & S.Paused) === 0) return;
    this.state &= ~S.Paused;
    this.readOn();
  }

  /** Reading starts again unless closing, or still stopped (by the application or the gate). */
  private readOn(): void {
    if ((this.state & (S.Closed | S.Disconnecting | S.ReadStopped)) !== 0) return;
    this.native.resumeReading(this.slot, this.gen);
    if (this.held !== null) this.state |= S.Holding;
    if ((this.state & (S.Holding | S.EofHeld)) !== 0) this.core.atEndOfStep(() => this.deliverHeld());
  }

  /** Closes the connection (as loseConnection). */
  stopProducing(): void {
    this.loseConnection();
  }

  // ---- records from the dispatch loop ----

  /** @internal Bytes read: handed to the protocol now, or held while paused or closing. */
  override onData(data: Buffer): void {
    if ((this.state & S.NoDeliver) === 0) this.protocol.dataReceived(data);
    else this.heldData(data);
  }

  /** @internal A short read as a range of a keep chunk: to a protocol that takes ranges (WebSocket's) as it is, else as a Buffer. */
  override onDataKept(memory: ArrayBuffer, offset: number, length: number): void {
    const p = this.protocol as Partial<RangeReceiver>;
    if ((this.state & S.NoDeliver) === 0 && p.dataReceivedKept !== undefined) p.dataReceivedKept(memory, offset, length);
    else super.onDataKept(memory, offset, length);
  }

  /** @internal A read the bridge unmasked as one whole frame: to a protocol that takes those, else back to the peer's bytes (Handler). */
  override onFrameKept(memory: ArrayBuffer, offset: number, length: number): void {
    const p = this.protocol as Partial<FrameReceiver>;
    if ((this.state & S.NoDeliver) === 0 && p.frameReceivedKept !== undefined) p.frameReceivedKept(memory, offset, length);
    else super.onFrameKept(memory, offset, length);
  }

  /**
   * @internal Bytes read before the protocol took the connection (those
   * behind an upgrade's head, lib/web/channel.ts): delivered now, or, while
   * reading is stopped or held data waits, kept first in line.
   */
  deliverFirst(data: Buffer): void {
    if ((this.state & S.NoDeliver) === 0) return this.protocol.dataReceived(data);
    this.heldData(data, true);
  }

  /** Data that arrived while paused (or before held data went out) is kept, last in line or `first`; while closing it is dropped. */
  private heldData(data: Buffer, first = false): void {
    if ((this.state & (S.Closed | S.Disconnecting)) !== 0) return;
    if (this.held === null) this.held = [];
    if (first) this.held.unshift(data);
    else this.held.push(data);
  }

  /** @internal The write buffer became empty. */
  override onDrained(): void {
    if (this.backlog !== null) {
      const r = this.feedBacklog();
      if (r < 0) return this.closeNow(lostReason(r));
      if (r > 0) return; // native buffered the next chunk: its Drained record comes back here
    }
    const state = this.state;
    if ((state & (S.WriteShutAsked | S.WriteShut)) === S.WriteShutAsked) this.writeSideShut();
    if ((state & S.ReadGated) !== 0) {
      this.state &= ~S.ReadGated;
      this.readOn();
    }
    const p = this.producer;
    if (p !== null) {
      if ((state & S.Streaming) === 0) {
        p.resumeProducing();
      } else if ((state & S.ProducerPaused) !== 0) {
        this.state &= ~S.ProducerPaused;
        p.resumeProducing();
      }
    } else if ((this.state & (S.Disconnecting | S.Closed)) === S.Disconnecting) {
      this.closeNow(connectionDone());
    }
  }

  /** @internal The peer shut down its write side (kept until held data is delivered): readConnectionLost, else flush and close. */
  override onEof(): void {
    if ((this.state & (S.ReadStopped | S.Holding)) !== 0) {
      this.state |= S.EofHeld;
      return;
    }
    this.state = (this.state | S.ReadEof) & ~S.EofHeld;
    const p = this.protocol as unknown as HalfCloseable;
    if (typeof p.readConnectionLost === 'function') {
      p.readConnectionLost();
      if ((this.state & S.WriteShut) !== 0) this.closeNow(connectionDone());
    } else {
      // Nothing we wrote is lost: it drains, then the connection closes. A
      // producer is stopped now (no write is taken from here on), not waited for.
      if (this.producer !== null) this.stopProducer();
      if (this.backlog === null) this.finishOrDrain();
      else this.loseConnection();
    }
  }

  /** Unregisters the producer and tells it to stop (a throw is logged). */
  private stopProducer(): void {
    const p = this.producer!;
    this.dropProducer();
    try {
      p.stopProducing();
    } catch (e) {
      log.failure('Error in producer.stopProducing', new Failure(e));
    }
  }

  /** Forgets the producer and its streaming, paused and waited-for bits. */
  private dropProducer(): void {
    this.producer = null;
    this.state &= ~(S.Streaming | S.ProducerPaused | S.ProducerWait);
  }

  /** @internal The connection failed (reset, broken pipe...). */
  override onError(errno: number): void {
    this.closeNow(lostReason(errno));
  }

  /** @internal A client connect finished. */
  override onConnected(errno: number): void {
    this.owner.connectFinished?.(this, errno);
  }

  /** @internal Reactor shutdown: a connect in progress is cancelled by its owner, else ConnectionLost. */
  override disconnect(): void {
    if (this.owner.abandonConnect?.(this) !== true) this.closeNow(new Failure(new ConnectionLost('The reactor shut down')));
  }

  /** @internal A callback of this connection threw: drop it with that failure. */
  override failed(failure: Failure): void {
    this.closeNow(failure);
  }

  /** @internal Closes without calling connectionLost (no protocol was attached). */
  closeSilently(): void {
    this.state |= S.Silent;
    this.closeNow(null);
  }

  // ---- the write path: a transport that does not write the slot directly overrides these ----

  /**
   * Writes `data` to the slot now: bytes left buffered (0 = all sent), or a
   * negative errno. Under TLS, native encrypts whole records at once and
   * keeps the rest of what this tick wrote; the core flushes every TLS
   * stream written in the tick with one call at the end of the step (after
   * the record batch, or in a microtask outside dispatch), so several writes
   * in one tick share records instead of making one each.
   */
  protected sendBytes(data: Uint8Array): number {
    return this.wrote(this.aimWrite().write(data));
  }

  /**
   * Writes `text` (at most STRING_AT_ONCE UTF-16 units) as UTF-8: as
   * sendBytes, encoded by the native call. Private, so no subclass method of
   * that name is called by write(); a subclass that changes the bytes in
   * sendBytes gets the string there, as a Buffer.
   */
  private sendString(text: string): number {
    if (this.sendBytes !== ownSendBytes) return this.sendBytes(Buffer.from(text));
    return this.wrote(this.aimWrite().writeString(text));
  }

  /** @internal The strings written in a row this batch (text-cork.ts), as one write. */
  sendHeldText(text: string): void {
    this.state &= ~S.TextHeld;
    if ((this.state & S.Closed) !== 0) return;
    const x = this.extra;
    // Held only with this class's sendBytes (write), none of extras' state, and released ahead of anything that makes
    // it; only protocol code run by another transport's release, inside this one's write(), could have started one since.
    if (x !== null && x.backlog !== null) return this.queueWrite([Buffer.from(text)]);
    const r = this.sendString(text);
    // Maybe inside another connection's write or at the batch's end: what afterWrite calls (writeBufferFull) may throw only into this one.
    if (r !== 0 || (x !== null && x.producer !== null)) this.guarded(() => this.afterWrite(r));
  }

  /** Gives `text` to the reactor's text cork, if it takes strings now; true if it did. */
  private holdText(text: string): boolean {
    if (this.sendBytes !== ownSendBytes || !this.core.textCork.hold(this, text)) return false;
    this.state |= S.TextHeld;
    return true;
  }

  /**
   * Strings this transport wrote and the text cork holds go to native now,
   * ahead of whatever this transport does next. False when the connection
   * is closed (before, or by that send failing).
   */
  private releaseText(): boolean {
    if ((this.state & S.TextHeld) === 0) return (this.state & S.Closed) === 0;
    const cork = this.core.textCork;
    if (cork.owner === this) cork.release();
    else this.state &= ~S.TextHeld; // the cork dropped it (its loop closed)
    return (this.state & S.Closed) === 0;
  }

  /** The native loop, with this slot named in writeArgs for the write() or writeString() that follows. */
  private aimWrite(): NativeLoop {
    const n = this.native;
    const a = n.writeArgs;
    a[0] = this.slot;
    a[1] = this.gen;
    return n;
  }

  /** A native write's answer as sendBytes returns it (undefined is all sent); a TLS stream is flushed at the end of the step. */
  private wrote(r: number | undefined): number {
    if (this.tls !== null) this.core.tlsWritten();
    return r ?? 0;
  }

  /** Writes `chunks` with one writev: as sendBytes. */
  protected sendChunks(chunks: Uint8Array[]): number {
    const r = this.native.writev(this.slot, this.gen, chunks);
    if (this.tls !== null) this.core.tlsWritten();
    return r;
  }

  /** @internal The end-of-step TLS flush left `r` (bytes still buffered, or -errno). */
  override onTlsFlushed(r: number): void {
    if ((this.state & S.Closed) === 0) this.afterWrite(r);
  }

  /** Bytes written but not yet taken by the kernel (negative errno when the slot is gone). */
  protected pendingBytes(): number {
    if (!this.releaseText()) return 0;
    return this.native.buffered(this.slot, this.gen);
  }

  /** Shuts down the write side once the buffer has drained: 0 or a negative errno. */
  protected shutdownWriteSide(): number {
    if (!this.releaseText()) return 0;
    return this.native.shutdownWrite(this.slot, this.gen);
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
    const r = backlog.feed((chunks) => (chunks.length === 1 ? this.sendBytes(chunks[0]) : this.sendChunks(chunks)));
    if (r < 0) return r;
    if (backlog.bytes !== 0) return this.bufferedAmount();
    this.backlog = null;
    if ((this.state & (S.Disconnecting | S.ProducerWait)) === S.Disconnecting) this.closeNotify();
    if ((this.state & (S.WriteShutAsked | S.WriteShut)) === S.WriteShutAsked) {
      const s = this.shutdownWriteSide();
      if (s < 0) return s;
    }
    return this.bufferedAmount();
  }

  /**
   * After a send: a negative `r` drops the connection (and stops a registered
   * producer at once: stopLostProducer); else the producer is
   * paused or asked for more, or, with none, a protocol that listens hears
   * that the buffer passed the high-water mark and may stop reading until
   * it drains (WriteFullListener).
   */
  protected afterWrite(r: number): void {
    if (r < 0) {
      this.closeNow(lostReason(r));
      this.stopLostProducer();
      return;
    }
    const p = this.producer;
    if (p === null) {
      if (r > this.highWaterMark && (this.state & S.ReadGated) === 0 && (this.protocol as Partial<WriteFullListener>).writeBufferFull?.() === true) this.gateReading();
      return;
    }
    if ((this.state & S.Streaming) !== 0) {
      if (r > this.highWaterMark && (this.state & S.ProducerPaused) === 0) this.pauseProducer();
    } else if (r === 0) {
      this.queuePull();
    }
  }

  /** Stops reading until the buffer drains (onDrained), apart from the application's pauseProducing. */
  private gateReading(): void {
    const state = this.state;
    if ((state & S.Closed) !== 0) return;
    this.state |= S.ReadGated;
    if ((state & S.Paused) === 0) this.native.pauseReading(this.slot, this.gen);
  }

  private pauseProducer(): void {
    this.state |= S.ProducerPaused;
    (this.producer as IPushProducer).pauseProducing();
  }

  /** A pull producer whose chunk went out at once is asked again on the next turn. */
  private queuePull(): void {
    if ((this.state & S.PullQueued) !== 0) return;
    this.state |= S.PullQueued;
    setImmediate(() => {
      this.state &= ~S.PullQueued;
      const p = this.producer;
      // Something got buffered since: the Drained record will ask instead.
      if (p === null || (this.state & (S.Closed | S.Streaming)) !== 0 || this.bufferedAmount() !== 0) return;
      this.guarded(() => p.resumeProducing());
    });
  }

  private deliverHeld(): void {
    this.guarded(() => {
      const held = this.held;
      while (held !== null && held.length !== 0 && (this.state & (S.Closed | S.Disconnecting | S.ReadStopped)) === 0) {
        this.protocol.dataReceived(held.shift() as Buffer);
      }
      if (held !== null && held.length === 0 && this.held === held) {
        this.held = null;
        this.state &= ~S.Holding;
      }
      if ((this.state & (S.EofHeld | S.Closed | S.ReadStopped | S.Holding)) === S.EofHeld) this.onEof();
    });
  }

  /** Runs a user callback outside dispatch: a throw is logged and drops the connection. */
  protected guarded(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      const f = new Failure(e);
      log.failure('Unhandled error in a protocol callback; dropping its connection', f);
      this.closeNow(f);
    }
  }

  private writeSideShut(): void {
    if ((this.state & (S.Closed | S.WriteShut)) !== 0) return;
    this.state |= S.WriteShut;
    const p = this.protocol as unknown as HalfCloseable;
    if (typeof p.writeConnectionLost === 'function') this.guarded(() => p.writeConnectionLost!());
    if ((this.state & S.ReadEof) !== 0) this.closeNow(connectionDone());
  }

  private readAddress(a: NativeAddress | number): IAddress {
    return typeof a === 'number' ? unknownAddress(this.owner.family) : toAddress(a);
  }

  /**
   * Sends close_notify under TLS, then closes with ConnectionDone if nothing
   * is left to send, in one native call. Returns the bytes still buffered
   * (close_notify waits behind them; the connection stays), else 0 (closed;
   * a native error closes it too, as closeNow would have: a send of what
   * this tick wrote that failed there is ConnectionLost, as the write's
   * own failure would have been; a slot already gone is ConnectionDone).
   */
  private finish(): number {
    // Native's finish sends only what it has; an EOF in the batch after this connection was written to comes here.
    if (!this.releaseText()) return 0;
    const r = this.native.finish(this.slot, this.gen);
    if (r <= 0) this.closeNow(r < 0 && errnoName(r) !== 'EBADF' ? lostReason(r) : connectionDone(), r === 0);
    return r > 0 ? r : 0;
  }

  /**
   * finish(), and when bytes are still buffered (close_notify queued after
   * them) the connection is disconnecting: reading stops and it closes once
   * they drain, as loseConnection's slower path does.
   */
  private finishOrDrain(): void {
    if (this.finish() === 0) return;
    this.state |= S.Disconnecting;
    this.native.pauseReading(this.slot, this.gen);
  }

  /** Closes the slot now (`removed`: native removed it already); connectionLost follows at the end of the current step. */
  protected closeNow(reason: unknown, removed = false): void {
    if ((this.state & S.Closed) !== 0) return;
    if ((this.state & S.TextHeld) !== 0) {
      this.state &= ~S.TextHeld;
      const cork = this.core.textCork;
      // Given one try, as native's remove gives what it gathered (loop_cork.cc); its result is not this close's reason.
      const writes = cork.owner === this ? cork.take() : [];
      if (!removed) for (const text of writes) this.sendString(text);
    }
    this.state |= S.Closed;
    this.backlog = null;
    this.core.unregister(this, removed);
    if ((this.state & S.Silent) === 0) this.core.atEndOfStep(() => this.connectionLost(reason));
  }

  /** Tells the producer, the protocol, then the owner that the connection is gone. */
  protected connectionLost(reason: unknown): void {
    const failure = reason instanceof Failure ? reason : new Failure(reason);
    this.held = null;
    if (this.tls !== null) this.tls.close();
    if (this.protocol === undefined) return; // still connecting: the connector reports it
    if (this.producer !== null) this.stopProducer();
    this.protocol.connected = false;
    try {
      this.protocol.connectionLost(failure);
    } catch (e) {
      log.failure('Unhandled error in connectionLost', new Failure(e));
    }
    this.owner.transportLost(this, failure);
  }
}

/**
 * StreamTransport's own sendBytes, read once: holdText() and sendString() compare
 * against it to tell a subclass that changes the bytes. Read from the class
 * inside them, `StreamTransport.prototype` is a generic LoadIC call in
 * optimized code (~60 instructions a write: a string written a line at a
 * time paid it on every line).
 */
const ownSendBytes = (StreamTransport.prototype as unknown as { sendBytes: unknown }).sendBytes;
