/**
 * Protocols and factories for reactor/transport tests: a protocol that
 * records what happens to it and exposes promises for connectionMade,
 * received bytes and connectionLost, and a client factory that records failures.
 */
import type { Failure } from '../../lib/failure';
import type { IPv4Address } from '../../lib/address';
import type { IConnector, IListeningPort, ITCPTransport } from '../../lib/interfaces';
import { log, LogEvent } from '../../lib/log';
import { ClientFactory, Factory, Protocol } from '../../lib/protocol';
import type { Reactor } from '../../lib/reactor';
import { withTimeout } from './checks';

/** A promise with its resolve function outside. */
export function signal<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Records connectionMade, received bytes and connectionLost (with promises for each). */
export class Recorder extends Protocol {
  received: Buffer[] = [];
  lostCount = 0;
  reason: Failure | null = null;
  private readonly madeSig = signal();
  private readonly lostSig = signal<Failure>();
  private waiters: { bytes: number; resolve: () => void }[] = [];

  /** Resolves once connectionMade ran. */
  get made(): Promise<void> {
    return this.madeSig.promise;
  }

  /** Resolves with the reason once connectionLost ran. */
  get lost(): Promise<Failure> {
    return this.lostSig.promise;
  }

  /** Every byte received so far. */
  get bytes(): Buffer {
    return Buffer.concat(this.received);
  }

  /** Resolves once at least `n` bytes have arrived in total. */
  waitForBytes(n: number): Promise<void> {
    if (this.bytes.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ bytes: n, resolve }));
  }

  override connectionMade(): void {
    this.madeSig.resolve();
  }

  override dataReceived(data: Buffer): void {
    this.received.push(data);
    const have = this.bytes.length;
    this.waiters = this.waiters.filter((w) => (have >= w.bytes ? (w.resolve(), false) : true));
  }

  override connectionLost(reason: Failure): void {
    this.lostCount++;
    this.reason = reason;
    this.lostSig.resolve(reason);
  }
}

/** Echoes every byte back. */
export class Echo extends Recorder {
  override dataReceived(data: Buffer): void {
    super.dataReceived(data);
    this.transport!.write(data);
  }
}

/** A factory keeping every protocol it built, in order. */
export class KeepingFactory<P extends Protocol> extends Factory<P> {
  built: P[] = [];
  private nextSig = signal<P>();

  /** Resolves with the next protocol built (or the latest one not yet taken). */
  nextProtocol(): Promise<P> {
    return this.nextSig.promise;
  }

  override buildProtocol(addr: Parameters<Factory['buildProtocol']>[0]): P | null {
    const p = super.buildProtocol(addr);
    if (p !== null) {
      this.built.push(p);
      this.nextSig.resolve(p);
      this.nextSig = signal<P>();
    }
    return p;
  }
}

/** A KeepingFactory building protocols of class P. */
export function keeping<P extends Protocol>(protocol: new () => P): KeepingFactory<P> {
  const f = new KeepingFactory<P>();
  f.protocol = protocol;
  return f;
}

/** A RecordingClientFactory building protocols of class P. */
export function recording<P extends Protocol>(protocol: new () => P): RecordingClientFactory<P> {
  const f = new RecordingClientFactory<P>();
  f.protocol = protocol;
  return f;
}

/**
 * A connected TCP pair on 127.0.0.1: `r` listens with a KeepingFactory of
 * `server`, a Recorder connects; resolves once both ends are made (5 s bound).
 */
export async function connectedPair<P extends Protocol>(
  r: Reactor,
  server: new () => P,
): Promise<{ port: IListeningPort; sf: KeepingFactory<P>; server: P; client: Recorder }> {
  const sf = keeping(server);
  const port = r.listenTCP(0, sf, { interface: '127.0.0.1' });
  const client = new Recorder();
  const cf = recording(Recorder);
  cf.buildProtocol = () => client;
  r.connectTCP('127.0.0.1', (port.getHost() as IPv4Address).port, cf);
  const made = await sf.nextProtocol();
  await withTimeout(client.made, 5000, 'connected');
  return { port, sf, server: made, client };
}

/** The transport of a connected protocol, with the full TCP transport interface (NotConnectedError before). */
export function tcpOf(p: Protocol): ITCPTransport {
  return p.transport;
}

/** A ClientFactory recording failures and losses. */
export class RecordingClientFactory<P extends Protocol> extends ClientFactory<P> {
  started = 0;
  failures: Failure[] = [];
  losses: Failure[] = [];
  private failedSig = signal<Failure>();

  /** Resolves with the first clientConnectionFailed reason. */
  get failed(): Promise<Failure> {
    return this.failedSig.promise;
  }

  override startedConnecting(_c: IConnector): void {
    this.started++;
  }

  override clientConnectionFailed(_c: IConnector, reason: Failure): void {
    this.failures.push(reason);
    this.failedSig.resolve(reason);
  }

  override clientConnectionLost(_c: IConnector, reason: Failure): void {
    this.losses.push(reason);
  }
}

/** Collects log events while `fn` runs its test; the stderr default is kept quiet. */
export function captureLog(): { events: LogEvent[]; stop: () => void } {
  const events: LogEvent[] = [];
  const obs = (e: LogEvent): void => {
    events.push(e);
  };
  log.addObserver(obs);
  return { events, stop: () => log.removeObserver(obs) };
}

/** Waits until `cond()` is true, checking on each turn of the event loop; rejects after `ms`. */
export async function until(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}
