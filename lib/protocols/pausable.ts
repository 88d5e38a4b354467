/**
 * The part of LineReceiver and Int*StringReceiver that Twisted calls
 * `_PauseableMixin`: pause/resume between messages, and re-entrant input queued.
 */
import type { IProtocolFactory, IPushProducer, ITCPTransport, ITransport } from '../interfaces';
import { Protocol } from '../protocol';
import type { AnyProtocol, Factory } from '../protocol';
import { EMPTY } from './pending';

/** The optional producer half of a transport (a StringTransport or a TCP transport has it). */
type MaybeProducer = Partial<IPushProducer>;

/**
 * A protocol that parses messages and can be paused between them.
 * Subclasses implement consume(); data arriving during a callback is queued.
 */
export abstract class PausableReceiver<F extends IProtocolFactory = Factory<AnyProtocol>, T extends ITransport = ITCPTransport>
  extends Protocol<F, T>
  implements IPushProducer
{
  /** True while paused: input is buffered and no message is delivered. */
  paused = false;
  private busy = false;
  private queued: Buffer[] = [];

  /** Parses data; called once per chunk, never re-entrantly. */
  protected abstract consume(data: Buffer): void;

  /** Feeds bytes to the parser in order; re-entrant calls are queued behind the current chunk. */
  override dataReceived(data: Buffer): void {
    if (this.busy) {
      if (data.length > 0 || this.queued.length === 0) this.queued.push(data);
      return;
    }
    this.busy = true;
    try {
      this.consume(data);
      while (this.queued.length > 0) this.consume(this.queued.shift() as Buffer);
    } finally {
      this.busy = false;
    }
  }

  /** Stops delivering messages (input is buffered) and asks the transport to pause. */
  pauseProducing(): void {
    this.paused = true;
    if (this.hasTransport) (this.transport as MaybeProducer).pauseProducing?.();
  }

  /** Delivers what was buffered and asks the transport to resume. */
  resumeProducing(): void {
    this.paused = false;
    if (this.hasTransport) (this.transport as MaybeProducer).resumeProducing?.();
    this.dataReceived(EMPTY);
  }

  /** Stops for good: no more messages; the transport is told to stop producing. */
  stopProducing(): void {
    this.paused = true;
    if (this.hasTransport) (this.transport as MaybeProducer).stopProducing?.();
  }

  /** Takes the chunks queued by re-entrant dataReceived calls. */
  protected takeQueued(): Buffer[] {
    const q = this.queued;
    this.queued = [];
    return q;
  }

  /** Bytes queued by re-entrant calls and not yet parsed. */
  protected queuedLength(): number {
    let n = 0;
    for (const b of this.queued) n += b.length;
    return n;
  }
}
