/**
 * IReactorSocket: adopting sockets someone else opened (a supervisor, systemd
 * socket activation, a parent process). The reactor dups the fd, as Twisted
 * does: the caller's fd stays the caller's to close (closing it does not
 * affect the adopted socket), and nothing of ours is left open when adopting
 * fails. The dup shares the open file description, so the O_NONBLOCK the
 * reactor sets is visible through the caller's fd too.
 */
import { AdoptRefusal, CannotAdoptError } from '../errors';
import { Failure } from '../failure';
import { log } from '../log';
import { errnoName } from '../native';
import type { AnyProtocol, Factory } from '../protocol';
import type { ReactorCore, ReactorParts } from '../reactor/core';
import { Family } from '../transport/addresses';
import { StreamTransport, TransportOwner } from '../transport/stream';

/**
 * An address family as adoptStreamPort/adoptStreamConnection take it: the
 * names of Twisted's `socket.AF_INET`, `AF_INET6` and `AF_UNIX` without the
 * prefix (Node has no AF_* numbers to pass).
 */
export type SocketFamily = 'INET' | 'INET6' | 'UNIX';

const FAMILIES: Record<SocketFamily, Family> = { INET: Family.V4, INET6: Family.V6, UNIX: Family.Unix };

const REFUSALS: Record<string, [AdoptRefusal, string]> = {
  EBADF: ['closed', 'the fd is not open'],
  ENOTSOCK: ['not-socket', 'not a socket'],
  EPROTOTYPE: ['not-stream', 'not a stream (SOCK_STREAM) socket'],
  EAFNOSUPPORT: ['wrong-family', 'the socket is of another address family'],
  EINVAL: ['not-listening', 'the socket is not listening'],
  ENOTCONN: ['not-connected', 'the socket is not connected'],
};

/** Checks an (fd, family) pair; returns the native family number. TypeError when malformed. */
export function adoptArgs(fd: unknown, family: unknown, what: string): Family {
  if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0 || fd > 2 ** 31 - 1) {
    throw new TypeError(`${what}: fd must be a non-negative integer, got ${String(fd)}`);
  }
  if (typeof family !== 'string' || !Object.prototype.hasOwnProperty.call(FAMILIES, family)) {
    throw new TypeError(`${what}: family must be 'INET', 'INET6' or 'UNIX', got ${String(family)}`);
  }
  return FAMILIES[family as SocketFamily];
}

/** The typed error for a native adoptSocket failure (-errno). */
export function cannotAdopt(fd: number, ret: number, family: Family): CannotAdoptError {
  const code = errnoName(ret);
  const [reason, message] = REFUSALS[code] ?? ['other', 'the system refused it'];
  const named = family === Family.Unix ? 'UNIX' : family === Family.V6 ? 'INET6' : 'INET';
  return new CannotAdoptError(fd, reason, code, reason === 'wrong-family' ? `${message} (not ${named})` : message);
}

/** Owner of an adopted connection: no port or connector to tell when it ends. */
class AdoptedConnection implements TransportOwner {
  constructor(
    readonly family: Family,
    readonly reactorCore: ReactorCore,
  ) {}
  transportLost(): void {}
}

/**
 * adoptStreamConnection: a protocol from `factory` on a dup of a connected
 * stream socket, as if a port had just accepted it (server side for
 * startTLS). CannotAdoptError when the fd is not one; a buildProtocol that
 * throws or returns null drops the connection (logged), as a port does.
 */
export function adoptStreamConnection(reactor: ReactorParts, fd: number, family: SocketFamily, factory: Factory): void {
  const fam = adoptArgs(fd, family, 'adoptStreamConnection');
  if (factory === null || typeof factory !== 'object' || typeof factory.buildProtocol !== 'function') {
    throw new TypeError('adoptStreamConnection: factory must be a Factory (an object with buildProtocol)');
  }
  const core = reactor.core;
  const native = core.nativeOr((e) => e);
  const slot = native.adoptSocket(fd, fam, false);
  if (slot < 0) throw cannotAdopt(fd, slot, fam);
  const t = new StreamTransport(core, native, slot, native.generation(slot), new AdoptedConnection(fam, core), reactor.highWaterMark);
  core.register(t);
  let protocol: AnyProtocol | null | undefined;
  try {
    protocol = factory.buildProtocol(t.getPeer());
  } catch (e) {
    log.failure('adoptStreamConnection: buildProtocol raised; connection closed', new Failure(e));
    protocol = null;
  }
  if (protocol === null || protocol === undefined) return t.closeSilently();
  t.attach(protocol);
}
