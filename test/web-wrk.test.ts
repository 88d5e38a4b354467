/**
 * wrk, a load generator nobody here wrote, against a Site on every backend:
 * 50 keep-alive connections for a second over HTTP and over HTTPS (listenSSL;
 * wrk does not verify the certificate). wrk's own report must show a real
 * amount of work, no socket errors and no non-2xx answer, and the Site must
 * have rendered what wrk counted (wrk leaves out the requests still in flight
 * when its second ends: at most one per connection, since it does not
 * pipeline without a script).
 */
import { execFile, spawnSync } from 'child_process';
import type { IPv4Address } from '../lib/address';
import type { Reactor } from '../lib/reactor';
import { CertificateOptions } from '../lib/tls';
import { Request, Resource, Site } from '../lib/web';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { makeCerts, TestCerts } from './helpers/certs';

jest.setTimeout(30000);

const CONNECTIONS = 50;
const hasWrk = spawnSync('wrk', ['--version']).error === undefined;
const withWrk = hasWrk ? it : it.skip;
const needs = hasWrk ? '' : ' (skipped: wrk is not installed; Debian: apt-get install wrk, as .ci/run does)';

/** Counts what it renders. */
class Counted extends Resource {
  override isLeaf = true;
  rendered = 0;
  render_GET(request: Request): string {
    this.rendered++;
    return `hello ${request.path}\n`;
  }
}

/** What wrk's report says. */
interface WrkReport {
  requests: number;
  text: string;
}

/** Runs wrk for one second on `url` and reads the request count from its report. */
function wrk(url: string): Promise<WrkReport> {
  return new Promise((resolve, reject) => {
    const args = ['-t1', `-c${CONNECTIONS}`, '-d1s', '--latency', url];
    execFile('wrk', args, { timeout: 15000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`wrk ${args.join(' ')}: ${err.message}\n${stdout}${stderr}`));
      const m = /^\s*(\d+) requests in /m.exec(stdout);
      if (m === null) return reject(new Error(`wrk printed no request count:\n${stdout}`));
      resolve({ requests: Number(m[1]), text: stdout });
    });
  });
}

let certs: TestCerts | undefined;
beforeAll(() => {
  if (hasWrk) certs = makeCerts();
});
afterAll(() => certs?.cleanup());

forEachBackend('web: wrk', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (reactor) => (r = reactor), () => r);

  /** wrk's report is clean and agrees with what the Site rendered. */
  function check(report: WrkReport, root: Counted): void {
    expect(report.text).toContain(`${CONNECTIONS} connections`);
    expect(report.text).not.toContain('Socket errors');
    expect(report.text).not.toContain('Non-2xx or 3xx responses');
    expect(report.requests).toBeGreaterThan(100);
    expect(root.rendered).toBeGreaterThanOrEqual(report.requests);
    expect(root.rendered).toBeLessThanOrEqual(report.requests + CONNECTIONS);
  }

  withWrk(`50 connections for 1 s over HTTP${needs}`, async () => {
    const root = new Counted();
    const port = (r.listenTCP(0, new Site(root, { reactor: r }), { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
    check(await wrk(`http://127.0.0.1:${port}/plain`), root);
  });

  withWrk(`50 connections for 1 s over HTTPS (listenSSL)${needs}`, async () => {
    const root = new Counted();
    const c = certs as TestCerts;
    const options = new CertificateOptions({ privateKey: c.server.key, certificate: c.server.cert });
    const port = (r.listenSSL(0, new Site(root, { reactor: r }), options, { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
    check(await wrk(`https://127.0.0.1:${port}/secure`), root);
  });
});
