/**
 * HTTPS: a Site over listenSSL on every backend, answering Node's https
 * client (keep-alive, a POST body) with isSecure() true; the same Site over
 * plain TCP says false.
 */
import * as https from 'https';
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

  it('says isSecure() false over plain TCP', async () => {
    const site = new Site(new Secure(), { reactor: r });
    const port = (r.listenTCP(0, site, { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
    const res = await raw(port, 'GET /p HTTP/1.1\r\nConnection: close\r\n\r\n');
    expect(res.data).toContain('secure=false path=/p\n');
  });
});
