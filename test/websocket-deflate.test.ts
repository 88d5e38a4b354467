/**
 * permessage-deflate (RFC 7692) and broadcast, on every backend: the `ws`
 * package as client of our server and as server for our client, with and
 * without context takeover and with a smaller client window; the
 * negotiation rules alone; a compressed bomb over the message limit (1009);
 * one framed message broadcast to many clients, deflate or not.
 */
import * as http from 'http';
import type { AddressInfo } from 'net';
import { deflateRawSync, inflateRawSync } from 'zlib';
import WebSocket, { WebSocketServer } from 'ws';
import type { Reactor } from '../lib/reactor';
import { broadcast, connectWS, WebSocketClientFactory, WebSocketClientProtocol, WebSocketServerProtocol } from '../lib/websocket';
import { acceptOffer, normaliseDeflate, parseExtensions } from '../lib/websocket/deflate-params';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { until } from './helpers/tcp';
import { EchoServer, serveEcho } from './helpers/websocket';
import { clientFrame, handshake, RawClient } from './helpers/ws-raw';

jest.setTimeout(20000);

function open(url: string, opts: WebSocket.ClientOptions): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const c = new WebSocket(url, opts);
    c.once('open', () => resolve(c));
    c.once('error', reject);
  });
}

/** Sends each message and waits for its echo; returns the echoes. */
async function echoAll(c: WebSocket, messages: string[]): Promise<string[]> {
  const got: string[] = [];
  c.on('message', (d: Buffer) => got.push(d.toString()));
  for (const m of messages) c.send(m);
  await until(() => got.length === messages.length);
  return got;
}

/** Small and large, repeated (back-references into earlier messages), and over 64 KiB in all (the history windows slide). */
const MESSAGES = [
  'tiny',
  'a'.repeat(5000),
  'the same text again and again '.repeat(50),
  'the same text again and again '.repeat(50),
  'ü€𝄞'.repeat(300),
  ...Array.from({ length: 24 }, (_, i) => `message ${i % 5} with some text `.repeat(100 + i)),
];

describe('websocket: permessage-deflate negotiation', () => {
  const ours = normaliseDeflate(true)!;
  const offer = (s: string) => parseExtensions([s])!;
  it('accepts the usual offer, and the no-context-takeover and window parameters', () => {
    expect(acceptOffer(offer('permessage-deflate; client_max_window_bits'), ours)![1]).toBe('permessage-deflate');
    expect(acceptOffer(offer('permessage-deflate; server_no_context_takeover; client_no_context_takeover'), ours)![1]).toBe(
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover',
    );
    expect(acceptOffer(offer('permessage-deflate; server_max_window_bits=10; client_max_window_bits=11'), ours)![1]).toBe(
      'permessage-deflate; server_max_window_bits=10; client_max_window_bits=11',
    );
  });
  it('skips offers it cannot honour and takes the next', () => {
    expect(acceptOffer(offer('permessage-deflate; server_max_window_bits=8'), ours)).toBeNull();
    expect(acceptOffer(offer('permessage-deflate; unknown_param'), ours)).toBeNull();
    expect(acceptOffer(offer('permessage-deflate; server_max_window_bits=16, permessage-deflate'), ours)![1]).toBe('permessage-deflate');
    expect(acceptOffer(offer('x-webkit-deflate-frame'), ours)).toBeNull();
    expect(parseExtensions(['permessage-deflate; a; a'])).toBeNull();
  });
});

forEachBackend('websocket: permessage-deflate and broadcast', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (reactor) => (r = reactor), () => r);
  const sockets: WebSocket[] = [];
  afterEach(() => {
    for (const s of sockets.splice(0)) s.terminate();
  });

  it.each([
    ['context takeover', {}],
    ['no context takeover either way', { serverNoContextTakeover: true, clientNoContextTakeover: true }],
    ['a 10-bit client window', { clientMaxWindowBits: 10 }],
  ])('ws client with %s: messages compress both ways and come back intact', async (_what, params) => {
    const { port } = serveEcho(r, { perMessageDeflate: { threshold: 0 } });
    const c = await open(`ws://127.0.0.1:${port}/ws`, { perMessageDeflate: { threshold: 0, ...params } });
    sockets.push(c);
    expect(c.extensions).toMatch(/^permessage-deflate/);
    expect(await echoAll(c, MESSAGES)).toEqual(MESSAGES);
  });

  it('our client with deflate against the ws server', async () => {
    const server = http.createServer();
    const wss = new WebSocketServer({ server, perMessageDeflate: { threshold: 0 } });
    wss.on('connection', (c) => c.on('message', (d, isBinary) => c.send(d, { binary: isBinary })));
    const port = await new Promise<number>((res) => server.listen(0, '127.0.0.1', () => res((server.address() as AddressInfo).port)));
    try {
      const got: string[] = [];
      let proto: WebSocketClientProtocol | null = null;
      class C extends WebSocketClientProtocol {
        override onOpen(): void {
          proto = this;
          for (const m of MESSAGES) this.sendMessage(m);
        }
        override onMessage(p: Buffer): void {
          got.push(p.toString());
        }
      }
      const f = new WebSocketClientFactory(`ws://127.0.0.1:${port}/`, { reactor: r, perMessageDeflate: { threshold: 0 } });
      f.protocol = C as never;
      connectWS(f);
      await until(() => got.length === MESSAGES.length);
      expect(got).toEqual(MESSAGES);
      expect(proto!.deflate).not.toBeNull();
    } finally {
      for (const c of wss.clients) c.terminate();
      wss.close();
      await new Promise((res) => server.close(res));
    }
  });

  it('a compressed message is answered compressed; one inflating past maxMessagePayloadSize closes with 1009', async () => {
    const { port } = serveEcho(r, { perMessageDeflate: true, maxMessagePayloadSize: 10000 });
    const bomb = deflateRawSync(Buffer.alloc(1 << 20), { finishFlush: 2 }).subarray(0, -4);
    const text = 'compress me '.repeat(40);
    const c = new RawClient(port, handshake('/ws', ['Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover']));
    try {
      await until(() => c.head !== '');
      expect(c.head).toMatch(/Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover/i);
      c.send(clientFrame(1, deflateRawSync(Buffer.from(text), { finishFlush: 2 }).subarray(0, -4), { rsv: 4 }));
      await until(() => c.frames.length === 1);
      expect(c.frames[0].rsv1).toBe(true);
      expect(c.frames[0].payload.length).toBeLessThan(text.length / 4);
      expect(inflateRawSync(Buffer.concat([c.frames[0].payload, Buffer.from([0, 0, 255, 255])]), { finishFlush: 2 }).toString()).toBe(text);
      c.send(clientFrame(2, bomb, { rsv: 4 }));
      await until(() => c.ended, 5000, 'the server to close');
      expect(c.closeCode()).toBe(1009);
    } finally {
      c.destroy();
    }
  });

  it('broadcast: one frame to every client (deflate agreed or not), small and large', async () => {
    const { port, factory } = serveEcho(r, { perMessageDeflate: true });
    const conns: WebSocketServerProtocol[] = [];
    class Tracked extends EchoServer {
      override onOpen(): void {
        conns.push(this);
      }
    }
    factory.protocol = Tracked as never;
    const clients = await Promise.all([0, 1, 2, 3].map((i) => open(`ws://127.0.0.1:${port}/ws`, { perMessageDeflate: i % 2 === 0 })));
    sockets.push(...clients);
    await until(() => conns.length === 4);
    const got = clients.map(() => [] as string[]);
    clients.forEach((c, i) => c.on('message', (d: Buffer) => got[i].push(d.length > 100 ? `len${d.length}` : d.toString())));
    broadcast(conns, 'news for all');
    const big = factory.prepareMessage(Buffer.alloc(50000, 1), true);
    for (const c of conns) c.sendPreparedMessage(big);
    await until(() => got.every((g) => g.length === 2));
    expect(got).toEqual(clients.map(() => ['news for all', 'len50000']));
  });
});
