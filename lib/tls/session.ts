/**
 * A transport's TLS state (Twisted's TLSMemoryBIOProtocol, but the TLS
 * engine is native: see native/tls_stream.h). It starts TLS on the native
 * stream, arms the handshake timeout, and turns the two TLS records into
 * events: Handshake (cache ALPN, version, peer certificate; call the
 * protocol's handshakeCompleted) and TlsError (drop the connection with a
 * TLSError carrying OpenSSL's reason).
 */
import { X509Certificate } from 'crypto';
import type { IAddress } from '../address';
import { TLSError } from '../errors';
import type { NativeLoop, NativeTLSInfo } from '../native';
import type { IOpenSSLContextFactory } from './options';

/** The peer's certificate as getPeerCertificate() returns it. */
export interface PeerCertificate {
  /** The certificate in DER. */
  der: Buffer;
  /** The subject's distinguished name, as text. */
  subject: string;
  /** The issuer's distinguished name, as text. */
  issuer: string;
  /** The subject alternative names, as text (`DNS:a, DNS:b`), when present. */
  subjectAltName: string | undefined;
  /** SHA-256 fingerprint, colon-separated hex. */
  fingerprint256: string;
  /** Start of the validity period, as text. */
  validFrom: string;
  /** End of the validity period, as text. */
  validTo: string;
  /** Serial number, hex. */
  serialNumber: string;
}

/** What a TLSSession needs of its transport. */
export interface TLSHost {
  readonly slot: number;
  /** The slot's generation: native commands carry (slot, gen). */
  readonly gen: number;
  readonly connected: boolean;
  /** The protocol, if attached (handshakeCompleted is optional on it). */
  readonly protocol: object | undefined;
  /** Drops the connection; connectionLost gets `reason`. */
  dropWith(reason: Error): void;
  /** The peer's address (a client saves and offers sessions per peer). */
  getPeer(): IAddress;
}

/** Which saved session a client offers: one per server address and name (the options are the context's). */
function sessionKey(host: TLSHost, hostname: string): string {
  return `${hostname}|${host.getPeer().toString()}`;
}

/** X509_V_ERR_* values worth a name (openssl/x509_vfy.h). */
const VERIFY_NAMES: Record<number, string> = {
  2: 'UNABLE_TO_GET_ISSUER_CERT',
  7: 'CERT_SIGNATURE_FAILURE',
  9: 'CERT_NOT_YET_VALID',
  10: 'CERT_HAS_EXPIRED',
  18: 'DEPTH_ZERO_SELF_SIGNED_CERT',
  19: 'SELF_SIGNED_CERT_IN_CHAIN',
  20: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  21: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  24: 'INVALID_CA',
  26: 'INVALID_PURPOSE',
  62: 'HOSTNAME_MISMATCH',
  64: 'IP_ADDRESS_MISMATCH',
};

/** What a verification failure means for the user, said in a TLSError's message (null: the code says it). */
function verifyHint(verify: string, expectedName: string): string | null {
  switch (verify) {
    case 'HOSTNAME_MISMATCH':
    case 'IP_ADDRESS_MISMATCH':
      return `the peer's certificate is not for "${expectedName}"`;
    case 'CERT_HAS_EXPIRED':
      return "the peer's certificate has expired";
    case 'CERT_NOT_YET_VALID':
      return "the peer's certificate is not valid yet";
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
      return "the peer's certificate does not chain to a trusted root (trustRoot)";
    default:
      return null;
  }
}

/** Protocol names by the index tlsSettled reports (TLS 1.x is x + 1), as OpenSSL names them. */
const VERSIONS: readonly (string | null)[] = [null, 'TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/** One TLS connection's JS-side state. */
export class TLSSession {
  /** True once the handshake completed. */
  established = false;
  /** ALPN result, or null. */
  negotiatedProtocol: string | null = null;
  /** 'TLSv1.3', 'TLSv1.2' once established. */
  version: string | null = null;
  /** The handshake resumed an earlier session (a ticket), rather than a full one. */
  sessionReused = false;
  private peerDer: Buffer | null = null;
  private timer: NodeJS.Timeout | null = null;

  private constructor(
    private readonly host: TLSHost,
    private readonly native: NativeLoop,
    /** The name the server's certificate must carry ('' on a server), for failure()'s message. */
    private readonly expectedName: string,
  ) {}

  /**
   * Starts TLS on the host's stream (server or client side); TLSError when
   * the native side refuses (the caller decides what happens to the stream).
   */
  static start(host: TLSHost, native: NativeLoop, factory: IOpenSSLContextFactory, server: boolean): TLSSession {
    const ctx = factory.tlsContext(server);
    const r = native.tlsStart(host.slot, host.gen, ctx, server ? '' : factory.hostname, server ? '' : sessionKey(host, factory.hostname));
    if (typeof r === 'string') throw new TLSError(r);
    if (r < 0) throw new TLSError('START_FAILED', null, `startTLS failed (${r})`);
    const s = new TLSSession(host, native, server ? '' : factory.hostname);
    s.timer = setTimeout(() => s.timedOut(), factory.handshakeTimeout * 1000);
    s.timer.unref();
    return s;
  }

  /**
   * Feeds the peer's first TLS bytes, already read in the clear (after a
   * PROXY protocol header), to the engine as if just received; TLSError when
   * they are not the start of a handshake.
   */
  feed(received: Buffer): void {
    if (received.length === 0) return;
    const r = this.native.tlsFeed(this.host.slot, this.host.gen, received);
    if (typeof r === 'string') throw new TLSError(r);
    if (r < 0) throw new TLSError('START_FAILED', null, `startTLS failed (${r})`);
  }

  /** The peer's certificate, or null (none, or before the handshake). */
  peerCertificate(): PeerCertificate | null {
    const der = this.peerDer;
    if (der === null) return null;
    const x = new X509Certificate(der);
    return {
      der,
      subject: x.subject,
      issuer: x.issuer,
      subjectAltName: x.subjectAltName,
      fingerprint256: x.fingerprint256,
      validFrom: x.validFrom,
      validTo: x.validTo,
      serialNumber: x.serialNumber,
    };
  }

  /** The connection is gone: no timeout any more. */
  close(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private info(): NativeTLSInfo | null {
    const i = this.native.tlsInfo(this.host.slot, this.host.gen);
    return typeof i === 'number' ? null : i;
  }

  /**
   * @internal The handshake completed: cache what it settled (`flags`, from
   * its record; one native call only when there is `more`: an ALPN protocol
   * or a peer certificate), then tell the protocol.
   */
  handshakeDone(flags: number, more: number): void {
    this.close();
    this.established = true;
    const s = more === 0 ? flags : this.native.tlsSettled(this.host.slot, this.host.gen);
    if (typeof s === 'number') {
      if (s >= 0) this.settle(s);
    } else {
      this.settle(s[0]);
      this.negotiatedProtocol = s[1] === '' ? null : s[1];
      this.peerDer = s[2];
    }
    const p = this.host.protocol as { handshakeCompleted?: () => void } | undefined;
    if (p !== undefined && typeof p.handshakeCompleted === 'function') p.handshakeCompleted();
  }

  private settle(flags: number): void {
    this.sessionReused = (flags & 1) !== 0;
    this.version = VERSIONS[(flags >> 8) & 0xf] ?? null;
  }

  /** @internal Why the native stream failed, as a TLSError. */
  failure(): TLSError {
    const i = this.info();
    const code = i !== null && i.error !== '' ? i.error : 'TLS_FAILED';
    const v = i !== null ? i.verifyResult : 0;
    const verify = v !== 0 && code === 'CERTIFICATE_VERIFY_FAILED' ? (VERIFY_NAMES[v] ?? `X509_V_ERR_${v}`) : null;
    const hint = verify !== null ? verifyHint(verify, this.expectedName) : null;
    return new TLSError(code, verify, hint !== null ? `TLS error: ${code} (${verify}): ${hint}` : undefined);
  }

  private timedOut(): void {
    this.timer = null;
    if (!this.established && this.host.connected) this.host.dropWith(new TLSError('HANDSHAKE_TIMEOUT'));
  }
}
