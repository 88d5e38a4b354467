/**
 * The read low-water mark a Site's channel sets while a head is partial
 * (SO_RCVLOWAT: the slowloris defence's cheap wait), on every backend: a
 * head sent in pieces that end at every kind of boundary is still parsed
 * and answered, the mark following what the head still lacks; the shortest
 * requests are answered after a raised mark; a body after a raised mark is
 * read byte by byte; the header timeout still cuts a head whose last bytes
 * wait under the mark; a WebSocket after an upgrade head that came in
 * pieces reads every byte again; and over TLS no mark is set.
 */
import * as net from 'net';
import * as tls from 'tls';
import type { IPv4Address } from '../lib/address';
import type { Reactor } from '../lib/reactor';
import { Clock } from '../lib/task';
import { CertificateOptions } from '../lib/tls';
import { HTTPChannel, Request, Resource, Site, SiteOptions } from '../lib/web';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { makeCerts, TestCerts } from './helpers/certs';
import { until } from './helpers/tcp';
import { echoFactory } from './helpers/websocket';
import { clientFrame, handshake } from './helpers/ws-raw';
import { WebSocketResource } from '../lib/websocket';
import { responses } from './web-raw';

jest.setTimeout(15000);

let certs: TestCerts;
beforeAll(() => {
  certs = makeCerts();
});
afterAll(() => certs.cleanup());

class Echo extends Resource {
  override isLeaf = true;
  render_GET(request: Request): string {
    return `got ${request.path}`;
  }
  render_POST(request: Request): Buffer {
    return request.content;
  }
}

/** A client socket that writes pieces one at a time and gathers what comes back. */
class Client {
  data = '';
  closed = false;
  readonly sock: net.Socket;
  private readonly closedP: Promise<void>;

  constructor(sock: net.Socket) {
    this.sock = sock;
    sock.setNoDelay(true);
    sock.on('data', (d: Buffer) => (this.data += d.toString('latin1')));
    sock.on('error', () => undefined);
    this.closedP = new Promise((resolve) => sock.on('close', () => ((this.closed = true), resolve())));
  }

  /** Writes `piece`; resolves once it is handed to the kernel (on loopback: queued at the server). */
  send(piece: string): Promise<void> {
    return new Promise((resolve, reject) => this.sock.write(Buffer.from(piece, 'latin1'), (err) => (err ? reject(err) : resolve())));
  }

  async closedNow(ms = 5000): Promise<void> {
    await until(() => this.closed, ms, 'the server to close');
    await this.closedP;
  }

  destroy(): void {
    this.sock.destroy();
  }
}

forEachBackend('web: read low-water mark', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (reactor) => (r = reactor), () => r);
  let channels: HTTPChannel[];
  let clients: Client[];

  beforeEach(() => (clients = []));
  afterEach(() => clients.forEach((c) => c.destroy()));

  function site(opts: SiteOptions = {}, root: Resource = new Echo()): Site {
    const s = new Site(root, { reactor: r, ...opts });
    channels = [];
    const build = s.buildProtocol.bind(s);
    s.buildProtocol = (addr) => {
      const ch = build(addr);
      channels.push(ch);
      return ch;
    };
    return s;
  }

  function serve(opts: SiteOptions = {}): number {
    return (r.listenTCP(0, site(opts), { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
  }

  async function connect(port: number): Promise<Client> {
    const sock = net.connect(port, '127.0.0.1');
    const c = new Client(sock);
    clients.push(c);
    await new Promise((resolve) => sock.on('connect', resolve));
    return c;
  }

  /** The channel's mark, and how many bytes of a partial head its parser holds. */
  const mark = (ch: HTTPChannel): number => ch['lowWater'];
  const held = (ch: HTTPChannel): number => ch['parser']['headLen'];

  /** Sends `piece`; when `headLen` is given, waits for the server to hold that much head and to have set `lowWater`. */
  async function step(c: Client, piece: string, headLen?: number, lowWater?: number): Promise<void> {
    await c.send(piece);
    if (headLen === undefined) return;
    await until(() => channels.length === 1 && held(channels[0]) === headLen, 5000, `a partial head of ${headLen} bytes`);
    expect(mark(channels[0])).toBe(lowWater);
  }

  it('parses a head sent in pieces ending at every boundary, the mark following what the head lacks', async () => {
    const port = serve();
    const c = await connect(port);
    await step(c, 'GET /echo', 9, 7); // on the request line: the shortest head is 16 bytes
    await step(c, ' HTTP/1.1\r', 19, 3); // a CR: LF CR LF lacking
    await step(c, '\n'); // under the mark: not read yet
    await step(c, 'X: 1', 24, 4); // mid-line: CR LF CR LF lacking
    await step(c, '234\r\n', 29, 2); // a CR LF: the mark comes down
    await step(c, 'Y: 5', 33, 4);
    await step(c, '6\r\n\r', 37, 1); // CR LF CR: one byte ends it
    await step(c, '\n');
    await until(() => c.data.endsWith('got /echo'), 5000, 'the answer');
    expect(responses(c.data).map((x) => [x.status, x.body])).toEqual([[200, 'got /echo']]);
    // Between messages the mark stays (a request comes whole: no system call); the next request is answered.
    expect(mark(channels[0])).toBe(1);
    await c.send('GET /again HTTP/1.1\r\n\r\n');
    await until(() => c.data.endsWith('got /again'), 5000, 'the second answer');
  });

  it('answers the shortest requests after a raised mark', async () => {
    const port = serve();
    const c = await connect(port);
    await step(c, 'G', 1, 15);
    await step(c, 'ET /a HTTP/1.1\r\n\r\n');
    await until(() => c.data.endsWith('got /a'), 5000, 'the first answer');
    expect(mark(channels[0])).toBe(15); // left as it was: no request is shorter than 16 bytes
    await c.send('GET / HTTP/1.0\r\n\r\n'); // 18 bytes, answered, and the 1.0 connection closes
    await c.closedNow();
    expect(responses(c.data).map((x) => [x.status, x.body])).toEqual([
      [200, 'got /a'],
      [200, 'got /'],
    ]);

    const d = await connect(port);
    await until(() => channels.length === 2, 5000, 'the second connection');
    const ch = channels[1];
    await d.send('G');
    await until(() => held(ch) === 1, 5000, 'the first byte');
    expect(mark(ch)).toBe(15);
    await d.send('ET /b HTTP/1.1\r\n\r\nA / HTTP/1.1\r\n\r\n'); // a well-formed 16-byte head (an unknown method: 501)
    await d.closedNow();
    expect(responses(d.data).map((x) => x.status)).toEqual([200, 501]);
  });

  it('reads a body byte by byte after a head that came in pieces', async () => {
    const port = serve();
    const c = await connect(port);
    await step(c, 'POST /echo HTTP/1.1\r\nContent-Length: 3\r\nX: 1', 44, 4);
    await c.send('\r\n\r\n');
    await until(() => channels[0]['current'] !== null, 5000, 'the head');
    expect(mark(channels[0])).toBe(1);
    for (const [i, b] of ['a', 'b'].entries()) {
      await c.send(b);
      await until(() => channels[0]['body'].length === i + 1, 5000, 'a body byte');
    }
    await c.send('c');
    await until(() => c.data.endsWith('abc'), 5000, 'the echo');
    expect(responses(c.data).map((x) => [x.status, x.body])).toEqual([[200, 'abc']]);
  });

  it('answers 408 at the header timeout to a head whose last bytes wait under the mark', async () => {
    const clock = new Clock();
    const port = serve({ reactor: clock, timeout: 5 });
    const c = await connect(port);
    await step(c, 'GET /echo HTTP/1.1\r\nX: 1', 24, 4);
    await c.send('\r\n'); // under the mark: the server never sees it
    clock.advance(5.1);
    await c.closedNow();
    expect(c.data).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('puts the mark back to 1 for the WebSocket an upgrade head in pieces hands the connection to', async () => {
    const root = new Resource();
    root.putChild('ws', new WebSocketResource(echoFactory(r)));
    const port = (r.listenTCP(0, site({}, root), { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
    const c = await connect(port);
    const hs = handshake('/ws');
    await step(c, hs.slice(0, -4), hs.length - 4, 4);
    await c.send('\r\n\r\n');
    await until(() => c.data.includes('\r\n\r\n'), 5000, 'the 101');
    expect(c.data).toMatch(/^HTTP\/1\.1 101 /);
    c.data = '';
    const frame = clientFrame(1, 'hi'); // 8 bytes: 3 of them end under a mark of 4
    await c.send(frame.subarray(0, 3).toString('latin1'));
    // (the WebSocket holds a frame parser only while a frame is cut by a read boundary, as here)
    const ws = (channels[0].transport as unknown as { protocol: { frameParser: { partialHead: Buffer | null } | null } }).protocol;
    await until(() => ws.frameParser?.['partialHead']?.length === 3, 5000, 'the WebSocket to read 3 bytes');
    await c.send(frame.subarray(3).toString('latin1'));
    await until(() => c.data.endsWith('hi'), 5000, 'the echo');
  });

  it('sets no mark on a TLS connection, and answers a head sent in pieces', async () => {
    const contextFactory = new CertificateOptions({ privateKey: certs.server.key, certificate: certs.server.cert });
    const port = (r.listenSSL(0, site(), contextFactory, { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
    const sock = tls.connect({ host: '127.0.0.1', port, ca: certs.ca.cert, servername: 'localhost' });
    const c = new Client(sock);
    clients.push(c);
    await new Promise((resolve) => sock.on('secureConnect', resolve));
    await step(c, 'GET /tls', 8, 0);
    await c.send(' HTTP/1.1\r\n\r\n');
    await until(() => c.data.endsWith('got /tls'), 5000, 'the answer');
    expect(mark(channels[0])).toBe(0);
    c.destroy();
    await c.closedNow();
  });
});
