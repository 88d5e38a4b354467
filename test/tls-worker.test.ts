/**
 * TLS in worker_threads: the main thread and two Workers each run a TLS echo
 * (listenSSL + connectSSL with verification) at the same time, on Node's
 * OpenSSL in every thread, and the Workers are terminated afterwards. Runs in
 * a child process so an abort shows up as a signal instead of killing jest.
 */
import { forEachBackend } from './helpers/backends';
import { makeCerts, TestCerts } from './helpers/certs';
import { runNode } from './helpers/child';

const scenario = `
const path = require('path');
const { Worker, isMainThread } = require('worker_threads');
const backend = process.argv[1];
const certDir = process.argv[2];

// One TLS echo round trip on a fresh reactor; resolves with what came back.
const echoSource = \`
  const fs = require('fs');
  const { createReactor } = require(\${JSON.stringify(path.resolve('lib/reactor/index.ts'))});
  const { CertificateOptions, optionsForClientTLS } = require(\${JSON.stringify(path.resolve('lib/tls/index.ts'))});
  const { Factory, ClientFactory, Protocol } = require(\${JSON.stringify(path.resolve('lib/protocol.ts'))});
  async function echoOnce(backend, dir, text) {
    const r = createReactor({ backend });
    const read = (n) => fs.readFileSync(dir + '/' + n, 'utf8');
    const opts = new CertificateOptions({ privateKey: read('server.key'), certificate: read('server.pem') });
    class Echo extends Protocol { dataReceived(d) { this.transport.write(d); } }
    const port = r.listenSSL(0, Factory.forProtocol(Echo), opts, { interface: '127.0.0.1' });
    const got = await new Promise((resolve, reject) => {
      class Client extends Protocol {
        connectionMade() { this.transport.write(text); }
        dataReceived(d) { resolve(d.toString()); this.transport.loseConnection(); }
        connectionLost(reason) { reject(reason.value); }
      }
      const cf = new ClientFactory(); cf.protocol = Client;
      r.connectSSL('127.0.0.1', port.getHost().port, cf, optionsForClientTLS('localhost', { trustRoot: read('ca.pem') }));
    });
    await port.stopListening();
    r.close();
    return got;
  }
\`;

const workerCode = \`
  require(\${JSON.stringify(path.resolve('test/helpers/ts-register.js'))});
  const { parentPort, workerData } = require('worker_threads');
  \${echoSource}
  echoOnce(workerData.backend, workerData.dir, workerData.text).then((got) => parentPort.postMessage(got));
\`;
eval(echoSource);

(async () => {
  const texts = ['worker one', 'worker two'];
  const workers = texts.map((text) => new Worker(workerCode, { eval: true, workerData: { backend, dir: certDir, text } }));
  const fromWorkers = Promise.all(workers.map((w) => new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); })));
  const main = await echoOnce(backend, certDir, 'main thread');
  const got = await fromWorkers;
  await Promise.all(workers.map((w) => w.terminate()));
  process.stdout.write(JSON.stringify({ main, got }));
})().catch((e) => { process.stderr.write(String(e && e.stack || e)); process.exit(1); });
`;

let certs: TestCerts;
beforeAll(() => {
  certs = makeCerts();
});
afterAll(() => certs.cleanup());

forEachBackend('TLS in worker_threads', (backend) => {
  it('the main thread and two Workers each complete a verified TLS echo', async () => {
    const res = await runNode(scenario, [backend, certs.dir], 60000);
    expect(res.timedOut).toBe(false);
    expect(res.signal).toBeNull();
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toEqual({ main: 'main thread', got: ['worker one', 'worker two'] });
  }, 70000);
});
