/**
 * A request body sent as a hundred thousand 1-byte chunks, on every
 * backend: the channel keeps the small pieces merged as they come (each
 * kept alone is a Buffer view of ~100 bytes that pins the read it came in,
 * ~150 bytes held per byte sent), and the body arrives whole and in order.
 */
import * as net from 'net';
import type { IPv4Address } from '../lib/address';
import type { Reactor } from '../lib/reactor';
import { HTTPChannel, Request, Resource, Site } from '../lib/web';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { until } from './helpers/tcp';

jest.setTimeout(30000);

/** Answers a POST with its body's length and a checksum. */
class Sum extends Resource {
  override isLeaf = true;
  render_POST(request: Request): string {
    let sum = 0;
    for (let k = 0; k < request.content.length; k++) sum = (sum * 31 + request.content[k]) % 1000003;
    return `${request.content.length} ${sum}`;
  }
}

/** The body pieces a channel holds. */
function bodyOf(ch: HTTPChannel): Buffer[] {
  return (ch as unknown as { body: Buffer[] }).body;
}

forEachBackend('web: a body in tiny chunks', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (reactor) => (r = reactor), () => r);
  let sock: net.Socket | null = null;
  afterEach(() => sock?.destroy());

  it('100,000 one-byte chunks are held in a few hundred pieces and arrive whole', async () => {
    const site = new Site(new Sum(), { reactor: r });
    const channels: HTTPChannel[] = [];
    const build = site.buildProtocol.bind(site);
    site.buildProtocol = (addr) => {
      const ch = build(addr) as HTTPChannel;
      channels.push(ch);
      return ch;
    };
    const port = (r.listenTCP(0, site, { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
    const N = 100000;
    const byte = (k: number): number => 0x61 + (k % 26);
    let text = 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n';
    let want = 0;
    for (let k = 0; k < N; k++) {
      text += `1\r\n${String.fromCharCode(byte(k))}\r\n`;
      want = (want * 31 + byte(k)) % 1000003;
    }
    let got = '';
    sock = net.connect(port, '127.0.0.1');
    sock.on('data', (d: Buffer) => (got += d.toString('latin1')));
    sock.write(text, 'latin1');
    await until(() => channels.length === 1 && bodyOf(channels[0]).reduce((n, b) => n + b.length, 0) === N, 20000, 'the chunks to be read');
    expect(bodyOf(channels[0]).length).toBeLessThan(1000);
    sock.write('0\r\n\r\n');
    await until(() => got.endsWith(`${N} ${want}`), 20000, 'the answer');
  });
});
