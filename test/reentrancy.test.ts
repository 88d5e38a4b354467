/**
 * Re-entrancy matrix, on every backend: from inside each callback a
 * connection can be in (connectionMade, dataReceived, connectionLost, a push
 * and a pull producer's resumeProducing, a callLater timer, and a spawned process's
 * processEnded once the reactor has spawnProcess) the server calls each action
 * that tears something down or starts something (loseConnection,
 * abortConnection, stopListening, reactor.stop, a new connectTCP). Every
 * cell: connectionLost runs exactly once per connection and never nested
 * inside another callback of that connection, nothing is delivered after
 * abortConnection, nothing is logged as an error, and the fds are back to
 * the baseline once the reactor is closed.
 */
import type { IPv4Address } from '../lib/address';
import type { Failure } from '../lib/failure';
import type { IPushProducer, ITCPTransport } from '../lib/interfaces';
import { ProcessProtocol } from '../lib/process';
import { ClientFactory, Factory, Protocol } from '../lib/protocol';
import { createReactor, Port, Reactor } from '../lib/reactor';
import { forEachBackend } from './helpers/backends';
import { expectIdleCpu, fdBaseline, warmUp, withTimeout } from './helpers/checks';
import { captureLog, signal } from './helpers/tcp';

jest.setTimeout(10000);

const ACTIONS = ['loseConnection', 'abortConnection', 'stopListening', 'reactor.stop', 'connectTCP'] as const;
type Callback = 'connectionMade' | 'dataReceived' | 'connectionLost' | 'resumeProducing' | 'pull resumeProducing' | 'callLater' | 'processEnded';
type Action = (typeof ACTIONS)[number];

const CALLBACKS: Callback[] = ['connectionMade', 'dataReceived', 'connectionLost', 'resumeProducing', 'pull resumeProducing', 'callLater', 'processEnded'];

/** More than the kernel takes at once on loopback, so a streaming producer gets paused. */
const PRODUCER_BURST = 8 * 1024 * 1024;

/** Everything one cell of the matrix sets up and observes. */
class Scenario {
  readonly probes: Probe[] = [];
  readonly acted = signal();
  hasActed = false;
  port!: Port;
  extra: { made: Promise<Probe>; failed: Promise<Failure> } | null = null;

  constructor(
    readonly r: Reactor,
    readonly trigger: Callback,
    readonly action: Action,
  ) {}

  get portNumber(): number {
    return (this.port.getHost() as IPv4Address).port;
  }

  /** Runs the action once per scenario, from inside `probe`'s current callback. */
  act(probe: Probe): void {
    if (this.hasActed) return;
    this.hasActed = true;
    probe.log.push(`act:${this.action}`);
    const t = probe.transport as ITCPTransport;
    switch (this.action) {
      case 'loseConnection':
        t.loseConnection();
        break;
      case 'abortConnection':
        probe.aborted = true;
        t.abortConnection();
        break;
      case 'stopListening':
        void this.port.stopListening();
        break;
      case 'reactor.stop':
        this.r.stop();
        break;
      case 'connectTCP':
        this.extra = this.connectClient();
        break;
    }
    this.acted.resolve();
  }

  /** A client that greets the server (and, for the connectionLost cell, hangs up); `made` gives its probe. */
  connectClient(): { made: Promise<Probe>; failed: Promise<Failure> } {
    const made = signal<Probe>();
    const failed = signal<Failure>();
    const f = new ClientFactory();
    f.buildProtocol = () => {
      const p = new Probe(this, 'client');
      p.onMade = () => made.resolve(p);
      return p;
    };
    f.clientConnectionFailed = (_c, reason) => failed.resolve(reason);
    this.r.connectTCP('127.0.0.1', this.portNumber, f);
    return { made: made.promise, failed: failed.promise };
  }
}

/** A protocol that tracks nesting and counts, and runs the scenario's action from the chosen callback. */
class Probe extends Protocol implements IPushProducer {
  readonly log: string[] = [];
  depth = 0;
  lostCount = 0;
  nestedLost = false;
  aborted = false;
  dataAfterAbort = 0;
  pauses = 0;
  pulls = 0;
  onMade: (() => void) | null = null;
  readonly lost = signal<Failure>();
  /** Client: its writes are over (it sent them all or was disconnected). */
  readonly writesDone = signal();

  constructor(
    private readonly s: Scenario,
    readonly side: 'server' | 'client',
  ) {
    super();
    s.probes.push(this);
  }

  private get isTrigger(): boolean {
    return this.side === 'server';
  }

  private within(name: string, fn: () => void): void {
    this.depth++;
    this.log.push(name);
    try {
      fn();
    } finally {
      this.depth--;
    }
  }

  override connectionMade(): void {
    this.within('made', () => {
      this.onMade?.();
      if (this.side === 'client') return this.greet();
      const s = this.s;
      if (s.trigger === 'connectionMade') s.act(this);
      else if (s.trigger === 'callLater') s.r.callLater(0, () => this.within('timer', () => s.act(this)));
      else if (s.trigger === 'processEnded') this.spawnAndActWhenEnded();
      else if (s.trigger === 'resumeProducing' && !s.hasActed) {
        const t = this.transport as ITCPTransport;
        t.registerProducer(this, true);
        t.write(Buffer.alloc(PRODUCER_BURST));
      } else if (s.trigger === 'pull resumeProducing') {
        // A pull producer is asked at once (inside this callback), then again by the transport.
        (this.transport as ITCPTransport).registerProducer(this, false);
      }
    });
  }

  /** Starts `true`; its processEnded runs the action (as a callback of this connection). */
  private spawnAndActWhenEnded(): void {
    const pp = new ProcessProtocol();
    pp.processEnded = () => this.within('processEnded', () => this.s.act(this));
    this.s.r.spawnProcess(pp, '/bin/sh', ['sh', '-c', 'exit 0']);
  }

  private greet(): void {
    const t = this.transport as ITCPTransport;
    t.write('hello');
    if (this.s.trigger === 'connectionLost') t.loseConnection();
    // A few more writes later on, so data is in flight around an abort.
    let n = 0;
    const more = (): void => {
      if (!this.connected || ++n > 5) return this.writesDone.resolve();
      t.write('more');
      this.s.r.callLater(0.001, more);
    };
    if (this.s.trigger !== 'connectionLost') this.s.r.callLater(0.001, more);
    else this.writesDone.resolve();
  }

  override dataReceived(data: Buffer): void {
    this.within(`data:${data.length}`, () => {
      if (this.aborted) this.dataAfterAbort++;
      if (this.isTrigger && this.s.trigger === 'dataReceived') this.s.act(this);
    });
  }

  override connectionLost(reason: Failure): void {
    if (this.depth !== 0) this.nestedLost = true;
    this.lostCount++;
    this.within(`lost:${reason.type?.name ?? '?'}`, () => {
      if (this.isTrigger && this.s.trigger === 'connectionLost') this.s.act(this);
    });
    this.lost.resolve(reason);
  }

  // ---- IPushProducer (the server probe feeds its own transport) ----

  pauseProducing(): void {
    this.pauses++;
    this.log.push('pause');
  }

  resumeProducing(): void {
    this.within('resume', () => {
      if (this.s.hasActed) return;
      if (this.s.trigger === 'pull resumeProducing' && this.pulls++ === 0) return this.transport!.write('chunk');
      (this.transport as ITCPTransport).unregisterProducer();
      this.s.act(this);
    });
  }

  stopProducing(): void {
    this.log.push('stop');
  }
}

/** Bound on each wait inside a scenario; well under the test timeout so cleanup still runs. */
const WAIT_MS = 3000;

/** Stops a reactor left running by a failed scenario (its keep-alive timer would hold jest open). */
function stopQuietly(r: Reactor): void {
  try {
    r.stop();
  } catch {
    // already stopping
  }
}

async function runScenario(backend: string, trigger: Callback, action: Action): Promise<void> {
  const fds = await fdBaseline();
  const logged = captureLog();
  const r = createReactor({ backend });
  const s = new Scenario(r, trigger, action);
  try {
    const running = r.run();
    const sf = new Factory();
    sf.buildProtocol = () => new Probe(s, 'server');
    s.port = r.listenTCP(0, sf, { interface: '127.0.0.1' });
    const client = s.connectClient();
    await withTimeout(s.acted.promise, WAIT_MS, 'the action');
    if (s.extra !== null) await withTimeout(Promise.race([s.extra.made, s.extra.failed]), WAIT_MS, 'the new connection');
    // Let the first client finish writing (it stops when disconnected), and a
    // connection the action closes end on its own, before stop() closes the rest.
    // (The server may act before the client hears it is connected, or instead.)
    const first = await withTimeout(Promise.race([client.made, client.failed.then(() => null)]), WAIT_MS, 'the first client');
    const server = s.probes.find((p) => p.side === 'server')!;
    // After reactor.stop() pending calls never run (as in Twisted), so there the
    // client's timed writes simply end with the reactor.
    if (first !== null && action !== 'reactor.stop') await withTimeout(first.writesDone.promise, WAIT_MS, 'the client to finish writing');
    if (action === 'loseConnection' || action === 'abortConnection') await withTimeout(server.lost.promise, WAIT_MS, 'connectionLost after the action');
    if (action !== 'reactor.stop') r.stop();
    await withTimeout(running, WAIT_MS, 'run() to resolve after stop()');
    // Every connection that was made has ended, each exactly once.
    await withTimeout(Promise.all(s.probes.map((p) => p.lost.promise)), WAIT_MS, 'every connectionLost');
    for (const p of s.probes) {
      const where = `${p.side}: ${p.log.join(' ')}`;
      expect({ where, lostCount: p.lostCount, nested: p.nestedLost }).toEqual({ where, lostCount: 1, nested: false });
      expect({ where, dataAfterAbort: p.dataAfterAbort }).toEqual({ where, dataAfterAbort: 0 });
    }
    if (trigger === 'resumeProducing') expect(server.pauses).toBeGreaterThan(0);
    if (trigger === 'pull resumeProducing') expect(server.pulls).toBe(2);
    expect(logged.events.filter((e) => e.level === 'error' || e.level === 'critical')).toEqual([]);
  } finally {
    logged.stop();
    if (r.running) stopQuietly(r);
    r.close();
  }
  await fds.expectBack();
}

forEachBackend('Re-entrancy', (backend) => {
  beforeAll(() => warmUp(backend));

  for (const trigger of CALLBACKS) {
    for (const action of ACTIONS) {
      it(`${action} from ${trigger}`, () => runScenario(backend, trigger, action));
    }
  }

  it('leaves the process idle afterwards (CPU < 5% of a core over 1 s)', () => expectIdleCpu());
});
