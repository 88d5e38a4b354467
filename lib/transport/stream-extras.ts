/**
 * The part of a StreamTransport's state that most connections never use,
 * kept in one object made on first use. A server holding ten thousand idle
 * connections pays for every field of every transport (and V8 counts each
 * kept byte twice while deciding how far to grow its young generation: see
 * bench/PERFORMANCE.md, "WebSocket idle memory"), so a transport carries one
 * null reference for these six instead of six fields (a TLS connection
 * has them for good: ~15 KB of TLS state make its 64 bytes no matter).
 */
import type { IAddress } from '../address';
import type { IPullProducer, IPushProducer } from '../interfaces';
import type { TLSSession } from '../tls/session';
import { DEFAULT_HIGH_WATER } from './high-water';
import type { WriteBacklog } from './write-backlog';

/** A producer registered with a transport (IConsumer). */
export type Producer = IPushProducer | IPullProducer;

/** @internal A transport's rarely used state. */
export class StreamExtras {
  /** TLS state once startTLS ran (lib/tls/session.ts). */
  tls: TLSSession | null = null;
  /** The registered producer, if any. */
  producer: Producer | null = null;
  /** Data received while paused, delivered on resumeProducing(). */
  held: Buffer[] | null = null;
  /** Bytes beyond what one call hands to native (see write-backlog.ts); null when none wait. */
  backlog: WriteBacklog | null = null;
  /** The local address once read (or carried by a PROXY header). */
  host: IAddress | null = null;
  /** Write-buffer size above which a streaming producer is paused. */
  highWaterMark = DEFAULT_HIGH_WATER;

  /** Nothing here differs from a transport without extras. */
  isEmpty(): boolean {
    return this.tls === null && this.producer === null && this.held === null && this.backlog === null && this.host === null && this.highWaterMark === DEFAULT_HIGH_WATER;
  }
}
