/**
 * Our WebSocket server against clients nobody here wrote, on every backend:
 * the `ws` package and Python's websockets (Debian's python3-websockets).
 */
import { execFile } from 'child_process';
import WebSocket from 'ws';
import type { Reactor } from '../lib/reactor';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { until } from './helpers/tcp';
import { echoFactory, serveEcho } from './helpers/websocket';
import { listenWS, WebSocketServerFactory } from '../lib/websocket';
import type { IPv4Address } from '../lib/address';

jest.setTimeout(20000);

/** Opens a `ws` client, runs `fn` on it, and makes sure it is closed afterwards. */
function wsClient(url: string, opts: WebSocket.ClientOptions = {}, protocols: string[] = []): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const c = new WebSocket(url, protocols, opts);
    c.once('open', () => resolve(c));
    c.once('error', reject);
  });
}

function nextMessage(c: WebSocket): Promise<[Buffer, boolean]> {
  return new Promise((resolve) => c.once('message', (data: Buffer, isBinary: boolean) => resolve([data, isBinary])));
}

function closed(c: WebSocket): Promise<[number, string]> {
  return new Promise((resolve) => c.once('close', (code: number, reason: Buffer) => resolve([code, reason.toString()])));
}

forEachBackend('websocket: real peers', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (reactor) => (r = reactor), () => r);

  it('ws client: text and binary echo, subprotocol, clean close from the client', async () => {
    const { port, log } = serveEcho(r);
    const c = await wsClient(`ws://127.0.0.1:${port}/ws`, {}, ['other', 'chat']);
    expect(c.protocol).toBe('chat');
    const got = nextMessage(c);
    c.send('héllo');
    expect((await got)[0].toString()).toBe('héllo');
    const bin = nextMessage(c);
    c.send(Buffer.from([0, 1, 2, 255]));
    const [b, isBinary] = await bin;
    expect(isBinary).toBe(true);
    expect([...b]).toEqual([0, 1, 2, 255]);
    const big = Buffer.alloc(300000, 7);
    const bigBack = nextMessage(c);
    c.send(big);
    expect((await bigBack)[0].equals(big)).toBe(true);
    const done = closed(c);
    c.close(1000, 'bye');
    expect(await done).toEqual([1000, '']); // the server echoes the code
    await until(() => log.closes.length === 1);
    expect(log.closes[0]).toEqual([true, 1000, 'bye']);
    expect(log.messages.slice(0, 2)).toEqual([['héllo', false], ['000102ff', true]]);
  });

  it('ws client: the server closes with a code and reason', async () => {
    const { port, log } = serveEcho(r);
    const c = await wsClient(`ws://127.0.0.1:${port}/ws`);
    const done = closed(c);
    c.send('close-me');
    expect(await done).toEqual([4000, 'asked']);
    await until(() => log.closes.length === 1);
    expect(log.closes[0]).toEqual([true, 4000, 'asked']);
  });

  it('ws client: an origin refused in onConnect gets 403', async () => {
    const { port } = serveEcho(r);
    const err = await wsClient(`ws://127.0.0.1:${port}/ws`, { origin: 'http://evil.example' }).then(
      () => null,
      (e: Error) => e,
    );
    expect(String(err)).toMatch(/403/);
  });

  it('a factory given straight to listenTCP answers the handshake itself (as Autobahn\'s); a bad one is refused (426)', async () => {
    const factory = echoFactory(r);
    const port = (r.listenTCP(0, factory, { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
    const c = await wsClient(`ws://127.0.0.1:${port}/`, {}, ['chat']);
    expect(c.protocol).toBe('chat');
    const got = nextMessage(c);
    c.send('straight');
    expect((await got)[0].toString()).toBe('straight');
    const done = closed(c);
    c.close(1000);
    await done;
    await until(() => factory.log.closes.length === 1);
    expect(factory.log.closes[0]).toEqual([true, 1000, '']);
    const bad = await wsClient(`ws://127.0.0.1:${port}/`, { protocolVersion: 8 }).then(
      () => null,
      (e: Error) => e,
    );
    expect(String(bad)).toMatch(/426/);
    await until(() => factory.log.closes.length === 2);
    expect(factory.log.closes[1][0]).toBe(false);
  });

  it('listenWS: a factory on its own port (any path upgrades)', async () => {
    const factory = echoFactory(r, 'ws://127.0.0.1:0');
    const port = (listenWS(factory, undefined, { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
    const c = await wsClient(`ws://127.0.0.1:${port}/any/path`);
    const got = nextMessage(c);
    c.send('direct');
    expect((await got)[0].toString()).toBe('direct');
    const done = closed(c);
    c.close();
    await done;
    expect(() => listenWS(new WebSocketServerFactory(null, { reactor: r }))).toThrow(/needs a URL/);
  });

  it('Python websockets client: echo and close', async () => {
    const { port, log } = serveEcho(r);
    const script = [
      'import asyncio, sys, websockets',
      'async def main():',
      `    async with websockets.connect("ws://127.0.0.1:${port}/ws", subprotocols=["chat"]) as ws:`,
      '        await ws.send("from python")',
      '        print(await ws.recv())',
      '        await ws.send(bytes([1,2,3]))',
      '        print((await ws.recv()).hex())',
      '        print(ws.subprotocol)',
      'asyncio.run(main())',
    ].join('\n');
    const out = await new Promise<string>((resolve, reject) =>
      execFile('/usr/bin/python3', ['-c', script], { timeout: 15000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout))),
    );
    expect(out).toBe('from python\n010203\nchat\n');
    await until(() => log.closes.length === 1);
    expect(log.closes[0]).toEqual([true, 1000, '']);
  });
});
