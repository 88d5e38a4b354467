/**
 * The `systemd:` server endpoint (Twisted's systemd endpoint and
 * AdoptedStreamServerEndpoint): listening sockets passed in by systemd
 * socket activation (or systemd-socket-activate, or any manager speaking the
 * same protocol). The manager opens the sockets, starts us with them as fds
 * 3, 4, ... and sets LISTEN_PID (our pid, so a child that inherited the
 * environment does not take them), LISTEN_FDS (how many) and optionally
 * LISTEN_FDNAMES (colon-separated names, from FileDescriptorName=).
 *
 * listen() adopts a dup of the chosen fd (reactor.adoptStreamPort) and then
 * closes the inherited fd, which systemd passes without close-on-exec: a
 * child we spawn later does not inherit it. So each fd can be listened on
 * once per process.
 */
import { maybeDeferred } from '../defer';
import type { Deferred } from '../defer';
import { IOReactorError } from '../errors';
import * as fs from 'fs';
import type { IListeningPort, IReactorSocket } from '../interfaces';
import type { Factory } from '../protocol';
import type { SocketFamily } from '../tcp/adopt';
import type { IStreamServerEndpoint } from './types';

/** The first fd systemd passes (SD_LISTEN_FDS_START). */
export const SD_LISTEN_FDS_START = 3;

/** Why a systemd: endpoint found no socket to listen on (SocketActivationError.reason). */
export type ActivationRefusal = 'not-activated' | 'other-pid' | 'malformed' | 'no-such-index' | 'no-such-name' | 'already-used';

/** The process was not given the socket a `systemd:` endpoint names. */
export class SocketActivationError extends IOReactorError {
  /** What was wrong. */
  readonly reason: ActivationRefusal;
  constructor(reason: ActivationRefusal, message: string) {
    super(`systemd socket activation: ${message}`);
    this.reason = reason;
  }
}

/** Which passed socket: by position, or by its FileDescriptorName. */
export type ActivationSelector =
  | {
      /** Position among the passed sockets, from 0 (fd 3). */
      index: number;
    }
  | {
      /** The socket's name in LISTEN_FDNAMES (systemd's FileDescriptorName=). */
      name: string;
    };

/** The variables systemd sets, as far as the endpoint reads them. */
export interface ActivationEnvironment {
  /** The pid the sockets were passed to. */
  LISTEN_PID?: string;
  /** How many sockets were passed, from fd 3 on. */
  LISTEN_FDS?: string;
  /** Their names, colon-separated. */
  LISTEN_FDNAMES?: string;
}

/** One socket passed by socket activation. */
export interface ActivatedFd {
  /** The descriptor (3 and up). */
  fd: number;
  /** Its name, 'unknown' without LISTEN_FDNAMES. */
  name: string;
}

/**
 * The fds passed to process `pid` by socket activation, in order, with their
 * names ('unknown' when LISTEN_FDNAMES is absent, as sd_listen_fds_with_names
 * says). SocketActivationError when the variables are absent, malformed, or
 * meant for another process.
 */
export function listenFds(env: ActivationEnvironment, pid: number): ActivatedFd[] {
  if (env.LISTEN_PID === undefined || env.LISTEN_FDS === undefined) {
    throw new SocketActivationError('not-activated', 'LISTEN_PID and LISTEN_FDS are not set (the process was not socket-activated)');
  }
  if (!/^[1-9][0-9]*$/.test(env.LISTEN_PID) || !/^(0|[1-9][0-9]*)$/.test(env.LISTEN_FDS) || Number(env.LISTEN_FDS) > 65536) {
    throw new SocketActivationError('malformed', `LISTEN_PID=${env.LISTEN_PID} LISTEN_FDS=${env.LISTEN_FDS} are not counts`);
  }
  if (Number(env.LISTEN_PID) !== pid) {
    throw new SocketActivationError('other-pid', `LISTEN_PID=${env.LISTEN_PID} is another process (we are ${pid})`);
  }
  const n = Number(env.LISTEN_FDS);
  const names = env.LISTEN_FDNAMES === undefined ? [] : env.LISTEN_FDNAMES.split(':');
  return Array.from({ length: n }, (_, i) => ({ fd: SD_LISTEN_FDS_START + i, name: names[i] ?? 'unknown' }));
}

/** Listens on a socket systemd passed in: `systemd:domain=INET:index=0` or `systemd:domain=UNIX:name=web`. */
export class SystemdServerEndpoint implements IStreamServerEndpoint {
  private used = false;

  constructor(
    /** The reactor that adopts the socket. */
    readonly reactor: IReactorSocket,
    /** The passed socket's family. */
    readonly domain: SocketFamily,
    /** Which passed socket. */
    readonly selector: ActivationSelector,
    /** Where LISTEN_* are read (process.env). */
    readonly env: ActivationEnvironment = process.env,
    /** The pid LISTEN_PID must name (process.pid). */
    readonly pid: number = process.pid,
  ) {}

  /** Adopts the socket (once); fails with SocketActivationError, or CannotAdoptError when it is not a listening `domain` socket. */
  listen(factory: Factory): Deferred<IListeningPort> {
    return maybeDeferred((): IListeningPort => {
      if (this.used) throw new SocketActivationError('already-used', 'this endpoint has already adopted its socket');
      const fd = this.chosenFd();
      const port = this.reactor.adoptStreamPort(fd, this.domain, factory);
      this.used = true;
      fs.closeSync(fd); // ours is the dup; the inherited one is not close-on-exec
      return port;
    });
  }

  private chosenFd(): number {
    const fds = listenFds(this.env, this.pid);
    const s = this.selector;
    if ('index' in s) {
      if (s.index >= fds.length) throw new SocketActivationError('no-such-index', `index ${s.index}, but ${fds.length} socket(s) were passed`);
      return fds[s.index].fd;
    }
    const hit = fds.find((f) => f.name === s.name);
    if (hit === undefined) {
      throw new SocketActivationError('no-such-name', `no socket named ${JSON.stringify(s.name)} (LISTEN_FDNAMES: ${fds.map((f) => f.name).join(', ') || 'none'})`);
    }
    return hit.fd;
  }
}
