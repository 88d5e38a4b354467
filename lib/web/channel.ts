/**
 * HTTPChannel: the protocol of one HTTP/1.1 connection, as
 * twisted.web.http.HTTPChannel. It feeds received bytes to the parser, makes
 * a Request per head, renders each through the Site once its body is in,
 * and keeps the responses in request order (a pipelined request's output
 * waits in the request until those before it are done).
 *
 * What a hostile client meets here: a malformed request gets its status and
 * the connection closes after the responses before it; more than
 * maxPipelined unanswered requests stop the reading (the transport is paused
 * and the rest of the read kept) until answers drain, and so does a write
 * buffer over the transport's high-water mark (the channel is registered as
 * the transport's producer, as Twisted's is), so a client that sends
 * requests without reading the answers holds a bounded amount; one timer per
 * connection cuts a connection idle between requests, or whose head has not
 * all arrived, `timeout` seconds after it started waiting (bytes arriving do
 * not extend a head's time: that is the slowloris defence), a body that
 * stalls for `timeout` seconds, and one still arriving `requestTimeout`
 * seconds after its head, however steadily it trickles. Closing waits for
 * what was written to be flushed, but not for ever: a connection still open
 * `abortTimeout` seconds after a close its timer caused (or `timeout` plus
 * `abortTimeout` after one with another cause), whose client took nothing
 * in that time, is aborted, as Twisted's HTTPChannel does after a timeout;
 * one still reading gets `abortTimeout` more each time. So a client that
 * never reads holds its buffered answer only that long, and a slow one
 * still gets all of it. A body written by a producer (request.registerProducer)
 * follows the write buffer: the producer of the response first in line is
 * paused while the buffer is over its high-water mark and resumed when it
 * has drained, and one behind it waits paused. While one waits, a client
 * that takes none of the bytes it was sent for `timeout` seconds is closed
 * on (then aborted after `abortTimeout`, as after any timeout); one still
 * reading, however slowly, gets `timeout` more each time.
 * Nothing here touches another connection.
 *
 * An Upgrade request (WebSocket) stops the parsing after its head: nothing
 * behind it is HTTP until it is answered. Until then the transport is
 * paused, so what is held is at most the rest of the read that brought the
 * head. The answer may take as long as any other (no timer runs: clients
 * send `Upgrade: h2c` on ordinary requests, a long poll or an event stream
 * among them), and while reading is stopped a client that leaves is noticed
 * only when the answer is written. upgrade() then hands the
 * transport, and the bytes held, to another protocol (a pause that protocol
 * sets in connectionMade, as a WebSocket's onOpen may, holds those bytes
 * too); a normal answer parses them as the next requests and reads on.
 *
 * As in Twisted, the channel is not half-closeable: a client's EOF ends the
 * connection (after what is already written is flushed), and requests still
 * being answered see notifyFinish fail.
 */
// (imported: the global Buffer is a getter on globalThis, called at every use in a hot path)
import { Buffer } from 'buffer';
import type { IAddress } from '../address';
import type { IConsumer, IDelayedCall, IGracefulShutdown, IProtocol, IPullProducer, IPushProducer, ITransport } from '../interfaces';
import { Failure } from '../failure';
import { connectionDone } from '../transport/end-reasons';
import { log } from '../log';
import { Protocol } from '../protocol';
import { keepPiece } from '../transport/pieces';
import type { RequestHead } from './head';
import { KNOWN_METHODS } from './methods';
import { RequestParser } from './parser';
import { Request, RequestChannel } from './request';
import { NOT_DONE_YET } from './resource';
import type { Site } from './site';
import { reasonPhrase } from './status';

/** The transport features a channel uses beyond ITransport. */
type ChannelTransport = ITransport &
  Partial<IPushProducer> &
  Partial<IConsumer> & {
    /** False once the connection is closed (a transport that does not say is taken as open). */
    readonly connected?: boolean;
    setTcpNoDelay?(on: boolean): void;
    setReadLowWater?(bytes: number): boolean;
    /** Closes now, dropping what is unsent (see abortLater). */
    abortConnection?(): void;
    /** Bytes written and not yet taken by the kernel. */
    bufferedAmount?(): number;
    /** Bytes the peer has yet to get, the kernel's send queue included (see abortIfStalled). */
    unsentToPeer?(): number;
    /** After an upgrade: who the transport delivers to, and bytes to deliver before any it holds. */
    protocol?: IProtocol;
    deliverFirst?(data: Buffer): void;
  };

/** Most response bytes gathered before they are sent (see send). */
const CORK_LIMIT = 16 * 1024;

const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n');

/** Node's Buffer.prototype method behind write(string, offset, 'latin1'), not in its typings. */
type LatinBuffer = Buffer & { latin1Write(text: string, offset: number): number };

/** `head` (latin1 text) and `body` as one Buffer. */
function joined(head: string, body: Buffer | null): Buffer {
  const out = Buffer.allocUnsafe(head.length + (body === null ? 0 : body.length));
  (out as LatinBuffer).latin1Write(head, 0);
  if (body !== null) out.set(body, head.length);
  return out;
}

/** The protocol serving HTTP/1.x on one connection for a Site. */
export class HTTPChannel extends Protocol implements RequestChannel, IPushProducer, IGracefulShutdown {
  /** True on a TLS connection (set by handshakeCompleted). */
  secure = false;
  private readonly parser: RequestParser;
  /** Requests whose bodies are in and whose responses are not finished, oldest first. */
  private readonly queue: Request[] = [];
  /** The request whose body is arriving. */
  private current: Request | null = null;
  private body: Buffer[] = [];
  /** body[0, bodyMerged) were looked at by mergeSmallPieces (a body in tiny chunks is kept merged). */
  private bodyMerged = 0;
  /** Bytes of a read not parsed yet because the pipeline was full. */
  private held: Buffer | null = null;
  private paused = false;
  /** The transport's write buffer is over its high-water mark. */
  private writeBlocked = false;
  private feeding = false;
  /** A response finished while feeding: the idle/head timer is armed when the read is parsed. */
  private armOwed = false;
  /** Response bytes gathered while feeding (see send): Buffers, and strings of latin1 text; made on first use. */
  private corked: (Buffer | string | null)[] | null = null;
  /** How many entries of `corked` are in use (the array is reused: a new one per read is garbage). */
  private corkedN = 0;
  private corkedBytes = 0;
  /** The status to answer once the queue drains (a malformed request came in), or 0. */
  private failStatus = 0;
  private closing = false;
  private timer: IDelayedCall | null = null;
  /** The timer ran out (the close that follows gives abortTimeout from now, not timeout more). */
  private timedOut = false;
  /** The abort of a connection closing too slowly (see abortLater); cancelled when it is lost. */
  private abortCall: IDelayedCall | null = null;
  /** An Upgrade request is being answered: bytes read meanwhile are held, not parsed. */
  private upgrading = false;
  /** The protocol taking the connection over (see upgrade), once the current read is parsed. */
  private switchTo: IProtocol | null = null;
  /** When the wait the timer guards runs out (reactor seconds), or -1 when nothing is guarded. */
  private deadline = -1;
  /** When the body arriving must be complete (reactor seconds; requestTimeout after its head), or Infinity. */
  private bodyDeadline = Infinity;
  /** The transport's read low-water mark as last set (1 at first), or 0 once it cannot be set (TLS, no such method). */
  private lowWater = 1;
  /** The current request asked for 100 Continue and has not had it: it is sent when the responses before it are done. */
  private continueOwed = false;
  /** A pull producer's next chunk is asked for here, a turn after it wrote its last (see pullSoon). */
  private pullQueued: NodeJS.Immediate | null = null;
  /** The timer on a producer waiting for the client to read (see waitOnClient); its own, apart from the idle, head and body timer. */
  private stallCall: IDelayedCall | null = null;

  /** A channel for `site`. */
  constructor(
    /** The Site this connection belongs to. */
    readonly site: Site,
  ) {
    super();
    this.parser = new RequestParser(this, site.limits);
  }

  private get tx(): ChannelTransport {
    return this.transport as ChannelTransport;
  }

  override connectionMade(): void {
    const t = this.tx;
    if (typeof t.setTcpNoDelay === 'function') t.setTcpNoDelay(true);
    if (typeof t.registerProducer === 'function') t.registerProducer(this, true);
    this.arm();
  }

  /** The TLS handshake completed (IHandshakeListener): requests on this connection are secure. */
  handshakeCompleted(): void {
    this.secure = true;
  }

  override dataReceived(data: Buffer): void {
    if (this.upgrading) return this.holdForUpgrade(data);
    if (this.closing) return;
    this.feed(data);
  }

  override connectionLost(reason: Failure): void {
    this.endRequests(reason);
    if (this.abortCall !== null) {
      if (this.abortCall.active()) this.abortCall.cancel();
      this.abortCall = null;
    }
  }

  /**
   * Bytes that came while an Upgrade request is unanswered (only from a
   * transport that delivered them before its pause took hold, or cannot
   * pause): kept for the protocol that follows, and reading stops.
   */
  private holdForUpgrade(data: Buffer): void {
    this.held = this.held === null ? data : Buffer.concat([this.held, data]);
    this.pause();
  }

  /** No request is taken or answered from here on: the ones still being answered see notifyFinish fail. */
  private endRequests(reason: Failure): void {
    this.closing = true;
    this.parser.halt();
    this.stopTimer();
    this.cancelPull();
    this.held = null;
    const pending = this.current === null ? this.queue.slice() : [...this.queue, this.current];
    this.current = null;
    this.queue.length = 0;
    for (const r of pending) r.connectionLost(reason);
  }

  // ---- RequestChannel ----

  /** Sends bytes of `request`'s response, or keeps them until the responses before it are done. */
  writeFor(request: Request, data: Buffer): void {
    if (this.queue[0] === request) this.send(data);
    else (request.pendingOut ??= []).push(data);
  }

  /** Sends a whole response (head text, then body bytes), or keeps it until the responses before it are done. */
  writeResponse(request: Request, head: string, body: Buffer | null): void {
    if (this.queue[0] !== request) {
      (request.pendingOut ??= []).push(joined(head, body));
    } else if (!this.feeding) {
      this.tx.write(joined(head, body));
    } else {
      this.send(head);
      if (body !== null) this.send(body);
    }
  }

  /**
   * `request` registered a body producer: it runs now if its response is
   * first in line and the buffer has room, else it waits (paused). On a
   * closing connection it never runs: what it wrote would be dropped.
   */
  producerRegistered(request: Request): void {
    if (this.queue[0] === request && !this.closing) return this.startProducer(request);
    if (request.streaming) (request.producer as IPushProducer).pauseProducing();
  }

  /** `request`'s pull producer wrote a chunk: the next is asked for a turn later, if the buffer still has room then. */
  producerWrote(request: Request): void {
    if (this.queue[0] === request && !this.writeBlocked) this.pullSoon();
  }

  /**
   * The producer of the response first in line may write: a push producer
   * is resumed (one registered just now is producing already), a pull
   * producer asked for a chunk. With the buffer full it stays paused, and
   * waits on the client (waitOnClient).
   */
  private startProducer(request: Request, resume = false): void {
    if (this.writeBlocked) {
      if (request.streaming) this.guarded(request, () => (request.producer as IPushProducer).pauseProducing());
      return this.waitOnClient();
    }
    if (!request.streaming) this.pullSoon();
    else if (resume) this.guarded(request, () => request.producer!.resumeProducing());
  }

  /**
   * Asks the first response's pull producer for a chunk on the next turn
   * (as the transport asks its own pull producer; not now: a producer that
   * writes from inside resumeProducing would recurse).
   */
  private pullSoon(): void {
    if (this.pullQueued !== null || this.closing) return;
    this.pullQueued = setImmediate(() => {
      this.pullQueued = null;
      const request = this.queue[0];
      if (request === undefined || this.writeBlocked || this.closing) return;
      const producer = request.producer;
      if (producer !== null && !request.streaming) this.guarded(request, () => (producer as IPullProducer).resumeProducing());
    });
  }

  private cancelPull(): void {
    if (this.pullQueued !== null) clearImmediate(this.pullQueued);
    this.pullQueued = null;
  }

  /**
   * The producer first in line waits for the client to read what fills the
   * buffer (until the buffer drains: resumeProducing stops the timer). If
   * the client takes none of it for `timeout` seconds, the connection is
   * closed as a timed-out one is (abortLater then drops it if it still
   * takes nothing); each time it has taken some, it gets `timeout` more,
   * as abortIfStalled gives a closing one `abortTimeout`.
   */
  private waitOnClient(): void {
    if (this.stallCall === null && !this.closing) this.closeIfStalled(unsentOf(this.tx));
  }

  private closeIfStalled(unsent: number): void {
    this.stallCall = this.site.reactor.callLater(this.site.timeout, () => {
      this.stallCall = null;
      const first = this.queue[0];
      if (this.closing || first === undefined || first.producer === null) return; // (the one that waited is done, and none waits now)
      const left = unsentOf(this.tx);
      if (left < unsent) return this.closeIfStalled(left);
      this.timedOut = true;
      this.close();
    });
  }

  private stopStallTimer(): void {
    if (this.stallCall !== null && this.stallCall.active()) this.stallCall.cancel();
    this.stallCall = null;
  }

  /** Runs a call into `request`'s producer: one that throws fails the response as a render that throws does (a 500, or a cut-off body and a close). */
  private guarded(request: Request, call: () => void): void {
    try {
      call();
    } catch (err) {
      request.unregisterProducer();
      this.renderFailed(request, new Failure(err));
    }
  }

  /** `request`'s response is complete: send the next ones in line, or close, or wait for more. */
  requestDone(request: Request): void {
    if (this.queue[0] !== request) return; // finished early: it is sent when it reaches the front
    this.sent();
    if (!request.persistent) return this.close();
    for (;;) {
      const next = this.queue[0];
      if (next === undefined) break;
      if (next.pendingOut !== null) {
        for (const d of next.pendingOut) this.send(d);
        next.pendingOut = null;
      }
      if (!next.finished) return next.producer === null ? undefined : this.startProducer(next, true);
      this.sent();
      if (!next.persistent) return this.close();
    }
    if (this.failStatus !== 0) return this.sendError(this.failStatus);
    if (this.continueOwed) {
      // The request whose body is arriving is now first in line: tell it to go on.
      this.continueOwed = false;
      this.send(CONTINUE);
    }
    if (this.current === null) {
      // Waiting for the next request starts now; while a read is parsed, once at its end (feed), not per response.
      if (this.feeding) this.armOwed = true;
      else this.arm();
    }
    if (this.paused && !this.feeding && !this.writeBlocked) this.resume();
  }

  /**
   * The response first in line is all handed on. An Upgrade request is the
   * last queued while it waits (nothing behind it is parsed), so an empty
   * queue means none is pending any more: what it held is HTTP again.
   */
  private sent(): void {
    this.queue.shift()!.responseSent();
    if (this.queue.length === 0) this.upgrading = false;
  }

  /**
   * Gives the connection to `protocol` (a WebSocket): `response` (the 101
   * head) is sent, the transport is handed over, and the bytes already read
   * past `request`'s head are delivered to `protocol`. Only for the request
   * first in line that asked to upgrade, before it is answered.
   */
  upgrade(request: Request, response: Buffer, protocol: IProtocol): void {
    if (this.queue[0] !== request || !this.upgrading || this.closing || request.finished) {
      throw new Error('HTTPChannel.upgrade: only an unanswered Upgrade request first in line can be upgraded');
    }
    this.queue.length = 0;
    request.finished = true;
    request.startedWriting = true;
    request.responseSent(); // (the 101 goes to the transport below)
    this.closing = true;
    this.parser.halt();
    this.stopTimer();
    this.flush(); // (a 100 Continue gathered before it)
    const t = this.tx;
    t.write(response);
    if (typeof t.unregisterProducer === 'function') t.unregisterProducer();
    this.switchTo = protocol;
    if (!this.feeding) this.handOff();
  }

  /** The transport now delivers to the upgraded protocol, starting with the bytes held. */
  private handOff(): void {
    const protocol = this.switchTo!;
    const rest = this.held;
    this.switchTo = null;
    this.held = null;
    this.upgrading = false;
    const t = this.tx;
    if (this.lowWater > 1) t.setReadLowWater!(1); // the next protocol reads every byte
    t.protocol = protocol;
    // Our pause is lifted before the protocol starts, so one it sets itself (in onOpen) stands.
    if (this.paused && typeof t.resumeProducing === 'function') t.resumeProducing();
    this.paused = false;
    protocol.makeConnection(t);
    if (rest === null || rest.length === 0 || t.connected === false) return;
    // The transport holds them first in line while that pause lasts.
    if (typeof t.deliverFirst === 'function') t.deliverFirst(rest);
    else protocol.dataReceived(rest);
  }

  // ---- IPushProducer: the transport's write buffer is full, or has drained ----

  /** The transport's write buffer is full (the responses are not being read): stop taking requests, and pause the body's producer. */
  pauseProducing(): void {
    this.writeBlocked = true;
    const first = this.queue[0];
    if (first !== undefined && first.producer !== null && !this.closing) this.startProducer(first);
  }

  /** The transport's write buffer drained: take requests again, and resume the body's producer. */
  resumeProducing(): void {
    this.writeBlocked = false;
    this.stopStallTimer();
    const first = this.queue[0];
    if (first !== undefined && first.producer !== null && !this.closing) {
      this.startProducer(first, true);
      if (this.writeBlocked) return; // (it filled the buffer again)
    }
    // (an unanswered Upgrade keeps reading stopped: requestDone or upgrade ends that pause)
    if (this.paused && !this.feeding && !this.closing && !this.upgrading && this.queue.length < this.site.maxPipelined) this.resume();
  }

  /**
   * The transport takes no more writes: it is going away, or the client's
   * EOF came (the transport flushes what is written, then closes). Requests
   * still being answered end here, as at connectionLost: their notifyFinish
   * fails with ConnectionDone and what they write later is dropped, rather
   * than a response finished during the flush being reported complete.
   */
  stopProducing(): void {
    // At a close connectionLost follows with the real reason (a reset, a timeout): the requests hear that one.
    if (this.tx.connected === false) return;
    this.endRequests(new Failure(connectionDone()));
    this.abortLater();
  }

  /** The client's address. */
  getPeer(): IAddress {
    return this.tx.getPeer();
  }

  /** The local address. */
  getHost(): IAddress {
    return this.tx.getHost();
  }

  // ---- ParserSink ----

  /** @internal */
  headReceived(head: RequestHead, length: number): number {
    // (GET first: the parser hands a known method as the interned constant, which compares by identity)
    if (head.method !== 'GET' && !KNOWN_METHODS.has(head.method)) return 501;
    // An HTTP/1.1 request must name its host (RFC 9112 3.2), as Node's http also asks by default.
    if (head.hosts === 0 && head.minor === 1 && this.site.requireHostHeader) return 400;
    const request = new Request(this, head);
    const expects = head.expect;
    const expect = expects === undefined ? null : expects[expects.length - 1];
    if (expect !== null) {
      if (expect.toLowerCase() !== '100-continue') return 417;
      // A 100 cannot overtake earlier responses: a request behind others gets it when they are done (requestDone).
      if (length !== 0 && head.minor === 1) {
        if (this.queue.length === 0) this.send(CONTINUE);
        else this.continueOwed = true;
      }
    }
    this.current = request;
    if (this.body.length !== 0) this.body = []; // (setting length is a runtime call)
    this.bodyMerged = 0;
    if (length !== 0) {
      // (with no body the message ends now, and messageEnded disarms)
      this.bodyDeadline = this.site.reactor.seconds() + this.site.requestTimeout;
      this.arm();
    }
    return 0;
  }

  /** @internal */
  bodyReceived(data: Buffer): void {
    this.bodyMerged = keepPiece(this.body, data, this.bodyMerged);
    this.arm();
  }

  /** @internal */
  messageEnded(): boolean {
    const request = this.current!;
    this.current = null;
    this.continueOwed = false;
    this.bodyDeadline = Infinity;
    if (this.body.length > 0) {
      request.content = this.body.length === 1 ? this.body[0] : Buffer.concat(this.body);
      this.body = [];
    }
    this.queue.push(request);
    this.disarm();
    if (!request.persistent) this.parser.halt();
    // An Upgrade request: hold what follows until it is answered (upgrade() or a plain response).
    this.upgrading = request.persistent && request.asksUpgrade;
    this.render(request);
    if (this.upgrading) {
      if (!request.finished) return this.awaitUpgrade();
      this.upgrading = false; // answered at once, behind slower responses: a plain answer
    }
    return !this.closing && !this.writeBlocked && request.persistent && this.queue.length < this.site.maxPipelined;
  }

  /**
   * An Upgrade request is being answered later: the parsing stops here and
   * so does reading (what the client sends meanwhile waits in the kernel,
   * not here). No timer: the answer may be a plain one that takes long, as
   * any request's may.
   */
  private awaitUpgrade(): false {
    this.pause();
    return false;
  }

  /** @internal */
  parseFailed(status: number): void {
    this.current = null;
    this.continueOwed = false;
    if (this.queue.length === 0) this.sendError(status);
    else this.failStatus = status;
  }

  // ---- rendering ----

  private render(request: Request): void {
    let result;
    try {
      result = this.site.getResourceFor(request).render(request);
    } catch (err) {
      return this.renderFailed(request, new Failure(err));
    }
    if (result === NOT_DONE_YET) return;
    if (typeof result === 'string' || Buffer.isBuffer(result)) return request.respond(result);
    this.renderFailed(request, new Failure(new TypeError(`render returned ${typeof result}, not a Buffer, string or NOT_DONE_YET`)));
  }

  /** As Twisted's processingFailed: log it, answer 500 if nothing was sent yet, else drop the connection. */
  private renderFailed(request: Request, failure: Failure): void {
    log.failure(`Error rendering ${request.method} ${request.uri}`, failure);
    if (request.finished) return;
    if (request.startedWriting) {
      request.persistent = false;
      return request.finish();
    }
    request.responseHeaders.removeHeader('content-length');
    request.setResponseCode(500);
    request.setHeader('Content-Type', 'text/plain; charset=utf-8');
    request.respond('Internal Server Error\n');
  }

  // ---- reading, pausing ----

  private feed(data: Buffer): void {
    this.feeding = true;
    try {
      const used = this.parser.feed(data);
      if (used < data.length && (!this.closing || this.switchTo !== null)) {
        this.held = data.subarray(used);
        if (this.switchTo === null) this.pause();
      }
    } finally {
      this.feeding = false;
      if (this.armOwed) {
        this.armOwed = false;
        if (this.current === null) this.arm();
      }
      this.flush();
      if (this.switchTo !== null) this.handOff();
      else if (!this.closing && this.lowWater !== 0) this.markLowWater();
    }
  }

  /**
   * The slowloris defence's other half (the timer cuts; this makes the wait
   * cheap): while a head is partial, the transport wakes us only once as many
   * bytes have come as could complete it (parser.bytesToProgress: 4 in the
   * middle of a line, up to 16 on the request line), not for every byte a
   * client trickles; in a body, for every byte again. Between messages the
   * mark is left as it is (it is at most the shortest head), so a client
   * whose requests come whole never costs a system call here.
   */
  private markLowWater(): void {
    const want = this.parser.bytesToProgress();
    if (want === 0 || want === this.lowWater) return;
    const t = this.tx;
    this.lowWater = typeof t.setReadLowWater === 'function' && t.setReadLowWater(want) ? want : 0;
  }

  /**
   * Response bytes out in order (a string is latin1 text). While a read is
   * being parsed they are gathered and sent together when it is done: one
   * Buffer and one write for 16 pipelined answers, not 16 of each.
   */
  private send(data: Buffer | string): void {
    if (!this.feeding) return this.tx.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
    (this.corked ??= [])[this.corkedN++] = data;
    this.corkedBytes += data.length;
    // Past this, send now: the transport then says at once when its buffer is full (pauseProducing).
    if (this.corkedBytes >= CORK_LIMIT) this.flush();
  }

  /** Sends what send() gathered, as one Buffer. */
  private flush(): void {
    const n = this.corkedN;
    if (n === 0) return;
    const c = this.corked!;
    const first = c[0]!;
    let out: Buffer;
    if (n === 1 && typeof first !== 'string') {
      out = first;
      c[0] = null;
    } else {
      out = Buffer.allocUnsafe(this.corkedBytes);
      let at = 0;
      for (let i = 0; i < n; i++) {
        const d = c[i]!;
        c[i] = null; // (kept no longer than this)
        if (typeof d === 'string') {
          at += (out as LatinBuffer).latin1Write(d, at);
        } else if (d.length <= 64) {
          for (let k = 0; k < d.length; k++) out[at + k] = d[k]; // (TypedArray.set costs more than a few bytes)
          at += d.length;
        } else {
          out.set(d, at);
          at += d.length;
        }
      }
    }
    this.corkedN = 0;
    this.corkedBytes = 0;
    this.tx.write(out);
  }

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    const t = this.tx;
    if (typeof t.pauseProducing === 'function') t.pauseProducing();
  }

  /** The pipeline drained: parse what was held, then read again (unless it filled up again). */
  private resume(): void {
    const held = this.held;
    this.held = null;
    this.paused = false;
    if (held !== null) this.feed(held);
    if (this.paused || this.closing) return;
    const t = this.tx;
    if (typeof t.resumeProducing === 'function') t.resumeProducing();
  }

  // ---- ending ----

  /**
   * IGracefulShutdown (drainConnections, `ioreactor serve`): idle between
   * requests, close now; else the last request in hand is answered with
   * `Connection: close` (if its head is not out yet) and the channel closes
   * after it, answering the ones before it first.
   */
  gracefulShutdown(): void {
    if (this.closing) return;
    const last = this.current ?? this.queue[this.queue.length - 1];
    if (last === undefined) return this.close();
    last.persistent = false;
    if (this.current === null) this.parser.halt(); // no new request after the last one queued
  }

  private sendError(status: number): void {
    const body = `${reasonPhrase(status)}\n`;
    this.send(
      `HTTP/1.1 ${status} ${reasonPhrase(status)}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
        `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    );
    this.close();
  }

  private close(): void {
    this.closing = true;
    this.parser.halt();
    this.disarm();
    this.cancelPull();
    this.stopStallTimer();
    this.held = null;
    this.flush();
    const t = this.tx;
    if (typeof t.unregisterProducer === 'function') t.unregisterProducer(); // else loseConnection waits for us
    t.loseConnection();
    this.abortLater();
  }

  /**
   * The connection is closing, what was written still flushing: if it is
   * still open abortTimeout seconds from now (after a timeout: the client
   * had its time), or timeout plus abortTimeout (any other close: the
   * client's time to read the last answer), and the client took nothing
   * since, it is aborted. Else a client that never reads would hold it, and
   * its buffer, for ever.
   */
  private abortLater(): void {
    const after = this.site.abortTimeout;
    const t = this.tx;
    if (after === null || this.abortCall !== null || t.connected === false) return;
    // (the usual close: nothing left above the kernel, so the close does not wait on the client)
    if (!closeWaits(t)) return;
    this.abortIfStalled(this.timedOut ? after : this.site.timeout + after, unsentOf(t));
  }

  /**
   * In `wait` seconds, the connection is aborted (what it still had to send
   * dropped) unless the client took some of the `unsent` bytes meanwhile: a
   * client still reading a long answer, slowly, gets abortTimeout more each
   * time, so only one that stopped reading is cut off.
   */
  private abortIfStalled(wait: number, unsent: number): void {
    this.abortCall = this.site.reactor.callLater(wait, () => {
      this.abortCall = null;
      const t = this.tx;
      if (t.connected === false || typeof t.abortConnection !== 'function' || !closeWaits(t)) return;
      const left = unsentOf(t);
      if (left < unsent && this.site.abortTimeout !== null) return this.abortIfStalled(this.site.abortTimeout, left);
      t.abortConnection();
    });
  }

  // ---- the timer ----

  /** Starts a `timeout`-second wait (idle, a head, or a body's next bytes). */
  private arm(): void {
    if (this.closing) return;
    const clock = this.site.reactor;
    const now = clock.seconds();
    this.deadline = Math.min(now + this.site.timeout, this.bodyDeadline);
    // (a timer cancelled from outside, as reactor.stop() does, is replaced; one due after an earlier deadline is brought forward)
    if (this.timer === null || !this.timer.active()) this.timer = clock.callLater(this.deadline - now, () => this.timerFired());
    else if (this.timer.getTime() > this.deadline) this.timer.reset(this.deadline - now);
  }

  private disarm(): void {
    this.deadline = -1;
  }

  /** The timer is reset lazily: it fires at the first deadline set and re-schedules itself for a later one. */
  private timerFired(): void {
    this.timer = null;
    if (this.deadline < 0 || this.closing) return;
    const clock = this.site.reactor;
    const left = this.deadline - clock.seconds();
    if (left > 0) {
      this.timer = clock.callLater(left, () => this.timerFired());
      return;
    }
    this.timedOut = true;
    if (this.current === null && this.parser.betweenMessages) return this.close(); // idle keep-alive
    // A head or body that stalled (or a body past requestTimeout): 408, after the answers still owed to the requests before it.
    this.current = null;
    this.continueOwed = false;
    this.parser.halt();
    if (this.queue.length === 0) this.sendError(408);
    else this.failStatus = 408;
  }

  /** @internal Cancels the timers (the site stops). */
  stopTimer(): void {
    this.stopStallTimer();
    this.disarm();
    if (this.timer !== null && this.timer.active()) this.timer.cancel();
    this.timer = null;
  }
}

/** Whether `t`'s close still waits for bytes above the kernel (a transport that cannot say: yes). */
function closeWaits(t: ChannelTransport): boolean {
  return typeof t.bufferedAmount !== 'function' || t.bufferedAmount() > 0;
}

/**
 * Bytes the client has yet to get from `t`: with the kernel's send queue
 * where the transport can say (it falls as the client reads; what is
 * buffered above the kernel falls only in large steps), else what the
 * kernel has not taken; Infinity for a transport that cannot say at all.
 */
function unsentOf(t: ChannelTransport): number {
  if (typeof t.unsentToPeer === 'function') return t.unsentToPeer();
  return typeof t.bufferedAmount === 'function' ? t.bufferedAmount() : Infinity;
}
