/**
 * TLS endpoints (twisted.internet.endpoints SSL4ServerEndpoint and a TLS
 * client endpoint): listenSSL and connectSSL behind listen()/connect(), and
 * the file loading the `ssl:` and `tls:` strings need.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { IPv4Address, IPv6Address } from '../address';
import { CertificateError } from '../errors';
import { Deferred, maybeDeferred } from '../defer';
import type { IListeningPort } from '../interfaces';
import type { AnyProtocol, Factory } from '../protocol';
import { CertificateOptions, ClientTLSInit, ClientTLSOptions, IOpenSSLContextFactory, optionsForClientTLS } from '../tls/options';
import { connectWith } from './connect';
import type { TCPClientOptions, TCPServerOptions } from './tcp';
import type { IReactorSSL } from '../interfaces';
import type { IStreamClientEndpoint, IStreamServerEndpoint } from './types';

/** Listens for TLS on a TCP port over IPv4. */
export class SSL4ServerEndpoint implements IStreamServerEndpoint<IPv4Address | IPv6Address> {
  constructor(
    /** The reactor that listens. */
    readonly reactor: IReactorSSL,
    /** The port to listen on (0: any free one). */
    readonly port: number,
    /** Certificate, key and TLS settings for each connection. */
    readonly contextFactory: IOpenSSLContextFactory,
    /** Backlog and interface. */
    readonly options: TCPServerOptions = {},
  ) {}

  /** Listens with factory; fires with the Port, or fails with CannotListenError. */
  listen(factory: Factory): Deferred<IListeningPort<IPv4Address | IPv6Address>> {
    const opts = { backlog: this.options.backlog ?? 50, interface: this.options.interface ?? '' };
    return maybeDeferred(() => this.reactor.listenSSL(this.port, factory, this.contextFactory, opts));
  }
}

/** Connects to host:port and speaks TLS (the verification is the context factory's). */
export class SSL4ClientEndpoint implements IStreamClientEndpoint {
  constructor(
    /** The reactor that connects. */
    readonly reactor: IReactorSSL,
    /** Host name or address to connect to. */
    readonly host: string,
    /** Port to connect to. */
    readonly port: number,
    /** Trust roots, server name and TLS settings. */
    readonly contextFactory: IOpenSSLContextFactory,
    /** Timeout and bind address. */
    readonly options: TCPClientOptions = {},
  ) {}

  /** Connects; fires with the protocol built once TCP is connected; cancel stops it. */
  connect<P extends AnyProtocol>(factory: Factory<P>): Deferred<P> {
    const opts = { timeout: this.options.timeout ?? 30, bindAddress: this.options.bindAddress ?? null };
    return connectWith(factory, (wf) => this.reactor.connectSSL(this.host, this.port, wf, this.contextFactory, opts));
  }
}

/** `read()` of the file a description names; a missing or unreadable file is a CertificateError that names it, not a bare ENOENT. */
function readNamed<T>(param: string, file: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new CertificateError('UNREADABLE_FILE', `${param}=${file}: ${code}`);
  }
}

/** Server options from PEM files (ssl: strings). */
export function certificateOptionsFromFiles(privateKey: string, certKey: string, extraCertChain: string | null): CertificateOptions {
  return new CertificateOptions({
    privateKey: readNamed('privateKey', privateKey, () => fs.readFileSync(privateKey)),
    certificate: readNamed('certKey', certKey, () => fs.readFileSync(certKey)),
    extraCertChain: extraCertChain === null ? undefined : readNamed('extraCertChain', extraCertChain, () => fs.readFileSync(extraCertChain)),
  });
}

/** Every PEM certificate under trustRoots (a directory of files, or one file). */
function readTrustRoots(trustRoots: string): string {
  const read = <T>(what: string, f: () => T): T => readNamed('trustRoots', what, f);
  if (!read(trustRoots, () => fs.statSync(trustRoots)).isDirectory()) return read(trustRoots, () => fs.readFileSync(trustRoots, 'latin1'));
  return read(trustRoots, () => fs.readdirSync(trustRoots))
    .sort()
    .map((name) => path.join(trustRoots, name))
    .filter((file) => read(file, () => fs.statSync(file)).isFile())
    .map((file) => read(file, () => fs.readFileSync(file, 'latin1')))
    .filter((text) => text.includes('-----BEGIN CERTIFICATE-----'))
    .join('\n');
}

/** Client options for `host` from files (tls: strings): verified against trustRoots or the platform roots. */
export function clientOptionsFromFiles(host: string, trustRoots: string | null, certificate: string | null, privateKey: string | null): ClientTLSOptions {
  const init: ClientTLSInit = { trustRoot: trustRoots === null ? 'platform' : readTrustRoots(trustRoots) };
  if (certificate !== null && privateKey !== null) {
    init.clientCertificate = {
      certificate: readNamed('certificate', certificate, () => fs.readFileSync(certificate)),
      privateKey: readNamed('privateKey', privateKey, () => fs.readFileSync(privateKey)),
    };
  }
  return optionsForClientTLS(host, init);
}
