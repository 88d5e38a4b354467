/**
 * Issue 15's "checked by": the real `redis-benchmark` against the
 * Redis-protocol server written from the README (bench/redis/). The command
 * reader must give the same replies however the stream is split, and a tiny
 * run of the check must finish with figures for both servers. Nothing here
 * asserts a speed.
 */
import { execFile, execFileSync } from 'child_process';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..');
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { Store, CommandReader } = require('../bench/redis/resp') as {
  Store: new () => object;
  CommandReader: new (store: object) => { feed(chunk: string): string };
};

const STREAM =
  '*3\r\n$3\r\nSET\r\n$5\r\nkey:1\r\n$5\r\nabcde\r\n' +
  '*2\r\n$3\r\nGET\r\n$5\r\nkey:1\r\n' +
  '*2\r\n$3\r\nGET\r\n$4\r\nnone\r\n' +
  'PING\r\n' +
  '*1\r\n$4\r\nFLUB\r\n';
const REPLIES = "+OK\r\n$5\r\nabcde\r\n$-1\r\n+PONG\r\n-ERR unknown command 'FLUB'\r\n";

describe('the Redis-protocol command reader', () => {
  test('answers a pipelined stream whole', () => {
    expect(new CommandReader(new Store()).feed(STREAM)).toBe(REPLIES);
  });

  test('answers the same stream fed one byte at a time', () => {
    const reader = new CommandReader(new Store());
    let out = '';
    for (const ch of STREAM) out += reader.feed(ch);
    expect(out).toBe(REPLIES);
  });
});

describe('redis-benchmark against the README-built server and Node net', () => {
  beforeAll(() => {
    // CI installs redis-tools (.ci/run); fail loudly when it is missing rather than skip.
    execFileSync('redis-benchmark', ['--version'], { stdio: 'ignore' });
  });

  test('a tiny run prints throughput and CPU per request for each configuration', async () => {
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['bench/redis/check.js', '--rounds', '1', '--requests', '2000'], { cwd: ROOT, timeout: 90000 },
        (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
    });
    const rows = out.split('\n').filter((l) => l.includes('throughput'));
    expect(rows.map((l) => l.slice(0, 32).trim())).toEqual(['50 connections', '1,000 connections', '50 connections, pipelined x16']);
    for (const row of rows) {
      const m = /ioreactor\s+(\d+) req\/s\s+([\d.]+) µs .* net\s+(\d+) req\/s\s+([\d.]+) µs/.exec(row);
      expect(m).not.toBeNull();
      const [io, net] = [Number(m?.[1]), Number(m?.[3])];
      expect([io > 0, net > 0]).toEqual([true, true]);
    }
  }, 120000);
});
