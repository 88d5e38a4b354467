/**
 * Where a started reactor blocks (native/bridge_wait.cc). On epoll the loop
 * waits in its own set from libuv's prepare phase, with libuv's epoll fd
 * inside that set, instead of libuv waiting on a set that holds ours: one
 * epoll call less per wake-up. What that must not break, on every backend:
 * whatever else Node waits for while the reactor blocks (a timer, a thread
 * pool completion, Node's own sockets, a second reactor on the same thread)
 * still ends the wait at once.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { performance } from 'perf_hooks';
import type { IPv4Address } from '../lib/address';
import { Factory, Protocol } from '../lib/protocol';
import { createReactor, Reactor } from '../lib/reactor';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { withTimeout } from './helpers/checks';
import { runNode } from './helpers/child';
import { queuedEchoFactory } from './helpers/queued-echo';
import { connectedPair } from './helpers/tcp';

jest.setTimeout(20000);

class Echo extends Protocol {
  override dataReceived(data: Buffer): void {
    this.transport!.write(data);
  }
}

/** A listening echo port on `r`; its port number. */
function echoPort(r: Reactor): number {
  return (r.listenTCP(0, Factory.forProtocol(Echo), { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
}

/** One round trip through a Node client to `port`, then the client closes. */
function nodeRoundTrip(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1', () => c.write('ping'));
    c.on('data', (d) => {
      c.destroy();
      resolve(d.toString());
    });
    c.on('error', reject);
  });
}

/**
 * A client outside this process (so that its traffic wakes only the
 * reactor's set, never libuv's): `rounds` round trips of one byte to `port`,
 * one at a time, or until the server closes when rounds is 0. Resolves with
 * the round trips made once the client has exited.
 */
async function childRoundTrips(port: number, rounds: number): Promise<number> {
  const script = `
    const c = require('net').connect(${port}, '127.0.0.1', () => c.write('x'));
    let n = 0;
    c.on('data', () => { n++; if (n === ${rounds}) c.end(); else c.write('x'); });
    c.on('close', () => console.log(n));
    c.on('error', () => {});`;
  const res = await runNode(script, [], 15000);
  if (res.code !== 0 || res.timedOut) throw new Error(`client failed (timed out: ${String(res.timedOut)}): ${res.stderr}`);
  return Number(res.stdout.trim());
}

/** Node's count of its loop's turns (libuv's loop_count; Node 20.18 and 22.8 on). */
function loopTurns(): number {
  const info = (performance.nodeTiming as { uvMetricsInfo?: { loopCount: number } }).uvMetricsInfo;
  if (info === undefined) throw new Error(`performance.nodeTiming.uvMetricsInfo is missing from Node ${process.version}: the turn count cannot be read`);
  return info.loopCount;
}

/**
 * In a fresh process (one reactor on the thread, so it is the one that
 * waits): which epoll sets hold which. libuv's set is the one holding a Node
 * server's fd.
 */
function nesting(backend: string, exact: boolean | undefined): { libuvHoldsEpoll: boolean; libuvHeld: boolean } {
  const reg = path.join(__dirname, 'helpers', 'ts-register.js');
  const lib = path.join(__dirname, '..', 'lib', 'index.ts');
  const script = `
    const fs = require('fs'), net = require('net');
    const { createReactor, Factory, Protocol } = require(${JSON.stringify(lib)});
    const r = createReactor({ backend: ${JSON.stringify(backend)}${exact === undefined ? '' : `, exactLoopUtilization: ${String(exact)}`} });
    r.listenTCP(0, Factory.forProtocol(Protocol), { interface: '127.0.0.1' });
    // libuv adds a watched fd to its set at its next poll, which no event
    // announces: look every 10 ms until its set holds the server (a loaded
    // machine can run a first timer before that poll), for at most 5 s.
    let tries = 0;
    const look = () => {
      const epolls = fs.readdirSync('/proc/self/fd').map(Number)
        .filter((fd) => { try { return fs.readlinkSync('/proc/self/fd/' + fd) === 'anon_inode:[eventpoll]'; } catch { return false; } });
      const holds = (e) => [...fs.readFileSync('/proc/self/fdinfo/' + e, 'utf8').matchAll(/^tfd:\\s*(\\d+)/gm)].map((m) => Number(m[1]));
      const libuv = epolls.find((e) => holds(e).includes(srv._handle.fd));
      if (libuv === undefined && ++tries < 500) return void setTimeout(look, 10);
      console.log(JSON.stringify({
        libuvHoldsEpoll: holds(libuv).some((fd) => epolls.includes(fd)),
        libuvHeld: epolls.some((e) => e !== libuv && holds(e).includes(libuv)),
      }));
      srv.close();
      r.disconnectAll();
      r.close();
    };
    const srv = net.createServer().listen(0, '127.0.0.1', look);`;
  const res = spawnSync(process.execPath, ['-r', reg, '-e', script], { encoding: 'utf8', timeout: 60000 });
  if (res.status !== 0) throw new Error(`child failed: ${res.stderr}`);
  return JSON.parse(res.stdout.trim()) as { libuvHoldsEpoll: boolean; libuvHeld: boolean };
}

/** In a fresh process, Node's event loop utilization over 200 ms while one reactor holds a listening port and waits. */
function idleUtilization(backend: string, exact: boolean | undefined): number {
  const reg = path.join(__dirname, 'helpers', 'ts-register.js');
  const lib = path.join(__dirname, '..', 'lib', 'index.ts');
  const script = `
    const { performance } = require('perf_hooks');
    const { createReactor, Factory, Protocol } = require(${JSON.stringify(lib)});
    const r = createReactor({ backend: ${JSON.stringify(backend)}${exact === undefined ? '' : `, exactLoopUtilization: ${String(exact)}`} });
    r.listenTCP(0, Factory.forProtocol(Protocol), { interface: '127.0.0.1' });
    setTimeout(() => {
      const before = performance.eventLoopUtilization();
      setTimeout(() => {
        console.log(performance.eventLoopUtilization(before).utilization);
        r.close();
      }, 200);
    }, 50);`;
  const res = spawnSync(process.execPath, ['-r', reg, '-e', script], { encoding: 'utf8', timeout: 15000 });
  if (res.status !== 0) throw new Error(`child failed: ${res.stderr}`);
  return Number(res.stdout.trim());
}

const linux = process.platform === 'linux';

forEachBackend('where the reactor blocks', (backend) => {
  let r: Reactor;
  // What follows tests the reactor that blocks in its own set (the option's false).
  reactorPerTest(backend, (reactor) => (r = reactor), () => r, { exactLoopUtilization: false });

  (linux ? it : it.skip)('exactLoopUtilization false: libuv never waits on a set that holds the reactor\'s (epoll: the reactor\'s holds libuv\'s)', () => {
    // Linux only: /proc/self/fdinfo is how the sets are seen.
    expect(nesting(backend, false)).toEqual({ libuvHoldsEpoll: false, libuvHeld: backend === 'epoll' });
  });

  (linux ? it : it.skip)('by default (exactLoopUtilization true) the reactor is polled inside libuv\'s set (epoll: libuv\'s holds the reactor\'s)', () => {
    const inside = { libuvHoldsEpoll: backend === 'epoll', libuvHeld: false };
    expect(nesting(backend, undefined)).toEqual(inside);
    expect(nesting(backend, true)).toEqual(inside);
  });

  it('by default Node counts the reactor\'s waits as idle', () => {
    // In a fresh process: another reactor waiting in its own set would read as busy.
    expect(idleUtilization(backend, undefined)).toBeLessThan(0.5); // blocked nearly all the time (busy reads ~1)
  });

  it('createReactor refuses an exactLoopUtilization that is not a boolean', () => {
    expect(() => createReactor({ exactLoopUtilization: 'yes' as unknown as boolean })).toThrow(TypeError);
  });

  it('a Node timer fires while the reactor holds a listening port and nothing else happens', async () => {
    echoPort(r);
    await withTimeout(new Promise((res) => setTimeout(res, 30)), 5000, 'a 30 ms timer');
  });

  it('wake-ups that are the reactor\'s alone are served without a whole turn of Node\'s loop each', async () => {
    const port = echoPort(r);
    // A first child warms up what a cold run compiles and loads on the way:
    // with a cold ts-jest cache the measured run took 150-2,300 turns (the
    // same on the code before 2026-12-05's sixth run), warm ~36.
    expect(await childRoundTrips(port, 200)).toBe(200);
    const before = loopTurns();
    expect(await childRoundTrips(port, 2000)).toBe(2000);
    // Each round trip is a wake-up with one event; the child's start and exit
    // add a few turns (~36 here, where a whole turn each is 2,000 and more).
    // poll has no fd to wait on: its waiter thread wakes libuv (a turn) for
    // each batch.
    if (backend !== 'poll') expect(loopTurns() - before).toBeLessThan(1000);
  });

  it('many wake-ups in one turn each get their own bytes while the slab and the keep chunk fill and are replaced', async () => {
    // The crossings of one turn share handles (native/bridge_dispatch.cc,
    // call_js_in_turn): a slab or keep chunk handle kept past its
    // replacement would hand JS another buffer's bytes. Three connections
    // from another process, 300 round trips each of 1-3,000 bytes (~1.4 MB:
    // dozens of 16 KiB keep chunks, several slabs), every echo compared.
    const port = echoPort(r);
    const script = `
      const net = require('net');
      let ok = 0, bad = 0, open = 3;
      for (let k = 0; k < 3; k++) {
        const c = net.connect(${port}, '127.0.0.1');
        let i = 0, want = null, got = [];
        const next = () => {
          const n = 1 + ((i * 7919 + k * 31) % 3000);
          want = Buffer.alloc(n, 0).map((_, j) => (i * 13 + j + k) & 255);
          got = [];
          c.write(want);
        };
        c.on('connect', next);
        c.on('data', (d) => {
          got.push(d);
          const all = Buffer.concat(got);
          if (all.length < want.length) return;
          if (all.equals(want)) ok++; else bad++;
          if (++i === 300) c.end(); else next();
        });
        c.on('close', () => { if (--open === 0) console.log(ok + ' ' + bad); });
        c.on('error', () => {});
      }`;
    const res = await runNode(script, [], 15000);
    expect([res.code, res.timedOut, res.stdout.trim()]).toEqual([0, false, '900 0']);
  });

  it('what a protocol queues in one wake-up (a nextTick, a promise reaction, a setImmediate) runs before the next', async () => {
    const port = (r.listenTCP(0, queuedEchoFactory(), { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
    // Nothing else wakes the loop: a queue left undrained would stall the client.
    expect(await childRoundTrips(port, 300)).toBe(300);
  });

  it('an unref\'d setImmediate queued in a wake-up runs without waiting for another event', async () => {
    class Later extends Protocol {
      override dataReceived(data: Buffer): void {
        // unref'd: it does not make libuv's timeout 0, so a wait that blocks
        // with no limit would hold it until some other event came.
        setImmediate(() => void this.transport!.write(data)).unref();
      }
    }
    const port = (r.listenTCP(0, Factory.forProtocol(Later), { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
    expect(await childRoundTrips(port, 50)).toBe(50);
  });

  it('a Node timer fires while the reactor\'s sockets keep waking it', async () => {
    class CloseOnTimer extends Protocol {
      override connectionMade(): void {
        setTimeout(() => this.transport!.loseConnection(), 30);
      }
      override dataReceived(data: Buffer): void {
        this.transport!.write(data);
      }
    }
    const port = (r.listenTCP(0, Factory.forProtocol(CloseOnTimer), { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
    expect(await childRoundTrips(port, 0)).toBeGreaterThan(0); // the client runs until the timer closes it
  });

  it('Node sockets that a protocol opens in a wake-up are served: libuv registers them before the reactor blocks', async () => {
    class Relay extends Protocol {
      override dataReceived(data: Buffer): void {
        // A Node server and client both opened here: neither fd is in libuv's set yet.
        const srv = net.createServer((s) => s.pipe(s)).listen(0, '127.0.0.1', () => {
          const c = net.connect((srv.address() as net.AddressInfo).port, '127.0.0.1', () => c.write(data));
          c.on('data', (d) => {
            c.destroy();
            srv.close();
            this.transport!.write(d);
          });
        });
      }
    }
    const port = (r.listenTCP(0, Factory.forProtocol(Relay), { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
    expect(await childRoundTrips(port, 5)).toBe(5);
  });

  it('a thread pool completion (fs.readFile) is delivered while the reactor blocks', async () => {
    echoPort(r);
    const text = await withTimeout(fs.promises.readFile(__filename, 'utf8'), 2000, 'readFile');
    expect(text).toContain('thread pool completion');
  });

  it('Node sockets and the reactor\'s are both served, turn after turn', async () => {
    const port = echoPort(r);
    for (let i = 0; i < 5; i++) expect(await withTimeout(nodeRoundTrip(port), 2000, `round trip ${i}`)).toBe('ping');
  });

  it('a second reactor on the same thread is served while the first blocks', async () => {
    const second = createReactor({ backend, exactLoopUtilization: false });
    try {
      echoPort(r);
      const { server, client } = await connectedPair(second, Echo);
      for (let i = 1; i <= 5; i++) {
        client.transport!.write('x');
        await withTimeout(client.waitForBytes(i), 2000, `second reactor, round trip ${i}`);
      }
      expect(server.transport).toBeDefined();
      const port = echoPort(second);
      expect(await withTimeout(nodeRoundTrip(port), 2000, 'a Node client of the second reactor')).toBe('ping');
    } finally {
      second.disconnectAll();
      await new Promise((res) => setImmediate(res));
      second.close();
    }
  });
});
