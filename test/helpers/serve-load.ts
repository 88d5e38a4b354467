/**
 * For test/serve.test.ts: `ioreactor serve` as a child process (its log
 * lines awaited as events), and a Node load client of echoing and churning
 * connections to test/fixtures/serve-echo.js that checks every echoed byte
 * and counts failed connects, resets and graceful goodbyes.
 */
import { ChildProcess, spawn } from 'child_process';
import * as net from 'net';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'ioreactor.js');
/** The echo app the serve tests run. */
export const ECHO_APP = path.join(ROOT, 'test', 'fixtures', 'serve-echo.js');

/** A running `ioreactor serve` and its stderr, line by line. */
export class Served {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  private waiters: { re: RegExp; from: number; resolve: (m: RegExpExecArray) => void }[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [BIN, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let rest = '';
    const onText = (chunk: Buffer): void => {
      rest += chunk.toString();
      const parts = rest.split('\n');
      rest = parts.pop() ?? '';
      for (const line of parts) this.lines.push(line);
      this.check();
    };
    this.child.stderr!.on('data', onText);
    this.child.stdout!.on('data', onText);
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  /** The first line from index `from` on matching `re` (waits for it). */
  waitFor(re: RegExp, from = 0): Promise<RegExpExecArray> {
    return new Promise((resolve) => {
      this.waiters.push({ re, from, resolve });
      this.check();
    });
  }

  /** Lines matching `re` so far. */
  matching(re: RegExp): RegExpExecArray[] {
    return this.lines.map((l) => re.exec(l)).filter((m): m is RegExpExecArray => m !== null);
  }

  /** Starts it and waits for the port and `workers` ready lines. */
  async started(workers: number): Promise<number> {
    const m = await this.waitFor(/listening on 127\.0\.0\.1:(\d+)/);
    for (let i = 0; i < workers; i++) await this.waitFor(new RegExp(`worker ${i} \\(pid \\d+\\) ready`));
    return Number(m[1]);
  }

  /** SIGTERM, then the exit. */
  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }

  private check(): void {
    this.waiters = this.waiters.filter((w) => {
      for (let i = w.from; i < this.lines.length; i++) {
        const m = w.re.exec(this.lines[i]);
        if (m !== null) {
          w.resolve(m);
          return false;
        }
      }
      return true;
    });
  }
}

/** What the load saw. */
export interface LoadCounts {
  /** Connections established. */
  connects: number;
  /** Connection attempts that failed. */
  connectFailures: number;
  /** Connections reset (ECONNRESET, EPIPE) or failing otherwise after connecting. */
  resets: number;
  /** Echoed bytes that differed from what was sent. */
  corruptBytes: number;
  /** Echoed bytes checked. */
  checkedBytes: number;
  /** Request/echo round trips completed. */
  exchanges: number;
  /** Connections the server closed cleanly (FIN) while an echo was due: a graceful shutdown. */
  goodbyes: number;
}

/** All counts at zero. */
export function noCounts(): LoadCounts {
  return { connects: 0, connectFailures: 0, resets: 0, corruptBytes: 0, checkedBytes: 0, exchanges: 0, goodbyes: 0 };
}

/** One client connection: greets, then echoes `chunk`-byte requests in lockstep. */
export class EchoConn {
  /** "id:pid" of the worker serving it, once greeted. */
  worker: string | null = null;
  exchanges = 0;
  closed: Promise<void>;
  private readonly socket: net.Socket;
  private greeting = '';
  private expected: Buffer | null = null;
  private got = 0;
  private seq = 0;
  private ending = false;
  private connected = false;

  constructor(
    port: number,
    private readonly counts: LoadCounts,
    private readonly chunk: number,
    /** Round trips to do before closing (Infinity: until end()). */
    private readonly rounds: number,
    private readonly onEvent: () => void,
  ) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.on('connect', () => {
      this.connected = true;
      counts.connects++;
    });
    this.socket.on('data', (d: Buffer) => this.onData(d));
    this.socket.on('end', () => {
      if (!this.ending) counts.goodbyes++;
    });
    this.socket.on('error', () => {
      if (this.connected) counts.resets++;
      else counts.connectFailures++;
    });
    this.closed = new Promise((resolve) =>
      this.socket.on('close', () => {
        resolve();
        this.onEvent();
      }),
    );
  }

  /** Stops after the current round trip. */
  end(): void {
    if (this.ending) return;
    this.ending = true;
    if (this.expected === null) this.socket.end();
  }

  /** Closes at once. */
  destroy(): void {
    this.ending = true;
    this.socket.destroy();
  }

  private onData(d: Buffer): void {
    let at = 0;
    if (this.worker === null) {
      const nl = d.indexOf(10);
      this.greeting += d.subarray(0, nl < 0 ? d.length : nl).toString();
      if (nl < 0) return;
      this.worker = this.greeting;
      at = nl + 1;
      this.onEvent();
      this.next();
    }
    const exp = this.expected;
    if (exp === null) {
      this.counts.corruptBytes += d.length - at;
      return;
    }
    const start = at;
    for (; at < d.length && this.got < exp.length; at++, this.got++) {
      if (d[at] !== exp[this.got]) this.counts.corruptBytes++;
    }
    this.counts.checkedBytes += at - start;
    this.counts.corruptBytes += d.length - at; // more than was sent
    if (this.got < exp.length) return;
    this.exchanges++;
    this.counts.exchanges++;
    this.expected = null;
    this.onEvent();
    this.next();
  }

  private next(): void {
    if (this.ending || this.exchanges >= this.rounds) {
      this.ending = true;
      this.socket.end();
      return;
    }
    const b = Buffer.allocUnsafe(this.chunk);
    const s = this.seq++;
    for (let i = 0; i < b.length; i++) b[i] = (s * 31 + i * 7) & 0xff;
    this.expected = b;
    this.got = 0;
    this.socket.write(b);
  }
}

/** `echo` lasting connections and `churn` connections that each do one round trip and are replaced. */
export class EchoLoad {
  readonly counts: LoadCounts = noCounts();
  readonly lasting = new Set<EchoConn>();
  private readonly churning = new Set<EchoConn>();
  private running = true;
  private waiters: { pred: () => boolean; resolve: () => void }[] = [];

  constructor(
    private readonly port: number,
    echo: number,
    churn: number,
  ) {
    for (let i = 0; i < echo; i++) this.openLasting();
    for (let i = 0; i < churn; i++) this.openChurning();
  }

  /** Resolves once `pred()` holds (checked on every connection event). */
  until(pred: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push({ pred, resolve });
      this.event();
    });
  }

  /** Every lasting connection's worker, by "id:pid". */
  byWorker(): Map<string, number> {
    const m = new Map<string, number>();
    for (const c of this.lasting) if (c.worker !== null) m.set(c.worker, (m.get(c.worker) ?? 0) + 1);
    return m;
  }

  /** Stops opening connections, lets each finish its round trip, and waits for all to close. */
  async stop(): Promise<void> {
    this.running = false;
    const all = [...this.lasting, ...this.churning];
    for (const c of all) c.end();
    await Promise.all(all.map((c) => c.closed));
  }

  private openLasting(): void {
    const c = new EchoConn(this.port, this.counts, 1024, Infinity, this.event);
    this.lasting.add(c);
    // A lasting connection the server closed gracefully is replaced.
    void c.closed.then(() => {
      if (!this.running) return;
      this.lasting.delete(c);
      this.openLasting();
    });
  }

  private openChurning(): void {
    const c = new EchoConn(this.port, this.counts, 64, 1, this.event);
    this.churning.add(c);
    void c.closed.then(() => {
      this.churning.delete(c);
      if (this.running) this.openChurning();
    });
  }

  private readonly event = (): void => {
    this.waiters = this.waiters.filter((w) => {
      if (!w.pred()) return true;
      w.resolve();
      return false;
    });
  };
}
