/**
 * The reactor's native side: the NativeLoop (opened on first use), the table
 * of handlers by slot, and the one dispatch loop every record goes through.
 * This is the hot path: no Promise, closure or Map lookup per record.
 */
import { Failure } from '../failure';
import { log } from '../log';
import { ReactorLoopError } from '../errors';
import { errnoName, loadNative, NativeLoop, NativeStats, Rec, RECORD_INTS, thrownErrno } from '../native';
import { resolveBackend } from '../poller';
import type { Handler } from './handler';
import { ReceivedCopier } from './received';
import type { ReactorClock } from './time';

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

/** The handler table and the record dispatch for one NativeLoop. */
export class ReactorCore {
  /** handlers[slot] for every live registration; undefined when free. */
  readonly handlers: (Handler | undefined)[] = [];
  /** Connection attempts waiting for a name lookup (no slot yet), for shutdown. */
  readonly resolving = new Set<{ stopConnecting(): void }>();
  private loop: NativeLoop | null = null;
  /** Record batches delivered so far (a port counts its accept batches with it). */
  batches = 0;
  /** Copies short reads out of the slab (received.ts: what a kept Buffer holds alive). */
  readonly received = new ReceivedCopier();
  private cursor = 0;
  private dispatching = false;
  private inCallback = false;
  private live = 0;
  private readonly endOfStep: (() => void)[] = [];
  private readonly unknownTypes = new Set<number>();
  private flushQueued = false;

  /** `backend` is already checked (resolveBackend), or undefined for the default. */
  constructor(private readonly backendName: string | undefined) {}

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

  /** Creates and starts the native loop; ReactorLoopError when the system refuses (EMFILE...). */
  private open(): NativeLoop {
    const backend = resolveBackend(this.backendName);
    const { NativeLoop: Loop } = loadNative();
    let loop: NativeLoop;
    try {
      loop = new Loop(backend, this.onBatch);
    } catch (e) {
      const errno = thrownErrno(e);
      if (errno === null) throw e;
      throw new ReactorLoopError(backend, errno, errnoName(errno));
    }
    const started = loop.start();
    if (started < 0) {
      loop.close();
      throw new ReactorLoopError(backend, started, errnoName(started));
    }
    this.loop = loop;
    return loop;
  }

  /** Puts `h` in the table at its slot (`h.slot`, `h.gen` already set). */
  register(h: Handler): void {
    const handlers = this.handlers;
    while (handlers.length < h.slot) handlers.push(undefined);
    if (handlers[h.slot] === undefined) this.live++;
    handlers[h.slot] = h;
  }

  /** Removes `h` from the table and closes its native slot (not the fd of a raw entry). */
  unregister(h: Handler): void {
    if (h.slot < 0) return;
    if (this.handlers[h.slot] === h) {
      this.handlers[h.slot] = undefined;
      this.live--;
    }
    if (this.loop !== null) this.loop.remove(h.slot);
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

  /** Native counters plus batches and live handlers. */
  stats(): ReactorStats {
    const n: NativeStats = this.loop !== null ? this.loop.stats() : { wakeups: 0, events: 0, accepts: 0, acceptBatches: 0, deliveries: 0, kernelWaits: 0 };
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

  /** Closes the native loop and every fd it owns; the core can be opened again. */
  close(): void {
    if (this.loop === null) return;
    if (this.inCallback) {
      // Never from inside the native loop's own callback.
      setImmediate(() => this.close());
      return;
    }
    const loop = this.loop;
    this.loop = null;
    this.handlers.length = 0;
    this.live = 0;
    loop.close();
  }

  private readonly flushEndOfStep = (): void => {
    this.flushQueued = false;
    const q = this.endOfStep;
    // Callbacks may queue more; run until empty.
    for (let i = 0; i < q.length; i++) {
      try {
        q[i]();
      } catch (e) {
        log.failure('Unhandled error at the end of a reactor step', new Failure(e));
      }
    }
    q.length = 0;
  };

  private readonly onBatch = (count: number, slab: Buffer): void => {
    this.batches++;
    const wasDispatching = this.dispatching;
    this.dispatching = true;
    this.inCallback = true;
    let i = 0;
    while (i < count) {
      try {
        this.dispatch(i, count, slab);
        i = count;
      } catch (e) {
        i = this.cursor + 1;
        // Isolated too: whatever reporting this record's failure does, the rest of the batch is delivered.
        try {
          this.recordFailed(this.cursor, e);
        } catch {
          // recordFailed logs through total functions; nothing is left to report with.
        }
      }
    }
    this.dispatching = wasDispatching;
    if (!wasDispatching && this.endOfStep.length !== 0) this.flushEndOfStep();
    this.inCallback = wasDispatching;
  };

  private dispatch(from: number, count: number, slab: Buffer): void {
    const rec = this.loop!.records;
    const handlers = this.handlers;
    // No slab yet when a batch has no data (accepts, errors, raw events).
    const memory = slab !== undefined ? (slab.buffer as ArrayBuffer) : null;
    const base = slab !== undefined ? slab.byteOffset : 0;
    for (let i = from; i < count; i++) {
      this.cursor = i;
      const o = i * RECORD_INTS;
      const type = rec[o];
      const h = handlers[rec[o + 1]];
      if (h === undefined || h.gen !== rec[o + 2]) {
        if (type === Rec.Accepted) this.orphanAccepted(rec[o + 3], rec[o + 4]);
        continue;
      }
      switch (type) {
        case Rec.Data:
          h.onData(this.received.take(memory!, base + rec[o + 3], rec[o + 4]));
          break;
        case Rec.Drained:
          h.onDrained();
          break;
        case Rec.Accepted:
          h.onAccepted(rec[o + 3], rec[o + 4]);
          break;
        case Rec.Eof:
          h.onEof();
          break;
        case Rec.Error:
          h.onError(rec[o + 3]);
          break;
        case Rec.Connected:
          h.onConnected(rec[o + 3]);
          break;
        case Rec.Raw:
          h.onRaw(rec[o + 3]);
          break;
        case Rec.AcceptError:
          h.onAcceptError(rec[o + 3]);
          break;
        case Rec.Datagram:
          h.onDatagram(slab, rec[o + 3], rec[o + 4]);
          break;
        case Rec.Exited:
          h.onExited(rec[o + 3], rec[o + 4]);
          break;
        case Rec.Handshake:
          h.onHandshake();
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

  /** A connection accepted for a listener that is gone: close it. */
  private orphanAccepted(slot: number, gen: number): void {
    const loop = this.loop!;
    if (this.handlers[slot] === undefined && loop.generation(slot) === gen) loop.remove(slot);
  }

  /** A user callback threw while record `i` was handled: log it and drop that registration. */
  private recordFailed(i: number, err: unknown): void {
    const rec = this.loop !== null ? this.loop.records : null;
    const failure = new Failure(err);
    if (rec === null) {
      log.failure('Unhandled error in reactor dispatch', failure);
      return;
    }
    const o = i * RECORD_INTS;
    let slot = rec[o + 1];
    let gen = rec[o + 2];
    if (rec[o] === Rec.Accepted) {
      // connectionMade of the new connection threw: drop the connection, not the port.
      slot = rec[o + 3];
      gen = rec[o + 4];
    }
    const h = this.handlers[slot];
    log.failure('Unhandled error in a reactor callback; dropping its connection', failure);
    if (h !== undefined && h.gen === gen) {
      try {
        h.failed(failure);
      } catch (e) {
        log.failure('Error while dropping a failed connection', new Failure(e));
      }
    }
  }
}
