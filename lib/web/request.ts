/**
 * Request: one HTTP request and its response, as twisted.web.server.Request.
 * The head and body arrive parsed; the application reads them, sets the
 * status and headers, then writes the body (or returns it from render). The
 * response is framed by Content-Length when the length is known before the
 * first write, else chunked (HTTP/1.1) or ended by closing (HTTP/1.0).
 */
// (imported: the global Buffer is a getter on globalThis, called at every use in a hot path)
import { Buffer } from 'buffer';
import type { IAddress } from '../address';
import { Deferred } from '../defer';
import { Failure } from '../failure';
import type { IPullProducer, IPushProducer } from '../interfaces';
import { log } from '../log';
import { toBuffer } from '../transport/bytes';
import { dateLine } from './date';
import type { RequestHead } from './head';
import { Headers, lower } from './headers';
import { cacheable, cachedResponse, Framing, rememberResponse } from './response-cache';
import { checkedKey, responseHead } from './response-head';
import { bodyless, reasonPhrase } from './status';
import { hasToken } from './tokens';

/** What a Request needs of its connection: HTTPChannel implements it. */
export interface RequestChannel {
  /** Sends bytes of `request`'s response, in request order. */
  writeFor(request: Request, data: Buffer): void;
  /** Sends a whole response, `head` (latin1 text) then `body`, in request order. */
  writeResponse(request: Request, head: string, body: Buffer | null): void;
  /**
   * `request`'s response is complete. The channel calls
   * `request.responseSent()` once all of it is handed to the transport (at
   * once, or when the responses before it are done): notifyFinish fires then.
   */
  requestDone(request: Request): void;
  /** The peer's address. */
  getPeer(): IAddress;
  /** The local address. */
  getHost(): IAddress;
  /** True on a TLS connection. */
  readonly secure: boolean;
  /** `request` registered a body producer: the channel starts it, or pauses it, as its place in line and the write buffer allow. */
  producerRegistered(request: Request): void;
  /** `request`'s pull producer wrote: it is asked for more once the transport has room. */
  producerWrote(request: Request): void;
}

const EMPTY = Buffer.alloc(0);
/** Entries of Request.setFields (two per field) beyond which the fields move to a Headers map. */
const MAX_SET_FIELDS = 32;
const LAST_CHUNK = Buffer.from('0\r\n\r\n');

/** An HTTP request being answered. */
export class Request {
  /** The method, e.g. "GET". */
  readonly method: string;
  /** The request-target as sent, e.g. "/a/b?x=1". */
  readonly uri: string;

  /** "HTTP/1.1" or "HTTP/1.0". */
  readonly clientproto: string;
  /** The request body (empty when there is none). */
  content: Buffer = EMPTY;
  /** The response status code. */
  code = 200;
  /** The response reason phrase. */
  codeMessage = 'OK';
  /** True once finish() was called. */
  finished = false;
  /** True once the response head went out. */
  startedWriting = false;
  /** @internal The connection persists after this response. */
  persistent: boolean;
  /** @internal The head has an Upgrade field (the channel then holds what follows until it is answered). */
  readonly asksUpgrade: boolean;
  /** @internal Response bytes waiting for earlier responses (pipelining). */
  pendingOut: Buffer[] | null = null;
  /** True once all of the response was handed to the transport (responseSent). */
  private sent = false;
  /** @internal The connection was lost before the response finished. */
  lostReason: Failure | null = null;
  /** @internal The producer of the body (registerProducer), or null. */
  producer: IPushProducer | IPullProducer | null = null;
  /** @internal `producer` is a push producer (it writes until paused); else it writes a chunk when asked. */
  streaming = false;
  private chunked = false;
  private noBody: boolean;
  private finishWaiters: Deferred<void>[] | null = null;
  private argsCache: Record<string, string[]> | null = null;
  /** The response's header fields, made when first used (an upgrade never has them). */
  private responseFields: Headers | null = null;
  // path, prepath and postpath are made when first asked for: a leaf resource at the root never needs them.
  private pathMade: string | null = null;
  private prepathMade: string[] | null = null;
  private postpathMade: string[] | null = null;
  /**
   * Fields set with setHeader before anything asked for responseHeaders:
   * lower-cased name, value, ... (a Map per response costs more than a scan
   * of the few a response has; see response-cache.ts for what they key).
   */
  private setFields: string[] | null = null;

  /** @internal Made by the channel for each request head. */
  constructor(
    /** @internal The connection. */
    readonly channel: RequestChannel,
    private readonly head: RequestHead,
  ) {
    this.method = head.method;
    this.uri = head.target;
    this.clientproto = head.minor === 1 ? 'HTTP/1.1' : 'HTTP/1.0';
    this.persistent = wantsPersistence(head);
    this.noBody = head.method === 'HEAD';
    this.asksUpgrade = head.upgrade !== undefined;
  }

  /** The target's path, without the query. */
  get path(): string {
    return (this.pathMade ??= targetPath(this.uri));
  }

  /** Path segments already used to find the resource. */
  get prepath(): string[] {
    return (this.prepathMade ??= []);
  }

  /** Replaces the segments already used (as Twisted's traversal does when it moves one over). */
  set prepath(value: string[]) {
    this.prepathMade = value;
  }

  /** Path segments still to be used (decoded). */
  get postpath(): string[] {
    return (this.postpathMade ??= segments(this.path));
  }

  /** Replaces the segments still to be used. */
  set postpath(value: string[]) {
    this.postpathMade = value;
  }

  /** The request's header fields (case-insensitive names). */
  get requestHeaders(): Headers {
    return this.head.headers;
  }

  /** The response's header fields, sent with the first write. */
  get responseHeaders(): Headers {
    if (this.responseFields === null) {
      const h = new Headers();
      const set = this.setFields;
      this.setFields = null;
      if (set !== null) for (let i = 0; i < set.length; i += 2) h.addLower(set[i], set[i + 1]);
      this.responseFields = h;
    }
    return this.responseFields;
  }

  /** @internal The values of request header `lowerName` (lower-cased already), read without building requestHeaders; undefined when absent. */
  getLower(lowerName: string): string[] | undefined {
    return this.head.fieldValues(lowerName);
  }

  /** The query arguments (and, for a form POST, the form's), each name with its values in order. */
  get args(): Record<string, string[]> {
    if (this.argsCache === null) this.argsCache = parseArgs(this);
    return this.argsCache;
  }

  /** The last value of request header `name`, or null. */
  getHeader(name: string): string | null {
    const values = this.head.fieldValues(lower(name));
    return values === undefined ? null : values[values.length - 1];
  }

  /** Sets response header `name` (replacing its values); TypeError for a name or value that could split the response. */
  setHeader(name: string, value: string | number): void {
    const v = typeof value === 'number' ? String(value) : value;
    const key = checkedKey(name, v);
    const set = this.setFields;
    if (this.responseFields !== null || (set !== null && set.length >= MAX_SET_FIELDS)) return this.responseHeaders.setOne(key, v);
    if (set === null) {
      this.setFields = [key, v];
      return;
    }
    for (let i = 0; i < set.length; i += 2) {
      if (set[i] === key) {
        set[i + 1] = v;
        return;
      }
    }
    set.push(key, v);
  }

  /** Sets the response status (and reason phrase); RangeError unless 100..999. */
  setResponseCode(code: number, message?: string): void {
    if (!Number.isInteger(code) || code < 100 || code > 999) throw new RangeError(`setResponseCode: code must be an integer in 100..999, got ${String(code)}`);
    if (message !== undefined && (typeof message !== 'string' || /[\r\n\0]/.test(message))) {
      throw new TypeError('setResponseCode: message must be a string without CR, LF or NUL');
    }
    this.code = code;
    this.codeMessage = message ?? reasonPhrase(code);
  }

  /** Writes part of the body (a string as UTF-8); the head goes out first. Error after finish(). */
  write(data: Buffer | Uint8Array | string): void {
    if (this.finished) throw new Error('Request.write called after finish()');
    const bytes = toBuffer(data, 'Request.write');
    if (!this.startedWriting) this.startWriting(-1);
    // (before the returns: a pull producer of a HEAD answer, whose bytes go nowhere, is asked on to its end)
    if (this.producer !== null && !this.streaming) this.channel.producerWrote(this);
    if (bytes.length === 0 || this.noBody || this.lostReason !== null) return;
    if (this.chunked) {
      this.channel.writeFor(this, Buffer.concat([Buffer.from(bytes.length.toString(16) + '\r\n'), bytes, Buffer.from('\r\n')]));
    } else {
      this.channel.writeFor(this, bytes);
    }
  }

  /**
   * Registers the producer of the body, as Twisted's Request (an IConsumer)
   * takes one, so a long body is written as the client reads it rather than
   * held in memory whole. A push producer (`streaming` true) writes until
   * it is paused: while the connection's write buffer is over its
   * high-water mark, and while responses ahead of this one in a pipeline
   * are still going out; it is resumed when they are done. A pull producer
   * is asked for a chunk (`resumeProducing`) when it is first in line and
   * again a reactor turn after each chunk it writes, while the buffer has
   * room. Either is stopped (`stopProducing`) if the connection is lost
   * first (a client's EOF included: the connection takes no more writes),
   * or if the response is finished while it is still registered; and a
   * client that takes none of the body for the Site's `timeout` has its
   * connection closed. The producer unregisters, then finishes the
   * response, when the body is done. Error when one is registered already
   * or the response is finished; TypeError when `producer` is not a
   * producer.
   */
  registerProducer(producer: IPushProducer | IPullProducer, streaming: boolean): void {
    if (producer === null || typeof producer !== 'object' || typeof producer.resumeProducing !== 'function' || typeof producer.stopProducing !== 'function') {
      throw new TypeError('Request.registerProducer: producer must have resumeProducing and stopProducing');
    }
    if (streaming && typeof (producer as Partial<IPushProducer>).pauseProducing !== 'function') {
      throw new TypeError('Request.registerProducer: a streaming producer must have pauseProducing');
    }
    if (this.finished) throw new Error('Request.registerProducer called after finish()');
    if (this.producer !== null) throw new Error('Request.registerProducer: a producer is already registered; unregister it first');
    if (this.lostReason !== null) return producer.stopProducing();
    this.producer = producer;
    this.streaming = streaming === true;
    this.channel.producerRegistered(this);
  }

  /** Unregisters the body's producer; nothing when none is registered. */
  unregisterProducer(): void {
    this.producer = null;
  }

  /** Ends the response (a producer still registered is stopped). Error when called twice. */
  finish(): void {
    if (this.finished) throw new Error('Request.finish called twice');
    const producer = this.producer;
    if (producer !== null) {
      this.producer = null;
      stopProducer(producer, this);
    }
    if (!this.startedWriting) this.startWriting(0);
    else if (this.chunked && this.lostReason === null) this.channel.writeFor(this, LAST_CHUNK);
    this.finished = true;
    if (this.lostReason !== null) return;
    this.channel.requestDone(this);
  }

  /**
   * @internal All of the response is with the transport (the channel calls
   * this): notifyFinish succeeds. A pipelined response finished before those
   * ahead of it waits for them, and a connection lost meanwhile fails it.
   */
  responseSent(): void {
    if (this.sent || this.lostReason !== null) return;
    this.sent = true;
    const waiters = this.finishWaiters;
    this.finishWaiters = null;
    if (waiters !== null) for (const d of waiters) d.callback(undefined);
  }

  /** A Deferred firing when the whole response is sent, or failing if the connection is lost first. */
  notifyFinish(): Deferred<void> {
    const d = new Deferred<void>();
    if (this.lostReason !== null) d.errback(this.lostReason);
    else if (this.sent) d.callback(undefined);
    else (this.finishWaiters ??= []).push(d);
    return d;
  }

  /** The client's address. */
  getClientAddress(): IAddress {
    return this.channel.getPeer();
  }

  /** The server's address for this connection. */
  getHost(): IAddress {
    return this.channel.getHost();
  }

  /** True when the request came over TLS. */
  isSecure(): boolean {
    return this.channel.secure;
  }

  /** @internal Sends the whole response with `body` at once (a render method's return value). */
  respond(body: Buffer | string): void {
    if (this.lostReason !== null) {
      this.finished = true;
      return;
    }
    if (this.responseFields === null && !this.noBody && !bodyless(this.code)) {
      const bytes = this.cachedBytes(body);
      if (bytes !== null) {
        this.startedWriting = true;
        this.channel.writeFor(this, bytes);
        return this.finish();
      }
    }
    const text = typeof body === 'string';
    const length = text ? Buffer.byteLength(body) : body.length;
    let head = this.headText(length);
    this.startedWriting = true;
    let rest: Buffer | null = null;
    if (length > 0 && !this.noBody && !bodyless(this.code)) {
      // An ASCII string (as many bytes as characters) joins the latin1 head text as it is.
      if (!text) rest = body;
      else if (length === body.length) head += body;
      else rest = Buffer.from(body, 'utf8');
    }
    this.channel.writeResponse(this, head, rest);
    this.finish();
  }

  /** The whole response with `body`, as response-cache.ts remembers it (made and remembered when it does not); null when it may not be kept. */
  private cachedBytes(body: Buffer | string): Buffer | null {
    const fields = this.setFields;
    const framing = (this.persistent ? Framing.Persistent : 0) | (this.head.minor === 1 ? 0 : Framing.Http10);
    const date = dateLine();
    const known = cachedResponse(this.code, this.codeMessage, fields, date, framing, body);
    if (known !== null) return known;
    if (!cacheable(fields, body)) return null;
    const text = typeof body === 'string' ? body : null;
    const bytes = text === null ? (body as Buffer) : Buffer.from(text, 'utf8');
    const head = this.headText(bytes.length);
    return rememberResponse(this.code, this.codeMessage, fields, date, framing, head, bytes.length === 0 ? null : bytes, text);
  }

  /** @internal The connection was lost: later writes are dropped and notifyFinish fails. */
  connectionLost(reason: Failure): void {
    if (this.sent || this.lostReason !== null) return;
    this.lostReason = reason;
    const producer = this.producer;
    this.producer = null;
    if (producer !== null) stopProducer(producer, this);
    const waiters = this.finishWaiters;
    this.finishWaiters = null;
    if (waiters !== null) for (const d of waiters) d.errback(reason);
  }

  /** Sends the head; `length` is the body length when known, else -1. */
  private startWriting(length: number): void {
    this.startedWriting = true;
    if (this.lostReason === null) this.channel.writeFor(this, Buffer.from(this.headText(length), 'latin1'));
  }

  /**
   * The head for a body of `length` bytes (-1: unknown), choosing the
   * framing. The headers the framing needs are appended to the text, not
   * stored in responseHeaders (a Map update each, per response, for nothing).
   */
  private headText(length: number): string {
    const h = this.responseHeaders;
    const noBody = bodyless(this.code);
    let extra = h.hasLower('date') ? '' : dateLine();
    if (!noBody && !h.hasLower('content-type')) extra += 'Content-Type: text/html\r\n';
    if (noBody) {
      h.removeHeader('content-length');
    } else if (h.hasLower('content-length')) {
      // the application knows the length
    } else if (length >= 0) {
      extra += 'Content-Length: ' + length + '\r\n';
    } else if (this.clientproto === 'HTTP/1.1') {
      if (!this.noBody) {
        extra += 'Transfer-Encoding: chunked\r\n';
        this.chunked = true;
      }
    } else {
      this.persistent = false; // an HTTP/1.0 body of unknown length ends when the connection does
    }
    const asked = h.getLower('connection');
    if (asked !== undefined) {
      if (asked.join(',').toLowerCase().includes('close')) this.persistent = false;
      h.removeHeader('connection');
    }
    if (!this.persistent) extra += 'Connection: close\r\n';
    else if (this.clientproto === 'HTTP/1.0') extra += 'Connection: keep-alive\r\n';
    return responseHead(this.code, this.codeMessage, h, extra);
  }
}

/** Stops `producer` (its connection is gone, or its response finished): one that throws is logged, not let past the caller (the requests still to be told, finish). */
function stopProducer(producer: IPushProducer | IPullProducer, request: Request): void {
  try {
    producer.stopProducing();
  } catch (err) {
    log.failure(`Error stopping the producer of ${request.method} ${request.uri}`, new Failure(err));
  }
}

/** The path of a request-target: origin-form without its query, or an absolute-form's path. */
function targetPath(target: string): string {
  let path = target;
  const q = path.indexOf('?');
  if (q >= 0) path = path.slice(0, q);
  if (path.charCodeAt(0) !== 0x2f) {
    const scheme = path.indexOf('://');
    if (scheme > 0) {
      const slash = path.indexOf('/', scheme + 3);
      path = slash < 0 ? '/' : path.slice(slash);
    }
  }
  return path;
}

/** The %-decoded segments of `path` after its leading "/" ("/a/b" gives ["a", "b"], "/" gives [""]). */
function segments(path: string): string[] {
  let slash = path.indexOf('/', 1);
  if (slash < 0) return [unquote(path.slice(1))]; // (the usual one segment: an array of one, not one grown by push)
  const out: string[] = [];
  let start = 1;
  for (;;) {
    out.push(unquote(slash < 0 ? path.slice(start) : path.slice(start, slash)));
    if (slash < 0) return out;
    start = slash + 1;
    slash = path.indexOf('/', start);
  }
}

/** %-decoded `s`, or `s` unchanged when it is not valid %-encoding. */
function unquote(s: string): string {
  if (s.indexOf('%') < 0) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Whether the client asked the connection to persist (RFC 9112 9.3). */
function wantsPersistence(head: RequestHead): boolean {
  const values = head.connection;
  if (values === undefined) return head.minor === 1;
  if (head.minor === 1) return !hasToken(values, 'close');
  return hasToken(values, 'keep-alive');
}

/** Query arguments, plus the body's for an application/x-www-form-urlencoded request. */
function parseArgs(request: Request): Record<string, string[]> {
  const args: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  const add = (query: string): void => {
    for (const [name, value] of new URLSearchParams(query)) (args[name] ??= []).push(value);
  };
  const q = request.uri.indexOf('?');
  if (q >= 0) add(request.uri.slice(q + 1));
  const type = request.getHeader('content-type');
  if (type !== null && type.split(';')[0].trim().toLowerCase() === 'application/x-www-form-urlencoded') {
    add(request.content.toString('latin1'));
  }
  return args;
}
