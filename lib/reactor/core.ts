/**
 * The reactor's native side: the NativeLoop (opened on first use), the table
 * of handlers by slot, and the one dispatch loop every record goes through.
 * This is the hot path: no Promise, closure or Map lookup per record.
 */
import { Failure } from '../failure';
import { log } from '../log';
import { ReactorLoopError } from '../errors';
import { errnoName, KEEP_CHUNK, loadNative, NativeLoop, NativeStats, Rec, RECORD_INTS, RecordField as F, recordOwner, thrownErrno } from '../native';
import { resolveBackend } from '../poller';
import type { Handler } from './handler';
import { ReceivedCopier } from './received';
import { TextCork } from './text-cork';
import type { ReactorClock } from './time';

/**
 * The window of ReactorOptions.coalesceMicros `'auto'`, in µs, while it is
 * open: the length that met issue 15's fixed-rate targets as a fixed window
 * in the ninth quiet run (rate-50 CPU 0.75x Node `net`, rate-90 p99
 * 0.46x/0.05x); 20 µs saved about half as much (bench/PERFORMANCE.md).
 */
export const AUTO_COALESCE_MICROS = 50;

/** What ports, connectors, UDP ports, processes and fd sets need of the reactor that owns them. */
export interface ReactorParts {
  /** @internal The handler table and native loop. */
  readonly core: ReactorCore;
  /** @internal callLater/seconds. */
  readonly clock: ReactorClock;
  /** Default write-buffer high-water mark for new transports, in bytes. */
  readonly highWaterMark: number;
}

/** Native counters plus what the reactor counts itself. */
export interface ReactorStats extends NativeStats {
  /** Record batches delivered to JS. */
  batches: number;
  /** Live registrations (connections, ports, raw fds) in the handler table. */
  handlers: number;
}

/**
 * A Buffer the native loop hands with a batch (the slab, the keep chunk),
 * with its ArrayBuffer and offset read once: the same Buffer comes with batch
 * after batch until it fills. None yet when no batch has had data.
 */
class BatchMemory {
  buf: Buffer | undefined = undefined;
  memory: ArrayBuffer | null = null;
  base = 0;

  see(buf: Buffer | undefined): void {
    this.buf = buf;
    this.memory = buf !== undefined ? (buf.buffer as ArrayBuffer) : null;
    this.base = buf !== undefined ? buf.byteOffset : 0;
  }
}

/** The handler table and the record dispatch for one NativeLoop. */
export class ReactorCore {
  /** handlers[slot] for every live registration of the open loop; undefined when free. A new table per loop. */
  handlers: (Handler | undefined)[] = [];
  /** Connection attempts waiting for a name lookup (no slot yet), for shutdown. */
  readonly resolving = new Set<{ stopConnecting(): void }>();
  private loop: NativeLoop | null = null;
  /** Record batches delivered so far (a port counts its accept batches with it). */
  batches = 0;
  /** Copies short reads out of the slab (received.ts: what a kept Buffer holds alive). */
  readonly received = new ReceivedCopier();
  /** The slab and keep chunk of the last batch, read through once per new Buffer (the getters cost ~100 instructions each). */
  private readonly slab = new BatchMemory();
  private readonly keep = new BatchMemory();
  /** The later keep chunk last read from (a batch that filled more than one). */
  private readonly later = new BatchMemory();
  private cursor = 0;
  private dispatching = false;
  private live = 0;
  private readonly endOfStep: (() => void)[] = [];
  private readonly unknownTypes = new Set<number>();
  private flushQueued = false;
  /** A TLS stream wrote since the last tlsFlushAll (its plaintext waits in native for the end of the step). */
  private tlsUnflushed = false;
  /** @internal Strings written during a batch, gathered before their native call (text-cork.ts). */
  readonly textCork = new TextCork();

  /**
   * `backend` is already checked (resolveBackend), or undefined for the
   * default; `exactLoopUtilization`, `coalesceMicros` and `corkWrites`:
   * ReactorOptions says.
   */
  constructor(
    private readonly backendName: string | undefined,
    private readonly exactLoopUtilization = true,
    private readonly coalesceMicros: number | 'auto' = 'auto',
    private readonly corkWrites = true,
  ) {}

  /** The backend in use; loads the addon when not loaded yet. */
  get backend(): string {
    return this.native.backend;
  }

  /** True once the native loop exists (I/O was used). */
  get opened(): boolean {
    return this.loop !== null;
  }

  /** The native loop, opened on first use. */
  get native(): NativeLoop {
    return this.loop ?? this.open();
  }

  /** The native loop like `native`, but a ReactorLoopError becomes what `wrap` makes (listen: CannotListenError). */
  nativeOr(wrap: (e: ReactorLoopError) => Error): NativeLoop {
    try {
      return this.native;
    } catch (e) {
      throw e instanceof ReactorLoopError ? wrap(e) : e;
    }
  }

  /** True when `loop` is this core's open loop (not one it closed). */
  isOpen(loop: NativeLoop | null): boolean {
    return loop !== null && loop === this.loop;
  }

  /** Creates and starts the native loop; ReactorLoopError when the system refuses (EMFILE...). */
  private open(): NativeLoop {
    const backend = resolveBackend(this.backendName);
    const { NativeLoop: Loop } = loadNative();
    let loop: NativeLoop;
    try {
      // Each loop's records go with that loop, so a batch of a loop closed
      // mid-dispatch never reaches the handlers of the next one.
      loop = new Loop(backend, (count, slab, keep, more) => this.onBatch(loop, count, slab, keep, more));
    } catch (e) {
      const errno = thrownErrno(e);
      if (errno === null) throw e;
      throw new ReactorLoopError(backend, errno, errnoName(errno));
    }
    const auto = this.coalesceMicros === 'auto';
    const started = loop.start(this.exactLoopUtilization, auto ? AUTO_COALESCE_MICROS : this.coalesceMicros, auto, this.corkWrites);
    if (started < 0) {
      loop.close();
      throw new ReactorLoopError(backend, started, errnoName(started));
    }
    this.loop = loop;
    return loop;
  }

  /** Puts `h` in the table at its slot (`takeSlot` called on the open loop; a handler without a loop gets that one). */
  register(h: Handler): void {
    h.loop ??= this.loop;
    const handlers = this.handlers;
    while (handlers.length < h.slot) handlers.push(undefined);
    if (handlers[h.slot] === undefined) this.live++;
    handlers[h.slot] = h;
  }

  /**
   * Removes `h` from the table and closes its native slot (not the fd of a
   * raw entry), unless `removed` says native did already (NativeLoop.finish).
   * The loop refuses a handle that is stale: a slot of a closed loop, or one
   * reused since, is left alone.
   */
  unregister(h: Handler, removed = false): void {
    if (h.slot < 0) return;
    if (this.handlers[h.slot] === h) {
      this.handlers[h.slot] = undefined;
      this.live--;
    }
    if (!removed) h.loop?.remove(h.slot, h.gen);
    h.slot = -1;
  }

  /**
   * Runs `fn` at the end of the current dispatch step (after the record
   * batch), or in a microtask when called outside dispatch. Used for
   * connectionLost, which must never nest inside another callback.
   */
  atEndOfStep(fn: () => void): void {
    this.endOfStep.push(fn);
    if (!this.dispatching && !this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flushEndOfStep);
    }
  }

  /**
   * A TLS stream wrote: what it wrote waits in native for the end of the
   * step, when one tlsFlushAll flushes every stream written in it.
   */
  tlsWritten(): void {
    if (this.tlsUnflushed) return;
    this.tlsUnflushed = true;
    if (!this.dispatching && !this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flushEndOfStep);
    }
  }

  /** Native counters plus batches and live handlers. */
  stats(): ReactorStats {
    const n: NativeStats = this.loop !== null ? this.loop.stats() : { wakeups: 0, events: 0, accepts: 0, acceptBatches: 0, deliveries: 0, kernelWaits: 0, coalesceSleeps: 0, corkedWrites: 0, corkedSends: 0, heapTrims: 0 };
    return { ...n, batches: this.batches, handlers: this.live };
  }

  /** Every live handler. */
  liveHandlers(): Handler[] {
    return this.handlers.filter((h): h is Handler => h !== undefined);
  }

  /** Cancels every name lookup in progress and asks every live handler to disconnect (reactor shutdown). */
  disconnectAll(): void {
    for (const c of [...this.resolving]) c.stopConnecting();
    for (const h of this.liveHandlers()) h.disconnect();
  }

  /**
   * Closes the native loop and every fd it owns; the core can be opened
   * again. From inside a dispatch the loop itself goes once the dispatch
   * unwinds, but the core lets go of it now: the rest of its batch finds no
   * handler, its handles are refused, and whatever is made from here on
   * opens a new loop and works.
   */
  close(): void {
    const loop = this.loop;
    if (loop === null) return;
    this.loop = null;
    this.textCork.drop();
    this.handlers.length = 0;
    this.handlers = [];
    this.live = 0;
    loop.close();
  }

  /** The batch ended: strings still held go to native, before the step's end (connectionLost, the TLS flush) and the delivery's. */
  private releaseText(): void {
    const cork = this.textCork;
    try {
      cork.release();
    } catch (e) {
      cork.drop();
      log.failure('Unhandled error at the end of a reactor step', new Failure(e));
    }
  }

  private readonly flushEndOfStep = (): void => {
    this.flushQueued = false;
    const q = this.endOfStep;
    // Callbacks may queue more and write; the TLS flush may call back (a
    // producer paused): run until neither has anything left.
    let i = 0;
    for (;;) {
      for (; i < q.length; i++) {
        try {
          q[i]();
        } catch (e) {
          log.failure('Unhandled error at the end of a reactor step', new Failure(e));
        }
      }
      if (!this.tlsUnflushed) break;
      this.flushTLS();
    }
    q.length = 0;
  };

  /** Flushes every TLS stream written this step; the few whose result is not 0 hear it (onTlsFlushed). */
  private flushTLS(): void {
    this.tlsUnflushed = false;
    const loop = this.loop;
    if (loop === null) return;
    const r = loop.tlsFlushAll();
    if (typeof r === 'number') return;
    const handlers = this.handlers;
    for (let k = 0; k < r.length; k += 3) {
      const h = handlers[r[k]];
      if (h === undefined || h.gen !== r[k + 1]) continue;
      try {
        h.onTlsFlushed(r[k + 2]);
      } catch (e) {
        log.failure('Unhandled error at the end of a reactor step', new Failure(e));
      }
    }
  }

  /** A DataKept (or FrameKept, when `frame`) record in a later keep chunk of its batch (`more`, see RecordsCallback). */
  private keptLater(h: Handler, more: Buffer[], a: number, length: number, frame: boolean): void {
    const buf = more[Math.floor(a / KEEP_CHUNK) - 1];
    const m = this.later;
    if (buf !== m.buf) m.see(buf);
    if (frame) h.onFrameKept(m.memory!, m.base + (a % KEEP_CHUNK), length);
    else h.onDataKept(m.memory!, m.base + (a % KEEP_CHUNK), length);
  }

  private onBatch(loop: NativeLoop, count: number, slab: Buffer, keep: Buffer, more: Buffer[] | undefined): void {
    this.batches++;
    const wasDispatching = this.dispatching;
    this.dispatching = true;
    if (!wasDispatching) this.textCork.on = this.corkWrites;
    let i = 0;
    while (i < count) {
      try {
        this.dispatch(loop, i, count, slab, keep, more);
        i = count;
      } catch (e) {
        i = this.cursor + 1;
        // Isolated too: whatever reporting this record's failure does, the rest of the batch is delivered.
        try {
          this.recordFailed(loop, this.cursor, e);
        } catch {
          // recordFailed logs through total functions; nothing is left to report with.
        }
      }
    }
    if (!wasDispatching) {
      this.textCork.on = false;
      if (this.textCork.owner !== null) this.releaseText();
    }
    this.dispatching = wasDispatching;
    if (!wasDispatching && (this.endOfStep.length !== 0 || this.tlsUnflushed)) this.flushEndOfStep();
  }

  private dispatch(loop: NativeLoop, from: number, count: number, slab: Buffer, keep: Buffer, more: Buffer[] | undefined): void {
    const rec = loop.records;
    const handlers = this.handlers;
    if (slab !== this.slab.buf) this.slab.see(slab);
    if (keep !== this.keep.buf) this.keep.see(keep);
    const memory = this.slab.memory;
    const base = this.slab.base;
    const kept = this.keep.memory;
    const keptBase = this.keep.base;
    for (let i = from; i < count; i++) {
      this.cursor = i;
      const o = i * RECORD_INTS;
      const type = rec[o + F.Type];
      const h = recordOwner(rec, o, handlers);
      if (h === undefined) {
        if (type === Rec.Accepted) loop.remove(rec[o + F.A], rec[o + F.B]); // its listener is gone: close it
        continue;
      }
      const a = rec[o + F.A];
      switch (type) {
        case Rec.Data:
          h.onData(this.received.take(memory!, base + a, rec[o + F.B]));
          break;
        case Rec.DataKept:
          if (a < KEEP_CHUNK) h.onDataKept(kept!, keptBase + a, rec[o + F.B]);
          else this.keptLater(h, more!, a, rec[o + F.B], false);
          break;
        case Rec.FrameKept:
          if (a < KEEP_CHUNK) h.onFrameKept(kept!, keptBase + a, rec[o + F.B]);
          else this.keptLater(h, more!, a, rec[o + F.B], true);
          break;
        case Rec.Drained:
          h.onDrained();
          break;
        case Rec.Accepted:
          h.onAccepted(a, rec[o + F.B]);
          break;
        case Rec.Eof:
          h.onEof();
          break;
        case Rec.Error:
          h.onError(a);
          break;
        case Rec.Connected:
          h.onConnected(a);
          break;
        case Rec.Raw:
          h.onRaw(a);
          break;
        case Rec.AcceptError:
          h.onAcceptError(a);
          break;
        case Rec.Datagram:
          h.onDatagram(slab, a, rec[o + F.B]);
          break;
        case Rec.Exited:
          h.onExited(a, rec[o + F.B]);
          break;
        case Rec.Handshake:
          h.onHandshake(a, rec[o + F.B]);
          break;
        case Rec.TlsError:
          h.onTlsError();
          break;
        default:
          this.unknownRecord(type);
      }
    }
  }

  /** A record type this build does not know: the addon and lib/ disagree. Said once per type. */
  private unknownRecord(type: number): void {
    if (this.unknownTypes.has(type)) return;
    this.unknownTypes.add(type);
    log.emit('error', `reactor: native record type ${type} has no handler hook (addon and lib/ out of step?); ignored`, { type });
  }

  /** A user callback threw while record `i` was handled: log it and drop that registration. */
  private recordFailed(loop: NativeLoop, i: number, err: unknown): void {
    const rec = loop.records;
    const failure = new Failure(err);
    const o = i * RECORD_INTS;
    let slot = rec[o + F.Slot];
    let gen = rec[o + F.Gen];
    if (rec[o + F.Type] === Rec.Accepted) {
      // connectionMade of the new connection threw: drop the connection, not the port.
      slot = rec[o + F.A];
      gen = rec[o + F.B];
    }
    const h = this.handlers[slot];
    log.failure('Unhandled error in a reactor callback; dropping its connection', failure);
    if (h !== undefined && h.gen === gen && h.loop === loop) {
      try {
        h.failed(failure);
      } catch (e) {
        log.failure('Error while dropping a failed connection', new Failure(e));
      }
    }
  }
}
