/** The examples run as written (as child processes on port 0) and are talked to over real sockets. */
import * as http from 'http';
import * as net from 'net';
import { WebSocket } from 'ws';
import { run } from './helpers/examples';

jest.setTimeout(60000);

/** Starts a server example on port 0 and resolves with the port it printed. */
async function startServer(name: string): Promise<number> {
  const s = run(name, [], { PORT: '0' });
  const port = await new Promise<number>((resolve, reject) => {
    const check = (): void => {
      const m = /listening on [\d.]+:(\d+)/.exec(s.stdout());
      if (m) resolve(Number(m[1]));
    };
    s.child.stdout?.on('data', check);
    s.exited.then((code) => reject(new Error(`${name} exited (${code}) before listening: ${s.stderr()}`)));
  });
  expect(port).toBeGreaterThan(0);
  return port;
}

/** A line-oriented socket client for the tests. */
class Peer {
  readonly socket: net.Socket;
  private buffer = '';
  private waiters: { test: (b: string) => boolean; resolve: () => void }[] = [];
  readonly closed: Promise<void>;

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.setEncoding('latin1');
    this.socket.on('data', (d: string) => {
      this.buffer += d;
      this.waiters = this.waiters.filter((w) => (w.test(this.buffer) ? (w.resolve(), false) : true));
    });
    this.closed = new Promise((resolve) => this.socket.on('close', () => resolve()));
  }

  /** Resolves once the received text contains `text`; returns everything received so far. */
  async waitFor(text: string, count = 1): Promise<string> {
    const test = (b: string): boolean => b.split(text).length - 1 >= count;
    if (!test(this.buffer)) await new Promise<void>((resolve) => this.waiters.push({ test, resolve }));
    return this.buffer;
  }

  send(text: string): void {
    this.socket.write(Buffer.from(text, 'latin1'));
  }

  get received(): string {
    return this.buffer;
  }
}

describe('examples', () => {
  test('echo-server echoes, and echo-client prints each echo then exits by itself', async () => {
    const port = await startServer('echo-server.js');
    const peer = new Peer(port);
    peer.send('raw bytes \x00\xff');
    expect(await peer.waitFor('\xff')).toBe('raw bytes \x00\xff');
    peer.socket.end();

    const client = run('echo-client.js', [String(port), 'first message', 'second']);
    expect(await client.exited).toBe(0);
    expect(client.stdout()).toBe('echo: first message\necho: second\nconnection closed\n');
  });

  test('echo-client reports a refused connection and exits non-zero', async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const client = run('echo-client.js', [String(port)]);
    expect(await client.exited).toBe(1);
    expect(client.stderr()).toMatch(/could not connect to 127\.0\.0\.1:\d+: .*refused/i);
  });

  test('chat-server: names are unique and lines reach everyone else', async () => {
    const port = await startServer('chat-server.js');
    const alice = new Peer(port);
    const bob = new Peer(port);
    await alice.waitFor('Who are you?');
    await bob.waitFor('Who are you?');
    alice.send('alice\r\n');
    await alice.waitFor('Welcome, alice!');
    bob.send('alice\r\n');
    await bob.waitFor('alice is taken');
    bob.send('bob\r\n');
    await bob.waitFor('Welcome, bob! 1 other(s) here.');
    await alice.waitFor('* bob has joined');
    alice.send('hi bob\r\n');
    await bob.waitFor('<alice> hi bob\r\n');
    bob.send('hello al');
    bob.send('ice\r\n');
    await alice.waitFor('<bob> hello alice\r\n');
    expect(alice.received).not.toContain('<alice>');
    bob.socket.end();
    await alice.waitFor('* bob has left');
    alice.socket.end();
  });

  test('http-hello: keep-alive, pipelining, a body, and Connection: close', async () => {
    const port = await startServer('http-hello.js');
    const peer = new Peer(port);
    peer.send('GET /one HTTP/1.1\r\nHost: x\r\n\r\nGET /two HTTP/1.1\r\nHost: x\r\n\r\n');
    await peer.waitFor('HTTP/1.1 200 OK', 2);
    await peer.waitFor('You asked for /two\n');
    peer.send('POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n');
    await peer.waitFor('HTTP/1.1 100 Continue\r\n\r\n');
    peer.send('hello=world');
    await peer.waitFor('You asked for /form\n');
    peer.send('GET /bye HTTP/1.1\r\nConnection: close\r\n\r\n');
    await peer.closed;
    const responses = peer.received.split('HTTP/1.1 200 OK\r\n').slice(1);
    expect(responses).toHaveLength(4);
    expect(responses[0]).not.toContain('Connection: close');
    expect(responses[0]).toMatch(/Content-Length: 33\r\n([\s\S]*\r\n)?\r\nHello, world! You asked for \/one\n$/);
    expect(responses[3]).toContain('Connection: close');
    expect(responses[3]).toContain('You asked for /bye\n');
  });

  test('http-hello: a garbage request gets 400 and the connection is closed, the server lives on', async () => {
    const port = await startServer('http-hello.js');
    const bad = new Peer(port);
    bad.send('\x16\x03\x01 not http at all\r\n');
    await bad.closed;
    expect(bad.received).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    const huge = new Peer(port);
    huge.send(`GET /${'a'.repeat(10000)}`);
    await huge.closed;
    expect(huge.received).toMatch(/^HTTP\/1\.1 431 /);
    const good = new Peer(port);
    good.send('GET / HTTP/1.0\r\n\r\n');
    await good.closed;
    expect(good.received).toContain('Hello, world!');
  });
});

/** A WebSocket client (the ws package) that keeps every text message it gets. */
class WsPeer {
  readonly ws: WebSocket;
  readonly messages: string[] = [];
  private waiters: (() => void)[] = [];
  readonly closed: Promise<void>;

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.on('message', (data: Buffer) => {
      this.messages.push(data.toString('utf8'));
      for (const w of this.waiters.splice(0)) w();
    });
    this.closed = new Promise((resolve) => this.ws.on('close', () => resolve()));
  }

  /** Resolves once a message equal to `text` has arrived. */
  async waitFor(text: string): Promise<void> {
    while (!this.messages.includes(text)) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  async send(text: string): Promise<void> {
    if (this.ws.readyState !== WebSocket.OPEN) await new Promise((resolve) => this.ws.once('open', resolve));
    this.ws.send(text);
  }
}

describe('ws-chat example', () => {
  test('serves its page, and two ws clients chat in one room through the broadcast helper', async () => {
    const port = await startServer('ws-chat.js');
    const page = await new Promise<string>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/' }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve(`${res.statusCode} ${res.headers['content-type']}\n${body}`));
      }).on('error', reject);
    });
    expect(page).toMatch(/^200 text\/html; charset=utf-8\n<!doctype html>/);
    expect(page).toContain("new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws')");

    const alice = new WsPeer(`ws://127.0.0.1:${port}/ws`);
    const bob = new WsPeer(`ws://127.0.0.1:${port}/ws`);
    await alice.send('alice');
    await alice.waitFor('* Welcome, alice! 0 other(s) here.');
    await bob.send('alice');
    await bob.waitFor('* Sorry, alice is taken. Pick another name.');
    await bob.send('bob');
    await bob.waitFor('* Welcome, bob! 1 other(s) here.');
    await alice.waitFor('* bob has joined');
    await alice.send('hi bob');
    await bob.waitFor('<alice> hi bob');
    await alice.waitFor('<alice> hi bob');
    bob.ws.close();
    await alice.waitFor('* bob has left');
    alice.ws.close();
    await Promise.all([alice.closed, bob.closed]);
    expect(bob.messages).toEqual(['* Hello! Send your name first.', '* Sorry, alice is taken. Pick another name.', '* Welcome, bob! 1 other(s) here.', '<alice> hi bob']);
    expect(alice.messages).toEqual(['* Hello! Send your name first.', '* Welcome, alice! 0 other(s) here.', '* bob has joined', '<alice> hi bob', '* bob has left']);
  });
});
