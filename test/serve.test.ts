/**
 * `ioreactor serve`: N workers on the supervisor's held SO_REUSEPORT
 * sockets, a rolling restart (SIGHUP) under 500 echoing and 500 churning
 * connections with no failed connect, no reset and every echoed byte
 * checked, a worker killed with SIGKILL under load (only its connections
 * lost, a replacement serving), the balance across workers, a crash loop
 * backing off, and a graceful stop bounded by --grace.
 * SERVE_FIGURES=1 prints the measured figures (for the report).
 */
import * as net from 'net';
import { forEachBackend } from './helpers/backends';
import { ECHO_APP, EchoLoad, EchoConn, LoadCounts, noCounts, Served } from './helpers/serve-load';

jest.setTimeout(90000);

function figures(what: string, data: object): void {
  if (process.env.SERVE_FIGURES === '1') process.stdout.write(`SERVE_FIGURES ${what} ${JSON.stringify(data)}\n`);
}

function balance(counts: Iterable<number>): number {
  const v = [...counts];
  return Math.max(...v) / Math.min(...v);
}

forEachBackend('ioreactor serve', (backend) => {
  let served: Served | null = null;

  afterEach(async () => {
    if (served === null) return;
    served.child.kill('SIGKILL');
    await served.exited;
    served = null;
  });

  function serve(...args: string[]): Served {
    served = new Served(['--backend', backend, ...args]);
    return served;
  }

  it('rolls the workers over under load: every connect succeeds, nothing is reset, every echoed byte checks out', async () => {
    const s = serve(ECHO_APP, '--workers', '2', '--listen', '127.0.0.1:0', '--', 'fd');
    const port = await s.started(2);
    const before = new Set(s.matching(/worker \d \(pid (\d+)\) ready/).map((m) => m[1]));
    const load = new EchoLoad(port, 500, 500);
    await load.until(() => [...load.lasting].every((c) => c.exchanges >= 1));
    const mark = s.lines.length;
    s.child.kill('SIGHUP');
    await s.waitFor(/rolling restart done/, mark);
    const after = s.matching(/worker \d \(pid (\d+)\) ready/).map((m) => m[1]).filter((pid) => !before.has(pid));
    expect(after).toHaveLength(2);
    // Every lasting connection now on a new worker has echoed there too.
    await load.until(() => [...load.lasting].every((c) => c.worker !== null && after.includes(c.worker.split(':')[1]) && c.exchanges >= 1));
    await load.stop();
    const c: LoadCounts = load.counts;
    figures(`rolling-restart[${backend}]`, c);
    expect(c.connectFailures).toBe(0);
    expect(c.resets).toBe(0);
    expect(c.corruptBytes).toBe(0);
    expect(c.checkedBytes).toBeGreaterThan(1000 * 1024);
    expect(s.matching(/ error: /)).toEqual([]);
    expect(await s.stop()).toEqual({ code: 0, signal: null });
  });

  it('replaces a worker killed with SIGKILL; only its connections are lost; the load is balanced', async () => {
    const s = serve(ECHO_APP, '--workers', '2', '--listen', '127.0.0.1:0', '--', 'fd');
    const port = await s.started(2);
    const load = new EchoLoad(port, 1000, 0);
    await load.until(() => [...load.lasting].every((c) => c.exchanges >= 1));
    const byWorker = load.byWorker();
    expect(byWorker.size).toBe(2);
    const ratio = balance(byWorker.values());
    // The supervisor's own count (SIGUSR2) agrees with the clients'.
    const mark = s.lines.length;
    s.child.kill('SIGUSR2');
    const stats = await s.waitFor(/worker 0 \(pid (\d+)\): (\d+) open.*worker 1 \(pid (\d+)\): (\d+) open/, mark);
    expect(byWorker.get(`0:${stats[1]}`)).toBe(Number(stats[2]));
    expect(byWorker.get(`1:${stats[3]}`)).toBe(Number(stats[4]));
    figures(`balance[${backend}]`, { workers: Object.fromEntries(byWorker), busiestOverLeast: ratio });
    expect(ratio).toBeLessThanOrEqual(1.3);

    const victim = `0:${stats[1]}`;
    const conns = [...load.lasting];
    const theirs = conns.filter((c) => c.worker === victim);
    const ours = conns.filter((c) => c.worker !== victim);
    const killedAt = Date.now();
    const mark2 = s.lines.length;
    process.kill(Number(stats[1]), 'SIGKILL');
    // New connections right away: some hash to the dead worker's socket and wait there until its replacement accepts.
    let replacedAfter = -1;
    const probes: EchoConn[] = [];
    const probeCounts: LoadCounts = noCounts();
    const replaced = new Promise<void>((resolve) => {
      const seen = (): void => {
        if (replacedAfter < 0 && probes.some((p) => p.worker?.startsWith('0:') === true && p.worker !== victim)) {
          replacedAfter = Date.now() - killedAt;
          resolve();
        }
      };
      for (let i = 0; i < 20; i++) probes.push(new EchoConn(port, probeCounts, 16, 1, seen));
    });
    await Promise.all(theirs.map((c) => c.closed));
    await replaced;
    const ready = await s.waitFor(/worker 0 \(pid \d+\) ready, (\d+) ms after the last one died/, mark2);
    await Promise.all(probes.map((p) => p.closed));
    expect(probeCounts.connectFailures + probeCounts.resets + probeCounts.corruptBytes).toBe(0);
    expect(s.matching(/worker 0 \(pid \d+\) was killed by SIGKILL/)).toHaveLength(1);
    expect(s.matching(/restarting worker 0 in 0 s/)).toHaveLength(1);
    // The other worker's connections never noticed: each echoes again.
    const survivorsBefore = ours.map((c) => c.exchanges);
    await load.until(() => ours.every((c, i) => c.exchanges > survivorsBefore[i]));
    await load.stop();
    const lost = theirs.length;
    figures(`sigkill[${backend}]`, { lost, survivors: ours.length, replacementReadyMs: Number(ready[1]), firstServedByReplacementMs: replacedAfter, counts: load.counts });
    // Only the victim's connections closed under the load (each replaced by a new one).
    expect(load.counts.corruptBytes).toBe(0);
    expect(load.counts.connectFailures).toBe(0);
    expect(load.counts.resets + load.counts.goodbyes).toBeLessThanOrEqual(lost);
    expect(await s.stop()).toEqual({ code: 0, signal: null });
  });

  it.each([
    ['listenTCP on a held port (it could not bind the port itself)', 'port'],
    ['the systemd: endpoint', 'systemd'],
  ])('hands the held socket to %s', async (_what, how) => {
    const s = serve(ECHO_APP, '--workers', '2', '--listen', '127.0.0.1:0', '--', how);
    const port = await s.started(2);
    const counts: LoadCounts = noCounts();
    const c = new EchoConn(port, counts, 100, 3, () => {});
    await c.closed;
    expect(counts).toMatchObject({ connects: 1, exchanges: 3, corruptBytes: 0, resets: 0 });
    expect(await s.stop()).toEqual({ code: 0, signal: null });
  });

  it('stops gracefully on SIGTERM: a connection that ignores the hook is dropped when --grace ends', async () => {
    const s = serve(ECHO_APP, '--workers', '1', '--grace', '1', '--listen', '127.0.0.1:0', '--', 'stuck');
    const port = await s.started(1);
    const counts: LoadCounts = noCounts();
    let echoed: () => void = () => {};
    const once = new Promise<void>((resolve) => (echoed = resolve));
    const c: EchoConn = new EchoConn(port, counts, 100, Infinity, () => c.exchanges > 0 && echoed());
    await once;
    expect(await s.stop()).toEqual({ code: 0, signal: null });
    await c.closed;
    expect(s.matching(/1 of 1 connections still open after 1 s; dropping them/)).toHaveLength(1);
    expect(s.matching(/worker 0 \(pid \d+\) stopped: it exited with code 143/)).toHaveLength(1);
  });
});

describe('ioreactor serve, without a reactor', () => {
  it('restarts a crashing worker with growing delays, saying why it died', async () => {
    const s = new Served([ECHO_APP, '--workers', '1', '--', 'crash']);
    try {
      await s.waitFor(/restarting worker 0 in 0\.5 s/);
      const delays = s.matching(/restarting worker 0 in ([\d.]+) s/).map((m) => Number(m[1]));
      expect(delays).toEqual([0, 0.25, 0.5]);
      expect(s.matching(/worker 0 \(pid \d+\) exited with code 1/)).toHaveLength(3);
      expect(s.matching(/this app crashes/).length).toBeGreaterThanOrEqual(3);
      expect(s.matching(/ready/)).toEqual([]); // a worker whose main threw never counts as ready
      expect(await s.stop()).toEqual({ code: 0, signal: null });
    } finally {
      s.child.kill('SIGKILL');
    }
  });

  it('exits 1 saying why when it cannot listen', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const s = new Served([ECHO_APP, '--workers', '1', '--listen', `127.0.0.1:${(taken.address() as net.AddressInfo).port}`]);
      expect(await s.exited).toEqual({ code: 1, signal: null });
      expect(s.lines.join('\n')).toMatch(/EADDRINUSE/);
    } finally {
      taken.close();
    }
  });

  it('refuses bad arguments with the usage and status 2', async () => {
    for (const args of [[], ['--workers', '0', ECHO_APP], [ECHO_APP, '--listen', 'example.com:80'], [ECHO_APP, '--bogus']]) {
      const s = new Served(args);
      expect(await s.exited).toEqual({ code: 2, signal: null });
      expect(s.lines.join('\n')).toMatch(/usage: ioreactor serve APP/);
    }
  });
});
