/**
 * UNIX-socket endpoints (twisted.internet.endpoints UNIXServerEndpoint,
 * UNIXClientEndpoint): listenUNIX and connectUNIX behind Deferreds.
 */
import type { UNIXAddress } from '../address';
import type { Deferred } from '../defer';
import { maybeDeferred } from '../defer';
import type { IListeningPort } from '../interfaces';
import type { AnyProtocol, Factory } from '../protocol';
import { connectWith } from './connect';
import type { IReactorUNIX } from '../interfaces';
import type { IStreamClientEndpoint, IStreamServerEndpoint } from './types';

/** Options of a UNIX server endpoint. */
export interface UNIXServerOptions {
  /** listen() backlog (50). */
  backlog?: number;
  /** File mode of the socket file (0o666). */
  mode?: number;
  /** Hold `<address>.lock` with our pid while listening, as Twisted's wantPID (false). */
  wantPID?: boolean;
  /** Same as wantPID (the name the description string uses). */
  lockfile?: boolean;
}

/** Options of a UNIX client endpoint. */
export interface UNIXClientOptions {
  /** Seconds before connecting fails with TimeoutError (30). */
  timeout?: number;
}

/** Listens on a UNIX socket path. */
export class UNIXServerEndpoint implements IStreamServerEndpoint<UNIXAddress> {
  constructor(
    /** The reactor that listens. */
    readonly reactor: IReactorUNIX,
    /** The socket's path. */
    readonly address: string,
    /** Backlog, file mode and lock file. */
    readonly options: UNIXServerOptions = {},
  ) {}

  /** Listens with factory; fires with the Port, or fails with CannotListenError. */
  listen(factory: Factory): Deferred<IListeningPort<UNIXAddress>> {
    const wantPID = this.options.wantPID ?? this.options.lockfile ?? false;
    const opts = { backlog: this.options.backlog ?? 50, mode: this.options.mode ?? 0o666, wantPID };
    return maybeDeferred((): IListeningPort<UNIXAddress> => this.reactor.listenUNIX(this.address, factory, opts));
  }
}

/** Connects to a UNIX socket path. */
export class UNIXClientEndpoint implements IStreamClientEndpoint {
  constructor(
    /** The reactor that connects. */
    readonly reactor: IReactorUNIX,
    /** The socket's path. */
    readonly path: string,
    /** Timeout and lock-file check. */
    readonly options: UNIXClientOptions = {},
  ) {}

  /** Connects; fires with the protocol built, fails with the connect error; cancel stops it. */
  connect<P extends AnyProtocol>(factory: Factory<P>): Deferred<P> {
    const opts = { timeout: this.options.timeout ?? 30 };
    return connectWith(factory, (wf) => this.reactor.connectUNIX(this.path, wf, opts));
  }
}
