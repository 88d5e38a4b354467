/**
 * ReconnectingClientFactory, as `twisted.internet.protocol`'s: a client
 * factory that reconnects after a failed or lost connection, with backoff.
 */
import type { Failure } from './failure';
import type { IConnector } from './interfaces';
import { log } from './log';
import { ClientFactory } from './protocol';
import type { AnyProtocol, Protocol } from './protocol';
import type { IDelayedCall, IReactorTime } from './interfaces';

/** The global reactor, loaded on first use (so merely importing this module loads no native code). */
function globalReactor(): IReactorTime {
  return (require('./reactor') as { reactor: IReactorTime }).reactor;
}

/**
 * Retries connecting with exponential backoff: each delay is the last times
 * `factor`, capped at `maxDelay`, spread by `jitter`. Call resetDelay() from connectionMade.
 */
export class ReconnectingClientFactory<P extends AnyProtocol = AnyProtocol> extends ClientFactory<P> {
  /** Type-level only: see Factory's `~withProtocol`. */
  declare readonly '~withProtocol'?: ReconnectingClientFactory<Extract<this['~protocol'], AnyProtocol>>;
  /** The longest delay between attempts, in seconds. */
  maxDelay = 3600;
  /** The delay the backoff starts from (the first retry waits about initialDelay * factor). */
  initialDelay = 1.0;
  /** How much the delay grows per retry (e). */
  factor = 2.7182818284590451;
  /** Standard deviation of the delay, as a fraction of it (0 for none). */
  jitter = 0.11962656472;
  /** Give up after this many retries; null retries forever. */
  maxRetries: number | null = null;
  /** Retries since the last resetDelay(). */
  retries = 0;
  /** False once stopTrying() was called; resetDelay() sets it again. */
  continueTrying = true;
  /** The connector of the last attempt, retried by retry(). */
  connector: IConnector | null = null;
  /** Where retries are scheduled; the global reactor unless set (set a task.Clock in tests). */
  clock: IReactorTime | null = null;
  /** The scheduled retry, while one is pending. */
  callID: IDelayedCall | null = null;
  /** Uniform random numbers in [0, 1) for the jitter; replace it to make retries deterministic. */
  random: () => number = Math.random;
  private currentDelay: number | null = null;

  /** The delay used by the last retry (initialDelay before the first). */
  get delay(): number {
    return this.currentDelay ?? this.initialDelay;
  }

  /** Sets the delay the next retry grows from. */
  set delay(seconds: number) {
    this.currentDelay = seconds;
  }

  /** The attempt failed: retry later, unless stopTrying() was called. */
  override clientConnectionFailed(connector: IConnector, _reason: Failure): void {
    if (this.continueTrying) {
      this.connector = connector;
      this.retry();
    }
  }

  /** The connection was lost: reconnect later, unless stopTrying() was called. */
  override clientConnectionLost(connector: IConnector, _reason: Failure): void {
    if (this.continueTrying) {
      this.connector = connector;
      this.retry();
    }
  }

  /** Schedules connector.connect() after the next backoff delay; gives up past maxRetries. */
  retry(connector: IConnector | null = null): void {
    if (!this.continueTrying) {
      if (this.noisy) log.msg(`Abandoning ${describe(connector ?? this.connector)} on explicit request`);
      return;
    }
    const target = connector ?? this.connector;
    if (target === null) throw new TypeError('ReconnectingClientFactory.retry: no connector to retry');
    this.retries += 1;
    if (this.maxRetries !== null && this.retries > this.maxRetries) {
      if (this.noisy) log.msg(`Abandoning ${describe(target)} after ${this.retries} retries`);
      return;
    }
    let delay = Math.min(this.delay * this.factor, this.maxDelay);
    if (this.jitter) delay = Math.max(0, delay + delay * this.jitter * this.gaussian());
    this.delay = delay;
    if (this.noisy) log.msg(`${describe(target)} will retry in ${Math.round(delay)} seconds`);
    this.clock ??= globalReactor();
    this.callID = this.clock.callLater(delay, () => {
      this.callID = null;
      target.connect();
    });
  }

  /** Stops for good: cancels a pending retry and any attempt in progress. */
  stopTrying(): void {
    if (this.callID !== null) {
      if (this.callID.active()) this.callID.cancel();
      this.callID = null;
    }
    this.continueTrying = false;
    if (this.connector !== null) {
      try {
        this.connector.stopConnecting();
      } catch {
        // not connecting: nothing to stop (Twisted's NotConnectingError)
      }
    }
  }

  /** Starts the backoff over; call it once a connection is made (from connectionMade). */
  resetDelay(): void {
    this.currentDelay = this.initialDelay;
    this.retries = 0;
    this.callID = null;
    this.continueTrying = true;
  }

  /** A standard normal deviate from two uniform ones (Box–Muller), as Python's normalvariate serves Twisted. */
  private gaussian(): number {
    const u1 = Math.max(Number.MIN_VALUE, 1 - this.random());
    const u2 = this.random();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
}

function describe(connector: IConnector | null): string {
  if (connector === null) return 'connector';
  try {
    return `connection to ${String(connector.getDestination())}`;
  } catch {
    return 'connector';
  }
}
