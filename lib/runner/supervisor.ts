/**
 * The supervisor of `ioreactor serve`: holds the listening sockets, runs N
 * worker processes, restarts one that dies (RestartBackoff), replaces them
 * one at a time on SIGHUP (the new one ready before the old one is told to
 * stop), and stops them gracefully on SIGTERM/SIGINT.
 *
 * Zero loss: each worker slot has its own SO_REUSEPORT socket per --listen
 * address, made and kept here. A worker and its replacement accept from the
 * same socket, so its accept queue never closes while the supervisor lives
 * and nothing queued in it is reset (docs/ARCHITECTURE.md).
 */
import { ChildProcess, spawn, StdioOptions } from 'child_process';
import * as path from 'path';
import { CannotListenError } from '../errors';
import { log } from '../log';
import { errnoError, errnoName, loadNative } from '../native';
import { RestartBackoff } from './backoff';
import type { ListenSpec, ServeOptions } from './options';
import { ENV, HeldSocket, isWorkerMessage, SupervisorMessage } from './protocol';

/** One worker process. */
interface Worker {
  readonly id: number;
  readonly child: ChildProcess;
  readonly started: number;
  ready: boolean;
  /** Told to stop (rolling restart or shutdown): its exit is expected. */
  retiring: boolean;
  readonly exited: Promise<void>;
  readonly becameReady: Promise<boolean>;
}

/** Per-worker counts from a stats request. */
export interface WorkerStats {
  id: number;
  pid: number;
  connections: number;
  accepts: number;
}

const WORKER_MAIN = path.join(__dirname, 'worker-main.js');
/** Seconds past --grace before a stopping worker is killed. */
const KILL_AFTER = 5;

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal !== null ? `was killed by ${signal}` : `exited with code ${String(code)}`;
}

/** Runs the workers of one `ioreactor serve`. */
export class Supervisor {
  private readonly slots: (Worker | null)[];
  private readonly backoff: RestartBackoff[];
  private readonly restartTimers = new Map<number, NodeJS.Timeout>();
  private readonly killTimers = new Map<Worker, NodeJS.Timeout>();
  /** When the worker of a slot died unasked (Date.now()), until its replacement is ready. */
  private readonly diedAt = new Map<number, number>();
  /** held[slot][i]: slot's socket for listen spec i. */
  private held: number[][] = [];
  private stopping = false;
  private rolling = false;
  private resolveDone: (() => void) | null = null;
  /** The listen specs with the ports actually bound (port 0 resolved). */
  bound: ListenSpec[] = [];

  constructor(private readonly opts: ServeOptions) {
    this.slots = new Array<Worker | null>(opts.workers).fill(null);
    this.backoff = Array.from({ length: opts.workers }, () => new RestartBackoff());
  }

  /** Opens the held sockets, starts the workers, handles signals; resolves once stopped. */
  run(): Promise<void> {
    this.openSockets();
    for (const b of this.bound) log.msg(`ioreactor serve: listening on ${b.family === 6 ? `[${b.host}]` : b.host}:${b.port}`, { port: b.port });
    log.msg(`ioreactor serve: starting ${this.opts.workers} workers of ${this.opts.app}`);
    for (let id = 0; id < this.opts.workers; id++) this.slots[id] = this.spawn(id);
    process.on('SIGTERM', this.onStop);
    process.on('SIGINT', this.onStop);
    process.on('SIGHUP', this.onHup);
    process.on('SIGUSR2', this.onStats);
    return new Promise((resolve) => (this.resolveDone = resolve));
  }

  /** Replaces every worker, one at a time: the new one ready before the old one is told to stop. */
  async rollingRestart(): Promise<void> {
    if (this.rolling || this.stopping) return;
    this.rolling = true;
    log.msg('ioreactor serve: rolling restart');
    if (this.bound.length === 0) {
      log.emit('warn', 'ioreactor serve: without --listen each worker owns its listening sockets: connections still queued on a stopping one are reset (see --listen)');
    }
    try {
      for (let id = 0; id < this.slots.length && !this.stopping; id++) {
        const old = this.slots[id];
        const next = this.spawn(id);
        if (!(await next.becameReady)) {
          log.emit('error', `ioreactor serve: the new worker ${id} died before it was ready; rolling restart stopped, the old workers keep serving`);
          return;
        }
        this.slots[id] = next;
        if (old !== null) {
          this.retire(old);
          await old.exited;
        }
      }
      log.msg('ioreactor serve: rolling restart done');
    } finally {
      this.rolling = false;
    }
  }

  /** Asks every worker for its counts. */
  async stats(): Promise<WorkerStats[]> {
    const asks = this.slots.map((w) => (w !== null && w.ready ? this.askStats(w) : Promise.resolve(null)));
    return (await Promise.all(asks)).filter((s): s is WorkerStats => s !== null);
  }

  /** Stops every worker gracefully (each drains for up to --grace seconds), then closes the held sockets. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    log.msg(`ioreactor serve: stopping the workers (grace ${this.opts.grace} s)`);
    for (const t of this.restartTimers.values()) clearTimeout(t);
    this.restartTimers.clear();
    const live = this.live();
    for (const w of live) this.retire(w);
    await Promise.all(live.map((w) => w.exited));
    for (const fds of this.held) for (const fd of fds) loadNative().closeFd(fd);
    this.held = [];
    process.removeListener('SIGTERM', this.onStop);
    process.removeListener('SIGINT', this.onStop);
    process.removeListener('SIGHUP', this.onHup);
    process.removeListener('SIGUSR2', this.onStats);
    log.msg('ioreactor serve: stopped');
    this.resolveDone?.();
  }

  private live(): Worker[] {
    return this.all.filter((w) => w.child.exitCode === null && w.child.signalCode === null);
  }

  /** Every worker started and not yet reaped (slots and replacements on their way). */
  private readonly all: Worker[] = [];

  private openSockets(): void {
    const native = loadNative();
    this.bound = this.opts.listen.map((spec) => ({ ...spec }));
    this.held = this.slots.map(() => []);
    for (const [i, spec] of this.bound.entries()) {
      for (const fds of this.held) {
        const r = native.listenSocket(spec.family, spec.host, spec.port, this.opts.backlog, true);
        if (typeof r === 'number') {
          for (const f of this.held.flat()) native.closeFd(f);
          throw new CannotListenError(spec.host, spec.port, errnoError(r, 'listen').message, errnoName(r));
        }
        spec.port = r.port; // the rest of the slots bind the port the first one got
        fds[i] = r.fd;
      }
    }
  }

  private spawn(id: number): Worker {
    const fds = this.held[id] ?? [];
    const sockets: HeldSocket[] = this.bound.map((b, i) => ({ fd: 3 + i, family: b.family, host: b.host, port: b.port }));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      [ENV.app]: this.opts.app,
      [ENV.args]: JSON.stringify(this.opts.appArgs),
      [ENV.id]: String(id),
      [ENV.count]: String(this.opts.workers),
      [ENV.grace]: String(this.opts.grace),
      [ENV.backend]: this.opts.backend ?? '',
      [ENV.listen]: JSON.stringify(sockets),
    };
    delete env.LISTEN_PID;
    if (fds.length > 0) {
      env.LISTEN_FDS = String(fds.length);
      env.LISTEN_FDNAMES = this.bound.map((b) => `port-${b.port}`).join(':');
    } else {
      delete env.LISTEN_FDS;
      delete env.LISTEN_FDNAMES;
    }
    const stdio: StdioOptions = ['inherit', 'inherit', 'inherit', ...fds, 'ipc'];
    // Its own process group: a terminal's ^C reaches the supervisor only, which then drains the workers.
    const child = spawn(process.execPath, [...process.execArgv, WORKER_MAIN], { stdio, env, detached: true });
    let markReady: (ok: boolean) => void = () => {};
    const becameReady = new Promise<boolean>((resolve) => (markReady = resolve));
    let markExited: () => void = () => {};
    const exited = new Promise<void>((resolve) => (markExited = resolve));
    const w: Worker = { id, child, started: Date.now(), ready: false, retiring: this.stopping, exited, becameReady };
    this.all.push(w);
    child.on('message', (m: unknown) => {
      if (isWorkerMessage(m) && m.t === 'ready' && !w.ready) {
        w.ready = true;
        const died = this.diedAt.get(id);
        this.diedAt.delete(id);
        const after = died === undefined ? '' : `, ${Date.now() - died} ms after the last one died`;
        log.msg(`ioreactor serve: worker ${id} (pid ${String(child.pid)}) ready${after}`, { worker: id, pid: child.pid });
        markReady(true);
      }
    });
    child.on('error', (e) => log.emit('error', `ioreactor serve: worker ${id}: ${e.message}`));
    child.on('exit', (code, signal) => {
      this.all.splice(this.all.indexOf(w), 1);
      markReady(false);
      this.exited(w, code, signal);
      markExited();
    });
    return w;
  }

  private retire(w: Worker): void {
    if (this.killTimers.has(w)) return; // already told
    w.retiring = true;
    w.child.kill('SIGTERM');
    // A worker its reactor cannot stop (a busy loop) is not waited for forever.
    const t = setTimeout(() => {
      log.emit('warn', `ioreactor serve: worker ${w.id} (pid ${String(w.child.pid)}) still running ${KILL_AFTER} s after its grace; killing it`);
      w.child.kill('SIGKILL');
    }, (this.opts.grace + KILL_AFTER) * 1000);
    this.killTimers.set(w, t);
    void w.exited.then(() => {
      clearTimeout(t);
      this.killTimers.delete(w);
    });
  }

  private exited(w: Worker, code: number | null, signal: NodeJS.Signals | null): void {
    const how = describeExit(code, signal);
    if (w.retiring) {
      log.msg(`ioreactor serve: worker ${w.id} (pid ${String(w.child.pid)}) stopped: it ${how}`, { worker: w.id });
      return;
    }
    log.emit('error', `ioreactor serve: worker ${w.id} (pid ${String(w.child.pid)}) ${how}`, { worker: w.id, code, signal });
    if (this.slots[w.id] !== w || this.stopping) return; // a replacement that never got its slot
    this.slots[w.id] = null;
    if (!this.diedAt.has(w.id)) this.diedAt.set(w.id, Date.now());
    const delay = this.backoff[w.id].died((Date.now() - w.started) / 1000);
    log.msg(`ioreactor serve: restarting worker ${w.id} in ${delay} s`, { worker: w.id, delay });
    const start = (): void => {
      this.restartTimers.delete(w.id);
      if (!this.stopping) this.slots[w.id] = this.spawn(w.id);
    };
    if (delay === 0) start();
    else this.restartTimers.set(w.id, setTimeout(start, delay * 1000));
  }

  private askStats(w: Worker): Promise<WorkerStats | null> {
    return new Promise((resolve) => {
      const onMessage = (m: unknown): void => {
        if (!isWorkerMessage(m) || m.t !== 'stats') return;
        done({ id: w.id, pid: w.child.pid ?? -1, connections: m.connections, accepts: m.accepts });
      };
      const done = (s: WorkerStats | null): void => {
        w.child.removeListener('message', onMessage);
        w.child.removeListener('exit', gone);
        resolve(s);
      };
      const gone = (): void => done(null);
      w.child.on('message', onMessage);
      w.child.once('exit', gone);
      const ask: SupervisorMessage = { t: 'stats' };
      try {
        w.child.send(ask);
      } catch {
        done(null); // its channel closed: it is on its way out
      }
    });
  }

  private readonly onStop = (sig: NodeJS.Signals): void => {
    log.msg(`ioreactor serve: received ${sig}`);
    void this.stop();
  };

  private readonly onHup = (): void => {
    if (this.rolling) log.msg('ioreactor serve: received SIGHUP during a rolling restart; ignored');
    void this.rollingRestart();
  };

  private readonly onStats = (): void => {
    void this.stats().then((all) => {
      const text = all.map((s) => `worker ${s.id} (pid ${s.pid}): ${s.connections} open, ${s.accepts} accepted`).join('; ');
      log.msg(`ioreactor serve: ${text}`, { workers: all });
    });
  };
}
