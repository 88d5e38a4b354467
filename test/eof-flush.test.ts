/**
 * A peer's EOF loses nothing we wrote before it, on every backend, over TCP
 * and TLS, with a producer registered or not: a Node client writes, calls
 * end() and reads everything; the server answers with more than the kernel
 * takes at once, so most of the answer is still buffered when the EOF comes.
 * It goes out, then the connection closes with ConnectionDone and the
 * producer hears stopProducing. A Site (whose channel is always the
 * transport's producer) answers a request that came with the client's EOF.
 */
import * as net from 'net';
import * as tls from 'tls';
import type { IPv4Address } from '../lib/address';
import { ConnectionDone, ConnectionLost } from '../lib/errors';
import type { IPushProducer } from '../lib/interfaces';
import type { Reactor, StreamTransport } from '../lib/reactor';
import { CertificateOptions } from '../lib/tls';
import { Failure } from '../lib/failure';
import { FunctionResource, NOT_DONE_YET, Request, Site } from '../lib/web';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { makeCerts, TestCerts } from './helpers/certs';
import { keeping, Recorder } from './helpers/tcp';

jest.setTimeout(20000);

/** More than loopback's socket buffers hold: most of it is ours to flush when the EOF arrives. */
const ANSWER = Buffer.alloc(8 * 1024 * 1024, 0x61);

let certs: TestCerts;
beforeAll(() => {
  certs = makeCerts();
});
afterAll(() => certs.cleanup());

/** On its first bytes: registers a push producer (or not) and writes ANSWER. */
class Answerer extends Recorder {
  static withProducer = true;
  readonly producerCalls: string[] = [];
  override dataReceived(data: Buffer): void {
    const first = this.received.length === 0;
    super.dataReceived(data);
    if (!first) return;
    const t = this.transport as StreamTransport;
    if (Answerer.withProducer) {
      const calls = this.producerCalls;
      const p: IPushProducer = {
        pauseProducing: () => calls.push('pause'),
        resumeProducing: () => calls.push('resume'),
        stopProducing: () => calls.push('stop'),
      };
      t.registerProducer(p, true);
    }
    t.write(ANSWER);
  }
}

/** Connects a client, writes `ask`, ends, and resolves with every byte it read until the server closed. */
function askAndEnd(connect: (ready: () => void) => net.Socket, ask: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const got: Buffer[] = [];
    const s = connect(() => s.end(ask));
    s.on('data', (d: Buffer) => got.push(d));
    s.on('error', reject);
    s.on('close', () => resolve(Buffer.concat(got)));
  });
}

forEachBackend('a peer EOF flushes what is buffered', (backend) => {
  let r: Reactor;
  reactorPerTest(
    backend,
    (x) => (r = x),
    () => r,
  );

  for (const withProducer of [true, false]) {
    const how = withProducer ? 'with a producer registered' : 'without a producer';

    it(`TCP, ${how}`, async () => {
      Answerer.withProducer = withProducer;
      const sf = keeping(Answerer);
      const port = (r.listenTCP(0, sf, { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
      const got = askAndEnd((ready) => net.connect(port, '127.0.0.1', ready), 'go');
      const server = await sf.nextProtocol();
      expect((await got).equals(ANSWER)).toBe(true);
      expect((await server.lost).check(ConnectionDone)).toBe(ConnectionDone);
      expect(server.producerCalls.filter((c) => c === 'stop')).toEqual(withProducer ? ['stop'] : []);
    });

    it(`TLS, ${how}`, async () => {
      Answerer.withProducer = withProducer;
      const sf = keeping(Answerer);
      const opts = new CertificateOptions({ privateKey: certs.server.key, certificate: certs.server.cert });
      const port = (r.listenSSL(0, sf, opts, { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
      const got = askAndEnd((ready) => tls.connect({ port, host: '127.0.0.1', ca: certs.ca.cert, servername: 'localhost' }, ready), 'go');
      const server = await sf.nextProtocol();
      expect((await got).equals(ANSWER)).toBe(true);
      expect((await server.lost).check(ConnectionDone)).toBe(ConnectionDone);
      expect(server.producerCalls.filter((c) => c === 'stop')).toEqual(withProducer ? ['stop'] : []);
    });
  }

  it('a Site answers a request that came with the EOF', async () => {
    const site = new Site(new FunctionResource(() => ANSWER));
    const port = (r.listenTCP(0, site, { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
    const got = await askAndEnd((ready) => net.connect(port, '127.0.0.1', ready), 'GET /big HTTP/1.1\r\nHost: x\r\n\r\n');
    const text = got.toString('latin1');
    expect(text.slice(0, 15)).toBe('HTTP/1.1 200 OK');
    expect(got.length - (text.indexOf('\r\n\r\n') + 4)).toBe(ANSWER.length);
  });

  it('a Site request still being answered at the EOF ends there: notifyFinish fails, what it writes later is dropped', async () => {
    // The handler writes 8 MiB and goes on (NOT_DONE_YET); the client sends
    // its request with its EOF and reads nothing until the request has
    // ended, so the flush cannot finish first. Before, the request was
    // still live through the flush, and a finish() then reported success
    // for a response whose tail and last chunk were never sent.
    let rendered!: (req: Request) => void;
    const renders = new Promise<Request>((resolve) => (rendered = resolve));
    const site = new Site(
      new FunctionResource((req) => {
        req.write(ANSWER);
        rendered(req);
        return NOT_DONE_YET;
      }),
    );
    const port = (r.listenTCP(0, site, { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
    const s = net.connect(port, '127.0.0.1', () => s.end('GET /big HTTP/1.1\r\nHost: x\r\n\r\n'));
    s.pause();
    const chunks: Buffer[] = [];
    s.on('data', (d: Buffer) => chunks.push(d));
    const closed = new Promise<Buffer>((resolve) => s.on('close', () => resolve(Buffer.concat(chunks))));
    const request = await renders;
    const failure = await new Promise<Failure>((resolve) => {
      request.notifyFinish().addCallbacks(
        () => resolve(new Failure(new Error('notifyFinish succeeded'))),
        (f: Failure) => resolve(f),
      );
    });
    expect(failure.check(ConnectionDone)).toBe(ConnectionDone);
    request.write('dropped');
    request.finish();
    s.resume();
    const text = (await closed).toString('latin1');
    expect(text.slice(0, 15)).toBe('HTTP/1.1 200 OK');
    expect(text.includes('dropped')).toBe(false);
    expect(text.endsWith('0\r\n\r\n')).toBe(false); // no last chunk: the response is cut, and the client can tell
  });

  it('a Site request still being answered when the client resets hears ConnectionLost, not a clean close', async () => {
    let rendered!: (req: Request) => void;
    const renders = new Promise<Request>((resolve) => (rendered = resolve));
    const site = new Site(
      new FunctionResource((req) => {
        req.write('part');
        rendered(req);
        return NOT_DONE_YET;
      }),
    );
    const port = (r.listenTCP(0, site, { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
    const s = net.connect(port, '127.0.0.1', () => s.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n'));
    s.on('error', () => undefined);
    const request = await renders;
    const failure = new Promise<Failure>((resolve) => {
      request.notifyFinish().addCallbacks(
        () => resolve(new Failure(new Error('notifyFinish succeeded'))),
        (f: Failure) => resolve(f),
      );
    });
    s.resetAndDestroy();
    const f = await failure;
    expect(f.check(ConnectionDone)).toBeNull();
    expect(f.check(ConnectionLost)).toBe(ConnectionLost);
  });
});
