/**
 * Site: the factory of an HTTP server, as twisted.web.server.Site. It holds
 * the root resource and the limits every connection is held to, and finds
 * the resource for each request.
 */
import type { IAddress } from '../address';
import type { IReactorTime } from '../interfaces';
import { Factory } from '../protocol';
import { reactor as defaultReactor } from '../reactor/index';
import { HTTPChannel } from './channel';
import type { ParserLimits } from './parser';
import type { Request } from './request';
import { getChildForRequest, Resource } from './resource';

/** Options of a Site. */
export interface SiteOptions {
  /** Seconds a connection may sit idle between requests, take to send a whole head, or stall in a body (default 60). */
  timeout?: number;
  /**
   * Seconds a request body may take in all, however steadily it trickles
   * (default 300): 408 beyond. (The head is already bounded by `timeout`,
   * which its bytes do not extend.)
   */
  requestTimeout?: number;
  /**
   * Seconds a connection the server is closing may still take to flush what
   * it was sent before it is aborted, its unsent bytes dropped (default 15,
   * as Twisted's HTTPChannel.abortTimeout; null: never). They count from the
   * close when a timeout caused it (idle, or a 408), and from `timeout`
   * after it when the connection closed for another reason (a
   * `Connection: close` answer, an error status, the client's EOF), the
   * client's time to read the last answer. A client that took some of
   * the bytes in that time gets abortTimeout more, and so on: a client that
   * never reads holds a connection, and the response buffered for it, that
   * long and no longer, while a slow one still gets all of it.
   */
  abortTimeout?: number | null;
  /** Most bytes of request line plus headers (default 16384): 431 beyond. */
  maxHeaderBytes?: number;
  /** Most bytes of a request line (default 8192): 400 beyond. */
  maxRequestLine?: number;
  /** Most bytes of a request body (default 1 MiB): 413 beyond. */
  maxBodyBytes?: number;
  /** Most header fields in a request head (default 100): 431 beyond. */
  maxHeaders?: number;
  /** Most unanswered pipelined requests before reading stops until answers drain (default 32). */
  maxPipelined?: number;
  /**
   * Answer an HTTP/1.1 request that has no Host field 400, as RFC 9112 3.2
   * asks (default false, as in Twisted; Node's `http` defaults to true).
   * HTTP/1.0 requests may always omit it; two Host fields are refused 400
   * either way.
   */
  requireHostHeader?: boolean;
  /** The clock for timeouts (default: the global reactor; tests pass a task.Clock or their reactor). */
  reactor?: IReactorTime;
}

function positive(opts: SiteOptions, name: keyof SiteOptions, fallback: number, integer: boolean): number {
  const v = opts[name];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !(v > 0) || (integer && !Number.isInteger(v))) {
    throw new TypeError(`Site: ${name} must be a positive ${integer ? 'integer' : 'number'}, got ${String(v)}`);
  }
  return v;
}

/** An HTTP/1.1 server factory serving a resource tree. */
export class Site extends Factory<HTTPChannel> {
  /** The root of the resource tree. */
  readonly resource: Resource;
  /** The timeout in seconds (see SiteOptions.timeout). */
  readonly timeout: number;
  /** See SiteOptions.requestTimeout. */
  readonly requestTimeout: number;
  /** See SiteOptions.abortTimeout (null: never abort). */
  readonly abortTimeout: number | null;
  /** The parser's size limits. */
  readonly limits: ParserLimits;
  /** See SiteOptions.maxPipelined. */
  readonly maxPipelined: number;
  /** See SiteOptions.requireHostHeader. */
  readonly requireHostHeader: boolean;
  /** The clock for timeouts. */
  readonly reactor: IReactorTime;

  /** A site serving `resource`; TypeError for a bad resource or option. */
  constructor(resource: Resource, opts: SiteOptions = {}) {
    super();
    if (!(resource instanceof Resource)) throw new TypeError('Site: resource must be a Resource');
    if (opts === null || typeof opts !== 'object') throw new TypeError('Site: options must be an object');
    this.resource = resource;
    this.timeout = positive(opts, 'timeout', 60, false);
    this.requestTimeout = positive(opts, 'requestTimeout', 300, false);
    this.abortTimeout = opts.abortTimeout === null ? null : positive(opts, 'abortTimeout', 15, false);
    this.limits = {
      maxHeaderBytes: positive(opts, 'maxHeaderBytes', 16384, true),
      maxRequestLine: positive(opts, 'maxRequestLine', 8192, true),
      maxBodyBytes: opts.maxBodyBytes === 0 ? 0 : positive(opts, 'maxBodyBytes', 1 << 20, true),
      maxHeaders: positive(opts, 'maxHeaders', 100, true),
    };
    this.maxPipelined = positive(opts, 'maxPipelined', 32, true);
    const requireHost = opts.requireHostHeader ?? false;
    if (typeof requireHost !== 'boolean') throw new TypeError(`Site: requireHostHeader must be a boolean, got ${String(requireHost)}`);
    this.requireHostHeader = requireHost;
    const clock = opts.reactor ?? defaultReactor;
    if (clock === null || typeof clock !== 'object' || typeof clock.callLater !== 'function') {
      throw new TypeError('Site: reactor must provide callLater and seconds');
    }
    this.reactor = clock;
  }

  /** A channel for each connection. */
  override buildProtocol(_addr: IAddress): HTTPChannel {
    const p = new HTTPChannel(this);
    p.factory = this;
    return p;
  }

  /** The resource that renders `request` (walking the tree from the root). */
  getResourceFor(request: Request): Resource {
    return getChildForRequest(this.resource, request);
  }
}
