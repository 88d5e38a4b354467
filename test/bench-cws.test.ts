/**
 * The harness's C WebSocket ceiling (bench/cserver/c-ws.c): it builds,
 * upgrades a real `ws` client, echoes, broadcasts to every connection (a
 * slow reader's copies kept in order), answers a close and closes a
 * connection that sends a bad frame without disturbing the others, and
 * exits when its stdin ends. Nothing here asserts a speed.
 */
import { ChildProcess, spawn } from 'child_process';
import * as path from 'path';
import WebSocket from 'ws';
import { RawClient, clientFrame, closeBody } from './helpers/ws-raw';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const { ensureBuilt } = require('../bench/lib/build') as { ensureBuilt: () => { cWs: string } };

let server: ChildProcess;
let port: number;
const clients: WebSocket[] = [];
const raws: RawClient[] = [];

beforeAll(async () => {
  const bin = ensureBuilt().cWs;
  expect(path.basename(bin)).toBe('c-ws');
  server = spawn(bin, [], { stdio: ['pipe', 'pipe', 'inherit'] });
  port = await new Promise<number>((resolve, reject) => {
    server.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().split('\n')[0])));
    server.once('exit', (code) => reject(new Error(`c-ws exited (${code}) before listening`)));
  });
}, 60000);

afterEach(() => {
  for (const c of clients.splice(0)) c.terminate();
  for (const r of raws.splice(0)) r.destroy();
});

afterAll(() => {
  if (server.exitCode === null) server.kill('SIGKILL');
});

function open(): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { perMessageDeflate: false });
  clients.push(ws);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function messages(ws: WebSocket, n: number): Promise<{ data: Buffer; isBinary: boolean }[]> {
  const got: { data: Buffer; isBinary: boolean }[] = [];
  return new Promise((resolve) => {
    const on = (data: Buffer, isBinary: boolean): void => {
      got.push({ data, isBinary });
      if (got.length < n) return;
      ws.off('message', on);
      resolve(got);
    };
    ws.on('message', on);
  });
}

/** Resolves when `done()` holds, checked on each of the raw client's events. */
function until(r: RawClient, done: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => {
      if (!done()) return;
      r.socket.off('data', check);
      r.socket.off('close', check);
      resolve();
    };
    r.socket.on('data', check);
    r.socket.on('close', check);
    check();
  });
}

test('upgrades a ws client and echoes binary and text messages', async () => {
  const ws = await open();
  const got = messages(ws, 2);
  ws.send(Buffer.from([0, 1, 2, 255]));
  ws.send('hello');
  expect(await got).toEqual([
    { data: Buffer.from([0, 1, 2, 255]), isBinary: true },
    { data: Buffer.from('hello'), isBinary: false },
  ]);
});

test('a "bc:" text message goes to every open connection, its sender included', async () => {
  const [a, b, c] = await Promise.all([open(), open(), open()]);
  const all = Promise.all([a, b, c].map((ws) => messages(ws, 1)));
  b.send('bc:1:hello');
  for (const [m] of await all) expect(m).toEqual({ data: Buffer.from('bc:1:hello'), isBinary: false });
});

test('a reader that stops reading gets every broadcast later, in order', async () => {
  const [slow, sender] = await Promise.all([open(), open()]);
  const n = 200; // 6 MB: more than the kernel holds here (4 MB send buffer at most, a small window), so the server keeps ~2 MB
  const body = (i: number): string => `bc:${i}:`.padEnd(30000, String.fromCharCode(97 + (i % 26)));
  (slow as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
  const own = messages(sender, n);
  for (let i = 0; i < n; i++) sender.send(body(i));
  expect((await own).map((m) => m.data.toString())).toEqual(Array.from({ length: n }, (_, i) => body(i)));
  const late = messages(slow, n);
  (slow as unknown as { _socket: { resume(): void } })._socket.resume();
  expect((await late).map((m) => m.data.toString())).toEqual(Array.from({ length: n }, (_, i) => body(i)));
});

test('a frame split across writes is put back together', async () => {
  const r = new RawClient(port);
  raws.push(r);
  const frame = clientFrame(2, Buffer.alloc(300, 7));
  r.send(frame.subarray(0, 1));
  await until(r, () => r.head !== '');
  r.send(frame.subarray(1, 5));
  r.send(frame.subarray(5, 100));
  setImmediate(() => r.send(frame.subarray(100)));
  await until(r, () => r.frames.length === 1);
  expect(r.frames[0]).toEqual({ fin: true, rsv1: false, opcode: 2, payload: Buffer.alloc(300, 7) });
});

test('a close frame is answered with its code, then the connection closes', async () => {
  const r = new RawClient(port);
  raws.push(r);
  r.send(clientFrame(8, closeBody(1000, 'bye')));
  await until(r, () => r.ended);
  expect([r.head.split('\r\n')[0], r.closeCode()]).toEqual(['HTTP/1.1 101 Switching Protocols', 1000]);
});

test.each([
  ['an unmasked frame', clientFrame(2, 'x', { mask: false })],
  ['a fragment', clientFrame(1, 'x', { fin: false })],
  ['RSV bits', clientFrame(2, 'x', { rsv: 4 })],
  ['an unknown opcode', clientFrame(3, 'x')],
  ['a ping over 125 bytes', clientFrame(9, Buffer.alloc(126))],
  ['a frame over the largest payload', clientFrame(2, Buffer.alloc(40000))],
])('%s closes that connection; the others still echo', async (_, bad) => {
  const ok = await open();
  const r = new RawClient(port, null, bad);
  raws.push(r);
  await until(r, () => r.ended);
  expect(r.frames).toEqual([]);
  const got = messages(ok, 1);
  ok.send('still here');
  expect((await got)[0].data.toString()).toBe('still here');
});

test('a request head without a key is closed unanswered', async () => {
  const r = new RawClient(port, 'GET /ws HTTP/1.1\r\nHost: x\r\n\r\n');
  raws.push(r);
  await until(r, () => r.ended);
  expect(r.head).toBe('');
});

test('exits when its stdin ends', async () => {
  const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
  server.stdin!.end();
  expect(await exited).toBe(0);
});
