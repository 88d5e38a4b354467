/**
 * The harness's --workers N, tiny: ioreactor serve and Node cluster with 2
 * workers each run next to the one-process servers, every echoed byte is
 * checked, and the report gives throughput against one process, each
 * worker's share, and says whether the machine could show scaling at all.
 * Nothing here asserts a speed.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..');

interface WorkerRow { scenario: string; server: string; ops_per_s: number; times_one_process: number; target: number; shares: number[] }

describe('ioreactor-bench --workers 2', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-workers-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('runs ioreactor serve and node cluster, reporting throughput and per-worker shares', async () => {
    const json = path.join(dir, 'out.json');
    const args = ['bench/cli.js', 'echo-1k', '--workers', '2', '--quick', '--connections', '200', '--duration', '0.3',
      '--servers', 'ioreactor,net,ioreactor-serve,net-cluster', '--json', json, '--report', path.join(dir, 'r.html')];
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90000);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(timer);
    expect([code, out]).toEqual([0, expect.not.stringMatching(/FAILED/)]);
    const doc = JSON.parse(fs.readFileSync(json, 'utf8')) as { workers: WorkerRow[]; scenarios: { rows: Record<string, { ok: boolean; bytes_checked: number }> }[] };
    const rows = doc.scenarios[0].rows;
    expect(Object.keys(rows)).toEqual(['ioreactor', 'net', 'ioreactor-serve', 'net-cluster']);
    for (const r of Object.values(rows)) expect([r.ok, r.bytes_checked > 0]).toEqual([true, true]);
    expect(doc.workers.map((w) => w.server)).toEqual(['ioreactor-serve', 'net-cluster']);
    for (const w of doc.workers) {
      expect(w.shares).toHaveLength(2);
      expect(w.shares.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(200);
      expect(w.target).toBeCloseTo(1.6);
      expect(w.times_one_process).toBeGreaterThan(0);
    }
    const cpus = os.availableParallelism();
    expect(out).toMatch(cpus > 2 ? /the scaling figure is meaningful if the machine was otherwise idle/ : /these figures show no scaling and none is claimed/);
  }, 100000);
});
