/**
 * HostnameEndpoint (twisted.internet.endpoints): resolves a host name with
 * Node's dns and races its addresses, happy-eyeballs style (RFC 8305):
 * families alternate, a new attempt starts every `attemptDelay` seconds or
 * as soon as the last one failed, the first connection wins and every other
 * attempt is cancelled.
 */
import { lookup } from 'dns';
import { isIP } from 'net';
import { Deferred } from '../defer';
import { ConnectingCancelledError, DNSLookupError } from '../errors';
import { Failure } from '../failure';
import type { AnyProtocol, Factory } from '../protocol';
import { connectWith } from './connect';
import type { IDelayedCall, IReactorTCP, IReactorTime } from '../interfaces';
import type { IStreamClientEndpoint } from './types';

/** Options of a HostnameEndpoint. */
export interface HostnameEndpointOptions {
  /** Seconds before each attempt fails with TimeoutError (30). */
  timeout?: number;
  /** Local [host, port] to bind before connecting. */
  bindAddress?: [string, number] | null;
  /** Seconds between starting one address's attempt and the next's (0.3, as Twisted). */
  attemptDelay?: number;
  /** Resolves a host name to addresses; Node's dns.lookup (every address) by default. */
  nameResolver?: (host: string) => PromiseLike<string[]>;
}

/** What a HostnameEndpoint needs of a reactor: connectTCP and callLater. */
export type IReactorTCPTime = IReactorTCP & IReactorTime;

/** Every address of `host`, in the order the system's resolver gives them. */
function lookupAll(host: string): Promise<string[]> {
  return new Promise((ok, fail) => lookup(host, { all: true }, (err, found) => (err ? fail(err) : ok(found.map((a) => a.address)))));
}

/** Alternates address families, starting with the family of the first address (RFC 8305 section 4). */
export function interleaveFamilies(addresses: readonly string[]): string[] {
  if (addresses.length === 0) return [];
  const firstFamily = isIP(addresses[0]);
  const first = addresses.filter((a) => isIP(a) === firstFamily);
  const other = addresses.filter((a) => isIP(a) !== firstFamily);
  const out: string[] = [];
  for (let i = 0; i < Math.max(first.length, other.length); i++) {
    if (i < first.length) out.push(first[i]);
    if (i < other.length) out.push(other[i]);
  }
  return out;
}

/** Connects to a host name (or address literal) and port over TCP, racing its addresses. */
export class HostnameEndpoint implements IStreamClientEndpoint {
  constructor(
    /** The reactor that connects and times the attempts. */
    readonly reactor: IReactorTCPTime,
    /** Host name (resolved to every address it has) or address. */
    readonly host: string,
    /** Port to connect to. */
    readonly port: number,
    /** Timeout, attempt stagger and bind address. */
    readonly options: HostnameEndpointOptions = {},
  ) {
    const delay = options.attemptDelay;
    if (delay !== undefined && !(typeof delay === 'number' && Number.isFinite(delay) && delay >= 0)) {
      throw new TypeError(`HostnameEndpoint: attemptDelay must be a finite number of seconds >= 0, got ${String(delay)}`);
    }
  }

  /**
   * Resolves, then races the addresses; fires with the protocol of the first
   * connection made. Fails with DNSLookupError when nothing resolves, with
   * the last attempt's failure when every one fails; cancelling stops it all
   * (ConnectingCancelledError).
   */
  connect<P extends AnyProtocol>(factory: Factory<P>): Deferred<P> {
    const resolve = this.options.nameResolver ?? lookupAll;
    const race = new AddressRace<P>(this, factory);
    if (isIP(this.host) !== 0) {
      race.start([this.host]);
    } else {
      Promise.resolve(resolve(this.host)).then(
        (found) => race.start(interleaveFamilies(found)),
        (err: unknown) => race.resolveFailed(err),
      );
    }
    return race.result;
  }
}

/** One connect(): the attempts under way, the stagger timer and the Deferred they race for. */
class AddressRace<P extends AnyProtocol> {
  readonly result: Deferred<P>;
  private addresses: string[] = [];
  private next = 0;
  private readonly attempts = new Set<Deferred<P>>();
  private timer: IDelayedCall | null = null;
  private done = false;

  constructor(
    private readonly endpoint: HostnameEndpoint,
    private readonly factory: Factory<P>,
  ) {
    this.result = new Deferred<P>((d) => {
      this.finish();
      d.errback(new ConnectingCancelledError(`${endpoint.host}:${endpoint.port}`));
    });
  }

  /** The names resolved: start racing them (DNSLookupError when there are none). */
  start(addresses: string[]): void {
    if (this.done) return;
    if (addresses.length === 0) {
      this.fail(new Failure(new DNSLookupError(`${this.endpoint.host} resolved to no address`)));
      return;
    }
    this.addresses = addresses;
    this.startNext();
  }

  /** The resolver failed. */
  resolveFailed(err: unknown): void {
    if (this.done) return;
    const why = err instanceof Error ? err.message : String(err);
    this.fail(new Failure(new DNSLookupError(`Could not resolve ${this.endpoint.host}: ${why}`)));
  }

  private startNext(): void {
    this.cancelTimer();
    if (this.done || this.next >= this.addresses.length) return;
    const address = this.addresses[this.next++];
    const { reactor, port, options } = this.endpoint;
    const opts = { timeout: options.timeout ?? 30, bindAddress: options.bindAddress ?? null };
    const attempt = connectWith(this.factory, (wf) => reactor.connectTCP(address, port, wf, opts));
    this.attempts.add(attempt);
    attempt.addCallbacks(
      (proto: P) => {
        this.won(attempt, proto);
        return undefined;
      },
      (failure: Failure) => {
        this.lost(attempt, failure);
        return undefined;
      },
    );
    if (!this.done && this.timer === null && this.next < this.addresses.length) {
      this.timer = reactor.callLater(options.attemptDelay ?? 0.3, () => {
        this.timer = null;
        this.startNext();
      });
    }
  }

  private won(attempt: Deferred<P>, proto: P): void {
    this.attempts.delete(attempt);
    if (this.done) {
      // Lost the race by a hair: it connected after another did.
      proto.transport?.loseConnection();
      return;
    }
    this.finish();
    this.result.callback(proto);
  }

  private lost(attempt: Deferred<P>, failure: Failure): void {
    this.attempts.delete(attempt);
    if (this.done) return;
    if (this.next < this.addresses.length) this.startNext();
    else if (this.attempts.size === 0) this.fail(failure);
  }

  private fail(failure: Failure): void {
    this.finish();
    this.result.errback(failure);
  }

  /** Stops the timer and cancels every attempt still under way. */
  private finish(): void {
    this.done = true;
    this.cancelTimer();
    const pending = [...this.attempts];
    this.attempts.clear();
    for (const a of pending) a.cancel();
  }

  private cancelTimer(): void {
    if (this.timer !== null && this.timer.active()) this.timer.cancel();
    this.timer = null;
  }
}
