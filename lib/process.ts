/**
 * Child processes, as `twisted.internet.process`: `spawnProcess` starts a
 * child with the pipes its `childFDs` ask for, a ProcessProtocol hears about
 * its output and its end, and the Process is its transport.
 *
 * Each pipe is a native stream slot driven by the same StreamTransport as TCP
 * (writes at once, flow control, one connectionLost), owned by the Process;
 * the child itself is a pidfd slot that reports one Exited record. Order of
 * events: connectionMade; childDataReceived as output comes; processExited
 * when the child is reaped; childConnectionLost(fd) per pipe as each closes;
 * processEnded last, once the child has exited and every pipe has closed.
 * spawnProcess's options and their checks live in spawn-options.ts.
 */
import * as os from 'os';
import { ProcessDone, ProcessExitedAlready, ProcessTerminated, ReactorClosedError } from './errors';
import { Failure } from './failure';
import type { IProcessTransport, IPullProducer, IPushProducer } from './interfaces';
import { log } from './log';
import { errnoError, loadNative, NativeSpawned } from './native';
import { Protocol, TransportHolder } from './protocol';
import type { ReactorCore, ReactorParts } from './reactor/core';
import { Handler } from './reactor/handler';
import { Family } from './transport/addresses';
import type { Bytes } from './transport/bytes';
import { ChildFDSpec, signalNumber, spawnError, SpawnProcessOptions, spawnPlan } from './spawn-options';
import { StreamTransport, TransportOwner } from './transport/stream';

/**
 * Receives what a child process does. Override what you need; by default
 * childDataReceived sends fd 1 to outReceived and fd 2 to errReceived, and
 * childConnectionLost sends fds 0, 1, 2 to in/out/errConnectionLost.
 */
export class ProcessProtocol extends TransportHolder<IProcessTransport> {
  /** The child has started; `transport` is set. */
  override connectionMade(): void {}

  /** Bytes from a child fd we read. */
  childDataReceived(childFD: number, data: Buffer): void {
    if (childFD === 1) this.outReceived(data);
    else if (childFD === 2) this.errReceived(data);
  }

  /** Bytes from the child's stdout. */
  outReceived(_data: Buffer): void {}

  /** Bytes from the child's stderr. */
  errReceived(_data: Buffer): void {}

  /** Our end of a child fd closed (EOF, an error, or we closed it). */
  childConnectionLost(childFD: number): void {
    if (childFD === 0) this.inConnectionLost();
    else if (childFD === 1) this.outConnectionLost();
    else if (childFD === 2) this.errConnectionLost();
  }

  /**
   * The child's stdin is closed: we closed it, or the child closed its end
   * (seen at once on Linux; elsewhere at the next write or at exit).
   */
  inConnectionLost(): void {}

  /** The child's stdout is closed. */
  outConnectionLost(): void {}

  /** The child's stderr is closed. */
  errConnectionLost(): void {}

  /** The child has exited: ProcessDone for exit 0, else ProcessTerminated. Pipes may still be open. */
  processExited(_reason: Failure): void {}

  /** Last of all: the child has exited and every pipe has closed. Same reason as processExited. */
  processEnded(_reason: Failure): void {}
}

/** The protocol on each pipe: hands data and the close to the ProcessProtocol. */
class PipeProtocol extends Protocol {
  constructor(
    private readonly proc: Process,
    private readonly childFD: number,
  ) {
    super();
  }

  override dataReceived(data: Buffer): void {
    this.proc.protocol.childDataReceived(this.childFD, data);
  }
}



function signalName(num: number): string {
  for (const [name, n] of Object.entries(os.constants.signals)) if (n === num) return name;
  return String(num);
}

/** ProcessDone for exit 0, ProcessTerminated otherwise, as Twisted reports a wait status. */
function exitReason(code: number, signal: number): Failure {
  if (code === 0) return new Failure(new ProcessDone(0));
  if (code > 0) return new Failure(new ProcessTerminated(code, null, code << 8));
  if (signal > 0) return new Failure(new ProcessTerminated(null, signalName(signal), signal));
  return new Failure(new ProcessTerminated(null, null, null)); // reaped elsewhere: status unknown
}

/** A running (or finished) child: the ProcessProtocol's transport. */
export class Process extends Handler implements IProcessTransport, TransportOwner {
  /** @internal Pipes are not sockets; addresses read as unknown UNIX ones. */
  readonly family = Family.Unix;
  /** The child's process id, or null once it has exited. */
  pid: number | null;
  /** The wait status once exited (exit code << 8, or the signal number), else null. */
  status: number | null = null;
  /** Open pipes by child fd. */
  readonly pipes = new Map<number, StreamTransport>();
  private readonly writable = new Set<number>();
  private reason: Failure | null = null;
  private ended = false;

  /** Made by spawnProcess, never by user code. */
  /** @internal TransportOwner: the handler table of the reactor that spawned it. */
  get reactorCore(): ReactorCore {
    return this.parts.core;
  }

  constructor(
    private readonly parts: ReactorParts,
    /** The protocol told about this child. */
    readonly protocol: ProcessProtocol,
    spawned: NativeSpawned,
    childFDs: [number, ChildFDSpec][],
  ) {
    super();
    const native = parts.core.native;
    this.pid = spawned.pid;
    this.takeSlot(native, spawned.slot);
    parts.core.register(this);
    childFDs.forEach(([fd, how], i) => {
      const slot = spawned.pipes[i];
      if (slot < 0) return;
      const t = new StreamTransport(parts.core, native, slot, native.generation(slot), this, parts.highWaterMark);
      parts.core.register(t);
      this.pipes.set(fd, t);
      if (how === 'w') this.writable.add(fd);
      t.attach(new PipeProtocol(this, fd));
    });
  }

  /** Writes to the child's stdin. */
  write(data: Bytes): void {
    this.writeToChild(0, data);
  }

  /** Writes several buffers to the child's stdin with one writev. */
  writeSequence(data: ReadonlyArray<Bytes>): void {
    const t = this.writePipe(0, 'writeSequence');
    if (t !== null) t.writeSequence(data);
  }

  /** Writes to a child fd set up as 'w'; ignored once that pipe has closed. */
  writeToChild(childFD: number, data: Bytes): void {
    const t = this.writePipe(childFD, 'writeToChild');
    if (t !== null) t.write(data);
  }

  /** Closes the child's stdin once written data has gone. */
  closeStdin(): void {
    this.closeChildFD(0);
  }

  /** Closes our end of the child's stdout. */
  closeStdout(): void {
    this.closeChildFD(1);
  }

  /** Closes our end of the child's stderr. */
  closeStderr(): void {
    this.closeChildFD(2);
  }

  /** Closes our end of one child fd; nothing happens when it is not open. */
  closeChildFD(childFD: number): void {
    this.pipes.get(childFD)?.loseConnection();
  }

  /** Closes stdin (after flushing) and every other pipe. */
  loseConnection(): void {
    this.closeStdin();
    for (const fd of [...this.pipes.keys()]) this.closeChildFD(fd);
  }

  /**
   * Sends a signal; ProcessExitedAlready once the child has exited,
   * ReactorClosedError once the reactor that spawned it was closed.
   */
  signalProcess(signal: string | number): void {
    const num = signalNumber(signal);
    if (this.pid === null) throw new ProcessExitedAlready();
    if (!this.parts.core.isOpen(this.loop)) throw new ReactorClosedError(`signalProcess: the reactor that spawned pid ${this.pid} was closed`);
    const r = this.loop!.signalChild(this.slot, this.gen, num);
    if (r === -(os.constants.errno.ESRCH as number)) throw new ProcessExitedAlready();
    if (r < 0) throw errnoError(r, 'kill', `pid ${this.pid}`);
  }

  /** Registers a producer feeding the child's stdin (flow control as for TCP). */
  registerProducer(producer: IPushProducer | IPullProducer, streaming: boolean): void {
    const t = this.writePipe(0, 'registerProducer');
    if (t !== null) t.registerProducer(producer, streaming);
    else producer.stopProducing();
  }

  /** Unregisters the stdin producer. */
  unregisterProducer(): void {
    this.pipes.get(0)?.unregisterProducer();
  }

  /** Stops reading every pipe we read until resumeProducing(). */
  pauseProducing(): void {
    for (const [fd, t] of this.pipes) if (!this.writable.has(fd)) t.pauseProducing();
  }

  /** Reads the pipes again after pauseProducing(). */
  resumeProducing(): void {
    for (const [fd, t] of this.pipes) if (!this.writable.has(fd)) t.resumeProducing();
  }

  /** Closes every pipe (as loseConnection). */
  stopProducing(): void {
    this.loseConnection();
  }

  // ---- records and pipe events ----

  /** @internal The child exited (code -1 when killed by signal). */
  override onExited(code: number, signal: number): void {
    this.exited(code, signal);
  }

  /** @internal Reactor shutdown: the child is left running, as in Twisted; each pipe drops itself. */
  override disconnect(): void {}

  /** @internal Not reached: every user callback here is guarded. */
  override failed(_failure: Failure): void {}

  /** @internal A pipe's connectionLost has run: tell the protocol, maybe end. */
  transportLost(t: StreamTransport): void {
    for (const [fd, pipe] of this.pipes) {
      if (pipe !== t) continue;
      this.pipes.delete(fd);
      this.guarded('childConnectionLost', () => this.protocol.childConnectionLost(fd));
      break;
    }
    this.maybeEnded();
  }

  private writePipe(childFD: number, what: string): StreamTransport | null {
    const t = this.pipes.get(childFD);
    if (t !== undefined && this.writable.has(childFD)) return t;
    if (this.writable.has(childFD)) return null; // closed: writes are dropped, as on a closed TCP transport
    throw new TypeError(`${what}: child fd ${childFD} is not a pipe this process writes (childFDs ${childFD}: 'w')`);
  }

  private exited(code: number, signal: number): void {
    this.parts.core.unregister(this);
    this.pid = null;
    this.status = code >= 0 ? code << 8 : signal;
    const reason = exitReason(code, signal);
    this.reason = reason;
    // The child's end of each pipe we write is gone with it; what is still
    // queued fails with EPIPE on its own, an idle pipe is closed now.
    for (const fd of this.writable) {
      const t = this.pipes.get(fd);
      if (t !== undefined && t.bufferedAmount() === 0) t.loseConnection();
    }
    this.guarded('processExited', () => this.protocol.processExited(reason));
    this.maybeEnded();
  }

  private maybeEnded(): void {
    if (this.ended || this.reason === null || this.pipes.size !== 0) return;
    this.ended = true;
    const reason = this.reason;
    this.protocol.connected = false;
    this.guarded('processEnded', () => this.protocol.processEnded(reason));
  }

  private guarded(what: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      log.failure(`Unhandled error in ProcessProtocol.${what}`, new Failure(e), { pid: this.pid });
    }
  }
}

// ---- spawnProcess: arguments checked in spawn-options.ts, then one native call ----

/** Reads a numeric RLIMIT_NOFILE soft limit the child should get back, or -1. */
function originalFdLimit(): number {
  const original = loadNative().fdLimits().original;
  return Number.isFinite(original) && original > 0 ? original : -1;
}

/**
 * Starts `executable` with `args` (args[0] is the program's name, as Twisted
 * expects; empty args pass [executable]) and returns its Process. A missing
 * or non-executable program, a bad working directory or a closed fd in
 * childFDs throws SpawnError at once; wrong argument types throw TypeError.
 */
export function spawnProcess(
  parts: ReactorParts,
  processProtocol: ProcessProtocol,
  executable: string,
  args: readonly string[] = [],
  opts: SpawnProcessOptions = {},
): Process {
  if (processProtocol === null || typeof processProtocol !== 'object' || typeof processProtocol.makeConnection !== 'function') {
    throw new TypeError('spawnProcess: processProtocol must be a ProcessProtocol');
  }
  const plan = spawnPlan(executable, args, opts);
  const native = parts.core.native;
  const r = native.spawn(executable, plan.argv, plan.env, plan.cwd, plan.triples, originalFdLimit(), plan.uid, plan.gid);
  if (typeof r === 'number') throw spawnError(r, executable, plan.cwd, plan.fds);
  const proc = new Process(parts, processProtocol, r, plan.fds);
  try {
    processProtocol.makeConnection(proc);
  } catch (e) {
    log.failure('Unhandled error in ProcessProtocol.connectionMade; closing its pipes', new Failure(e), { pid: r.pid });
    proc.loseConnection();
  }
  return proc;
}
