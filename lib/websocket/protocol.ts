/**
 * WebSocketProtocol: what server and client connections share once the
 * opening handshake is done (Autobahn's WebSocketProtocol): messages in and
 * out, fragmentation, UTF-8 checks, ping/pong, the close handshake, the
 * auto-ping that drops dead peers, and failing the connection with the
 * right code when the peer breaks the protocol.
 *
 * Per connection it keeps a few fields; the frame parser (lent for each
 * read, kept only while a frame is cut by a read boundary) exists only while
 * used, and the rest (ConnectionExtras: a fragmented message's pieces and
 * UTF-8 validator, the closing state, deflate, the timer) in one object made
 * on first use.
 * One timer at most runs per connection (the next ping, the pong awaited,
 * or the close awaited). Nothing here reaches another connection: a peer's
 * garbage closes its own connection, with 1002, 1007 or 1009.
 */
import { Buffer, isUtf8 } from 'buffer';
import type { IDelayedCall, IGracefulShutdown, ITCPTransport, ITransport } from '../interfaces';
import { TLSError } from '../errors';
import type { Failure } from '../failure';
import { Protocol } from '../protocol';
import type { IProtocolFactory } from '../interfaces';
import type { PreparedMessage } from './broadcast';
import { checkSendClose, CloseCode, closePayload, parseClose } from './close';
import type { PerMessageDeflate } from './deflate';
import { encodeFrame, encodeMaskedFrame, firstByte, Opcode } from './frame-encoder';
import { borrowParser, FrameParser, FrameParserOptions, returnParser } from './frame-parser';
import type { WebSocketSettings } from './options';
import { Utf8Validator } from './utf8';
import { remaskFrame } from '../reactor/frame-kept';
import { toBuffer } from '../transport/bytes';
import { keepPiece } from '../transport/pieces';
import { SlabView } from '../reactor/received';
import { binaryFrameIn, endLend, keptFrameHeadIn, lend, openWholeFrame, openWholeFrameIn, reply, replyInPlace, wholeFrameHead, wholeFrameHeadIn } from './whole-frame';

/** Connection states, as Autobahn's STATE_*. */
export enum WebSocketState {
  /** The opening handshake is under way. */
  Connecting = 0,
  /** Messages flow. */
  Open = 1,
  /** A close frame went or the connection is being dropped. */
  Closing = 2,
  /** The TCP connection is gone. */
  Closed = 3,
}

/** What a WebSocket factory offers its protocols. */
export interface WebSocketFactoryLike extends IProtocolFactory {
  /** The normalised options. */
  readonly settings: WebSocketSettings;
}

/** A transport that writes a range of memory as it is (StreamTransport.writeAt). */
interface RangeWriter {
  writeAt(memory: ArrayBuffer, offset: number, length: number): void;
}

/** A transport whose reads of whole masked frames the bridge can unmask (StreamTransport.unmaskFrames). */
interface FrameSource {
  unmaskFrames(on: boolean): void;
}

/** What sendMessage takes: bytes, or a string sent as UTF-8. */
export type Sendable = Buffer | Uint8Array | string;

/**
 * Why a connection lost without the close handshake was not clean: a TLS
 * failure (a wss:// certificate refused, say) names what failed, which
 * otherwise reached only the factory's clientConnectionLost.
 */
function uncleanReason(reason: Failure): string {
  const v = reason.value;
  const what = v instanceof TLSError ? v.message : 'peer dropped the TCP connection without previous WebSocket closing handshake';
  return `connection was closed uncleanly (${what})`;
}

/** A fragmented message being reassembled. */
interface Reassembly {
  pieces: Buffer[];
  bytes: number;
  /** pieces[0, merged) were looked at by mergeSmallPieces. */
  merged: number;
  opcode: number;
  compressed: boolean;
  /** The UTF-8 check of an uncompressed text message. */
  validator: Utf8Validator | null;
}

/** What the closing handshake has seen. */
interface CloseState {
  sent: boolean;
  received: boolean;
  remoteCode: number | null;
  remoteReason: string | null;
  localCode: number | null;
  localReason: string | null;
  notClean: string | null;
}

/**
 * A connection's state that is rarely there: the server's opening handshake
 * (until frames start), a subprotocol, permessage-deflate, a fragmented
 * message, the closing handshake, the one timer (auto-ping, pong or close
 * awaited) and the ping payload awaiting its pong. One object made on first
 * use instead of seven fields on every idle connection: V8 counts each kept
 * byte twice (copied, then promoted) in deciding to grow its young
 * generation, so a connection's size shows in RSS about four times over
 * (bench/PERFORMANCE.md, "WebSocket idle memory").
 */
interface ConnectionExtras {
  /** The server's opening handshake until frames start (server.ts). */
  handshake: object | symbol | null;
  subprotocol: string | null;
  deflate: PerMessageDeflate | null;
  reassembly: Reassembly | null;
  close: CloseState | null;
  timer: IDelayedCall | null;
  pingPayload: Buffer | null;
}

/** Parser options by settings, one object for each side and deflate choice, shared by the connections. */
const sharedOptions = new WeakMap<WebSocketSettings, FrameParserOptions[]>();

/** The last settings looked up, and their options: a read looks them up, and almost always for the same factory. */
let lastSettings: WebSocketSettings | null = null;
let lastList: FrameParserOptions[] = [];

function parserOptions(s: WebSocketSettings, isClient: boolean, deflate: boolean): FrameParserOptions {
  let list = s === lastSettings ? lastList : sharedOptions.get(s);
  if (list === undefined) sharedOptions.set(s, (list = []));
  lastSettings = s;
  lastList = list;
  const i = (isClient ? 2 : 0) + (deflate ? 1 : 0);
  return (list[i] ??= { expectMasked: !isClient, maxFramePayload: s.maxFrame, allowRsv1: deflate });
}

/** Auto-ping payloads: a counter shared by every connection. */
let pingCount = 0;

/** A WebSocket connection after its opening handshake; subclassed by the server and client protocols. */
export abstract class WebSocketProtocol<F extends WebSocketFactoryLike = WebSocketFactoryLike>
  extends Protocol<F, ITransport>
  implements IGracefulShutdown
{
  /** Where the connection is (WebSocketState). */
  state: WebSocketState = WebSocketState.Connecting;
  /** @internal The parser while a read is parsed or a frame is cut by a read boundary, else null (see framesIn). */
  protected frameParser: FrameParser | null = null;
  /** True on the client side: frames sent are masked, frames received must not be. */
  protected abstract readonly isClient: boolean;
  /** What few connections have at a time (ConnectionExtras), made on first use: an idle connection keeps none. */
  private extra: ConnectionExtras | null = null;

  /** The subprotocol agreed in the handshake, or null. */
  get websocketProtocolInUse(): string | null {
    const x = this.extra;
    return x === null ? null : x.subprotocol;
  }

  /** Sets the subprotocol in use (the handshake does). */
  set websocketProtocolInUse(p: string | null) {
    if (p !== null || this.extra !== null) this.extras().subprotocol = p;
  }

  /** @internal The permessage-deflate state, when agreed. */
  get deflate(): PerMessageDeflate | null {
    const x = this.extra;
    return x === null ? null : x.deflate;
  }

  /** @internal Sets the permessage-deflate state (the handshake does). */
  set deflate(d: PerMessageDeflate | null) {
    if (d !== null || this.extra !== null) this.extras().deflate = d;
  }

  /** The close code the peer sent (1005: none), or null before its close frame. */
  get remoteCloseCode(): number | null {
    return this.extra?.close?.remoteCode ?? null;
  }

  /** The reason the peer sent with its close frame, or null. */
  get remoteCloseReason(): string | null {
    return this.extra?.close?.remoteReason ?? null;
  }

  /** The close code this side sent (or failed the connection with), or null. */
  get localCloseCode(): number | null {
    return this.extra?.close?.localCode ?? null;
  }

  /** The reason this side sent with its close frame, or null. */
  get localCloseReason(): string | null {
    return this.extra?.close?.localReason ?? null;
  }

  /** Why the connection did not close cleanly, or null. */
  get wasNotCleanReason(): string | null {
    return this.extra?.close?.notClean ?? null;
  }

  private extras(): ConnectionExtras {
    return (this.extra ??= { handshake: null, subprotocol: null, deflate: null, reassembly: null, close: null, timer: null, pingPayload: null });
  }

  /** @internal The server's opening handshake until frames start (server.ts), else null. */
  protected get openingHandshake(): object | symbol | null {
    const x = this.extra;
    return x === null ? null : x.handshake;
  }

  /** @internal Sets or clears it; the extras go once nothing else is in them (most connections). */
  protected set openingHandshake(h: object | symbol | null) {
    if (h !== null) {
      this.extras().handshake = h;
      return;
    }
    const x = this.extra;
    if (x === null) return;
    x.handshake = null;
    if (x.subprotocol === null && x.deflate === null && x.reassembly === null && x.close === null && x.timer === null && x.pingPayload === null) this.extra = null;
  }

  /** The closing handshake's state, or null while open. */
  private get closeInfo(): CloseState | null {
    const x = this.extra;
    return x === null ? null : x.close;
  }

  /** The closing state, made when first needed. */
  private get closeState(): CloseState {
    return (this.extras().close ??= { sent: false, received: false, remoteCode: null, remoteReason: null, localCode: null, localReason: null, notClean: null });
  }

  /** The fragmented message arriving, or null. */
  private get reassembly(): Reassembly | null {
    const x = this.extra;
    return x === null ? null : x.reassembly;
  }

  /** Sets or clears the fragmented message. */
  private set reassembly(r: Reassembly | null) {
    if (r !== null || this.extra !== null) this.extras().reassembly = r;
  }

  /** The options in force: the factory's. */
  get settings(): WebSocketSettings {
    return this.factory.settings;
  }

  // ---- hooks a subclass overrides (Autobahn's names) ----

  /** The opening handshake is done: messages may be sent. */
  onOpen(): void {}

  /** A whole message arrived: text (valid UTF-8, `isBinary` false) or binary. */
  onMessage(_payload: Buffer, _isBinary: boolean): void {}

  /** The connection is closed: `wasClean` when the close handshake completed; the peer's code and reason (1006 when unclean). */
  onClose(_wasClean: boolean, _code: number, _reason: string): void {}

  /** A ping arrived; the default answers with a pong carrying the same payload. */
  onPing(payload: Buffer): void {
    this.sendPong(payload);
  }

  /** A pong arrived. */
  onPong(_payload: Buffer): void {}

  // ---- sending ----

  /** Sends a message: a string or a Buffer as text (`isBinary` false, the default) or binary. Ignored unless open. */
  sendMessage(payload: Sendable, isBinary = false): void {
    if (this.state === WebSocketState.Open && this.deflate === null && !this.isClient) {
      if (replyInPlace(payload, isBinary ? 0x82 : 0x81)) return this.writeReply(); // the payload onMessage got: framed where it lies
    }
    const data = toBuffer(payload, 'sendMessage');
    if (this.state !== WebSocketState.Open) return;
    const d = this.deflate;
    if (d !== null && data.length >= d.threshold) {
      this.sendFrame(firstByte(true, true, isBinary ? Opcode.Binary : Opcode.Text), d.compress(data));
    } else {
      this.sendFrame(isBinary ? 0x82 : 0x81, data);
    }
  }

  /** Writes the frame replyInPlace just built: as a range when the transport takes one (StreamTransport), else as a view. */
  private writeReply(): void {
    const t = this.transport as Partial<RangeWriter>;
    if (t.writeAt !== undefined) t.writeAt(reply.memory!, reply.at, reply.length);
    else this.transport.write(new SlabView(reply.memory!, reply.at, reply.length) as unknown as Buffer);
  }

  /** Sends a message framed once by prepareMessage (broadcast.ts); server side only. Ignored unless open. */
  sendPreparedMessage(message: PreparedMessage): void {
    if (this.isClient) throw new TypeError('sendPreparedMessage: a client masks each frame; use sendMessage');
    if (this.state !== WebSocketState.Open) return;
    const f = message.frame;
    if (Buffer.isBuffer(f)) this.transport.write(f);
    else this.transport.writeSequence(f);
  }

  /** Sends a ping (at most 125 bytes of payload). Ignored unless open. */
  sendPing(payload: Sendable = Buffer.alloc(0)): void {
    const data = toBuffer(payload, 'sendPing');
    if (data.length > 125) throw new RangeError('sendPing: payload must be at most 125 bytes');
    if (this.state === WebSocketState.Open) this.sendFrame(0x80 | Opcode.Ping, data);
  }

  /** Sends a pong (at most 125 bytes of payload). Ignored unless open. */
  sendPong(payload: Sendable = Buffer.alloc(0)): void {
    const data = toBuffer(payload, 'sendPong');
    if (data.length > 125) throw new RangeError('sendPong: payload must be at most 125 bytes');
    if (this.state === WebSocketState.Open) this.sendFrame(0x80 | Opcode.Pong, data);
  }

  /**
   * Starts the close handshake with `code` (1000 or 3000-4999; none: a close
   * without code) and `reason` (at most 123 bytes); the peer's close then
   * ends the connection, or closeHandshakeTimeout does. Ignored when closing.
   */
  sendClose(code?: number, reason?: string): void {
    checkSendClose(code, reason);
    this.beginClose(code, reason ?? '', 'closed before the handshake completed');
  }

  /**
   * IGracefulShutdown (drainConnections, `ioreactor serve`): an open
   * connection starts the close handshake with 1001 (going away), so the
   * peer knows to reconnect elsewhere; one still in its opening handshake
   * is dropped.
   */
  gracefulShutdown(): void {
    this.beginClose(CloseCode.GOING_AWAY, 'server shutting down', 'server shutting down during the handshake');
  }

  private beginClose(code: number | undefined, reason: string, early: string): void {
    if (this.state === WebSocketState.Connecting) return this.dropConnection(true, early);
    if (this.state !== WebSocketState.Open) return;
    this.startClosing(code, reason);
    this.setTimer(this.settings.closeHandshakeTimeout, () => this.dropConnection(true, 'peer did not finish the close handshake in time'));
  }

  /** Closes the TCP connection without a close handshake (`abort`: at once, without flushing). */
  dropConnection(abort = true, why = 'connection dropped'): void {
    if (this.state === WebSocketState.Closed) return;
    this.closeState.notClean ??= why;
    this.state = WebSocketState.Closing;
    this.frameParser?.halt();
    const t = this.transport as ITCPTransport;
    if (abort && typeof t.abortConnection === 'function') t.abortConnection();
    else this.flushAndClose();
  }

  /**
   * Closes TCP after what is written has gone; a peer that does not read
   * it (so the buffer never drains) is aborted after closeHandshakeTimeout.
   */
  private flushAndClose(): void {
    const t = this.transport as ITCPTransport;
    t.loseConnection();
    this.setTimer(this.settings.closeHandshakeTimeout, () => t.abortConnection());
  }

  /**
   * @internal A write left the transport's buffer past its high-water mark
   * and no producer is registered (StreamTransport.afterWrite): true asks
   * the transport to stop reading until it drains. What fills it answers
   * this peer's frames (pongs, echoed messages), so a peer that sends and
   * never reads would otherwise grow it without bound; one that reads is
   * not slowed. The transport keeps this pause apart from the
   * application's (pauseProducing) and registers no producer for it.
   */
  writeBufferFull(): boolean {
    return this.state !== WebSocketState.Closed;
  }

  // ---- receiving ----

  /** @internal Frames come in: parse them. */
  override dataReceived(data: Buffer): void {
    this.framesIn(data);
  }

  /**
   * @internal A read as the `length` bytes at `offset` of `memory`, ours to
   * keep (StreamTransport.onDataKept): one whole data frame takes the fast
   * path with no Buffer made for the read; anything else goes to
   * dataReceived as a Buffer.
   */
  dataReceivedKept(memory: ArrayBuffer, offset: number, length: number): void {
    if (this.frameParser === null && this.state === WebSocketState.Open && this.reassembly === null) {
      const masked = !this.isClient;
      const head = wholeFrameHeadIn(memory, offset, length, masked, this.settings.maxFrame);
      if (head >= 0) return this.wholeMessage(openWholeFrameIn(memory, offset, length, head, masked), binaryFrameIn(memory, offset), head);
    }
    this.dataReceived(new SlabView(memory, offset, length) as unknown as Buffer);
  }

  /**
   * @internal A read the bridge unmasked as one whole frame (Rec.FrameKept;
   * asked for in startFraming). At a frame boundary (no parser holding part
   * of one, no fragmented message) it is that frame: onMessage gets its
   * payload as it lies. Anywhere else the bytes only looked like a frame
   * (they continue one, or nothing reads frames now): masked again, they
   * are the peer's bytes and go the usual way.
   */
  frameReceivedKept(memory: ArrayBuffer, offset: number, length: number): void {
    if (this.frameParser === null && this.state === WebSocketState.Open && this.reassembly === null && !this.isClient) {
      const head = keptFrameHeadIn(memory, offset, length, this.settings.maxFrame);
      if (head >= 0) return this.wholeMessage(openWholeFrameIn(memory, offset, length, head, false), binaryFrameIn(memory, offset), head); // the bridge unmasked it
    }
    remaskFrame(memory, offset, length);
    this.dataReceivedKept(memory, offset, length);
  }

  /**
   * @internal Parses received frames, with a parser borrowed for the read
   * and given back once it holds nothing (an idle connection keeps none).
   * Nothing is read before the handshake is done, after the peer's close
   * frame, or once the connection failed or is being dropped.
   */
  protected framesIn(data: Buffer): void {
    let p = this.frameParser;
    if (p === null) {
      if (this.state === WebSocketState.Open && this.reassembly === null) {
        const head = wholeFrameHead(data, !this.isClient, this.settings.maxFrame);
        if (head >= 0) return this.wholeMessage(openWholeFrame(data, head, !this.isClient), data[0] === 0x82, head);
      }
      if (!this.reading) return;
      p = this.frameParser = borrowParser(this, parserOptions(this.settings, this.isClient, this.deflate !== null));
    }
    p.feed(data);
    if (p.idle && this.frameParser === p) {
      this.frameParser = null;
      returnParser(p);
    }
  }

  /**
   * The read was one whole unfragmented data frame (whole-frame.ts), now
   * unmasked in place: its payload goes to onMessage as a view, lent
   * meanwhile so that sendMessage of it can frame the reply in place (in the
   * `head` bytes of the frame's own header before it).
   */
  private wholeMessage(payload: Buffer, isBinary: boolean, head: number): void {
    if (!isBinary && !isUtf8(payload)) return this.failConnection(CloseCode.INVALID_PAYLOAD, 'invalid UTF-8 in a text message');
    const was = lend(payload, this.isClient ? 0 : head);
    try {
      this.onMessage(payload, isBinary);
    } finally {
      endLend(was);
    }
  }

  /** Frames are read: open, or closing after our close frame and waiting for the peer's. */
  private get reading(): boolean {
    if (this.state === WebSocketState.Open) return true;
    const c = this.closeInfo;
    return this.state === WebSocketState.Closing && c !== null && !c.received && c.notClean === null;
  }

  /** @internal The connection is gone: onClose, once. */
  override connectionLost(reason: Failure): void {
    const wasOpen = this.state;
    this.state = WebSocketState.Closed;
    this.cancelTimer();
    this.frameParser?.halt();
    this.frameParser = null;
    this.reassembly = null;
    if (wasOpen === WebSocketState.Closed) return;
    const c = this.closeInfo;
    if (c !== null && c.sent && c.received && c.notClean === null) this.onClose(true, c.remoteCode!, c.remoteReason!);
    else {
      const why = c?.notClean ?? uncleanReason(reason);
      this.closeState.notClean = why; // wasNotCleanReason says it too
      this.onClose(false, CloseCode.ABNORMAL, why);
    }
  }

  /** @internal Called once the handshake is done: frames flow, onOpen runs. */
  protected startFraming(): void {
    const s = this.settings;
    this.state = WebSocketState.Open;
    if (!this.isClient) (this.transport as Partial<FrameSource>).unmaskFrames?.(true); // frames reach frameReceivedKept unmasked
    if (s.autoPingInterval > 0) this.setTimer(s.autoPingInterval, () => this.autoPing());
    this.onOpen();
  }

  /** @internal A frame arrived (the parser's sink: FrameSink). */
  frameReceived(fin: boolean, rsv1: boolean, opcode: number, payload: Buffer): void {
    if (opcode >= Opcode.Close) return this.controlFrame(opcode, payload);
    if (opcode === Opcode.Continuation) return this.continuation(fin, rsv1, payload);
    if (this.reassembly !== null) return this.failConnection(CloseCode.PROTOCOL_ERROR, 'new data frame while a fragmented message is unfinished');
    if (fin) return this.deliver(opcode, rsv1, payload);
    const validator = opcode === Opcode.Text && !rsv1 ? new Utf8Validator() : null;
    this.reassembly = { pieces: [payload], bytes: payload.length, merged: 0, opcode, compressed: rsv1, validator };
    if (validator !== null && !validator.feed(payload, false)) this.failConnection(CloseCode.INVALID_PAYLOAD, 'invalid UTF-8 in a text message');
  }

  /** @internal FrameSink: the stream broke the protocol. */
  frameError(code: number, reason: string): void {
    this.failConnection(code, reason);
  }

  private continuation(fin: boolean, rsv1: boolean, payload: Buffer): void {
    const m = this.reassembly;
    if (m === null) return this.failConnection(CloseCode.PROTOCOL_ERROR, 'continuation frame without a message to continue');
    if (rsv1) return this.failConnection(CloseCode.PROTOCOL_ERROR, 'RSV1 set on a continuation frame');
    m.bytes += payload.length;
    if (m.bytes > this.settings.maxMessage) return this.failConnection(CloseCode.MESSAGE_TOO_BIG, `message over ${this.settings.maxMessage} bytes`);
    m.merged = keepPiece(m.pieces, payload, m.merged);
    if (m.validator !== null && !m.validator.feed(payload, fin)) return this.failConnection(CloseCode.INVALID_PAYLOAD, 'invalid UTF-8 in a text message');
    if (!fin) return;
    this.reassembly = null;
    const whole = m.pieces.length === 1 ? m.pieces[0] : Buffer.concat(m.pieces, m.bytes);
    if (m.compressed) return this.deliver(m.opcode, true, whole);
    this.onMessage(whole, m.opcode === Opcode.Binary);
  }

  /** A whole message: inflate it if compressed, check text, hand it on. */
  private deliver(opcode: number, compressed: boolean, payload: Buffer): void {
    let data = payload;
    if (compressed) {
      let out: Buffer | null;
      try {
        out = this.deflate!.decompress(payload, this.settings.maxMessage);
      } catch {
        return this.failConnection(CloseCode.INVALID_PAYLOAD, 'corrupt permessage-deflate data');
      }
      if (out === null) return this.failConnection(CloseCode.MESSAGE_TOO_BIG, `message over ${this.settings.maxMessage} bytes`);
      data = out;
    }
    if (opcode === Opcode.Text && !isUtf8(data)) return this.failConnection(CloseCode.INVALID_PAYLOAD, 'invalid UTF-8 in a text message');
    this.onMessage(data, opcode === Opcode.Binary);
  }

  private controlFrame(opcode: number, payload: Buffer): void {
    if (opcode === Opcode.Ping) {
      if (this.state === WebSocketState.Open) this.onPing(payload);
      return;
    }
    if (opcode === Opcode.Pong) return this.pongReceived(payload);
    const parsed = parseClose(payload);
    if ('error' in parsed) return this.failConnection(parsed.error, parsed.why);
    const c = this.closeState;
    c.received = true;
    c.remoteCode = parsed.code;
    c.remoteReason = parsed.reason;
    this.frameParser?.halt(); // nothing after a close frame is read
    this.reassembly = null;
    if (!c.sent) this.startClosing(parsed.code === CloseCode.NO_STATUS ? undefined : parsed.code, '');
    this.closeHandshakeDone();
  }

  /** Both close frames went: the server closes TCP; the client waits for it to (a while). */
  private closeHandshakeDone(): void {
    if (!this.isClient) return this.flushAndClose();
    this.setTimer(this.settings.serverConnectionDropTimeout, () => {
      this.closeState.notClean = null; // the handshake was clean; only the server's TCP close was late
      (this.transport as ITCPTransport).abortConnection();
    });
  }

  private pongReceived(payload: Buffer): void {
    const x = this.extra;
    const p = x === null ? null : x.pingPayload;
    if (p !== null && p.equals(payload)) {
      x!.pingPayload = null;
      this.setTimer(this.settings.autoPingInterval, () => this.autoPing());
    }
    this.onPong(payload);
  }

  private autoPing(): void {
    if (this.state !== WebSocketState.Open) return;
    const p = Buffer.allocUnsafe(4);
    pingCount = (pingCount + 1) >>> 0;
    p.writeUInt32BE(pingCount, 0);
    this.extras().pingPayload = p;
    this.sendFrame(0x80 | Opcode.Ping, p);
    this.setTimer(this.settings.autoPingTimeout, () => this.dropConnection(true, 'auto-ping: no pong within autoPingTimeout'));
  }

  /**
   * Fails the connection (RFC 6455 7.1.7): a close frame with `code` (the
   * peer may still read it), then the TCP connection is closed.
   */
  protected failConnection(code: number, reason: string): void {
    this.frameParser?.halt();
    this.reassembly = null;
    this.closeState.notClean ??= reason;
    if (this.state === WebSocketState.Open) this.startClosing(code, reason.length > 123 ? reason.slice(0, 120) : reason);
    this.dropConnection(false, reason);
  }

  /** Sends our close frame; the state becomes Closing. */
  private startClosing(code: number | undefined, reason: string): void {
    this.state = WebSocketState.Closing;
    const c = this.closeState;
    c.sent = true;
    c.localCode = code ?? null;
    c.localReason = reason;
    this.sendFrame(0x80 | Opcode.Close, closePayload(code, reason));
  }

  /** Encodes and writes one frame (masked from a client). */
  protected sendFrame(first: number, payload: Buffer): void {
    if (this.isClient) return this.transport.write(encodeMaskedFrame(first, payload));
    const f = encodeFrame(first, payload);
    if (Buffer.isBuffer(f)) this.transport.write(f);
    else this.transport.writeSequence(f);
  }

  /** @internal Runs `fn` in `seconds` (0: never), replacing the timer running. */
  protected setTimer(seconds: number, fn: () => void): void {
    this.cancelTimer();
    if (seconds > 0) this.extras().timer = this.settings.clock.callLater(seconds, fn);
  }

  /** @internal Cancels the timer running. */
  protected cancelTimer(): void {
    const x = this.extra;
    if (x === null) return;
    const t = x.timer;
    x.timer = null;
    if (t !== null && t.active()) t.cancel();
  }
}
