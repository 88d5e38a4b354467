/**
 * The one place that loads the native addon and gives it types. Everything
 * else in lib/ goes through `loadNative()`; the addon is loaded on first use,
 * so pure-TypeScript parts (Deferred, task) work without it.
 *
 * Native calls return numbers: >= 0 for success, -errno for failure. They are
 * turned into JS errors in one place, `errnoError` below.
 */
import * as os from 'os';
import * as path from 'path';

/** Record types, matching `RecordType` in native/loop.h. */
export const enum Rec {
  Raw = 1,
  Accepted = 2,
  Data = 3,
  Eof = 4,
  Error = 5,
  Drained = 6,
  Connected = 7,
  AcceptError = 8,
  Datagram = 9,
  Exited = 10,
  /** A TLS handshake completed: a = what it settled (tlsSettled's flags), b = 1 when tlsSettled has more (ALPN, a peer certificate). */
  Handshake = 11,
  /** TLS failed; tlsInfo(slot).error says why. The stream is dead. */
  TlsError = 12,
  /** A short read the bridge copied out of the slab: a = offset in the batch's keep chunks (see RecordsCallback), b = length. */
  DataKept = 13,
  /**
   * A DataKept record that was one whole masked WebSocket frame on a slot
   * that asked for it (unmaskFrames): its payload is unmasked in the copy,
   * header and key left as they were (native/ws_frames.h).
   */
  FrameKept = 14,
}

/** Ints per record in `NativeLoop.records` (`kRecordInts` in native/loop.h). */
export const RECORD_INTS = 5;

/** Where each field of a record sits, from the record's first int (`Record` in native/loop.h). */
export const enum RecordField {
  /** A `Rec` value. */
  Type = 0,
  /** The slot the record is about. */
  Slot = 1,
  /** That slot's generation when the record was made. */
  Gen = 2,
  /** First argument; its meaning depends on the type (native/loop.h). */
  A = 3,
  /** Second argument. */
  B = 4,
}

/** Whatever owns a native slot, as far as records are concerned: the generation it holds. */
export interface SlotOwner {
  gen: number;
}

/**
 * The one decoding of a record's addressee: the owner `table` holds at the
 * record's slot, when its generation is the record's, else undefined (the
 * registration was removed, or removed and its slot reused, earlier in the
 * batch). `o` is the record's first int (index * RECORD_INTS).
 */
export function recordOwner<T extends SlotOwner>(records: Int32Array, o: number, table: readonly (T | undefined)[]): T | undefined {
  const owner = table[records[o + RecordField.Slot]];
  return owner !== undefined && owner.gen === records[o + RecordField.Gen] ? owner : undefined;
}

/** Interest/event bits, matching `Events` in native/poller.h. */
export const enum Ev {
  Readable = 1,
  Writable = 2,
  Error = 4,
  Hangup = 8,
  /** Every bit (`kAllEvents`). */
  All = 15,
}

/**
 * Called once per wake-up with the number of records, the current slab and
 * the batch's first keep chunk; when the batch filled more than one chunk,
 * the others in order (the current one last): a DataKept record's offset is
 * then chunk index * KEEP_CHUNK + offset, index 0 being `keep`.
 */
export type RecordsCallback = (count: number, slab: Buffer, keep: Buffer, more?: Buffer[]) => void;

/** Bytes per keep chunk (`kKeepSize` in native/bridge_loop.h): DataKept offsets at or past it are in a later chunk of the batch. */
export const KEEP_CHUNK = 16 * 1024;

/**
 * The longest string, in UTF-16 units, that writeString() takes
 * (`kStringAtOnce` in native/bridge_loop.h): its UTF-8 form, at most three
 * bytes a unit, is encoded on the native stack.
 */
export const STRING_AT_ONCE = 4096;

/** Counters kept by the native loop. */
export interface NativeStats {
  /** Wake-ups that had at least one event. */
  wakeups: number;
  /** Poller events processed. */
  events: number;
  /** Connections accepted. */
  accepts: number;
  /** Listener wake-ups that accepted at least one connection. */
  acceptBatches: number;
  /** Record batches handed to JavaScript (one call each). */
  deliveries: number;
  /** Calls into the kernel's wait (epoll_wait, poll, kevent) that have returned. */
  kernelWaits: number;
  /** Sleeps of the coalescing window (ReactorOptions.coalesceMicros) taken before a wait: 0 while it never opened. */
  coalesceSleeps: number;
  /** Writes gathered while a batch was dispatched (ReactorOptions.corkWrites), to be sent when it ended or sooner. */
  corkedWrites: number;
  /** Sends that carried gathered writes: at a delivery's end one per stream written in it, or earlier when a stream was closed, half-closed, aborted, asked for bufferedAmount, started TLS or got a larger write. */
  corkedSends: number;
  /**
   * Times this process gave the free pages TLS handshakes and closes left in
   * the malloc heap back to the kernel (glibc only; 0 elsewhere). Process-wide:
   * every loop reports the same count (native/heap_trim.h).
   */
  heapTrims: number;
}

/** A socket address as the addon reports it: family 4, 6, or 0 for UNIX. */
export interface NativeAddress {
  family: 0 | 4 | 6;
  host: string;
  port: number;
}

/**
 * The native loop object: a poller, a slot table and the socket hot path.
 * A method on one registration takes its handle first, (slot, gen) as the
 * loop gave them; a handle that no longer names a live registration (removed,
 * its slot reused since, or the loop closed) gets -EBADF and touches nothing.
 * Every method is an own property bound to its loop (native/bridge_methods.cc):
 * taken off the object or called with another `this`, it acts on this loop.
 */
export interface NativeLoop {
  readonly backend: string;
  /** Shared with native code: `RECORD_INTS` ints per record, read during the callback only. */
  readonly records: Int32Array;
  /**
   * Starts dispatching records to the callback from inside Node's loop; 0 or
   * -errno. An epoll loop waits in its own set, which holds libuv's
   * (native/bridge_wait.cc), unless `inLibuv`: then it is watched inside
   * libuv's set, one epoll call more per wake-up, and Node's loop idle time
   * (performance.eventLoopUtilization) counts its waits as idle.
   * `coalesceMicros` (0..1000, default 0) is the own-set wait's coalescing
   * window (ReactorOptions.coalesceMicros); -EINVAL outside that range.
   * `adaptive` applies it only while the recent wake-ups served many
   * distinct connections (native/coalesce_gate.h: coalesceMicros 'auto').
   * `corkWrites` gathers the plaintext writes made while a batch is
   * dispatched and sends them when it ends, one send per stream
   * (native/loop_cork.cc; ReactorOptions.corkWrites).
   */
  start(inLibuv?: boolean, coalesceMicros?: number, adaptive?: boolean, corkWrites?: boolean): number;
  /** Stops watching (the loop stays usable through pollOnce). */
  stop(): number;
  /** Closes the poller and every fd the loop owns (a second close is a no-op); inside a dispatch, once it unwinds. Further calls fail with EBADF. */
  close(): number;
  /** Live registrations that keep Node's loop alive. */
  refcount(): number;
  /** Waits up to timeoutMs (-1 forever), dispatches to the callback; events processed or -errno. */
  pollOnce(timeoutMs: number): number;

  addRaw(fd: number, interest: number, edge: boolean, oneshot: boolean): number;
  modifyRaw(slot: number, gen: number, interest: number, edge: boolean, oneshot: boolean): number;
  remove(slot: number, gen: number): number;
  /** The slot's current generation: what records and handles for it carry. */
  generation(slot: number): number;
  fdOf(slot: number, gen: number): number;
  setRef(slot: number, gen: number, ref: boolean): number;

  /** family 0 = UNIX path in host. Returns the listener's slot or -errno. */
  listen(family: number, host: string, port: number, backlog: number, reusePort: boolean): number;
  setAcceptBatch(slot: number, gen: number, maxBatch: number): number;
  resumeAccepting(slot: number, gen: number): number;
  /** Starts a non-blocking connect; a Connected record follows. Slot or -errno. */
  connect(family: number, host: string, port: number, bindHost: string | null, bindPort: number): number;
  adoptStream(fd: number): number;
  /**
   * A dup of a listening socket (listening: a listener slot) or a connected
   * one (a stream slot) of family 0/4/6, after checking it is one. Slot or
   * -errno; the fd passed in stays the caller's either way.
   */
  adoptSocket(fd: number, family: number, listening: boolean): number;

  /**
   * Sends `data` to the stream named by writeArgs: [slot, gen], set just
   * before the call. Undefined when all was sent (making the number 0 cost
   * as much as the rest of the answer), else bytes still buffered, or -errno.
   */
  write(data: Uint8Array): number | undefined;
  /**
   * write() of a range of `memory` (no typed array made for it), named by
   * writeArgs: [slot, gen, offset, length], set just before the call.
   */
  writeAt(memory: ArrayBuffer): number | undefined;
  /**
   * write() of `text`'s UTF-8 bytes (lone surrogates as U+FFFD, as
   * Buffer.from), encoded by the call itself; any string of at most
   * STRING_AT_ONCE units fits (-EMSGSIZE for one whose UTF-8 is longer than
   * 3 * STRING_AT_ONCE bytes). Named by writeArgs: [slot, gen].
   */
  writeString(text: string): number | undefined;
  /** write's and writeAt's other arguments (numbers through N-API cost more than the write's own work). */
  readonly writeArgs: Int32Array;
  writev(slot: number, gen: number, chunks: Uint8Array[]): number;
  /** While `on`, short reads that are one whole masked WebSocket frame arrive unmasked as Rec.FrameKept. 0 or -errno. */
  unmaskFrames(slot: number, gen: number, on: boolean): number;
  buffered(slot: number, gen: number): number;
  /** Bytes in the socket's send queue in the kernel (SIOCOUTQ / SO_NWRITE): falls as the peer reads. -errno on a closed slot. */
  kernelSendQueue(slot: number, gen: number): number;
  /**
   * The usual end of a connection in one call: sends close_notify on a TLS
   * stream (as shutdownWrite), then, when nothing is left to send, removes
   * the slot (as remove) and returns 0; else returns the bytes still
   * waiting (close_notify queued after them; the slot stays). -errno.
   */
  finish(slot: number, gen: number): number;
  shutdownWrite(slot: number, gen: number): number;
  pauseReading(slot: number, gen: number): number;
  resumeReading(slot: number, gen: number): number;
  setNoDelay(slot: number, gen: number, on: boolean): number;
  setKeepAlive(slot: number, gen: number, on: boolean): number;
  /** SO_RCVLOWAT: readable only once `bytes` are queued (or EOF/error); -ENOTSUP on TLS. 0 or -errno. */
  setReadLowWater(slot: number, gen: number, bytes: number): number;
  localAddress(slot: number, gen: number): NativeAddress | number;
  peerAddress(slot: number, gen: number): NativeAddress | number;
  /** An IPv4 peer as one number, address * 65536 + port (no object made); -EAFNOSUPPORT for other families (ask peerAddress), or -errno. */
  peerIPv4(slot: number, gen: number): number;
  stats(): NativeStats;

  // ---- processes and UDP (native/bridge_process.cc) ----
  /**
   * Starts a child. `fds` holds (childFd, how, parentFd) triples: how 0 = a
   * pipe we read, 1 = a pipe we write, 2 = our parentFd passed through.
   * nofileSoft/uid/gid: -1 leaves them. Exec errors come back as -errno.
   */
  spawn(
    executable: string,
    args: string[],
    env: string[],
    cwd: string | null,
    fds: number[],
    nofileSoft: number,
    uid: number,
    gid: number,
  ): NativeSpawned | number;
  /** Sends a signal to a child slot's process; -ESRCH once it has been reaped. */
  signalChild(slot: number, gen: number, signal: number): number;
  /** A bound UDP socket (family 4 or 6, numeric host); its slot or -errno. */
  udpBind(family: number, host: string, port: number, maxPacket: number): number;
  /** Connects a UDP socket to one peer ('' host disconnects). */
  udpConnect(slot: number, gen: number, family: number, host: string, port: number): number;
  /** Sends one datagram (to the connected peer when host is null); bytes sent or -errno. */
  udpSend(slot: number, gen: number, data: Uint8Array, family: number, host: string | null, port: number): number;
  /** recvmmsg batches (true, the default) or one recvmsg per datagram. */
  udpSetBatch(slot: number, gen: number, on: boolean): number;

  // ---- TLS (native/bridge_tls.cc) ----
  /**
   * Puts a stream under TLS (client side when the context is a client one);
   * a client with a non-empty sessionKey (the peer's address and name)
   * offers the session saved under it. 0, -errno, or a reason code.
   */
  tlsStart(slot: number, gen: number, context: NativeTLSContext, hostname: string, sessionKey: string): number | string;
  /** Ciphertext read before tlsStart, fed as if just received: 0, -errno or an OpenSSL reason. */
  tlsFeed(slot: number, gen: number, data: Uint8Array): number | string;
  /** The stream's TLS state, or -errno. */
  tlsInfo(slot: number, gen: number): NativeTLSInfo | number;
  /**
   * Encrypts and sends the plaintext every TLS stream written since the last
   * call left waiting: 0 when none needs attention, else [slot, gen, result,
   * ...] for those whose result (bytes still buffered, or -errno) is not 0;
   * -errno when the loop is closed.
   */
  tlsFlushAll(): number | number[];
  /**
   * What a completed handshake settled, in one call: flags (bit 0 resumed,
   * bits 8-11 the version: TLS 1.x is x + 1), or [flags, ALPN ('' when none),
   * peer certificate DER or null] when there is an ALPN protocol or a peer
   * certificate; -errno when the slot is gone. The Handshake record carries
   * the flags (a) and whether there is more (b = 1): only then is this asked.
   */
  tlsSettled(slot: number, gen: number): number | [number, string, Buffer | null];
}

/** An SSL_CTX made by `NativeBinding.tlsContext`; opaque to JS. */
export interface NativeTLSContext {
  readonly __nativeTLSContext: never;
}

/** What `NativeBinding.tlsContext` takes: PEM text, ALPN in wire format. */
export interface NativeTLSConfig {
  server: boolean;
  key?: string;
  cert?: string;
  chain?: string;
  ca?: string;
  verify?: boolean;
  requireCert?: boolean;
  alpn?: string;
  /** 0x0301..0x0304 (TLS 1.0..1.3). */
  minVersion?: number;
  ciphers?: string;
  /** Server: 80 bytes of session ticket keys, as latin1. */
  ticketKeys?: string;
  /** Server: a resumed TLS 1.3 handshake sends a fresh ticket (default true). */
  renewTickets?: boolean;
  /** SNI: name, context, name, context... (server contexts). */
  sni?: (string | NativeTLSContext)[];
}

/** A TLS stream's state as the addon reports it. */
export interface NativeTLSInfo {
  established: boolean;
  /** ALPN protocol, '' when none. */
  alpn: string;
  version: string;
  /** OpenSSL reason code of the failure, '' when none. */
  error: string;
  /** X509_V_* result of verifying the peer (0 = ok). */
  verifyResult: number;
  /** The handshake resumed a session. */
  sessionReused: boolean;
  /** Whose record layer carries the connection: ours (TLS 1.3 servers after the handshake) or OpenSSL's. */
  recordLayer: 'own' | 'openssl';
}

/** What NativeLoop.spawn returns: the child's pid and slot, and a stream slot per pipe (-1 when passed through). */
export interface NativeSpawned {
  pid: number;
  slot: number;
  pipes: number[];
}

/** The addon's exports. */
export interface NativeBinding {
  /** Backends this build offers, best first; the first is the default. */
  backends(): string[];
  NativeLoop: new (backend: string, callback: RecordsCallback) => NativeLoop;
  /** RLIMIT_NOFILE soft limit before the addon raised it, and now. */
  fdLimits(): { original: number; current: number; hard: number };
  /** Connects to the UNIX socket at `path` and closes at once: 0 when a listener took it, else -errno. */
  probeUnix(path: string): number;
  /** A listening TCP socket (family 4 or 6) no loop watches: its fd and bound port, or -errno. For the `serve` supervisor. */
  listenSocket(family: number, host: string, port: number, backlog: number, reusePort: boolean): { fd: number; port: number } | number;
  /** Closes an fd listenSocket returned: 0 or -errno. */
  closeFd(fd: number): number;
  /** Whether small AES-GCM records are sealed on OpenSSL's GCM and AES-NI functions directly in this process (native/tls13_gcm.h). */
  tlsDirectGcm(): boolean;
  /** Builds a TLS context: the handle, an error code ('KEY_MISMATCH:...'), or -EINVAL. */
  tlsContext(config: NativeTLSConfig): NativeTLSContext | string | number;
  /** Fault builds only (native/fault.h): the next `count` (< 0: all) calls after `skip` fail with errno. 0 or -EINVAL. */
  setFault?(name: string, errno: number, count?: number, skip?: number): number;
  /** Fault builds only: disarms every fault and zeroes the hit counts. */
  clearFaults?(): void;
  /** Fault builds only: failures injected into `name` since clearFaults(). */
  faultHits?(name: string): number;
}

let binding: NativeBinding | undefined;

/**
 * Loads the addon once (a prebuild when one matches, else build/Release).
 * IOREACTOR_ADDON=<path to a .node> loads that file instead: the fault and
 * sanitizer builds (scripts/test-faults.sh, scripts/test-sanitize.sh).
 */
export function loadNative(): NativeBinding {
  const override = process.env.IOREACTOR_ADDON;
  if (binding === undefined && override) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    binding = require(path.resolve(override)) as NativeBinding;
  }
  if (binding === undefined) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const load = require('node-gyp-build') as (dir: string) => NativeBinding;
    binding = load(path.join(__dirname, '..'));
  }
  return binding;
}

const errnoNames = new Map<number, string>();
for (const [name, num] of Object.entries(os.constants.errno)) {
  if (!errnoNames.has(num)) errnoNames.set(num, name);
}

/** The errno name (`EBADF`) for a negative native return value. */
export function errnoName(ret: number): string {
  return errnoNames.get(-ret) ?? `E${-ret}`;
}

/** The -errno an error thrown by the addon carries (a poller it could not create), or null for any other error. */
export function thrownErrno(e: unknown): number | null {
  const errno = e !== null && typeof e === 'object' ? (e as { errno?: unknown }).errno : undefined;
  return typeof errno === 'number' && errno < 0 ? errno : null;
}

/** A Node-style system error for a negative native return: code, errno, syscall. */
export function errnoError(ret: number, syscall: string, detail?: string): NodeJS.ErrnoException {
  const code = errnoName(ret);
  const err: NodeJS.ErrnoException = new Error(`${syscall} ${code}${detail ? ` (${detail})` : ''}`);
  err.code = code;
  err.errno = ret;
  err.syscall = syscall;
  return err;
}
