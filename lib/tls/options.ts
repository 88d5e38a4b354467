/**
 * TLS options (twisted.internet.ssl): CertificateOptions for servers and
 * clients, optionsForClientTLS for a client that verifies its server. Each
 * builds its OpenSSL context (an SSL_CTX in Node's own OpenSSL) when it is
 * made, so a bad key, a bad certificate or a key that does not match its
 * certificate throws CertificateError here, not at the first handshake.
 */
import * as tls from 'tls';
import { CertificateError } from '../errors';
import { loadNative, NativeTLSConfig, NativeTLSContext } from '../native';

/** PEM text, as a string or the bytes of a file. */
export type PEM = string | Buffer;

/** Protocol versions for `raiseMinimumTo` (Twisted's TLSVersion). */
export const TLSVersion = {
  /** TLS 1.2 (the floor). */
  TLSv1_2: 'TLSv1.2',
  /** TLS 1.3. */
  TLSv1_3: 'TLSv1.3',
} as const;

/** A TLS protocol version name. */
export type TLSVersionName = (typeof TLSVersion)[keyof typeof TLSVersion];

const VERSION_CODES: Record<TLSVersionName, number> = { 'TLSv1.2': 0x0303, 'TLSv1.3': 0x0304 };

/** Seconds a handshake may take before the connection is dropped with TLSError('HANDSHAKE_TIMEOUT'). */
export const DEFAULT_HANDSHAKE_TIMEOUT = 30;

/**
 * What listenSSL, connectSSL and startTLS take (Twisted's context factory):
 * a source of OpenSSL contexts plus the peer's expected name.
 */
export interface IOpenSSLContextFactory {
  /** @internal The context for the server or the client side of a connection. */
  tlsContext(server: boolean): NativeTLSContext;
  /** Client side: the name sent as SNI and checked against the certificate ('' for none). */
  readonly hostname: string;
  /** Seconds before an unfinished handshake drops the connection. */
  readonly handshakeTimeout: number;
}

/** CertificateOptions' settings; every field is optional. */
export interface CertificateOptionsInit {
  /** Private key (PEM). */
  privateKey?: PEM;
  /** Certificate (PEM) matching privateKey. */
  certificate?: PEM;
  /** Intermediate certificates sent after `certificate`. */
  extraCertChain?: PEM | PEM[];
  /** CA certificates to verify peers against, or 'platform' (Node's tls.rootCertificates, the default). */
  trustRoot?: 'platform' | PEM | PEM[];
  /** Verify the peer's certificate chain (a server then asks for a client certificate). Default false. */
  verify?: boolean;
  /** Server: a client certificate is required (implies verify). Default false. */
  requireCertificate?: boolean;
  /** ALPN protocols, most preferred first. */
  acceptableProtocols?: readonly (string | Buffer)[];
  /** Lowest protocol version accepted; TLS 1.2 by default (nothing lower is allowed). */
  raiseMinimumTo?: TLSVersionName;
  /** OpenSSL cipher string for TLS 1.2 (TLS 1.3 suites are OpenSSL's defaults). */
  cipherString?: string;
  /** Server SNI: host name -> the options (certificate) for clients asking for it. */
  hostnames?: Readonly<Record<string, CertificateOptions>>;
  /** Seconds before an unfinished handshake drops the connection (default 30). */
  handshakeTimeout?: number;
  /**
   * Server: the 80 bytes of keys session tickets are made with. Processes
   * given the same keys resume each other's sessions; by default each
   * context has random keys of its own.
   */
  sessionTicketKeys?: Buffer | Uint8Array;
  /**
   * Server, TLS 1.3: whether a resumed handshake sends the client a fresh
   * ticket. Default true (OpenSSL's way), so a client that uses each ticket
   * once, as browsers do, can resume again and again. false: the client
   * keeps resuming with the ticket it has (as Node's tls server has it),
   * which saves a message and its encryption on every resumption; a client
   * that will not reuse a ticket then falls back to a full handshake once
   * the tickets of its last full one are spent.
   */
  renewSessionTickets?: boolean;
}

function pemText(v: unknown, what: string): string {
  if (typeof v === 'string') return v;
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return Buffer.from(v).toString('latin1');
  throw new TypeError(`CertificateOptions: ${what} must be PEM text (a string or Buffer), got ${v === null ? 'null' : typeof v}`);
}

function pemList(v: unknown, what: string, code: string): string {
  return (Array.isArray(v) ? v : [v]).map((p) => pemOnly(p, what, code)).join('\n');
}

/**
 * pemText of something that must hold a PEM block: without a `-----BEGIN`
 * line it is refused here with `code`, and a hint when it looks like a file
 * name (OpenSSL's own reason, UNSUPPORTED, says neither).
 */
function pemOnly(v: unknown, what: string, code: string): string {
  const text = pemText(v, what);
  if (text.includes('-----BEGIN')) return text;
  const path = !/[\r\n]/.test(text) && /[/\\.]/.test(text) && text.length < 4096;
  throw new CertificateError(code, `${what} is not PEM text${path ? `; it looks like a file name: pass fs.readFileSync(${JSON.stringify(text)})` : ''}`);
}

/** ALPN protocol names in the wire format (length-prefixed), as latin1. */
function alpnWire(list: unknown): string {
  if (!Array.isArray(list)) throw new TypeError('CertificateOptions: acceptableProtocols must be an array');
  const parts = list.map((p) => {
    const b = typeof p === 'string' ? Buffer.from(p) : Buffer.isBuffer(p) ? p : null;
    if (b === null || b.length === 0 || b.length > 255) {
      throw new TypeError('CertificateOptions: each ALPN protocol must be a non-empty string or Buffer of at most 255 bytes');
    }
    return Buffer.concat([Buffer.from([b.length]), b]);
  });
  return Buffer.concat(parts).toString('latin1');
}

function checkTimeout(v: unknown): number {
  if (v === undefined) return DEFAULT_HANDSHAKE_TIMEOUT;
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) {
    throw new TypeError(`handshakeTimeout must be a positive number of seconds, got ${String(v)}`);
  }
  return v;
}

/** The native config for `init` on one side, checked and converted. */
function nativeConfig(init: CertificateOptionsInit, server: boolean): NativeTLSConfig {
  const cfg: NativeTLSConfig = { server };
  if (init.privateKey !== undefined) cfg.key = pemOnly(init.privateKey, 'privateKey', 'BAD_PRIVATE_KEY');
  if (init.certificate !== undefined) cfg.cert = pemOnly(init.certificate, 'certificate', 'BAD_CERTIFICATE');
  if ((cfg.key === undefined) !== (cfg.cert === undefined)) {
    throw new CertificateError(cfg.key === undefined ? 'BAD_PRIVATE_KEY' : 'BAD_CERTIFICATE', 'privateKey and certificate go together');
  }
  if (init.extraCertChain !== undefined) cfg.chain = pemList(init.extraCertChain, 'extraCertChain', 'BAD_CERTIFICATE');
  cfg.verify = init.verify === true || init.requireCertificate === true;
  cfg.requireCert = init.requireCertificate === true;
  const roots = init.trustRoot ?? 'platform';
  if (cfg.verify) cfg.ca = roots === 'platform' ? tls.rootCertificates.join('\n') : pemList(roots, 'trustRoot', 'BAD_TRUST_ROOT');
  if (init.acceptableProtocols !== undefined) cfg.alpn = alpnWire(init.acceptableProtocols);
  const floor = init.raiseMinimumTo ?? TLSVersion.TLSv1_2;
  if (!(floor in VERSION_CODES)) throw new TypeError(`CertificateOptions: raiseMinimumTo must be 'TLSv1.2' or 'TLSv1.3', got ${String(floor)}`);
  cfg.minVersion = VERSION_CODES[floor];
  if (init.sessionTicketKeys !== undefined) {
    const k = init.sessionTicketKeys;
    if (!(k instanceof Uint8Array) || k.length !== 80) throw new TypeError('CertificateOptions: sessionTicketKeys must be 80 bytes (a Buffer)');
    if (server) cfg.ticketKeys = Buffer.from(k).toString('latin1');
  }
  if (init.renewSessionTickets !== undefined) {
    if (typeof init.renewSessionTickets !== 'boolean') throw new TypeError('CertificateOptions: renewSessionTickets must be a boolean');
    if (server) cfg.renewTickets = init.renewSessionTickets;
  }
  if (init.cipherString !== undefined) {
    if (typeof init.cipherString !== 'string') throw new TypeError('CertificateOptions: cipherString must be a string');
    cfg.ciphers = init.cipherString;
  }
  return cfg;
}

/** Calls the addon; a refusal becomes CertificateError. */
function buildContext(cfg: NativeTLSConfig): NativeTLSContext {
  const r = loadNative().tlsContext(cfg);
  if (typeof r === 'number') throw new CertificateError('BAD_OPTIONS', `native refused the options (${r})`);
  if (typeof r === 'string') {
    const colon = r.indexOf(':');
    throw colon < 0 ? new CertificateError(r) : new CertificateError(r.slice(0, colon), r.slice(colon + 1));
  }
  return r;
}

/**
 * Twisted's CertificateOptions: one TLS configuration usable by servers
 * (listenSSL) and clients (connectSSL, startTLS). It does not check the
 * server's host name: use optionsForClientTLS for that.
 */
export class CertificateOptions implements IOpenSSLContextFactory {
  /** No host name: CertificateOptions never checks one. */
  readonly hostname: string = '';
  /** Seconds before an unfinished handshake drops the connection. */
  readonly handshakeTimeout: number;
  private readonly init: CertificateOptionsInit;
  private server: NativeTLSContext | null = null;
  private client: NativeTLSContext | null = null;

  /** Checks the options and builds the context now; CertificateError or TypeError when they cannot work. */
  constructor(init: CertificateOptionsInit = {}) {
    if (init === null || typeof init !== 'object') throw new TypeError('CertificateOptions: options must be an object');
    this.init = { ...init };
    this.handshakeTimeout = checkTimeout(init.handshakeTimeout);
    // A key means a server (usually); build that side now so errors show here.
    this.tlsContext(init.privateKey !== undefined);
  }

  /** @internal */
  tlsContext(server: boolean): NativeTLSContext {
    const have = server ? this.server : this.client;
    if (have !== null) return have;
    const cfg = nativeConfig(this.init, server);
    // Refused here (listenSSL, a server's startTLS) rather than as a failed handshake on every connection.
    if (server && cfg.key === undefined && this.init.hostnames === undefined) {
      throw new CertificateError('NO_CERTIFICATE', 'a TLS server needs privateKey and certificate');
    }
    if (server && this.init.hostnames !== undefined) cfg.sni = sniList(this.init.hostnames);
    const made = buildContext(cfg);
    if (server) this.server = made;
    else this.client = made;
    return made;
  }
}

function sniList(hostnames: Readonly<Record<string, CertificateOptions>>): (string | NativeTLSContext)[] {
  const out: (string | NativeTLSContext)[] = [];
  for (const [name, opts] of Object.entries(hostnames)) {
    if (!(opts instanceof CertificateOptions)) throw new TypeError(`CertificateOptions: hostnames['${name}'] must be a CertificateOptions`);
    out.push(name, opts.tlsContext(true));
  }
  return out;
}

/** optionsForClientTLS's extra settings. */
export interface ClientTLSInit {
  /** CA certificates (PEM) or 'platform' (the default: Node's tls.rootCertificates). */
  trustRoot?: 'platform' | PEM | PEM[];
  /** A client certificate to present when the server asks. */
  clientCertificate?: {
    /** The client certificate's private key. */
    privateKey: PEM;
    /** The client certificate. */
    certificate: PEM;
  };
  /** ALPN protocols, most preferred first. */
  acceptableProtocols?: readonly (string | Buffer)[];
  /** Lowest protocol version accepted (TLS 1.2 by default). */
  raiseMinimumTo?: TLSVersionName;
  /** Seconds before an unfinished handshake drops the connection (default 30). */
  handshakeTimeout?: number;
}

/** A client's TLS options bound to the host name it must find in the server's certificate. */
export class ClientTLSOptions implements IOpenSSLContextFactory {
  /** Seconds before an unfinished handshake drops the connection. */
  readonly handshakeTimeout: number;
  private readonly context: NativeTLSContext;

  /** Made by optionsForClientTLS. */
  constructor(
    /** The name checked against the server's certificate (and sent as SNI). */
    readonly hostname: string,
    init: ClientTLSInit,
  ) {
    this.handshakeTimeout = checkTimeout(init.handshakeTimeout);
    const cfg = nativeConfig(
      {
        privateKey: init.clientCertificate?.privateKey,
        certificate: init.clientCertificate?.certificate,
        trustRoot: init.trustRoot,
        verify: true,
        acceptableProtocols: init.acceptableProtocols,
        raiseMinimumTo: init.raiseMinimumTo,
      },
      false,
    );
    this.context = buildContext(cfg);
  }

  /** @internal */
  tlsContext(server: boolean): NativeTLSContext {
    if (server) throw new TypeError('optionsForClientTLS options are for clients only (use CertificateOptions to listen)');
    return this.context;
  }
}

/**
 * Client options that verify the server's chain against `trustRoot` (the
 * platform's roots by default) and that its certificate is for `hostname`
 * (a DNS name or an IP address).
 */
export function optionsForClientTLS(hostname: string, init: ClientTLSInit = {}): ClientTLSOptions {
  if (typeof hostname !== 'string' || hostname === '') throw new TypeError('optionsForClientTLS: hostname must be a non-empty string');
  if (init === null || typeof init !== 'object') throw new TypeError('optionsForClientTLS: options must be an object');
  return new ClientTLSOptions(hostname, init);
}

/** True for an object usable as a context factory. */
export function isContextFactory(v: unknown): v is IOpenSSLContextFactory {
  return v !== null && typeof v === 'object' && typeof (v as IOpenSSLContextFactory).tlsContext === 'function';
}
