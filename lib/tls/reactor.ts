/**
 * IReactorSSL: listenSSL and connectSSL are listenTCP and connectTCP whose
 * transports start TLS as soon as they exist (server side on accept, client
 * side when the connect completes). As in Twisted, connectionMade comes with
 * the TCP connection; handshakeCompleted() follows the handshake, and a
 * handshake or verification failure reaches connectionLost as a TLSError.
 */
import type { IPv4Address, IPv6Address } from '../address';
import type { Factory } from '../protocol';
import type { ReactorParts } from '../reactor/core';
import { Connector } from '../tcp/connector';
import { ConnectTCPOptions, ListenTCPOptions, tcpConnectorConfig, tcpPortConfig } from '../tcp/options';
import { Port } from '../tcp/port';
import { IOpenSSLContextFactory, isContextFactory } from './options';

function checkFactory(v: unknown, what: string): IOpenSSLContextFactory {
  if (!isContextFactory(v)) {
    throw new TypeError(`${what}: contextFactory must be a CertificateOptions or optionsForClientTLS(...), got ${v === null ? 'null' : typeof v}`);
  }
  return v;
}

/** Listens on a TCP port for TLS connections; CannotListenError when it cannot listen. */
export function listenSSL(
  parts: ReactorParts,
  port: number,
  factory: Factory,
  contextFactory: IOpenSSLContextFactory,
  opts?: ListenTCPOptions,
): Port<IPv4Address | IPv6Address> {
  const ctx = checkFactory(contextFactory, 'listenSSL');
  ctx.tlsContext(true); // a client-only factory is refused here, not per connection
  const p = new Port<IPv4Address | IPv6Address>(parts, { ...tcpPortConfig(port, factory, opts), tls: ctx }, factory);
  p.startListening();
  return p;
}

/** Connects to host:port and starts TLS as the client; returns the Connector. */
export function connectSSL(
  parts: ReactorParts,
  host: string,
  port: number,
  factory: Factory,
  contextFactory: IOpenSSLContextFactory,
  opts?: ConnectTCPOptions,
): Connector<IPv4Address | IPv6Address> {
  const ctx = checkFactory(contextFactory, 'connectSSL');
  ctx.tlsContext(false);
  const c = new Connector<IPv4Address | IPv6Address>(parts, { ...tcpConnectorConfig(host, port, factory, opts), tls: ctx }, factory);
  c.connect();
  return c;
}
