/**
 * notifyFinish fires when the whole response is with the transport, not when
 * finish() was called: a pipelined response finished while an earlier one is
 * still being answered waits in the channel, and if the connection ends
 * meanwhile (here the client's EOF) it was never sent, so its notifyFinish
 * fails. A request answered by a 101 upgrade is sent with its 101 (the
 * channel hands the transport on meanwhile), also when onConnect answers
 * later. Real Node clients, epoll and poll.
 */
import * as net from 'net';
import type { IPv4Address } from '../lib/address';
import { ConnectionDone } from '../lib/errors';
import { Failure } from '../lib/failure';
import type { Reactor } from '../lib/reactor';
import { FunctionResource, NOT_DONE_YET, RenderResult, Request, Resource, Site } from '../lib/web';
import { ConnectionRequest, WebSocketResource } from '../lib/websocket';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { until } from './helpers/tcp';
import { EchoLog, echoFactory, EchoServer } from './helpers/websocket';
import { clientFrame, RawClient } from './helpers/ws-raw';

jest.setTimeout(20000);

const TWO = 'GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /fast HTTP/1.1\r\nHost: x\r\n\r\n';

/** What notifyFinish of a request came to: 'sent', or the failure. */
function outcome(request: Request): Promise<'sent' | Failure> {
  return new Promise((resolve) => {
    request.notifyFinish().addCallbacks(
      () => resolve('sent'),
      (f: Failure) => resolve(f),
    );
  });
}

/** A Site where /slow waits (NOT_DONE_YET) and /fast answers at once; each request is handed out as it renders. */
function twoSpeedSite(): { site: Site; slow: Promise<Request>; fast: Promise<{ request: Request; finished: Promise<'sent' | Failure> }> } {
  let gotSlow!: (r: Request) => void;
  let gotFast!: (v: { request: Request; finished: Promise<'sent' | Failure> }) => void;
  const slow = new Promise<Request>((resolve) => (gotSlow = resolve));
  const fast = new Promise<{ request: Request; finished: Promise<'sent' | Failure> }>((resolve) => (gotFast = resolve));
  const site = new Site(
    new FunctionResource((req) => {
      if (req.path === '/slow') {
        gotSlow(req);
        return NOT_DONE_YET;
      }
      gotFast({ request: req, finished: outcome(req) });
      return 'fast';
    }),
  );
  return { site, slow, fast };
}

forEachBackend('notifyFinish of a pipelined response', (backend) => {
  let r: Reactor;
  reactorPerTest(
    backend,
    (x) => (r = x),
    () => r,
  );

  it('fires when the response goes out behind the one before it, not at its finish()', async () => {
    const { site, slow, fast } = twoSpeedSite();
    const port = (r.listenTCP(0, site, { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
    const s = net.connect(port, '127.0.0.1', () => s.write(TWO));
    let got = '';
    s.on('data', (d: Buffer) => (got += d.toString('latin1')));
    const closed = new Promise<void>((resolve) => s.on('close', () => resolve()));
    try {
      const first = await slow;
      const second = await fast;
      expect(second.request.finished).toBe(true);
      let settled = false;
      void second.finished.then(() => (settled = true));
      await new Promise<void>((resolve) => setImmediate(resolve));
      expect(settled).toBe(false); // finished, but behind /slow: not sent yet
      first.write('slow');
      first.finish();
      expect(await second.finished).toBe('sent');
      await new Promise<void>((resolve) => {
        const check = (): void => (got.includes('fast') ? resolve() : void s.once('data', check));
        check();
      });
      expect(got.indexOf('slow')).toBeLessThan(got.indexOf('fast'));
    } finally {
      s.destroy();
      await closed;
    }
  });

  it('fails when the client\'s EOF comes before the response could go out', async () => {
    const { site, slow, fast } = twoSpeedSite();
    const port = (r.listenTCP(0, site, { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
    const s = net.connect(port, '127.0.0.1', () => s.end(TWO));
    s.on('data', () => undefined);
    const closed = new Promise<void>((resolve) => s.on('close', () => resolve()));
    const first = await slow;
    const second = await fast;
    const result = await second.finished;
    expect(result).toBeInstanceOf(Failure);
    expect((result as Failure).check(ConnectionDone)).toBe(ConnectionDone);
    expect(await outcome(first)).toBeInstanceOf(Failure);
    await closed;
  });
});

/** Hands out each request it renders, with what its notifyFinish came to, then lets a WebSocketResource answer it. */
class Watching extends Resource {
  override isLeaf = true;
  readonly seen: Array<{ request: Request; finished: Promise<'sent' | Failure> }> = [];
  constructor(private readonly ws: WebSocketResource) {
    super();
  }
  override render(request: Request): RenderResult {
    this.seen.push({ request, finished: outcome(request) });
    return this.ws.render(request);
  }
}

/** Answers onConnect on a later turn, once `answer` is called. */
class LateServer extends EchoServer {
  static answer: (() => void) | null = null;
  override onConnect(request: ConnectionRequest): string | null {
    const chosen = super.onConnect(request);
    return new Promise<string | null>((resolve) => (LateServer.answer = () => resolve(chosen))) as unknown as null;
  }
}

forEachBackend('notifyFinish of a request answered by a 101 upgrade', (backend) => {
  let r: Reactor;
  reactorPerTest(
    backend,
    (x) => (r = x),
    () => r,
  );
  const clients: RawClient[] = [];
  afterEach(() => {
    for (const c of clients.splice(0)) c.destroy();
    LateServer.answer = null;
  });

  function serve(late: boolean): { port: number; watching: Watching; log: EchoLog } {
    const factory = echoFactory(r);
    if (late) factory.protocol = LateServer as never;
    const watching = new Watching(new WebSocketResource(factory));
    const port = (r.listenTCP(0, new Site(watching), { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
    return { port, watching, log: factory.log };
  }

  it('fires with the 101, while the WebSocket is open; a waiter added after fires at once', async () => {
    const { port, watching, log } = serve(false);
    const c = new RawClient(port, null);
    clients.push(c);
    await until(() => watching.seen.length === 1, 5000, 'the upgrade request');
    expect(await watching.seen[0].finished).toBe('sent');
    await until(() => c.head !== '', 5000, 'the 101');
    expect(c.head.startsWith('HTTP/1.1 101')).toBe(true);
    expect(await outcome(watching.seen[0].request)).toBe('sent');
    c.send(clientFrame(1, 'still open'));
    await until(() => c.frames.length === 1, 5000, 'the echo');
    expect(log.closes).toEqual([]);
  });

  it('waits for an onConnect that answers later, then fires with the 101', async () => {
    const { port, watching } = serve(true);
    const c = new RawClient(port, null);
    clients.push(c);
    await until(() => LateServer.answer !== null, 5000, 'onConnect');
    let settled = false;
    const finished = watching.seen[0].finished.then((v) => ((settled = true), v));
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(settled).toBe(false); // not answered yet
    LateServer.answer!();
    expect(await finished).toBe('sent');
    await until(() => c.head !== '', 5000, 'the 101');
    expect(c.head.startsWith('HTTP/1.1 101')).toBe(true);
  });
});
