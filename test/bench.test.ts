/**
 * The C10K harness end to end, in its quick mode: it builds, runs every
 * available server, verifies every echoed byte and HTTP response, computes
 * ratios and writes its report. Nothing here asserts a speed. The load
 * generator's checks are tested against servers that corrupt or drop bytes.
 */
import { spawn, spawnSync, execFile } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import * as tls from 'tls';
import type { IPv4Address } from '../lib/address';
import { Factory } from '../lib/protocol';
import { Reactor } from '../lib/reactor';
import { CertificateOptions } from '../lib/tls';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { Echo } from './helpers/tcp';

const ROOT = path.resolve(__dirname, '..');
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { ensureBuilt } = require('../bench/lib/build') as { ensureBuilt: () => { loadgen: string; cEcho: string } };

interface Row {
  ok: boolean;
  runs: number;
  errors: number;
  verify_errors: number;
  stalled: number;
  bytes_checked: number;
  failed?: string;
  median: Record<string, number | null>;
  ratios: Record<string, { net: number | null; c: number | null }>;
}
interface Scenario { name: string; metric: string; baseline: string; ceiling: string; rows: Record<string, Row> }
interface Doc { scenarios: Scenario[]; targets: { target: string; status: string }[] }

function run(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

describe('ioreactor-bench --quick', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-test-'));
  const json = path.join(dir, 'out.json');
  const html = path.join(dir, 'report.html');
  let result: { code: number | null; out: string; err: string };
  let doc: Doc;

  beforeAll(async () => {
    result = await run(process.execPath, ['bench/cli.js', '--quick', '--json', json, '--report', html], 90000);
    doc = JSON.parse(fs.readFileSync(json, 'utf8')) as Doc;
  }, 100000);

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('runs clean and prints a table, the targets and the report path', () => {
    expect(result.err).not.toMatch(/FAILED/);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/estimated total: \d+ s/);
    expect(result.out).toMatch(/echo-1k: .*median of 1/);
    expect(result.out).toContain('targets (where we stand; never asserted)');
    expect(result.out).toContain(`report: ${html}`);
  });

  test('every server that ran verified its bytes with zero errors', () => {
    expect(doc.scenarios.map((s) => s.name)).toEqual(['echo-1k', 'pipeline', 'http-1k', 'churn', 'ramp', 'idle-10k']);
    for (const sc of doc.scenarios) {
      const rows = Object.entries(sc.rows);
      expect(rows.map(([id]) => id)).toEqual(expect.arrayContaining([sc.baseline, sc.ceiling]));
      for (const [id, row] of rows) {
        const where = `${sc.name}/${id}`;
        expect([where, row.ok, row.failed]).toEqual([where, true, undefined]);
        expect([where, row.errors, row.verify_errors, row.stalled]).toEqual([where, 0, 0, 0]);
        if (sc.metric !== 'rss') {
          expect(row.bytes_checked).toBeGreaterThan(0);
          expect(row.median.ops_per_s).toBeGreaterThan(0);
          expect(row.median.p99_ms).toBeGreaterThan(0);
          expect(row.median.cpu_us_per_op).toBeGreaterThan(0);
        }
      }
    }
  });

  test('ratios are against the baseline and the ceiling measured in the same run', () => {
    for (const sc of doc.scenarios) {
      const key = sc.metric === 'rss' ? 'rss_per_conn_bytes' : sc.metric === 'ramp' ? 'hot_all_served_s' : 'ops_per_s';
      expect(sc.rows[sc.baseline].ratios[key].net).toBeCloseTo(1, 9);
      // memory has no ratio to C: its sockets' memory is the kernel's, which RSS does not count
      if (sc.metric === 'rss') expect(sc.rows.ioreactor.ratios[key].c).toBeNull();
      else expect(sc.rows[sc.ceiling].ratios[key].c).toBeCloseTo(1, 9);
      const ceilVsNet = sc.rows[sc.ceiling].ratios[key].net as number;
      const expected = (sc.rows[sc.ceiling].median[key] as number) / (sc.rows[sc.baseline].median[key] as number);
      expect(ceilVsNet).toBeCloseTo(expected, 9);
    }
    const ramp = doc.scenarios.find((s) => s.name === 'ramp') as Scenario;
    expect(ramp.rows.net.median.hot_all_served_s).toBeGreaterThan(0);
    expect(doc.targets.length).toBeGreaterThanOrEqual(10);
  });

  test('writes an HTML report: the targets first, a real table and an inline SVG chart per scenario', () => {
    const page = fs.readFileSync(html, 'utf8');
    expect(page.startsWith('<!doctype html>')).toBe(true);
    expect((page.match(/<svg /g) || []).length).toBeGreaterThanOrEqual(doc.scenarios.length);
    expect(page).not.toMatch(/<(script|link|img|pre)\b/);
    expect((page.match(/<table>/g) || []).length).toBe(doc.scenarios.length);
    expect(page.indexOf('class="targets"')).toBeLessThan(page.indexOf('<section>'));
    // every target not run here names the command that runs it
    const notRun = doc.targets.filter((t) => t.status === 'n/a (not run)');
    expect(notRun.length).toBeGreaterThan(0);
    for (const t of notRun as unknown as { run: string }[]) {
      expect(t.run).toMatch(/^npx ioreactor-bench [a-z0-9 -]+$/);
      expect(page).toContain(`run <code>${t.run}</code>`);
    }
    expect(page).toContain('<code>npx ioreactor-bench rate-50</code>');
  });
});

describe('the report says ratios in words', () => {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { phrase } = require('../bench/lib/report') as { phrase: (r: number | null, lower: boolean, ref: string) => [string, string] | null };

  test('throughput faster or slower, times and costs less or more, and which is good', () => {
    expect(phrase(1.5, false, 'net')).toEqual(['1.50× faster than net', 'good']);
    expect(phrase(0.5, false, 'net')).toEqual(['2.00× slower than net', 'bad']);
    expect(phrase(0.8, true, 'C')).toEqual(['1.25× less than C', 'good']);
    expect(phrase(2, true, 'C')).toEqual(['2.00× more than C', 'bad']);
    expect(phrase(1.001, true, 'net')).toEqual(['same as net', '']);
    expect([phrase(null, true, 'C'), phrase(0, true, 'C'), phrase(Infinity, false, 'C')]).toEqual([null, null, null]);
  });
});

describe('a ratio that two decimals would round onto its line', () => {
  /* eslint-disable @typescript-eslint/no-var-requires */
  const { summarise } = require('../bench/lib/runner') as { summarise: (runs: object[]) => Row };
  const { targets } = require('../bench/lib/report') as { targets: (results: object[]) => { target: string; status: string; value: string }[] };
  /* eslint-enable @typescript-eslint/no-var-requires */
  const round = (opsPerS: number): object => ({
    ok: true, ops: opsPerS, ops_per_s: opsPerS, lat_us: { p50: 100, p99: 1000, p999: 1000, max: 1000 },
    server: { cpu_us_per_op: 1, user_us_per_op: 0.5, sys_us_per_op: 0.5 },
  });
  const kv = (ours: number): { status: string; value: string } => {
    const sc = { name: 'kv-pipeline', metric: 'ops', baseline: 'net-kv', ceiling: 'c-kv', rows: { 'ioreactor-kv': summarise([round(ours)]), 'net-kv': summarise([round(1000)]) } };
    return targets([sc]).find((x) => x.target.startsWith('key-value pipelined')) as { status: string; value: string };
  };

  test('shows a third decimal, so the verdict reads right', () => {
    expect(kv(1498)).toMatchObject({ status: 'NOT met', value: expect.stringMatching(/^LineReceiver \(lineText\) 1\.498x /) });
    expect(kv(1520)).toMatchObject({ status: 'met', value: expect.stringMatching(/^LineReceiver \(lineText\) 1\.52x /) });
    expect(kv(1400)).toMatchObject({ status: 'NOT met', value: expect.stringMatching(/^LineReceiver \(lineText\) 1\.40x /) });
  });
});

describe("issue 16's HTTP targets are read from the Site, not the raw responder", () => {
  /* eslint-disable @typescript-eslint/no-var-requires */
  const { summarise } = require('../bench/lib/runner') as { summarise: (runs: object[]) => Row };
  const { targets } = require('../bench/lib/report') as { targets: (results: object[]) => { target: string; status: string; value: string }[] };
  /* eslint-enable @typescript-eslint/no-var-requires */
  const round = (opsPerS: number, p99Ms: number, cpuUs: number): object => ({
    ok: true, ops: opsPerS, ops_per_s: opsPerS, lat_us: { p50: 100, p99: p99Ms * 1000, p999: p99Ms * 1000, max: p99Ms * 1000 },
    server: { cpu_us_per_op: cpuUs, user_us_per_op: cpuUs / 4, sys_us_per_op: (cpuUs * 3) / 4 },
  });
  // the raw responder meets every line, the Site none: each Site line must say NOT met
  const scenario = (name: string): object => ({
    name, metric: 'ops', baseline: 'net-http', ceiling: 'c-http',
    rows: {
      'ioreactor-site': summarise([round(60000, 20, 10)]),
      'ioreactor-http': summarise([round(200000, 5, 6)]),
      'node-http': summarise([round(30000, 30, 20)]),
      'net-http': summarise([round(50000, 20, 12)]),
      'c-http': summarise([round(200000, 5, 6)]),
    },
  });
  const all = targets([scenario('http-1k'), scenario('http-pipeline')]);
  const find = (start: string): { status: string; value: string } => {
    const t = all.find((x) => x.target.startsWith(start));
    if (t === undefined) throw new Error(`no target line starting "${start}"`);
    return t;
  };

  test('hello @1k: 3x node http and p99 through Site', () => {
    expect(find('HTTP hello through Site @1k: >= 3x node http')).toMatchObject({ status: 'NOT met', value: expect.stringMatching(/^2\.00x throughput/) });
  });

  test('hello @1k: CPU per request against the C ceiling, through Site', () => {
    expect(find('HTTP hello through Site @1k: server CPU/request')).toMatchObject({ status: 'NOT met', value: expect.stringMatching(/^1\.67x/) });
  });

  test('pipelined x16 through Site against node http', () => {
    expect(find('HTTP pipelined x16 through Site')).toMatchObject({ status: 'NOT met', value: expect.stringMatching(/^2\.00x/) });
  });

  test('the raw responder keeps a line of its own, marked as shown', () => {
    expect(find('HTTP hello @1k, raw responder')).toMatchObject({ status: 'met', value: expect.stringMatching(/^6\.67x/) });
  });
});

describe('a fixed-rate round in which the load generator fell behind', () => {
  /* eslint-disable @typescript-eslint/no-var-requires */
  const { summarise } = require('../bench/lib/runner') as { summarise: (runs: object[]) => Row & { loadgen_behind: number } };
  const { targets } = require('../bench/lib/report') as { targets: (results: object[]) => { target: string; status: string; value: string }[] };
  /* eslint-enable @typescript-eslint/no-var-requires */
  const round = (p99Ms: number, behind: boolean): object => ({
    ok: true, ops: 1000, ops_per_s: 1000, rate: 1000, sent_per_s: 1000, loadgen_behind: behind,
    lat_us: { p50: 100, p99: p99Ms * 1000, p999: p99Ms * 1000, max: p99Ms * 1000 }, send_lag_us: { p99: behind ? 5000 : 10 },
    server: { cpu_us_per_op: 10, user_us_per_op: 4, sys_us_per_op: 6 },
  });

  test('gives no latency: the median is over the rounds that kept to the schedule', () => {
    const row = summarise([round(50, true), round(2, false), round(4, false)]);
    expect([row.median.p99_ms, row.median.cpu_us_per_op, row.loadgen_behind]).toEqual([3, 10, 1]);
    expect(summarise([round(50, true), round(60, true)]).median.p99_ms).toBeNull();
  });

  test('leaves a latency target not met, saying the load generator fell behind', () => {
    const sc = (ioRounds: object[]): object => ({
      name: 'rate-90', metric: 'rate', baseline: 'net', ceiling: 'c',
      rows: { ioreactor: summarise(ioRounds), net: summarise([round(20, false)]) },
    });
    const t = (results: object[]) => targets(results).find((x) => x.target.startsWith('fixed rate 90%')) as { status: string; value: string };
    expect(t([sc([round(5, true)])])).toMatchObject({ status: 'NOT met', value: expect.stringMatching(/^not measured: the load generator fell behind .* against ioreactor/) });
    expect(t([sc([round(5, false)])])).toMatchObject({ status: 'met' });
  });
});

describe('a ramp round in which some new connection was not served within the limit', () => {
  /* eslint-disable @typescript-eslint/no-var-requires */
  const { summarise } = require('../bench/lib/runner') as { summarise: (runs: object[]) => Row };
  const { addRatios, scenarioTable, targets } = require('../bench/lib/report') as {
    addRatios: <S>(sc: S) => S;
    scenarioTable: (sc: object, labels: object) => string;
    targets: (results: object[]) => { target: string; status: string; value: string }[];
  };
  /* eslint-enable @typescript-eslint/no-var-requires */
  // What the load generator prints for a round: hot_in_time of hot_total within hot_limit_s, and when the last was served.
  const round = (inTime: number, served: number): object => ({
    ok: true, ops: 1000, ops_per_s: 1000, bytes: 64000, hot_total: 1000, hot_in_time: inTime, hot_limit_s: 15,
    hot_all_served_s: served, hot_lat_ms: { p99: 5 }, server: { cpu_us_per_op: 10 },
  });

  test('is the server\'s result: its all-served time counts, and the row says how many rounds were late', () => {
    const sc = {
      name: 'ramp', metric: 'ramp', baseline: 'net', ceiling: 'c',
      rows: { ioreactor: summarise([round(1000, 0.18), round(1000, 0.17), round(1000, 0.19)]), net: summarise([round(955, 16.2), round(990, 15.5), round(1000, 12.7)]) },
    };
    expect(sc.rows.net).toMatchObject({ hot_late: 2, hot_fewest: { in_time: 955, total: 1000 }, hot_limit_s: 15, median: { hot_all_served_s: 15.5 } });
    expect(sc.rows.ioreactor).not.toHaveProperty('hot_late');
    const table = scenarioTable(addRatios(sc), { ioreactor: 'ioreactor', net: 'node net' });
    expect(table).toMatch(/node net .*ok \(.*; not every new connection served within 15 s in 2 of 3 rounds \(as few as 955 of 1,000 in time; the rest later\)\)/);
    expect(table).not.toMatch(/ioreactor .*not every new connection/);
    const late = { ...sc, rows: { ...sc.rows, ioreactor: summarise([round(955, 15.9), round(1000, 0.1), round(990, 15.2)]) } };
    expect(targets([addRatios(late)]).find((t) => t.target.startsWith('hot ramp: every'))).toMatchObject({ status: 'NOT met', value: expect.stringMatching(/^15\.200 s/) });
  });
});

describe('a fixed-rate round whose load generator lost its CPU', () => {
  /* eslint-disable @typescript-eslint/no-var-requires */
  const { summarise } = require('../bench/lib/runner') as { summarise: (runs: object[]) => Row & { loadgen_behind: number; rerun: number } };
  const { runAgain, RERUNS } = require('../bench/lib/placement') as { runAgain: (r: object, tries: number) => boolean; RERUNS: number };
  const { swapCpus } = require('../bench/lib/servers') as { swapCpus: (pin: object, pids: number[]) => boolean };
  /* eslint-enable @typescript-eslint/no-var-requires */
  const run = (lagMs: number, waitedMs: number, behind = lagMs > 1): object => ({
    ok: true, ops: 1000, ops_per_s: 1000, duration_s: 1, loadgen_behind: behind, loadgen_runq_wait: waitedMs / 1000,
    send_lag_us: { p99: lagMs * 1000 }, lat_us: { p50: 100, p99: 3000, p999: 4000, max: 5000 },
    server: { cpu_us_per_op: behind ? 99 : 10 },
  });

  test('is run again when the wait for its CPU explains the lag, at most RERUNS more times', () => {
    expect(runAgain(run(4.1, 5), 1)).toBe(true); // the sixth run's rate-50 net round 3: 5 ms without its CPU
    expect(runAgain(run(4.1, 5), RERUNS)).toBe(true);
    expect(runAgain(run(4.1, 5), RERUNS + 1)).toBe(false);
    expect(runAgain(run(0.2, 7), 1)).toBe(false); // waited, but kept to the schedule
    expect(runAgain(run(13.2, 3), 1)).toBe(false); // the sixth run's rate-90 c round 2: it could not send that fast
    expect(runAgain(run(3, 1), 1)).toBe(false);
    expect(runAgain({ ...run(4.1, 5), ok: false }, 1)).toBe(false); // its errors must stay in the row
  });

  test('the run it replaces counts for nothing, and the row says how many were replaced', () => {
    const lost = { ...run(5, 10), superseded: true };
    const row = summarise([lost, run(0.1, 0), run(0.1, 0)]);
    expect([row.runs, row.rerun, row.loadgen_behind, row.median.cpu_us_per_op, row.median.p99_ms]).toEqual([2, 1, 0, 10, 3]);
  });

  test('swaps the two CPUs of a two-CPU placement and leaves any other alone', () => {
    const pin = { on: true, nice: [], niceNote: '', cpus: { server: 0, loadgen: 1 }, server: [], loadgen: [], note: '' };
    expect(swapCpus(pin, [])).toBe(true);
    expect(pin).toMatchObject({ cpus: { server: 1, loadgen: 0 }, server: ['taskset', '-c', '1'], loadgen: ['taskset', '-c', '0'], note: 'server on CPU 1, loadgen on CPU 0 (taskset)' });
    expect(swapCpus({ on: false, server: [], loadgen: [], note: 'not pinned (--no-pin)' }, [])).toBe(false);
  });

  test('does not swap when a running server cannot be moved: the placement stays as it was', () => {
    const pin = { on: true, nice: [], niceNote: '', cpus: { server: 0, loadgen: 1 }, server: ['taskset', '-c', '0'], loadgen: ['taskset', '-c', '1'], note: 'as it was' };
    const sleeper = spawnSync('bash', ['-c', 'sleep 30 >/dev/null 2>&1 & echo $!'], { encoding: 'latin1' });
    const pid = Number(sleeper.stdout.trim());
    try {
      // the second pid cannot exist (above pid_max): taskset fails for it, after the first moved
      expect(swapCpus(pin, [pid, 2 ** 22 + 1])).toBe(false);
      expect(pin).toMatchObject({ cpus: { server: 0, loadgen: 1 }, note: 'as it was' });
      expect(spawnSync('taskset', ['-c', '-p', String(pid)], { encoding: 'latin1' }).stdout).toMatch(/: 0\n$/); // moved back
    } finally {
      process.kill(pid);
    }
  });
});

describe('ioreactor-bench fixed-rate and key-value, tiny', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-rate-'));
  const json = path.join(dir, 'out.json');
  let result: { code: number | null; out: string; err: string };
  let doc: Doc & { scenarios: (Scenario & { load: { rate?: number; mode: string; inflight: number } })[] };

  beforeAll(async () => {
    const args = ['bench/cli.js', 'rate-50', 'kv', '--quick', '--connections', '50', '--duration', '0.3', '--json', json, '--report', path.join(dir, 'r.html')];
    result = await run(process.execPath, args, 90000);
    doc = JSON.parse(fs.readFileSync(json, 'utf8'));
  }, 100000);

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('measures the ceiling first, then loads every server at half its rate, with every reply checked', () => {
    expect([result.code, result.err]).toEqual([0, expect.not.stringMatching(/FAILED/)]);
    expect(doc.scenarios.map((s) => s.name)).toEqual(['ceiling-1k', 'rate-50', 'kv-1k', 'kv-pipeline']);
    const ceiling = doc.scenarios[0].rows.c.median.ops_per_s as number;
    const rate = doc.scenarios[1];
    expect(rate.load.rate).toBe(Math.round(ceiling / 2));
    expect(Object.keys(rate.rows)).toEqual(['ioreactor', 'ioreactor-coalesce', 'net', 'c']);
    for (const sc of doc.scenarios) {
      for (const [id, row] of Object.entries(sc.rows)) {
        expect([sc.name, id, row.ok, row.errors, row.verify_errors, row.stalled]).toEqual([sc.name, id, true, 0, 0, 0]);
        expect(row.bytes_checked).toBeGreaterThan(0);
        // a fixed-rate row has latency unless the load generator fell behind in every round (a busy machine)
        const behindAll = sc.name === 'rate-50' && (row as Row & { loadgen_behind: number }).loadgen_behind === row.runs;
        if (!behindAll) expect(row.median.p999_ms).toBeGreaterThan(0);
      }
    }
    expect(doc.scenarios[1].rows.c.median.sent_per_s).toBeGreaterThan(0);
    expect(Object.keys(doc.scenarios[3].rows)).toEqual(['ioreactor-kv', 'ioreactor-kv-text', 'ioreactor-kv-sendline', 'net-kv', 'c-kv']);
    expect(doc.scenarios[3].load.inflight).toBe(16);
  });

  test('the terminal table of a fixed-rate scenario fits 120 columns', () => {
    const out = result.out;
    const lines = out.slice(out.indexOf('\nrate-50: ') + 1).split('\n\n')[0].split('\n');
    expect(lines[1]).toMatch(/^server +served\/s +p50 ms +p99 ms +p99\.9 ms +p99 xnet +CPU µs\/op/);
    expect(lines.length).toBe(6); // title, header, ioreactor, its coalescing row, net, C
    // The title is prose and the check column says what went wrong at whatever length it needs; the figures fit.
    for (const line of lines.slice(1)) expect([line, [...line.replace(/ {2}(check|ok|FAILED|ERRORS).*$/, '')].length <= 120]).toEqual([line, true]);
  });
});

describe('ioreactor-bench tls, tiny', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-tls-'));
  const json = path.join(dir, 'out.json');
  let result: { code: number | null; out: string; err: string };
  type TLSRow = Row & { tls?: { version: string; cipher: string; full: number; resumed: number; tickets: number } };
  let doc: Doc & { scenarios: (Scenario & { rows: Record<string, TLSRow> })[] };

  beforeAll(async () => {
    const args = ['bench/cli.js', 'tls', '--quick', '--connections', '20', '--duration', '0.3', '--json', json, '--report', path.join(dir, 'r.html')];
    result = await run(process.execPath, args, 90000);
    doc = JSON.parse(fs.readFileSync(json, 'utf8'));
  }, 100000);

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('every TLS server is spoken to in TLS 1.3 with the one suite, every byte checked', () => {
    expect([result.code, result.err]).toEqual([0, expect.not.stringMatching(/FAILED/)]);
    expect(doc.scenarios.map((s) => s.name)).toEqual(['tls-echo-1k', 'tls-handshake', 'tls-resume', 'https-1k', 'tls-idle-10k', 'tls-flood']);
    for (const sc of doc.scenarios) {
      expect([sc.name, sc.baseline]).toEqual([sc.name, sc.name === 'https-1k' ? 'node-https' : 'node-tls']);
      for (const [id, row] of Object.entries(sc.rows)) {
        expect([sc.name, id, row.ok, row.errors, row.verify_errors, row.stalled]).toEqual([sc.name, id, true, 0, 0, 0]);
        if (id === 'ioreactor') {
          expect(row.tls).toBeUndefined(); // the plaintext comparison stays plaintext
          continue;
        }
        expect([sc.name, id, row.tls && row.tls.version, row.tls && row.tls.cipher]).toEqual([sc.name, id, 'TLSv1.3', 'TLS_AES_128_GCM_SHA256']);
        if (sc.metric !== 'rss') expect(row.bytes_checked).toBeGreaterThan(0);
      }
    }
    expect(Object.keys(doc.scenarios[0].rows)).toEqual(['ioreactor-tls', 'node-tls', 'c-tls', 'ioreactor']);
    // the C ceiling runs where it has a row, and its ratios fill the xC column there only
    for (const sc of doc.scenarios) expect([sc.name, sc.ceiling]).toEqual([sc.name, sc.rows['c-tls'] ? 'c-tls' : null]);
    expect(doc.scenarios.filter((s) => s.rows['c-tls']).map((s) => s.name)).toEqual(['tls-echo-1k', 'tls-handshake', 'tls-resume']);
    expect(doc.scenarios[1].rows['node-tls'].ratios.ops_per_s.c).toBeCloseTo(
      (doc.scenarios[1].rows['node-tls'].median.ops_per_s as number) / (doc.scenarios[1].rows['c-tls'].median.ops_per_s as number), 6);
  });

  test('handshake counts: none resumed without --tls-resume, nearly all resumed with it', () => {
    const byName = (n: string) => doc.scenarios.find((s) => s.name === n) as Scenario & { rows: Record<string, TLSRow> };
    for (const row of Object.values(byName('tls-handshake').rows)) {
      expect(row.tls?.resumed).toBe(0);
      expect(row.tls?.full).toBeGreaterThan(20); // the setup's, then one per operation
    }
    for (const row of Object.values(byName('tls-resume').rows)) {
      expect(row.tls?.full).toBe(20); // each slot's first connect only
      expect(row.tls?.resumed).toBeGreaterThan(0);
    }
    // the C ceiling sends what the others send: two tickets a full handshake, none a resumed one
    for (const n of ['tls-handshake', 'tls-resume']) {
      const t = byName(n).rows['c-tls'].tls;
      expect([n, t?.tickets]).toEqual([n, 2 * (t?.full as number)]);
    }
    const flood = byName('tls-flood');
    for (const row of Object.values(flood.rows)) {
      expect(row.median.steady_p99_ms).toBeGreaterThan(0);
      expect(row.median.flood_p99_ms).toBeGreaterThan(0);
      expect(row.median.flood_over_steady).toBeCloseTo((row.median.flood_p99_ms as number) / (row.median.steady_p99_ms as number), 0);
    }
    const names = doc.targets.map((t) => t.target);
    expect(names.filter((t) => /TLS|HTTPS/.test(t))).toHaveLength(7);
    for (const t of doc.targets.filter((x) => /TLS|HTTPS/.test(x.target))) expect(t.status).not.toBe('n/a (not run)');
  });
});

const sockets = new Set<net.Socket>();

describe('ioreactor-bench arguments', () => {
  test('--help lists every scenario and exits 0', async () => {
    const r = await run(process.execPath, ['bench/cli.js', '--help'], 20000);
    expect(r.code).toBe(0);
    for (const name of ['echo-1k', 'echo-10k', 'pipeline', 'bulk', 'http-1k', 'churn', 'ramp', 'idle-10k', 'active-100-idle-10k']) {
      expect(r.out).toContain(`  ${name} `);
    }
  });

  test('an unknown scenario or a bad number is refused before anything runs', async () => {
    const a = await run(process.execPath, ['bench/cli.js', 'echo-1m'], 20000);
    expect([a.code, a.err.trim()]).toEqual([2, 'ioreactor-bench: unknown scenario echo-1m (see --help)']);
    const b = await run(process.execPath, ['bench/cli.js', '--duration', 'soon'], 20000);
    expect([b.code, b.err.trim()]).toEqual([2, 'ioreactor-bench: --duration needs a positive number, got soon']);
  });
});

/** An echo server that damages the stream (count: chunks so far on this
 * connection); over Node's tls on the harness's certificate when `secure`. */
function badServer(mangle: (data: Buffer, count: number) => Buffer | null, secure = false): Promise<net.Server> {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { readCert } = require('../bench/lib/tls-cert') as { readCert: () => { key: Buffer; cert: Buffer } };
  return new Promise((resolve) => {
    const onConnection = (s: net.Socket): void => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      let count = 0;
      s.on('data', (d) => {
        const out = mangle(Buffer.from(d), count++);
        if (out) s.write(out);
      });
      s.on('error', () => s.destroy());
    };
    const server = secure ? tls.createServer(readCert(), onConnection) : net.createServer(onConnection);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

/** Runs the load generator in HTTP mode against a server that answers every
 * request with `answer`; the run must fail with an error matching `why`. */
async function expectHttpFailure(answer: string, why: RegExp): Promise<void> {
  const { code, json } = await loadgenAgainst(await badServer(() => Buffer.from(answer)), ['--mode', 'http']);
  expect(code).toBe(2);
  expect(String(json.first_error)).toMatch(why);
}

/** A TCP relay in front of `target` (a TLS echo server): the client's bytes
 * go through as they come, the server's are handed to `down` (count: chunks
 * so far on this connection), which passes them on to the client its way. */
function relay(target: net.Server, down: (d: Buffer, count: number, client: net.Socket) => void): Promise<net.Server> {
  const port = (target.address() as net.AddressInfo).port;
  return new Promise((resolve) => {
    const server = net.createServer((client) => {
      const up = net.connect(port, '127.0.0.1');
      for (const s of [client, up]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
      }
      let count = 0;
      client.on('data', (d) => up.write(d));
      up.on('data', (d) => down(Buffer.from(d), count++, client));
      client.on('close', () => up.destroy());
      up.on('close', () => client.destroy());
      client.on('error', () => client.destroy());
      up.on('error', () => up.destroy());
    });
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function loadgen(port: number, extra: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; json: Record<string, unknown> }> {
  const { loadgen: bin } = ensureBuilt();
  const args = ['--port', String(port), '--conns', '4', '--duration', '0.5', '--warmup', '0.1', ...extra];
  // later options win: a test may set its own --conns, --duration, --warmup
  return new Promise((resolve) => {
    execFile(bin, args, { timeout: 20000, env: { ...process.env, ...env } }, (err, stdout) => {
      const code = err ? ((err as NodeJS.ErrnoException & { code?: number }).code as unknown as number) : 0;
      resolve({ code, json: JSON.parse(stdout.trim()) as Record<string, unknown> });
    });
  });
}

/** loadgen() against `server`, which is closed once the run is over, however it went. */
async function loadgenAgainst(server: net.Server, extra: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; json: Record<string, unknown> }> {
  try {
    return await loadgen((server.address() as net.AddressInfo).port, extra, env);
  } finally {
    server.close();
  }
}

/** An echo server that sits on chunk `at` of its one connection for `ms`
 * milliseconds (reading nothing meanwhile), then carries on. */
function stallingServer(at: number, ms: number): Promise<net.Server> {
  return badServer((d, n) => {
    if (n !== at) return d;
    const s = [...sockets][0];
    s.pause();
    setTimeout(() => { s.write(d); s.resume(); }, ms);
    return null;
  });
}

/** Who seals the load generator's records after a --tls handshake: its
 * AES-NI block cipher under OpenSSL's GCM mode where the CPU has AES-NI
 * (every x86-64 CI runner), else EVP; LOADGEN_TLS_EVP=1 asks for EVP. */
const AESNI = process.platform === 'linux' && process.arch === 'x64' && /^flags\s*:.*\baes\b/m.test(fs.readFileSync('/proc/cpuinfo', 'latin1'));
const RECORD_CIPHERS: [string, NodeJS.ProcessEnv, string][] = [
  ['by default', {}, AESNI ? 'aesni' : 'evp'],
  ['with LOADGEN_TLS_EVP=1', { LOADGEN_TLS_EVP: '1' }, 'evp'],
  // our sealed record spoilt inside the start-up check: the check must refuse it and keep EVP
  ['when the start-up check fails', { LOADGEN_TLS_SELFTEST_FLIP: '1' }, 'evp'],
];

/** One connection at 1,000 requests/s, up to 32 outstanding, a short warm-up. */
function rateArgs(duration: number): string[] {
  return ['--conns', '1', '--rate', '1000', '--inflight', '32', '--duration', String(duration), '--warmup', '0.05'];
}

/** An echo server whose connections after the first `busy` (the ramp's hot
 * ones) get their first echo `delayMs` late, or never when delayMs is null. */
function slowToNewServer(busy: number, delayMs: number | null): Promise<net.Server> {
  let made = 0;
  return new Promise((resolve) => {
    const server = net.createServer((s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
      const hot = made++ >= busy;
      let first = true;
      s.on('data', (d: Buffer) => {
        if (!hot || !first) return void s.write(d);
        first = false;
        if (delayMs !== null) setTimeout(() => s.write(d), delayMs);
      });
    });
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

/**
 * One round of 'a server that cannot keep up' (see there): the load
 * generator's JSON, and how long its 20 ms stop really lasted.
 */
async function cannotKeepUpRound(): Promise<{ json: Record<string, unknown>; stopMs: number }> {
  const { loadgen: bin } = ensureBuilt();
  let stopMs = Infinity;
  const script = [
    "const net = require('net'); let n = 0;",
    'net.createServer((s) => { s.on("error", () => s.destroy()); s.on("data", (d) => {',
    '  if (++n === 150) { process.stdout.write("stall\\n"); Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 900); }',
    '  s.write(d); }); }).listen(0, "127.0.0.1", function () { process.stdout.write(this.address().port + "\\n"); });',
    'process.stdin.on("end", () => process.exit(0)); process.stdin.resume();',
  ].join('\n');
  const server = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: string[] = [];
  let onLine: (line: string) => void = () => undefined;
  let child: ReturnType<typeof spawn> | undefined;
  let buf = '';
  server.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      lines.push(buf.slice(0, i));
      onLine(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
  try {
    const port = await new Promise<string>((resolve) => {
      onLine = resolve;
      if (lines.length) resolve(lines[0]);
    });
    const args = ['--port', port, '--conns', '40', '--rate', '1000', '--inflight', '32', '--duration', '1', '--warmup', '0.05'];
    const lg = spawn(bin, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    child = lg;
    let out = '';
    lg.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    const exited = new Promise<number | null>((resolve) => lg.on('exit', (code) => resolve(code)));
    onLine = (line) => {
      if (line !== 'stall') return;
      setTimeout(() => {
        const t0 = Date.now();
        lg.kill('SIGSTOP');
        setTimeout(() => {
          lg.kill('SIGCONT');
          stopMs = Date.now() - t0;
        }, 20);
      }, 200);
    };
    expect(await exited).toBe(0);
    return { json: JSON.parse(out.trim()) as Record<string, unknown>, stopMs };
  } finally {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    server.stdin.end();
    server.kill();
  }
}

/**
 * One round of 'a reply is timed when it reached our socket' (see there):
 * the load generator's JSON, whether it was stopped, and whether requests
 * came after the stop (it was stopped inside the window, not after it).
 */
async function rxLagRound(): Promise<{ json: Record<string, unknown>; stopped: boolean; sentAfterStop: boolean }> {
  const { loadgen: bin } = ensureBuilt();
  let lg: ReturnType<typeof spawn> | undefined;
  let quiet: NodeJS.Timeout | undefined;
  let stopped = false;
  let resumed = false;
  let sentAfterStop = false;
  let chunks = 0;
  const stopOnce = (): void => {
    if (stopped || lg === undefined) return;
    stopped = true;
    lg.kill('SIGSTOP');
    setTimeout(() => {
      resumed = true;
      lg!.kill('SIGCONT');
    }, 300);
  };
  const server = net.createServer((s) => {
    s.on('error', () => s.destroy());
    s.setNoDelay(true);
    s.on('data', (d: Buffer) => {
      if (resumed) sentAfterStop = true;
      setTimeout(() => { if (!s.destroyed) s.write(d); }, 100);
      if (quiet !== undefined) clearTimeout(quiet);
      if (++chunks > 500) quiet = setTimeout(stopOnce, 30); // (inside the window: not a pause of the set-up)
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = String((server.address() as net.AddressInfo).port);
  const args = ['--port', port, '--conns', '20', '--rate', '2000', '--inflight', '32', '--duration', '0.5', '--warmup', '0.05'];
  lg = spawn(bin, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    let out = '';
    lg.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    const exited = new Promise<number | null>((resolve) => lg!.on('exit', (code) => resolve(code)));
    expect(await exited).toBe(0);
    return { json: JSON.parse(out.trim()) as Record<string, unknown>, stopped, sentAfterStop };
  } finally {
    if (quiet !== undefined) clearTimeout(quiet);
    if (lg.exitCode === null) lg.kill('SIGKILL');
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe('the load generator in ramp mode', () => {
  const ramp = ['--mode', 'ramp', '--conns', '4', '--hot', '4', '--hot-limit', '0.2', '--duration', '0.4'];

  test('reports new connections served after --hot-limit as the server\'s result, not an error', async () => {
    // Served 0.6 s after their first request, past a 0.5 s limit: they count
    // until twice the limit, which leaves 0.4 s for this busy jest worker's
    // timer to be late.
    const { code, json } = await loadgenAgainst(await slowToNewServer(4, 600), [...ramp, '--hot-limit', '0.5']);
    expect([code, json.ok, json.errors, json.hot_total, json.hot_served, json.hot_in_time, json.hot_limit_s]).toEqual([0, true, 0, 4, 4, 0, 0.5]);
    expect(json.hot_all_served_s).toBeGreaterThan(0.5);
  }, 30000);

  test('fails a server that never serves them', async () => {
    const { code, json } = await loadgenAgainst(await slowToNewServer(4, null), ramp);
    expect([code, json.ok, json.hot_served]).toEqual([2, false, 0]);
    expect(String(json.first_error)).toMatch(/^4 of 4 hot connections never served \(0\.4 s after the burst\)/);
  }, 30000);

  test('is clean when every one is served in time', async () => {
    const { code, json } = await loadgenAgainst(await slowToNewServer(4, 0), ramp);
    expect([code, json.ok, json.hot_served, json.hot_in_time]).toEqual([0, true, 4, 4]);
    expect(json.hot_all_served_s).toBeLessThan(0.2);
  }, 30000);
});

describe('the load generator fails a server that', () => {
  afterEach(() => {
    for (const s of sockets) s.destroy();
  });

  test('corrupts an echoed byte', async () => {
    const server = await badServer((d, n) => {
      if (n === 5) d[d.length - 1] ^= 0x20;
      return d;
    });
    try {
      const { code, json } = await loadgen((server.address() as net.AddressInfo).port, []);
      expect(code).toBe(2);
      expect(json.ok).toBe(false);
      expect(json.verify_errors).toBeGreaterThan(0);
      expect(String(json.first_error)).toMatch(/echoed bytes differ/);
    } finally {
      server.close();
    }
  }, 30000);

  test('drops an echoed chunk', async () => {
    const { code, json } = await loadgenAgainst(await badServer((d, n) => (n === 5 ? null : d)), []);
    expect(code).toBe(2);
    expect(json.stalled).toBeGreaterThan(0);
  }, 30000);

  test('answers HTTP with the wrong body', async () => {
    await expectHttpFailure('HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nhello World\n', /HTTP body differs/);
  }, 30000);

  test('ends an HTTP header line with a bare LF', async () => {
    // Without the CRLF check the head never ends for the generator (it would stall, not fail).
    await expectHttpFailure('HTTP/1.1 200 OK\nContent-Length: 12\n\nhello world\n', /HTTP header line not ended by CRLF/);
  }, 30000);

  test('answers HTTP with an empty Content-Length and the number on the next line', async () => {
    // strtol skipped the CRLF and read 12 from the following line: accepted before
    await expectHttpFailure('HTTP/1.1 200 OK\r\nContent-Length: \r\n12\r\n\r\nhello world\n', /HTTP Content-Length -2, want 12/);
  }, 30000);

  test('answers HTTP with Content-Length only inside another header\'s value', async () => {
    await expectHttpFailure('HTTP/1.1 200 OK\r\nX-Note: content-length: 12\r\n\r\nhello world\n', /HTTP Content-Length -1, want 12/);
  }, 30000);

  test('passes right HTTP answers whatever the header case and order, split across writes', async () => {
    // The head is written in two parts (split inside a header name), and the
    // length is in a late header with odd case and spacing: all must be taken.
    const ok = 'HTTP/1.1 200 OK\r\nDate: Sat, 05 Dec 2026 12:00:00 GMT\r\nX-Content: c\r\ncONTENT-lENGTH:  12\r\n\r\nhello world\n';
    const cut = ok.indexOf('ENGTH');
    const server = await badServer((d) => {
      const s = [...sockets][0];
      // Nagle would hold the second part for the client's delayed ACK (~40 ms a request: 10 in the window under load)
      s.setNoDelay(true);
      s.write(ok.slice(0, cut));
      setImmediate(() => s.write(ok.slice(cut)));
      return null;
    });
    try {
      const { code, json } = await loadgen((server.address() as net.AddressInfo).port, ['--mode', 'http', '--conns', '1']);
      expect([code, json.ok, json.verify_errors]).toEqual([0, true, 0]);
      expect(json.ops).toBeGreaterThan(10);
    } finally {
      server.close();
    }
  }, 30000);

  test('sends key-value lines of the documented form and takes a right store\'s replies', async () => {
    // A store that answers right: the generator must pass it (exit 0), and
    // every line it wrote must be one of the two documented forms.
    const lines: string[] = [];
    const server = net.createServer((s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      const map = new Map<string, string>();
      let partial = '';
      s.on('data', (d) => {
        const got = (partial + d.toString('latin1')).split('\r\n');
        partial = got.pop()!;
        s.write(got.map((l) => {
          lines.push(l);
          const [verb, key, value] = l.split(' ');
          if (verb === 'SET') map.set(key, value);
          return verb === 'SET' ? 'STORED' : map.has(key) ? `VALUE ${map.get(key)!}` : 'NOT_FOUND';
        }).map((r) => r + '\r\n').join(''));
      });
      s.on('error', () => s.destroy());
    });
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    try {
      const { code, json } = await loadgen((server.address() as net.AddressInfo).port, ['--mode', 'kv', '--inflight', '16']);
      expect([code, json.ok, json.verify_errors]).toEqual([0, true, 0]);
      expect(lines.length).toBeGreaterThan(100);
      const form = /^(SET k[0-9a-f]+\.(\d+)\.(\d+) v\2-\d+|GET k[0-9a-f]+\.\d+\.\d+)$/;
      expect(lines.filter((l) => !form.test(l))).toEqual([]);
      expect(lines.some((l) => l.startsWith('SET'))).toBe(true);
    } finally {
      server.close();
    }
  }, 30000);

  test('gives a key-value GET the wrong value', async () => {
    const wrong = await badServer((d) => Buffer.from(d.toString().split('\r\n').filter(Boolean)
      .map((l) => (l.startsWith('SET') ? 'STORED' : 'VALUE v0-1')).join('\r\n') + '\r\n'));
    const { code, json } = await loadgenAgainst(wrong, ['--mode', 'kv']);
    expect(code).toBe(2);
    expect(String(json.first_error)).toMatch(/KV reply 'VALUE v0-1/);
  }, 30000);

  test('stalls, at a fixed rate: every request due during the stall is timed from when it was due', async () => {
    // One connection at 1,000/s; the server sits on the 250th chunk for 200 ms.
    // Open loop, ~200 requests fall due in that time, so p99 carries the stall;
    // a closed loop would have timed just one request that long.
    const { code, json } = await loadgenAgainst(await stallingServer(250, 200), rateArgs(0.6));
    expect([code, json.ok, json.rate, json.stalled]).toEqual([0, true, 1000, 0]);
    expect((json.lat_us as { p99: number }).p99).toBeGreaterThanOrEqual(100000);
  }, 30000);

  test('stalls across the end of the window, at a fixed rate: every request due in the window is timed, however late', async () => {
    // One connection at 1,000/s, a 0.5 s window from 50 ms on. The server sits
    // on the 300th chunk (due ~300 ms in) for 600 ms, past the window's end:
    // the ~250 requests due from then until the window closes are answered
    // only in the drain. They must be timed (from when they were due), not
    // left out because their replies came late: counted by reply time, the
    // run would time only the fast half and its p99 would hide the stall.
    const { code, json } = await loadgenAgainst(await stallingServer(300, 600), rateArgs(0.5));
    expect([code, json.ok, json.stalled]).toEqual([0, true, 0]);
    const lat = json.lat_us as { p99: number; count: number };
    const due = 1000 * (json.duration_s as number); // requests due in the window
    expect(Math.abs(lat.count - due)).toBeLessThanOrEqual(2);
    expect(lat.p99).toBeGreaterThanOrEqual(300000);
    expect(json.owed_at_end).toBeGreaterThan(0);
  }, 30000);

  test('corrupts an echoed byte inside TLS records (--tls)', async () => {
    const server = await badServer((d, n) => {
      if (n === 5) d[0] ^= 0x01;
      return d;
    }, true);
    try {
      const { code, json } = await loadgen((server.address() as net.AddressInfo).port, ['--tls']);
      expect([code, json.ok]).toEqual([2, false]);
      expect(String(json.first_error)).toMatch(/echoed bytes differ/);
      expect(json.tls).toEqual({ version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', full: 4, resumed: 0, tickets: 8, record_cipher: RECORD_CIPHERS[0][2] });
    } finally {
      server.close();
    }
  }, 30000);

  test('does not speak TLS when --tls asks for it: the handshake fails with OpenSSL\'s reason', async () => {
    const server = await badServer((d) => d); // a plaintext echo: our ClientHello comes back
    try {
      const { code, json } = await loadgen((server.address() as net.AddressInfo).port, ['--tls']);
      expect([code, json.ok]).toEqual([2, false]);
      expect(String(json.first_error)).toMatch(/conn \d+: TLS handshake: \S/);
    } finally {
      server.close();
    }
  }, 30000);

  test('is clean against a correct TLS server, and resumes with --tls-resume', async () => {
    const { code, json } = await loadgenAgainst(await badServer((d) => d, true), ['--tls-resume', '--mode', 'churn']);
    expect([code, json.ok, json.errors, json.stalled]).toEqual([0, true, 0, 0]);
    const t = json.tls as { full: number; resumed: number; tickets: number; record_cipher: string };
    expect(t.record_cipher).toBe('openssl'); // OpenSSL must see the tickets to resume with them
    // Node sends two tickets after a full handshake and none after a
    // resumed one: each slot resumes with the ticket it kept, every time
    expect([t.full, t.tickets]).toEqual([4, 8]);
    expect(t.resumed).toBeGreaterThan(4);
  }, 30000);

  test('with --tls (no resumption), a slot\'s reused SSL object never offers its old session', async () => {
    const { code, json } = await loadgenAgainst(await badServer((d) => d, true), ['--tls', '--mode', 'churn']);
    expect([code, json.ok, json.errors]).toEqual([0, true, 0]);
    const t = json.tls as { full: number; resumed: number; tickets: number };
    expect(t.resumed).toBe(0);
    expect(t.full).toBeGreaterThan(4);
    expect(t.tickets).toBe(2 * t.full);
  }, 30000);

  test.each(RECORD_CIPHERS)('--tls after the handshake, %s: records cut anywhere are put together, every byte checked, tickets counted', async (_how, env, cipher) => {
    const server = await badServer((d) => d, true);
    // the server's bytes reach the client ten at a time, each piece on a later turn of the relay's loop
    let queue = Promise.resolve();
    const cut = await relay(server, (d, _n, client) => {
      for (let at = 0; at < d.length; at += 10) {
        const piece = d.subarray(at, at + 10);
        queue = queue.then(() => new Promise((done) => setTimeout(() => client.write(piece, () => done()), 0)));
      }
    });
    try {
      const { code, json } = await loadgen((cut.address() as net.AddressInfo).port, ['--tls', '--duration', '1'], env);
      expect([code, json.ok, json.errors, json.stalled, json.first_error]).toEqual([0, true, 0, 0, '']);
      expect(json.ops).toBeGreaterThan(0);
      expect(json.tls).toEqual({ version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', full: 4, resumed: 0, tickets: 8, record_cipher: cipher });
    } finally {
      cut.close();
      server.close();
    }
  }, 30000);

  test.each(RECORD_CIPHERS)('--tls after the handshake, %s: a record whose ciphertext was changed on the way is refused by our record layer', async (_how, env) => {
    const server = await badServer((d) => d, true);
    const flip = await relay(server, (d, _n, client) => {
      if (d.length === 5 + 64 + 1 + 16) d[10] ^= 0x01; // an echoed 64 B record
      client.write(d);
    });
    try {
      const { code, json } = await loadgen((flip.address() as net.AddressInfo).port, ['--tls'], env);
      expect([code, json.ok]).toEqual([2, false]);
      expect(String(json.first_error)).toMatch(/conn \d+: TLS read: a record that does not decrypt/);
    } finally {
      flip.close();
      server.close();
    }
  }, 30000);

  test('is clean against a correct server (the checks are not always failing)', async () => {
    const { code, json } = await loadgenAgainst(await badServer((d) => d), ['--inflight', '4', '--size', '1000']);
    expect([code, json.ok, json.errors, json.stalled]).toEqual([0, true, 0, 0]);
    expect(json.ops).toBeGreaterThan(0);
  }, 30000);
});

describe('the load generator at a fixed rate, about itself', () => {
  afterEach(() => {
    for (const s of sockets) s.destroy();
  });

  test('says how busy it was, and a stall of its own is send lag that marks the round behind', async () => {
    // One connection at 1,000/s against a plain echo, a 0.6 s window from
    // 50 ms after the load starts; the load generator itself is stopped
    // (SIGSTOP) for 200 ms once the echo has seen 150 chunks (~150 ms into
    // the load, inside the window however long setup took). The ~200 sends
    // due meanwhile go out late, not the server's doing: they are send lag
    // (a third of the sends, so p99 carries it), and the round is marked
    // behind so that it gives no latency.
    let stop = (): void => undefined;
    const server = await badServer((d, n) => {
      if (n === 150) stop();
      return d;
    });
    const { loadgen: bin } = ensureBuilt();
    const args = ['--port', String((server.address() as net.AddressInfo).port), ...rateArgs(0.6)];
    try {
      const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      stop = () => {
        child.kill('SIGSTOP');
        setTimeout(() => child.kill('SIGCONT'), 200);
      };
      expect(await exited).toBe(0);
      const json = JSON.parse(out.trim()) as Record<string, unknown>;
      expect([json.ok, json.stalled, json.loadgen_behind]).toEqual([true, 0, true]);
      expect((json.send_lag_us as { p99: number }).p99).toBeGreaterThanOrEqual(100000);
      // the share of the window it spent working, not polling idle: a fraction
      expect(json.loadgen_busy).toBeGreaterThan(0);
      expect(json.loadgen_busy).toBeLessThanOrEqual(1);
    } finally {
      server.close();
    }
  }, 30000);
  test('a server that cannot keep up: a small lag of ours beside the queue it holds still gives a latency', async () => {
    // 40 connections at 1,000/s, a 1 s window. The server (a child process,
    // one thread) blocks for 900 ms once it has seen 150 chunks (~40 ms into
    // the window): most requests due in the window wait in its queue, p50
    // ~400 ms. 200 ms into that, the load generator itself is stopped for
    // 20 ms: ~20 sends go out up to 20 ms late, lag p99 several ms (~23
    // outstanding a connection of the 32 allowed, so none is owed). Before, any lag
    // p99 over 1 ms marked the round behind and it gave no latency; the
    // lateness is a small share of what the server held, so the round
    // counts now. (The stall of the load generator against a server that
    // keeps up, above, is still behind.)
    // The stop is made by a timer of this (busy) jest worker: a round whose
    // stop ran over 60 ms (late to end) measured another load generator's
    // lag, and is run again, up to three times.
    let round = await cannotKeepUpRound();
    for (let i = 1; i < 3 && round.stopMs > 60; i++) round = await cannotKeepUpRound();
    expect(round.stopMs).toBeLessThanOrEqual(60);
    const json = round.json;
    const lag = json.send_lag_us as { p50: number; p99: number };
    const lat = json.lat_us as { p50: number; p99: number };
    expect([json.ok, json.stalled, json.owed_at_end]).toEqual([true, 0, 0]);
    expect(lag.p99).toBeGreaterThan(1000); // over the old rule's 1 ms
    expect(lat.p50).toBeGreaterThan(4 * lag.p99);
    expect(json.loadgen_behind).toBe(false);
  }, 30000);

  test('a reply is timed when it reached our socket, not when we read it (rx_lag_us holds the difference)', async () => {
    // An echo server that answers each chunk 100 ms after it came (~1,100
    // requests in the warm-up and the window). Once the
    // window is over the load generator sends nothing more and waits for the
    // replies; when the server has heard nothing for 30 ms it stops the load
    // generator for 300 ms, so the replies to the window's last ~70 ms of
    // requests arrive while it is stopped and sit in its sockets. Timed by
    // the kernel's arrival stamp they take ~100 ms, and the wait shows as
    // our own receive lag; timed when read (the old code) they took up to
    // ~370 ms. A load generator descheduled for 30 ms inside the window (a
    // busy machine) is stopped there instead, and requests come after it
    // resumes: that round is run again, up to three times.
    let round = await rxLagRound();
    for (let i = 1; i < 3 && round.sentAfterStop; i++) round = await rxLagRound();
    expect([round.stopped, round.sentAfterStop]).toEqual([true, false]);
    const json = round.json;
    const rx = json.rx_lag_us as { max: number; count: number } | undefined;
    const lat = json.lat_us as { p50: number; max: number };
    expect(json.ok).toBe(true);
    expect(rx).toBeDefined();
    expect(rx!.max).toBeGreaterThan(150000); // replies that waited out the stop in our sockets
    expect(lat.p50).toBeGreaterThan(90000); // the server's 100 ms, measured (histogram buckets round down)
    expect(lat.max).toBeLessThan(250000); // and not our 300 ms stop on top of it
  }, 30000);
});

forEachBackend('the load generator against a server that renews tickets', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (reactor) => (r = reactor), () => r);

  test('--tls-resume offers each slot\'s newest ticket: every reconnect resumes, one fresh ticket each', async () => {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { readCert } = require('../bench/lib/tls-cert') as { readCert: () => { key: Buffer; cert: Buffer } };
    const { key, cert } = readCert();
    const opts = new CertificateOptions({ privateKey: key, certificate: cert, raiseMinimumTo: 'TLSv1.3' }); // renews (the default)
    const port = (r.listenSSL(0, Factory.forProtocol(Echo), opts, { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
    const { code, json } = await loadgen(port, ['--tls-resume', '--mode', 'churn']);
    expect([code, json.ok, json.errors]).toEqual([0, true, 0]);
    const t = json.tls as { full: number; resumed: number; tickets: number };
    expect(t.full).toBe(4);
    expect(t.resumed).toBeGreaterThan(4);
    expect(t.tickets).toBe(2 * t.full + t.resumed);
  }, 30000);
});
