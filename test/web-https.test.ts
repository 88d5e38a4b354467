/**
 * HTTPS: a Site over listenSSL on every backend, answering Node's https
 * client (keep-alive, a POST body) with isSecure() true; the same Site over
 * plain TCP says false. Through a relay that controls how the client's
 * records reach the server: several whole records in one read (opened where
 * they were read, native/loop_tls.cc), and records cut anywhere (the part
 * not yet read waits in the engine).
 */
import * as https from 'https';
import * as net from 'net';
import * as tls from 'tls';
import type { IPv4Address } from '../lib/address';
import type { Reactor } from '../lib/reactor';
import { CertificateOptions } from '../lib/tls';
import { Request, Resource, Site } from '../lib/web';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { makeCerts, TestCerts } from './helpers/certs';
import { raw } from './web-raw';

jest.setTimeout(20000);

let certs: TestCerts;
beforeAll(() => {
  certs = makeCerts();
});
afterAll(() => certs.cleanup());

class Secure extends Resource {
  override isLeaf = true;
  render_GET(request: Request): string {
    return `secure=${request.isSecure()} path=${request.path}\n`;
  }
  render_POST(request: Request): string {
    return `secure=${request.isSecure()} len=${request.content.length}\n`;
  }
}

forEachBackend('web: HTTPS through Site', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (reactor) => (r = reactor), () => r);

  function get(agent: https.Agent, port: number, method: string, path: string, body?: Buffer): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port, method, path, agent, ca: certs.ca.cert, servername: 'localhost' }, (res) => {
        let s = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (s += d));
        res.on('end', () => resolve(s));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  it("answers Node's https client, with isSecure() true, on one kept-alive connection", async () => {
    const site = new Site(new Secure(), { reactor: r });
    let connections = 0;
    const build = site.buildProtocol.bind(site);
    site.buildProtocol = (addr) => {
      connections++;
      return build(addr);
    };
    const options = new CertificateOptions({ privateKey: certs.server.key, certificate: certs.server.cert });
    const port = (r.listenSSL(0, site, options, { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect(await get(agent, port, 'GET', '/a')).toBe('secure=true path=/a\n');
      expect(await get(agent, port, 'POST', '/b', Buffer.alloc(100000, 1))).toBe('secure=true len=100000\n');
      expect(connections).toBe(1);
    } finally {
      agent.destroy();
    }
  });

  /**
   * A TCP relay in front of `port`: passes everything until hold(), then
   * keeps the client's bytes until `records` whole TLS records have come
   * and sends them on in one write (one read for the server), or in pieces
   * of `piece` bytes, one per turn of the event loop.
   */
  function relay(port: number): Promise<{ port: number; hold(records: number, piece?: number): void; close(): void }> {
    let holding = 0;
    let piece = 0;
    let kept = Buffer.alloc(0);
    const sockets: net.Socket[] = [];
    const complete = (b: Buffer): number => {
      let n = 0;
      for (let at = 0; at + 5 <= b.length && at + 5 + b.readUInt16BE(at + 3) <= b.length; at += 5 + b.readUInt16BE(at + 3)) n++;
      return n;
    };
    const server = net.createServer((client) => {
      const upstream = net.connect(port, '127.0.0.1');
      sockets.push(client, upstream);
      upstream.on('data', (d) => client.write(d));
      const release = (rest: Buffer): void => {
        if (rest.length === 0) return;
        const cut = piece === 0 ? rest.length : Math.min(piece, rest.length);
        upstream.write(rest.subarray(0, cut));
        setImmediate(() => release(rest.subarray(cut)));
      };
      client.on('data', (d) => {
        if (holding === 0) return void upstream.write(d);
        kept = Buffer.concat([kept, d]);
        if (complete(kept) < holding) return;
        holding = 0;
        const all = kept;
        kept = Buffer.alloc(0);
        release(all);
      });
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.end());
      upstream.on('close', () => client.end());
    });
    return new Promise((resolve) =>
      server.listen(0, '127.0.0.1', () =>
        resolve({
          port: (server.address() as net.AddressInfo).port,
          hold(records: number, p = 0) {
            holding = records;
            piece = p;
          },
          close() {
            for (const s of sockets) s.destroy();
            server.close();
          },
        }),
      ),
    );
  }

  /** A TLS client through the relay: sends `requests` one record each, then reads until `answers` responses have come. */
  async function throughRelay(piece: number): Promise<string> {
    const site = new Site(new Secure(), { reactor: r });
    const options = new CertificateOptions({ privateKey: certs.server.key, certificate: certs.server.cert });
    const port = (r.listenSSL(0, site, options, { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
    const via = await relay(port);
    const client = tls.connect({ host: '127.0.0.1', port: via.port, ca: certs.ca.cert, servername: 'localhost' });
    try {
      let got = '';
      const answers = (n: number): Promise<void> =>
        new Promise((resolve, reject) => {
          const check = (): void => {
            if (got.split('secure=true').length - 1 < n) return;
            client.off('data', onData);
            resolve();
          };
          const onData = (d: Buffer): void => {
            got += d.toString('latin1');
            check();
          };
          client.on('data', onData);
          client.once('error', reject);
          check();
        });
      await new Promise<void>((resolve, reject) => client.once('secureConnect', resolve).once('error', reject));
      client.write('GET /first HTTP/1.1\r\nHost: x\r\n\r\n');
      await answers(1); // the handshake is over on both sides (tickets included)
      via.hold(3, piece);
      for (const path of ['/a', '/b', '/c']) {
        await new Promise<void>((resolve) => client.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`, () => resolve()));
      }
      await answers(4);
      return got.split('\r\n\r\n').filter((s) => s.startsWith('secure=')).map((s) => s.split('\n')[0]).join(',');
    } finally {
      client.destroy();
      via.close();
    }
  }

  it('answers three pipelined requests whose records reached the server in one read', async () => {
    expect(await throughRelay(0)).toBe('secure=true path=/first,secure=true path=/a,secure=true path=/b,secure=true path=/c');
  });

  it('answers requests whose records reached the server cut into 7-byte pieces', async () => {
    expect(await throughRelay(7)).toBe('secure=true path=/first,secure=true path=/a,secure=true path=/b,secure=true path=/c');
  });

  it('says isSecure() false over plain TCP', async () => {
    const site = new Site(new Secure(), { reactor: r });
    const port = (r.listenTCP(0, site, { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
    const res = await raw(port, 'GET /p HTTP/1.1\r\nConnection: close\r\n\r\n');
    expect(res.data).toContain('secure=false path=/p\n');
  });
});
