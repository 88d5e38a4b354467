/**
 * The low-level Poller (docs/ARCHITECTURE.md): register caller-owned fds for readiness
 * events on the epoll, kqueue or poll backend, and either `wait()` for them in
 * your own loop or receive them from inside Node's loop with `onEvents`.
 *
 * Each registration lives in a native slot with a generation; records carry
 * both, so an event for an fd removed (or closed and its number reused)
 * earlier in the same batch is dropped here instead of delivered.
 */
import { BackendUnavailableError, PollerError } from './errors';
import { Ev, RECORD_INTS, Rec, RecordField as F, errnoName, loadNative, recordOwner, thrownErrno } from './native';
import type { NativeLoop } from './native';

/** Readiness bits for `add`/`modify` interest and reported events. ERROR and HANGUP are always reported. */
export const Events = {
  /** Data can be read, or a listening socket has a connection to accept. */
  READABLE: Ev.Readable as number,
  /** Data can be written without blocking. */
  WRITABLE: Ev.Writable as number,
  /** An error is pending on the fd (always reported). */
  ERROR: Ev.Error as number,
  /** The peer hung up (always reported). */
  HANGUP: Ev.Hangup as number,
} as const;

/** Level reports while the condition holds; edge reports once per change (epoll, kqueue only). */
export type Trigger = 'level' | 'edge';

/** How a registration reports: trigger mode, oneshot (silent after one report until `modify`), ref. */
export interface RegisterOptions {
  /** Default 'level'. The poll backend refuses 'edge' (ENOTSUP). */
  trigger?: Trigger;
  /** Report once, then stay silent until `modify()` re-arms it. Default false. */
  oneshot?: boolean;
  /** Whether this registration keeps Node alive while `onEvents` is set. Default: the poller's setting (true). */
  ref?: boolean;
}

/** One ready fd and the events it reported. */
export interface PollerEvent {
  /** The fd as it was registered. */
  fd: number;
  /** The `Events` bits reported. */
  events: number;
}

/** Called once per ready fd; all calls for one wake-up happen in one native crossing. */
export type PollerCallback = (fd: number, events: number) => void;

/** Options for `new Poller()`. */
export interface PollerOptions {
  /** 'epoll' | 'kqueue' | 'poll'; default: the best this platform has. */
  backend?: string;
  /** Event-callback mode: dispatch from inside Node's loop; `wait()` is then unavailable. */
  onEvents?: PollerCallback;
}

/** Names of the backends this build offers, best first. */
export function availableBackends(): string[] {
  return loadNative().backends();
}

/**
 * Maps a `backend` option to a checked backend name (the default when
 * undefined); throws BackendUnavailableError naming the ones that exist.
 * @internal shared with createReactor({backend}).
 */
export function resolveBackend(backend?: unknown): string {
  const available = availableBackends();
  if (backend === undefined) return available[0];
  if (typeof backend !== 'string' || !available.includes(backend)) {
    throw new BackendUnavailableError(String(backend), process.platform, available);
  }
  return backend;
}

interface Registration {
  fd: number;
  slot: number;
  gen: number;
  ref: boolean;
  /** The wait() that last reported it, and where, so one wait() lists an fd once. */
  seenIn: number;
  seenAt: number;
}

function describe(value: unknown): string {
  return typeof value === 'number' ? String(value) : typeof value === 'string' ? JSON.stringify(value) : typeof value;
}

/**
 * A readiness poller over caller-owned fds (it never closes them).
 * Without `onEvents` call `wait()`; with it, events arrive from Node's loop.
 *
 * Keeping Node alive: in `onEvents` mode each ref'd registration keeps the
 * process running, like a ref'd socket. `unref()` / `ref()` switch the whole
 * poller (existing and future registrations); `unref(fd)` / `ref(fd)` one fd.
 */
export class Poller {
  /** The backend in use: 'epoll', 'kqueue' or 'poll'. */
  readonly backend: string;
  private native: NativeLoop | null;
  private readonly byFd = new Map<number, Registration>();
  private readonly bySlot: (Registration | undefined)[] = [];
  private readonly onEvents: PollerCallback | undefined;
  private collected: PollerEvent[] = [];
  private waits = 0;
  private refDefault = true;

  constructor(options: PollerOptions = {}) {
    if (options === null || typeof options !== 'object') throw new TypeError('new Poller(options?): options must be an object');
    const { onEvents } = options;
    if (onEvents !== undefined && typeof onEvents !== 'function') throw new TypeError('Poller: onEvents must be a function');
    this.backend = resolveBackend(options.backend);
    this.onEvents = onEvents;
    const NativeLoopCtor = loadNative().NativeLoop;
    try {
      this.native = new NativeLoopCtor(this.backend, (count) => this.dispatch(count));
    } catch (e) {
      const errno = thrownErrno(e);
      if (errno === null) throw e;
      throw new PollerError(`cannot create the ${this.backend} poller: ${errnoName(errno)}`, -1, errnoName(errno));
    }
    if (onEvents !== undefined) {
      // 0 or -errno (uv_poll_init can fail).
      const started = this.native.start();
      if (started < 0) {
        this.close();
        this.check(started, -1, 'start watching');
      }
    }
  }

  /** True once `close()` has run. */
  get closed(): boolean {
    return this.native === null;
  }

  /** Registers `fd` for `events` (Events bits). Throws PollerError for a bad, closed or already added fd. */
  add(fd: number, events: number, options: RegisterOptions = {}): void {
    const native = this.open('add', fd);
    this.checkFd(fd, 'add');
    if (this.byFd.has(fd)) throw new PollerError(`fd ${fd} is already registered with this poller`, fd, 'EEXIST');
    const { edge, oneshot, ref } = this.mode(fd, events, options);
    const slot = native.addRaw(fd, events, edge, oneshot);
    this.check(slot, fd, 'add');
    const reg: Registration = { fd, slot, gen: native.generation(slot), ref: ref ?? this.refDefault, seenIn: 0, seenAt: 0 };
    this.byFd.set(fd, reg);
    this.bySlot[slot] = reg;
    if (!reg.ref) native.setRef(slot, reg.gen, false);
  }

  /**
   * Changes the interest and mode of a registered fd and re-arms a oneshot one.
   * Options are as for add(), defaults included: omitting `trigger` means 'level'.
   */
  modify(fd: number, events: number, options: RegisterOptions = {}): void {
    const native = this.open('modify', fd);
    const reg = this.registered(fd, 'modify');
    const { edge, oneshot, ref } = this.mode(fd, events, options);
    this.check(native.modifyRaw(reg.slot, reg.gen, events, edge, oneshot), fd, 'modify');
    if (ref !== undefined) this.setRef(reg, ref);
  }

  /** Unregisters `fd`; later events for it, even ones already gathered, are dropped. The fd is not closed. */
  remove(fd: number): void {
    const native = this.open('remove', fd);
    const reg = this.registered(fd, 'remove');
    this.forget(reg);
    const r = native.remove(reg.slot, reg.gen);
    // EBADF: the fd was closed first, and the kernel already dropped it.
    if (r < 0 && errnoName(r) !== 'EBADF') this.check(r, fd, 'remove');
  }

  /** True when `fd` is registered with this poller. */
  has(fd: number): boolean {
    return this.byFd.has(fd);
  }

  /**
   * Waits up to `timeoutMs` (-1 forever, 0 not at all) and returns the ready fds.
   * Only for pollers without `onEvents`; blocks the thread while waiting.
   */
  wait(timeoutMs: number): PollerEvent[] {
    const native = this.open('wait', -1);
    if (this.onEvents !== undefined) {
      throw new PollerError('wait() is not available on a poller created with onEvents', -1, 'EBUSY');
    }
    if (timeoutMs === Infinity) timeoutMs = -1;
    if (!Number.isInteger(timeoutMs) || timeoutMs < -1 || timeoutMs > 0x7fffffff) {
      throw new PollerError(`wait(): timeout must be an integer from -1 to 2147483647 ms, got ${describe(timeoutMs)}`, -1, 'EINVAL');
    }
    this.collected = [];
    this.waits++;
    this.check(native.pollOnce(timeoutMs), -1, 'wait');
    const out = this.collected;
    this.collected = [];
    return out;
  }

  /** Makes the poller (no fd) or one registered fd keep Node alive again. */
  ref(fd?: number): void {
    this.setRefs('ref', fd, true);
  }

  /** Lets Node exit while the poller (no fd) or one registered fd is still registered. */
  unref(fd?: number): void {
    this.setRefs('unref', fd, false);
  }

  /** Unregisters everything and releases the native poller. Idempotent; fds stay open. */
  close(): void {
    const native = this.native;
    if (native === null) return;
    this.native = null;
    this.byFd.clear();
    this.bySlot.length = 0;
    native.close();
  }

  // ---- internals ----

  private dispatch(count: number): void {
    const native = this.native;
    if (native === null) return;
    const recs = native.records;
    const end = count * RECORD_INTS;
    for (let o = 0; o < end; o += RECORD_INTS) {
      if (recs[o + F.Type] !== Rec.Raw) continue;
      // Undefined when removed, or removed and the slot reused, earlier in this batch.
      const reg = recordOwner(recs, o, this.bySlot);
      if (reg === undefined) continue;
      if (this.onEvents === undefined) {
        this.collect(reg, recs[o + F.A]);
      } else {
        this.onEvents(reg.fd, recs[o + F.A]);
        if (this.native === null) return;
      }
    }
  }

  // More ready fds than a batch holds: the kernel may report one twice per wait().
  private collect(reg: Registration, events: number): void {
    if (reg.seenIn === this.waits) {
      this.collected[reg.seenAt].events |= events;
      return;
    }
    reg.seenIn = this.waits;
    reg.seenAt = this.collected.length;
    this.collected.push({ fd: reg.fd, events });
  }

  private open(op: string, fd: number): NativeLoop {
    if (this.native === null) throw new PollerError(`${op}(): the poller is closed`, fd, 'ECLOSED');
    return this.native;
  }

  private checkFd(fd: unknown, op: string): asserts fd is number {
    if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) {
      throw new PollerError(`${op}(): fd must be a non-negative integer, got ${describe(fd)}`, typeof fd === 'number' ? fd : NaN, 'EINVAL');
    }
  }

  private registered(fd: number, op: string): Registration {
    const reg = typeof fd === 'number' ? this.byFd.get(fd) : undefined;
    if (reg === undefined) {
      this.checkFdShape(fd, op);
      throw new PollerError(`${op}(): fd ${fd} is not registered with this poller`, fd, 'ENOENT');
    }
    return reg;
  }

  private checkFdShape(fd: unknown, op: string): void {
    if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0) {
      throw new PollerError(`${op}(): fd must be a non-negative integer, got ${describe(fd)}`, typeof fd === 'number' ? fd : NaN, 'EINVAL');
    }
  }

  private mode(fd: number, events: unknown, options: RegisterOptions): { edge: boolean; oneshot: boolean; ref?: boolean } {
    if (typeof events !== 'number' || !Number.isInteger(events) || events < 0 || (events & ~Ev.All) !== 0) {
      throw new PollerError(`fd ${fd}: events must be a combination of Events bits, got ${describe(events)}`, fd, 'EINVAL');
    }
    if (options === null || typeof options !== 'object') throw new PollerError(`fd ${fd}: options must be an object`, fd, 'EINVAL');
    const { trigger = 'level', oneshot = false, ref } = options;
    if (trigger !== 'level' && trigger !== 'edge') {
      throw new PollerError(`fd ${fd}: trigger must be 'level' or 'edge', got ${describe(trigger)}`, fd, 'EINVAL');
    }
    if (typeof oneshot !== 'boolean') throw new PollerError(`fd ${fd}: oneshot must be a boolean`, fd, 'EINVAL');
    if (ref !== undefined && typeof ref !== 'boolean') throw new PollerError(`fd ${fd}: ref must be a boolean`, fd, 'EINVAL');
    return { edge: trigger === 'edge', oneshot, ref };
  }

  private setRefs(op: string, fd: number | undefined, on: boolean): void {
    this.open(op, fd ?? -1);
    if (fd !== undefined) {
      this.setRef(this.registered(fd, op), on);
      return;
    }
    this.refDefault = on;
    for (const reg of this.byFd.values()) this.setRef(reg, on);
  }

  private setRef(reg: Registration, on: boolean): void {
    if (reg.ref === on || this.native === null) return;
    reg.ref = on;
    this.native.setRef(reg.slot, reg.gen, on);
  }

  private forget(reg: Registration): void {
    this.byFd.delete(reg.fd);
    if (this.bySlot[reg.slot] === reg) this.bySlot[reg.slot] = undefined;
  }

  /** Throws a PollerError for a negative native return, naming the fd and the errno. */
  private check(ret: number, fd: number, op: string): void {
    if (ret >= 0) return;
    const code = errnoName(ret);
    throw new PollerError(`${op}(): ${fd >= 0 ? `fd ${fd}: ` : ''}${explain(code, this.backend)}`, fd, code);
  }
}

function explain(code: string, backend: string): string {
  switch (code) {
    case 'EBADF':
      return 'not an open file descriptor (EBADF)';
    case 'EEXIST':
      return 'already registered (EEXIST)';
    case 'ENOENT':
      return 'not registered (ENOENT)';
    case 'ENOTSUP':
    case 'EOPNOTSUPP':
      return `the ${backend} backend does not support this trigger mode (${code})`;
    case 'EPERM':
      return `this kind of fd cannot be polled, e.g. a regular file (EPERM)`;
    default:
      return `failed with ${code}`;
  }
}
