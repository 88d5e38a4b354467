/**
 * The harness's WebSocket mode: the load generator's upgrade, framing and
 * broadcast checks against servers that get them wrong (and a `ws` server
 * that gets them right), and a tiny run of the `ws` scenario group through
 * the CLI, so a broken WebSocket load generator fails `npm test`. Nothing
 * here asserts a speed.
 */
import { execFile } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { WebSocketServer } from 'ws';

const ROOT = path.resolve(__dirname, '..');
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { ensureBuilt } = require('../bench/lib/build') as { ensureBuilt: () => { loadgen: string } };

type Json = Record<string, unknown>;
const sockets = new Set<net.Socket>();

function loadgen(port: number, extra: string[]): Promise<{ code: number; json: Json }> {
  const { loadgen: bin } = ensureBuilt();
  const args = ['--port', String(port), '--ws', '--conns', '4', '--duration', '0.4', '--warmup', '0.1', '--setup-limit', '5', ...extra];
  return new Promise((resolve) => {
    execFile(bin, args, { timeout: 20000 }, (err, stdout) => {
      const code = err ? ((err as NodeJS.ErrnoException & { code?: number }).code as unknown as number) : 0;
      resolve({ code, json: JSON.parse(stdout.trim()) as Json });
    });
  });
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

function close(server: net.Server): Promise<void> {
  for (const s of sockets) s.destroy();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Reads one unmasked frame header from the client's masked frame; the payload unmasked. */
function unmask(frame: Buffer): { op: number; payload: Buffer; len: number } | null {
  if (frame.length < 2) return null;
  let len = frame[1] & 0x7f;
  let off = 2;
  if (len === 126) {
    len = frame.readUInt16BE(2);
    off = 4;
  }
  if (frame.length < off + 4 + len) return null;
  const mask = frame.subarray(off, off + 4);
  const payload = Buffer.from(frame.subarray(off + 4, off + 4 + len));
  for (let i = 0; i < len; i++) payload[i] ^= mask[i & 3];
  return { op: frame[0] & 0x0f, payload, len: off + 4 + len };
}

function serverFrame(op: number, payload: Buffer): Buffer {
  const head = payload.length < 126 ? Buffer.from([0x80 | op, payload.length]) : Buffer.from([0x80 | op, 126, payload.length >> 8, payload.length & 255]);
  return Buffer.concat([head, payload]);
}

/**
 * A hand-made WebSocket server that can get things wrong: `accept` turns
 * the right Sec-WebSocket-Accept into what it sends; `reply` turns each
 * client frame (raw, and its unmasked payload) into what goes back, sent in
 * two pieces when `split`.
 */
function rawServer(accept: (right: string) => string, reply: (raw: Buffer, op: number, payload: Buffer, n: number) => Buffer | null, split = false): net.Server {
  return net.createServer((s) => {
    sockets.add(s);
    s.setNoDelay(true);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
    let buf = Buffer.alloc(0);
    let open = false;
    let n = 0;
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (!open) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const key = /sec-websocket-key: *(\S+)/i.exec(buf.subarray(0, end).toString())![1];
        const right = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
        s.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept(right)}\r\n\r\n`);
        buf = buf.subarray(end + 4);
        open = true;
      }
      let f;
      while ((f = unmask(buf)) !== null) {
        const out = reply(buf.subarray(0, f.len), f.op, f.payload, n++);
        if (out && split) {
          // its first 3 bytes, then the rest on the next turn: the client reads a part of a frame first
          s.write(out.subarray(0, 3));
          setImmediate(() => s.writable && s.write(out.subarray(3)));
        } else if (out) {
          s.write(out);
        }
        buf = buf.subarray(f.len);
      }
    });
  });
}

const echo = (raw: Buffer, op: number, payload: Buffer): Buffer => serverFrame(op, payload);

describe('the WebSocket load generator fails a server that', () => {
  test('answers the upgrade with the wrong Sec-WebSocket-Accept', async () => {
    const server = rawServer((right) => `x${right.slice(1)}`, echo);
    try {
      const { code, json } = await loadgen(await listen(server), []);
      expect([code, json.ok, json.ws]).toEqual([2, false, true]);
      expect(String(json.first_error)).toMatch(/Sec-WebSocket-Accept 'x.*', want /);
    } finally {
      await close(server);
    }
  }, 30000);

  test('sends its frames back without unmasking them', async () => {
    const server = rawServer((right) => right, (raw) => raw);
    try {
      const { code, json } = await loadgen(await listen(server), []);
      expect(code).toBe(2);
      expect(String(json.first_error)).toMatch(/server frame 82 c0: masked/);
    } finally {
      await close(server);
    }
  }, 30000);

  test('corrupts an echoed payload', async () => {
    const server = rawServer((right) => right, (raw, op, payload, n) => {
      if (n === 20) payload[payload.length - 1] ^= 1;
      return serverFrame(op, payload);
    });
    try {
      const { code, json } = await loadgen(await listen(server), ['--size', '300']);
      expect(code).toBe(2);
      expect(json.verify_errors).toBeGreaterThan(0);
      expect(String(json.first_error)).toMatch(/echoed WebSocket message \d+ differs \(300 bytes, want 300\)/);
    } finally {
      await close(server);
    }
  }, 30000);

  // 64 B binary: the size whose replies the load generator checks in place, without rbuf (ws.c, whole_reply)
  test('corrupts a 64-byte echoed payload, or echoes it as text', async () => {
    const wrongs: [(op: number, payload: Buffer) => Buffer, RegExp][] = [
      [(op, payload) => serverFrame(op, Buffer.concat([payload.subarray(0, 63), Buffer.from([payload[63] ^ 1])])), /echoed WebSocket message \d+ differs \(64 bytes, want 64\)/],
      [(op, payload) => serverFrame(1, payload), /unexpected WebSocket opcode 1/],
    ];
    for (const [wrong, why] of wrongs) {
      const server = rawServer((right) => right, (raw, op, payload, n) => (n === 20 ? wrong(op, payload) : serverFrame(op, payload)));
      try {
        const { code, json } = await loadgen(await listen(server), ['--size', '64']);
        expect(code).toBe(2);
        expect(json.verify_errors).toBeGreaterThan(0);
        expect(String(json.first_error)).toMatch(why);
      } finally {
        await close(server);
      }
    }
  }, 30000);

  test('leaves one connection out of a broadcast', async () => {
    const clients: net.Socket[] = [];
    const server = rawServer((right) => right, (raw, op, payload) => {
      if (op !== 1) return serverFrame(op, payload);
      for (const c of clients.slice(1)) c.write(serverFrame(1, payload));
      return null;
    });
    server.on('connection', (s: net.Socket) => clients.push(s));
    try {
      const { code, json } = await loadgen(await listen(server), ['--mode', 'broadcast', '--duration', '0.2']);
      expect([code, json.mode, json.stalled]).toEqual([2, 'broadcast', 1]);
      expect(String(json.first_error)).toBe('broadcast reached 3 of 4 connections');
    } finally {
      await close(server);
    }
  }, 30000);
});

describe('the WebSocket load generator, against a server that writes each reply in two pieces', () => {
  test('reads every reply whole, at 64 B and at 300 B', async () => {
    const server = rawServer((right) => right, echo, true);
    try {
      const port = await listen(server);
      for (const size of ['64', '300']) {
        const { code, json } = await loadgen(port, ['--size', size]);
        expect([size, code, json.ok, json.errors, json.stalled]).toEqual([size, 0, true, 0, 0]);
        expect(json.ops).toBeGreaterThan(0);
      }
    } finally {
      await close(server);
    }
  }, 30000);
});

describe('the WebSocket load generator against ws', () => {
  let wss: WebSocketServer;
  let port: number;

  beforeAll(async () => {
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise<void>((resolve) => wss.on('listening', () => resolve()));
    port = (wss.address() as net.AddressInfo).port;
    wss.on('connection', (ws) => {
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        if (!isBinary && data.subarray(0, 3).toString() === 'bc:') for (const c of wss.clients) c.send(data, { binary: false });
        else ws.send(data, { binary: isBinary });
      });
    });
  });

  afterAll(async () => {
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  });

  test('is clean echoing binary, text and 16-bit-length messages, several in flight', async () => {
    for (const extra of [[], ['--ws-text', '--inflight', '4'], ['--size', '1000', '--inflight', '2']]) {
      const { code, json } = await loadgen(port, extra);
      expect([extra, code, json.ok, json.errors, json.stalled]).toEqual([extra, 0, true, 0, 0]);
      expect(json.ops).toBeGreaterThan(0);
    }
  }, 60000);

  test('times broadcasts: every connection gets each one, counted once', async () => {
    const { code, json } = await loadgen(port, ['--mode', 'broadcast', '--conns', '20']);
    expect([code, json.ok, json.bc_conns]).toEqual([0, true, 20]);
    const all = json.bc_all_us as { p50: number; max: number; count: number };
    expect(all.count).toBe(json.ops);
    expect(all.count).toBeGreaterThan(0);
    expect((json.lat_us as { count: number }).count).toBe(20 * all.count);
    expect(all.max).toBeGreaterThanOrEqual(all.p50);
  }, 30000);

  test('refuses what it cannot do over WebSocket', async () => {
    for (const extra of [['--mode', 'churn'], ['--mode', 'kv'], ['--mode', 'broadcast', '--size', '8']]) {
      const { loadgen: bin } = ensureBuilt();
      const code = await new Promise<number>((resolve) => {
        execFile(bin, ['--port', String(port), '--ws', ...extra], (err) => resolve(err ? Number(err.code) : 0));
      });
      expect([extra, code]).toEqual([extra, 1]);
    }
  });
});

describe('ioreactor-bench ws, tiny', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-ws-'));
  const json = path.join(dir, 'out.json');
  let result: { code: number | null; out: string; err: string };
  type Row = { ok: boolean; failed?: string; bytes_checked: number; median: Record<string, number | null> };
  let doc: { scenarios: { name: string; baseline: string; ceiling: string | null; rows: Record<string, Row> }[]; targets: { target: string; status: string }[] };

  beforeAll(async () => {
    const args = ['bench/cli.js', 'ws', '--quick', '--connections', '40', '--duration', '0.3', '--json', json, '--report', path.join(dir, 'r.html')];
    result = await new Promise((resolve) => {
      execFile(process.execPath, args, { cwd: ROOT, timeout: 90000, maxBuffer: 1 << 22 }, (err, out, errText) => {
        resolve({ code: err ? Number(err.code ?? 1) : 0, out, err: errText });
      });
    });
    doc = JSON.parse(fs.readFileSync(json, 'utf8'));
  }, 100000);

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('runs every WebSocket scenario against ws and ioreactor, every message checked', () => {
    // ioreactor's server runs as soon as lib/websocket exists: from then on a broken one fails here
    const landed = fs.existsSync(path.join(ROOT, 'lib', 'websocket', 'index.ts'));
    expect([result.code, result.err]).toEqual([0, expect.not.stringMatching(/FAILED/)]);
    expect(doc.scenarios.map((s) => s.name)).toEqual(['ws-echo-1k', 'ws-echo-10k', 'ws-broadcast-10k', 'ws-idle-10k', 'wss-idle-10k']);
    for (const sc of doc.scenarios) {
      const base = sc.name.startsWith('wss') ? 'wss' : 'ws';
      expect(sc.baseline).toBe(base);
      // the C ceiling (bench/cserver/c-ws.c) speaks plain ws only
      const ceiling = base === 'ws' ? ['c-ws'] : [];
      expect([sc.ceiling, Object.keys(sc.rows)]).toEqual([ceiling[0] ?? null, [...(landed ? [`ioreactor-${base}`] : []), base, ...ceiling]]);
      for (const [id, row] of Object.entries(sc.rows)) {
        expect([sc.name, id, row.ok, row.failed]).toEqual([sc.name, id, true, undefined]);
        if (!sc.name.endsWith('idle-10k')) expect(row.bytes_checked).toBeGreaterThan(0);
      }
    }
    for (const id of ['ws', 'c-ws']) {
      const bc = doc.scenarios[2].rows[id].median;
      expect(bc.bc_all_p50_ms).toBeGreaterThan(0);
      expect(bc.bc_all_max_ms).toBeGreaterThanOrEqual(bc.bc_all_p50_ms as number);
    }
    expect(doc.scenarios[3].rows.ws.median.rss_per_conn_bytes).toEqual(expect.any(Number));
    const ws = doc.targets.filter((t) => t.target.startsWith('WebSocket'));
    expect(ws).toHaveLength(6);
    for (const t of ws) expect(['met', 'NOT met', ...(landed ? [] : ['n/a (not run)'])]).toContain(t.status);
    expect(doc.scenarios[4].rows.wss.median.rss_per_conn_bytes).toEqual(expect.any(Number));
    expect(result.out).toMatch(/ws-broadcast-10k: .*\n.*all p50 ms +xws +xC/);
    expect(result.out).toMatch(/\nC epoll WebSocket \(ceiling\) +[\d.,]+ +[\d.]+x +1\.00x/);
    expect(result.out).toMatch(/WebSocket broadcast to 10k: .*; the C ceiling [\d.]+ ms, [\d.]+× (faster|slower) than ws\)/);
  });
});
