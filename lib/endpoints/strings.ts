/**
 * serverFromString / clientFromString: endpoints from Twisted-syntax strings
 * such as `tcp:8080:interface=127.0.0.1` or `unix:path=/tmp/s:timeout=5`.
 */
import { parseClientSpec, parseServerSpec } from './specs';
import { TCP4ClientEndpoint, TCP4ServerEndpoint, TCP6ClientEndpoint, TCP6ServerEndpoint } from './tcp';
import type { IReactorTCP, IReactorUNIX } from '../interfaces';
import type { IStreamClientEndpoint, IStreamServerEndpoint } from './types';
import { UNIXClientEndpoint, UNIXServerEndpoint } from './unix';

/** A reactor that can do both TCP and UNIX sockets. */
export type IReactorStreams = IReactorTCP & IReactorUNIX;

/**
 * Builds a server endpoint from a description: `tcp:PORT[:interface=..][:backlog=..]`,
 * `tcp6:...`, `unix:ADDRESS[:mode=660][:backlog=..][:lockfile=0|1]`. Throws EndpointDescriptionError.
 */
export function serverFromString(reactor: IReactorStreams, description: string): IStreamServerEndpoint {
  const spec = parseServerSpec(description);
  switch (spec.type) {
    case 'tcp':
      return new TCP4ServerEndpoint(reactor, spec.port, { backlog: spec.backlog, interface: spec.interface });
    case 'tcp6':
      return new TCP6ServerEndpoint(reactor, spec.port, { backlog: spec.backlog, interface: spec.interface });
    case 'unix':
      return new UNIXServerEndpoint(reactor, spec.address, { backlog: spec.backlog, mode: spec.mode, wantPID: spec.wantPID });
  }
}

/**
 * Builds a client endpoint from a description: `tcp:HOST:PORT`, `tcp:host=..:port=..[:timeout=..][:bindAddress=..]`,
 * `tcp6:...`, `unix:PATH` or `unix:path=..[:timeout=..]`. Throws EndpointDescriptionError.
 */
export function clientFromString(reactor: IReactorStreams, description: string): IStreamClientEndpoint {
  const spec = parseClientSpec(description);
  switch (spec.type) {
    case 'tcp':
      return new TCP4ClientEndpoint(reactor, spec.host, spec.port, { timeout: spec.timeout, bindAddress: spec.bindAddress });
    case 'tcp6':
      return new TCP6ClientEndpoint(reactor, spec.host, spec.port, { timeout: spec.timeout, bindAddress: spec.bindAddress });
    case 'unix':
      return new UNIXClientEndpoint(reactor, spec.path, { timeout: spec.timeout });
  }
}
