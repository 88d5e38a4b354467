/**
 * serverFromString / clientFromString: endpoints from Twisted-syntax strings
 * such as `tcp:8080:interface=127.0.0.1` or `unix:path=/tmp/s:timeout=5`.
 */
import { parseClientSpec, parseServerSpec } from './specs';
import { TCP4ClientEndpoint, TCP4ServerEndpoint, TCP6ClientEndpoint, TCP6ServerEndpoint } from './tcp';
import type { IReactorSocket, IReactorSSL, IReactorTCP, IReactorTime, IReactorUNIX } from '../interfaces';
import { HAProxyServerEndpoint } from './haproxy';
import { SystemdServerEndpoint } from './systemd';
import { EndpointDescriptionError } from './description';
import { certificateOptionsFromFiles, clientOptionsFromFiles, SSL4ClientEndpoint, SSL4ServerEndpoint } from './ssl';
import type { IStreamClientEndpoint, IStreamServerEndpoint } from './types';
import { UNIXClientEndpoint, UNIXServerEndpoint } from './unix';

/** A reactor that can do TCP and UNIX sockets (and TLS, for ssl: and tls: strings; adopting, for systemd:). */
export type IReactorStreams = IReactorTCP & IReactorUNIX & Partial<IReactorSSL> & Partial<IReactorSocket>;

function socketReactor(reactor: IReactorStreams, description: string): IReactorSocket {
  if (typeof reactor.adoptStreamPort !== 'function') {
    throw new EndpointDescriptionError(description, 'this reactor cannot adopt sockets (adoptStreamPort)');
  }
  return reactor as IReactorSocket;
}

const HAPROXY = /^haproxy:/i;

function sslReactor(reactor: IReactorStreams, description: string): IReactorSSL {
  if (typeof reactor.listenSSL !== 'function' || typeof reactor.connectSSL !== 'function') {
    throw new EndpointDescriptionError(description, 'this reactor has no TLS (listenSSL/connectSSL)');
  }
  return reactor as IReactorSSL;
}

/** The reactor's own clock when it has one, so timers of its connections run on its loop. */
function clockOf(reactor: IReactorStreams): IReactorTime | undefined {
  const r = reactor as Partial<IReactorTime>;
  return typeof r.callLater === 'function' ? (reactor as unknown as IReactorTime) : undefined;
}

/**
 * Builds a server endpoint from a description: `tcp:PORT[:interface=..][:backlog=..]`,
 * `tcp6:...`, `unix:ADDRESS[:mode=660][:backlog=..][:lockfile=0|1]`,
 * `ssl:PORT:privateKey=key.pem:certKey=cert.pem[:extraCertChain=chain.pem][:interface=..]`,
 * `systemd:domain=INET|INET6|UNIX:index=N` or `systemd:domain=..:name=NAME` (socket activation),
 * and `haproxy:` before any of them (`haproxy:tcp:8080`: each connection starts with a PROXY header).
 * Throws EndpointDescriptionError (CertificateError, code UNREADABLE_FILE, for a key or certificate file that cannot be read, another code for one that cannot be used).
 */
export function serverFromString(reactor: IReactorStreams, description: string): IStreamServerEndpoint {
  if (typeof description === 'string' && HAPROXY.test(description)) {
    const inner = description.replace(HAPROXY, '');
    if (HAPROXY.test(inner)) throw new EndpointDescriptionError(description, 'haproxy: wraps another endpoint, not itself');
    const spec = parseServerSpec(inner);
    if (spec.type === 'ssl') {
      // The header comes in the clear before the TLS handshake: listen plain, start TLS after it.
      const ctx = certificateOptionsFromFiles(spec.privateKey, spec.certKey, spec.extraCertChain);
      return new HAProxyServerEndpoint(new TCP4ServerEndpoint(reactor, spec.port, { backlog: spec.backlog, interface: spec.interface }), ctx, clockOf(reactor));
    }
    return new HAProxyServerEndpoint(serverFromString(reactor, inner), null, clockOf(reactor));
  }
  const spec = parseServerSpec(description);
  switch (spec.type) {
    case 'tcp':
      return new TCP4ServerEndpoint(reactor, spec.port, { backlog: spec.backlog, interface: spec.interface });
    case 'tcp6':
      return new TCP6ServerEndpoint(reactor, spec.port, { backlog: spec.backlog, interface: spec.interface });
    case 'unix':
      return new UNIXServerEndpoint(reactor, spec.address, { backlog: spec.backlog, mode: spec.mode, wantPID: spec.wantPID });
    case 'ssl': {
      const ctx = certificateOptionsFromFiles(spec.privateKey, spec.certKey, spec.extraCertChain);
      return new SSL4ServerEndpoint(sslReactor(reactor, description), spec.port, ctx, { backlog: spec.backlog, interface: spec.interface });
    }
    case 'systemd': {
      const selector = spec.index !== null ? { index: spec.index } : { name: spec.name ?? '' };
      return new SystemdServerEndpoint(socketReactor(reactor, description), spec.domain, selector);
    }
  }
}

/**
 * Builds a client endpoint from a description: `tcp:HOST:PORT`, `tcp:host=..:port=..[:timeout=..][:bindAddress=..]`,
 * `tcp6:...`, `unix:PATH` or `unix:path=..[:timeout=..]`,
 * `tls:HOST:PORT[:trustRoots=DIR][:certificate=cert.pem:privateKey=key.pem]` (verifies HOST), or Twisted's
 * `ssl:HOST:PORT[:caCertsDir=DIR][:certKey=cert.pem[:privateKey=key.pem]]` read as that (it verifies HOST too, which
 * Twisted's does only with hostname=; hostname= is refused). Throws EndpointDescriptionError
 * (CertificateError, code UNREADABLE_FILE, for a trustRoots, certificate or key file that cannot be read).
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
    case 'tls': {
      const ctx = clientOptionsFromFiles(spec.host, spec.trustRoots, spec.certificate, spec.privateKey);
      const opts = { timeout: spec.timeout, bindAddress: spec.bindAddress };
      return new SSL4ClientEndpoint(sslReactor(reactor, description), spec.host, spec.port, ctx, opts);
    }
  }
}
