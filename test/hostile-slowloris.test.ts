/**
 * Slowloris on every backend: 1000 connections that each send one byte a
 * second (3 rounds, from a child process) while a normal client keeps doing
 * echo round trips. The normal client's p99 latency stays within a generous
 * bound of a no-slowloris baseline measured in the same test (before and
 * after), every slow byte is echoed, and afterwards the fds are back and the process is idle.
 */
import { spawn } from 'child_process';
import * as net from 'net';
import * as path from 'path';
import * as readline from 'readline';
import type { IPv4Address } from '../lib/address';
import { Factory, Protocol } from '../lib/protocol';
import { createReactor } from '../lib/reactor';
import { forEachBackend } from './helpers/backends';
import { closed, expectIdleCpu, fdBaseline, warmUp, withTimeout } from './helpers/checks';
import { signal } from './helpers/tcp';

jest.setTimeout(40000);

const SLOW_CONNECTIONS = 1000;
const ROUNDS = 3;
const INTERVAL_MS = 1000;
const PAYLOAD = Buffer.alloc(32, 0x61);

/** Sequential echo round trips over one Node socket. */
class EchoTimer {
  private pending: { left: number; resolve: () => void } | null = null;

  constructor(private readonly sock: net.Socket) {
    sock.on('data', (d: Buffer) => {
      const p = this.pending;
      if (p === null) return;
      p.left -= d.length;
      if (p.left <= 0) {
        this.pending = null;
        p.resolve();
      }
    });
  }

  /** One round trip of PAYLOAD; resolves with its latency in ms. */
  async once(): Promise<number> {
    const t0 = process.hrtime.bigint();
    await new Promise<void>((resolve) => {
      this.pending = { left: PAYLOAD.length, resolve };
      this.sock.write(PAYLOAD);
    });
    return Number(process.hrtime.bigint() - t0) / 1e6;
  }
}

function p99(samples: number[]): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.99))];
}

forEachBackend('Hostile peers: slowloris', (backend) => {
  beforeAll(() => warmUp(backend));

  it(`${SLOW_CONNECTIONS} one-byte-a-second connections do not slow down a normal client`, async () => {
    const fds = await fdBaseline();
    const r = createReactor({ backend });
    let open = 0;
    const allIn = signal();
    const allGone = signal();
    class CountingEcho extends Protocol {
      override connectionMade(): void {
        if (++open === SLOW_CONNECTIONS + 1) allIn.resolve();
      }
      override dataReceived(data: Buffer): void {
        this.transport!.write(data);
      }
      override connectionLost(): void {
        if (--open === 1) allGone.resolve();
      }
    }
    const port = r.listenTCP(0, Factory.forProtocol(CountingEcho), { interface: '127.0.0.1', backlog: 1024 });
    const portNumber = (port.getHost() as IPv4Address).port;
    const sock = net.connect(portNumber, '127.0.0.1');
    const sockClosed = closed(sock);
    const fixture = path.join(__dirname, 'fixtures', 'slowloris.js');
    let child: ReturnType<typeof spawn> | null = null;
    try {
      await new Promise((resolve) => sock.once('connect', resolve));
      sock.setNoDelay(true);
      const timer = new EchoTimer(sock);
      for (let i = 0; i < 200; i++) await timer.once(); // warm-up, not measured
      const baseline: number[] = [];
      for (let i = 0; i < 500; i++) baseline.push(await timer.once());

      child = spawn(process.execPath, [fixture, String(portNumber), String(SLOW_CONNECTIONS), String(ROUNDS), String(INTERVAL_MS)], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const childClosed = closed(child);
      const lines = readline.createInterface({ input: child.stdout! });
      const seen = new Map<string, string>();
      const waiters = new Map<string, () => void>();
      lines.on('line', (line: string) => {
        const word = line.split(' ')[0];
        seen.set(word, line);
        waiters.get(word)?.();
      });
      const line = (word: string): Promise<string> =>
        seen.has(word) ? Promise.resolve(seen.get(word)!) : new Promise((resolve) => waiters.set(word, () => resolve(seen.get(word)!)));

      expect(await withTimeout(line('connected'), 15000, 'the slow clients to connect')).toBe(`connected ${SLOW_CONNECTIONS}`);
      await withTimeout(allIn.promise, 5000, 'the server to accept every slow client');
      const underLoad: number[] = [];
      let done = false;
      const finished = line('done').then((l) => ((done = true), l));
      while (!done) underLoad.push(await timer.once());
      const [, sent, echoed, failed] = (await withTimeout(finished, 15000, 'the slow clients to finish')).split(' ').map(Number);

      await withTimeout(childClosed, 5000, 'the slowloris child to exit');
      child = null;
      await withTimeout(allGone.promise, 5000, 'the server to see every slow client go');
      // The baseline again, now the slow clients are gone: the larger of the two is the
      // reference, so a burst of other work on the machine before the load is not mistaken for its effect.
      const after: number[] = [];
      for (let i = 0; i < 500; i++) after.push(await timer.once());

      expect(failed).toBe(0);
      expect(sent).toBe(SLOW_CONNECTIONS * ROUNDS);
      expect(echoed).toBe(sent);
      expect(underLoad.length).toBeGreaterThan(100);
      // Generous: other work shares the two cores. Slow peers add almost no work, so
      // a starved normal client would show up as hundreds of ms, not a few.
      const base = Math.max(p99(baseline), p99(after));
      const loaded = p99(underLoad);
      expect({ baselineP99: base, loadedP99: loaded, ok: loaded < Math.max(20 * base, base + 50) }).toMatchObject({ ok: true });
    } finally {
      child?.kill('SIGKILL');
      sock.destroy();
      await sockClosed;
      r.close();
    }
    await fds.expectBack();
    await expectIdleCpu();
  });
});
