/** TLS (twisted.internet.ssl): options for servers and clients, and the peer certificate type. */
export { CertificateOptions, ClientTLSOptions, optionsForClientTLS, TLSVersion, DEFAULT_HANDSHAKE_TIMEOUT } from './options';
export type { CertificateOptionsInit, ClientTLSInit, IOpenSSLContextFactory, PEM, TLSVersionName } from './options';
export type { PeerCertificate } from './session';
