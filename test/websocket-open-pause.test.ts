/**
 * A WebSocket application that pauses reading in onOpen stays paused across
 * the upgrade, on every backend: the hand-off from the HTTP channel neither
 * resumes the transport behind its back nor hands it the bytes that came
 * right behind the handshake (a client that sent a frame before the 101).
 * Its own resumeProducing delivers them, in order. onConnect answers at once
 * (the channel hands off inside the read) or later (the channel had paused
 * reading to hold the frame meanwhile). The frames come in the handshake's
 * write, cut after their first bytes (the rest sent once the 101 is in), or
 * wholly after the 101: however the reads split them, the pause holds.
 */
import type { Reactor, StreamTransport } from '../lib/reactor';
import type { ConnectionRequest } from '../lib/websocket';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { until } from './helpers/tcp';
import { EchoServer, serveEcho } from './helpers/websocket';
import { clientFrame, RawClient } from './helpers/ws-raw';

jest.setTimeout(20000);

/** Pauses its transport in onOpen (and keeps it for the test); answers onConnect at once or on a later turn. */
class PausingServer extends EchoServer {
  static later = false;
  static opened: PausingServer[] = [];
  override onConnect(request: ConnectionRequest): string | null {
    const answer = super.onConnect(request);
    return PausingServer.later ? (new Promise((res) => setImmediate(() => res(answer))) as unknown as null) : answer;
  }
  override onOpen(): void {
    (this.transport as StreamTransport).pauseProducing();
    PausingServer.opened.push(this);
    super.onOpen();
  }
}

forEachBackend('websocket: a pause set in onOpen', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (reactor) => (r = reactor), () => r);
  const clients: RawClient[] = [];
  afterEach(() => {
    for (const c of clients.splice(0)) c.destroy();
    PausingServer.opened = [];
  });

  const FRAMES = Buffer.concat([clientFrame(1, 'early'), clientFrame(1, 'second')]);

  describe.each([
    ['at once', false],
    ['later', true],
  ])('onConnect answers %s', (_name, later) => {
    it.each([
      ['with the handshake', FRAMES.length],
      ['cut after 3 bytes, the rest after the 101', 3],
      ['after the 101', 0],
    ])('survives the hand-off: frames sent %s wait for resumeProducing', async (_how, together) => {
      PausingServer.later = later;
      const { port, log, factory } = serveEcho(r);
      factory.protocol = PausingServer as never;
      const c = new RawClient(port, null, FRAMES.subarray(0, together));
      clients.push(c);
      await until(() => c.head !== '' && log.opened === 1, 5000, 'the 101 and onOpen');
      expect(c.head.startsWith('HTTP/1.1 101')).toBe(true);
      if (together < FRAMES.length) c.send(FRAMES.subarray(together));
      // A round trip on a second connection: the server's reactor polled (and delivered what it would) meanwhile.
      const other = new RawClient(port, null);
      clients.push(other);
      await until(() => log.opened === 2, 5000, "the other connection's onOpen");
      const server = PausingServer.opened[0];
      expect(log.messages).toEqual([]);
      (server.transport as StreamTransport).resumeProducing();
      await until(() => c.frames.length === 2, 5000, 'the echoes once resumed');
      expect(log.messages).toEqual([
        ['early', false],
        ['second', false],
      ]);
    });
  });
});
