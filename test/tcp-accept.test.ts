/**
 * Batched accept and running out of fds, every backend: a burst of
 * connections takes far fewer wake-ups than connections (acceptBatch 1 takes
 * one per connection); EMFILE pauses accepting with one log line, no spin,
 * and accepting resumes by itself once fds are free.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { IPv4Address } from '../lib/address';
import { Factory, Protocol } from '../lib/protocol';
import { createReactor, Reactor } from '../lib/reactor';
import { forEachBackend } from './helpers/backends';
import { signal, until } from './helpers/tcp';

jest.setTimeout(20000);

const BURST = 1000;

/** Opens `n` client sockets at once; resolves when all are connected. */
async function burst(port: number, n: number): Promise<net.Socket[]> {
  const socks: net.Socket[] = [];
  await Promise.all(
    Array.from({ length: n }, () => {
      const s = net.connect(port, '127.0.0.1');
      socks.push(s);
      return new Promise<void>((res, rej) => {
        s.once('connect', () => res());
        s.once('error', rej);
      });
    }),
  );
  return socks;
}

/** CPU ticks (user + system) a process has used, from /proc. */
function cpuTicks(pid: number): number {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]);
}

forEachBackend('Batched accept', (backend) => {
  let r: Reactor;
  beforeEach(() => {
    r = createReactor({ backend });
  });
  afterEach(() => r.close());

  async function acceptBurst(acceptBatch?: number): Promise<{ accepts: number; acceptBatches: number }> {
    let made = 0;
    const all = signal();
    class Count extends Protocol {
      override connectionMade(): void {
        if (++made === BURST) all.resolve();
      }
    }
    const port = r.listenTCP(0, Factory.forProtocol(Count), { interface: '127.0.0.1', backlog: 2048, acceptBatch });
    const socks = await burst((port.getHost() as IPv4Address).port, BURST);
    await all.promise;
    const stats = port.stats();
    if (process.env.IOREACTOR_TEST_VERBOSE) console.log(backend, acceptBatch, stats, r.stats());
    for (const s of socks) s.destroy();
    await until(() => port.stats().connections === 0, 10000, 'connections to close');
    await port.stopListening();
    return stats;
  }

  it(`a burst of ${BURST} connections takes far fewer accept wake-ups than connections`, async () => {
    const before = r.stats();
    const s = await acceptBurst();
    expect(s.accepts).toBe(BURST);
    expect(s.acceptBatches).toBeLessThan(BURST / 4);
    const after = r.stats();
    expect(after.accepts - before.accepts).toBe(BURST);
    expect(after.acceptBatches - before.acceptBatches).toBeLessThan(BURST / 4);
  });

  it('acceptBatch: 1 accepts one connection per wake-up', async () => {
    const s = await acceptBurst(1);
    expect(s.accepts).toBe(BURST);
    expect(s.acceptBatches).toBeGreaterThanOrEqual(BURST * 0.95);
    expect(r.stats().acceptBatches).toBeGreaterThanOrEqual(BURST * 0.95);
  });

  it('EMFILE: one log line, no spin, accepting resumes by itself once fds are free', async () => {
    const script = path.join(__dirname, 'fixtures', 'emfile-server.js');
    const child = spawn('bash', ['-c', `ulimit -n 64 && exec "${process.execPath}" "${script}" ${backend}`], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let out = '';
    const waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      out += d;
      for (const w of waiters.slice()) {
        const m = out.match(w.re);
        if (m) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    });
    const waitFor = (re: RegExp): Promise<RegExpMatchArray> =>
      new Promise((resolve) => {
        const m = out.match(re);
        if (m) resolve(m);
        else waiters.push({ re, resolve });
      });
    const clients: net.Socket[] = [];
    try {
      const port = Number((await waitFor(/port (\d+)/))[1]);
      expect(out).toMatch(/filled \d+ EMFILE/);
      for (let i = 0; i < 10; i++) {
        const s = net.connect(port, '127.0.0.1');
        s.on('error', () => {});
        clients.push(s);
      }
      await waitFor(/log error .*EMFILE/);
      // A bounded window: the paused listener must not spin.
      const t0 = cpuTicks(child.pid!);
      await new Promise((res) => setTimeout(res, 1500));
      const used = cpuTicks(child.pid!) - t0;
      expect(used).toBeLessThan(30); // < 20% of one core over 1.5 s (100 ticks/s)
      expect(out).not.toMatch(/accepted/);
      child.stdin.write('free\n');
      await waitFor(/accepted 10\n/);
      const errorLines = out.split('\n').filter((l) => /^log error/.test(l));
      expect(errorLines).toHaveLength(1);
      expect(errorLines[0]).toMatch(/out of file descriptors \(EMFILE\)/);
    } finally {
      for (const s of clients) s.destroy();
      child.stdin.write('exit\n');
      await new Promise((res) => (child.exitCode !== null ? res(null) : child.once('exit', res)));
    }
  });
});
