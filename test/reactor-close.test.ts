/**
 * Handles never act on a slot's next tenant. Every native command carries
 * (slot, generation) and the loop it was made on; after reactor.close() a new
 * loop reuses slot numbers, and an object of the closed one must neither reach
 * the new tenant nor pass silently: it fails with ReactorClosedError. A close()
 * asked for inside a callback lets go of the loop at once, so what the same
 * callback makes afterwards works on the next loop.
 */
import * as fs from 'fs';
import * as net from 'net';
import type { IPv4Address } from '../lib/address';
import { ReactorClosedError } from '../lib/errors';
import type { Failure } from '../lib/failure';
import { loadNative, NativeLoop } from '../lib/native';
import { Process, ProcessProtocol } from '../lib/process';
import { Reactor } from '../lib/reactor';
import type { Port } from '../lib/tcp/port';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { Pipes } from './helpers/fds';
import { withTimeout } from './helpers/checks';
import { Echo, keeping, Recorder, recording, signal, until } from './helpers/tcp';

jest.setTimeout(15000);

const EBADF = -9;

/** Resolves processEnded's reason. */
class Ended extends ProcessProtocol {
  readonly ended = signal<Failure>();
  override processEnded(reason: Failure): void {
    this.ended.resolve(reason);
  }
}

function sleeper(r: Reactor): { p: Process; proto: Ended } {
  const proto = new Ended();
  const p = r.spawnProcess(proto, '/bin/sleep', ['sleep', '30'], { childFDs: {} });
  return { p, proto };
}

/** Sends `text` on a Node socket and resolves with what comes back (an echo server). */
function echoed(sock: net.Socket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const onData = (d: Buffer): void => {
      got += d.toString();
      if (got.length < text.length) return;
      sock.off('data', onData);
      resolve(got);
    };
    sock.on('data', onData).once('error', reject);
    sock.write(text);
  });
}

forEachBackend('reactor.close()', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (reactor) => (r = reactor), () => r);

  it("a process of the closed loop fails with ReactorClosedError and never signals the new loop's child", async () => {
    const a = sleeper(r);
    const aPid = a.p.pid!;
    r.close();
    const b = sleeper(r); // the new loop: slot numbers start over
    try {
      expect(() => a.p.signalProcess('TERM')).toThrow(ReactorClosedError);
      expect(() => a.p.signalProcess(0)).toThrow(ReactorClosedError);
      b.p.signalProcess(0); // B is alive and still ours
      expect(b.p.pid).not.toBeNull();
    } finally {
      process.kill(aPid, 'SIGKILL'); // an orphan now: the reaper reaps it
      b.p.signalProcess('KILL');
    }
    expect((await withTimeout(b.proto.ended.promise, 5000, 'B ended')).value).toMatchObject({ signal: 'SIGKILL' });
    await until(() => !fs.existsSync(`/proc/${aPid}`), 5000, 'A reaped');
  });

  it('a port and a connection made in dataReceived after close() work, and stopping them leaves the rest alone', async () => {
    const sf = keeping(Echo);
    const first = r.listenTCP(0, sf, { interface: '127.0.0.1' });
    const client = new Recorder();
    const cf = recording(Recorder);
    cf.buildProtocol = () => client;
    r.connectTCP('127.0.0.1', (first.getHost() as IPv4Address).port, cf);
    const server = await sf.nextProtocol();
    const made = signal<{ port: Port; outgoing: Recorder }>();
    const laterEcho = keeping(Echo);
    server.dataReceived = () => {
      r.close(); // deferred for the loop itself: this callback is inside its dispatch
      const port = r.listenTCP(0, laterEcho, { interface: '127.0.0.1' });
      const outgoing = new Recorder();
      const f = recording(Recorder);
      f.buildProtocol = () => outgoing;
      r.connectTCP('127.0.0.1', (port.getHost() as IPv4Address).port, f);
      made.resolve({ port, outgoing });
    };
    client.transport!.write('x');
    const { port, outgoing } = await withTimeout(made.promise, 5000, 'dataReceived');
    await withTimeout(outgoing.made, 5000, 'the connection made after close() connects');
    const sock = net.connect((port.getHost() as IPv4Address).port, '127.0.0.1');
    try {
      expect(await withTimeout(echoed(sock, 'ping'), 5000, 'echo')).toBe('ping');
      await port.stopListening();
      // Its connections, and the outgoing one, are untouched by stopListening.
      expect(await withTimeout(echoed(sock, 'again'), 5000, 'echo after stopListening')).toBe('again');
      expect(outgoing.lostCount).toBe(0);
      outgoing.transport!.write('out');
      await withTimeout(outgoing.waitForBytes(3), 5000, 'outgoing echo');
    } finally {
      sock.destroy();
    }
    outgoing.transport!.loseConnection();
    await outgoing.lost;
    await until(() => laterEcho.built.every((p) => p.lostCount === 1), 5000, 'server side closed');
  });
});

forEachBackend('NativeLoop handles', (backend) => {
  const { NativeLoop: Loop } = loadNative();
  let l: NativeLoop;
  let pipes: Pipes;

  beforeEach(() => {
    l = new Loop(backend, () => undefined);
    pipes = new Pipes();
  });

  afterEach(() => {
    l.close();
    pipes.closeAll();
  });

  function pipeReader(): number {
    return pipes.one().r;
  }

  it("refuses a removed registration's handle once its slot has a new tenant", () => {
    const old = l.addRaw(pipeReader(), 1, false, false);
    const oldGen = l.generation(old);
    expect(l.remove(old, oldGen)).toBe(0);
    const fd = pipeReader();
    const slot = l.addRaw(fd, 1, false, false);
    expect(slot).toBe(old); // the slot is reused
    const gen = l.generation(slot);
    expect(gen).not.toBe(oldGen);
    expect(l.fdOf(old, oldGen)).toBe(EBADF);
    expect(l.modifyRaw(old, oldGen, 2, false, false)).toBe(EBADF);
    expect(l.setRef(old, oldGen, false)).toBe(EBADF);
    expect(l.remove(old, oldGen)).toBe(EBADF);
    expect(l.refcount()).toBe(1); // the new tenant is untouched
    expect(l.fdOf(slot, gen)).toBe(fd);
    expect(l.remove(slot, gen)).toBe(0);
  });

  it('refuses a handle of another loop, even with the same slot and generation', () => {
    const other = new Loop(backend, () => undefined);
    try {
      const slot = other.addRaw(pipeReader(), 1, false, false);
      const gen = other.generation(slot);
      other.close();
      const mine = l.addRaw(pipeReader(), 1, false, false);
      expect([mine, l.generation(mine)]).toEqual([slot, gen]);
      expect(other.remove(slot, gen)).toBe(EBADF); // the closed loop refuses it ...
      expect(l.refcount()).toBe(1); // ... and the open one never sees it
    } finally {
      other.close();
    }
  });
});
