/**
 * `twisted.internet.endpoints` for ioreactor: server and client endpoints,
 * the string syntax that describes them, and connectProtocol.
 */
export { EndpointDescriptionError, parseDescription } from './endpoints/description';
export type { ParsedDescription } from './endpoints/description';
export { parseServerSpec, parseClientSpec } from './endpoints/specs';
export type { ServerSpec, ClientSpec, TCPServerSpec, UNIXServerSpec, SSLServerSpec, SystemdServerSpec, TCPClientSpec, UNIXClientSpec, TLSClientSpec } from './endpoints/specs';
export type { IStreamServerEndpoint, IStreamClientEndpoint } from './endpoints/types';
export { SSL4ServerEndpoint, SSL4ClientEndpoint } from './endpoints/ssl';
export { TCP4ServerEndpoint, TCP6ServerEndpoint, TCP4ClientEndpoint, TCP6ClientEndpoint } from './endpoints/tcp';
export type { TCPServerOptions, TCPClientOptions } from './endpoints/tcp';
export { HostnameEndpoint, interleaveFamilies } from './endpoints/hostname';
export type { HostnameEndpointOptions, IReactorTCPTime } from './endpoints/hostname';
export { UNIXServerEndpoint, UNIXClientEndpoint } from './endpoints/unix';
export type { UNIXServerOptions, UNIXClientOptions } from './endpoints/unix';
export { connectProtocol, WrappingFactory } from './endpoints/connect';
export { HAProxyServerEndpoint } from './endpoints/haproxy';
export { SystemdServerEndpoint, SocketActivationError, listenFds, SD_LISTEN_FDS_START } from './endpoints/systemd';
export type { ActivationSelector, ActivationEnvironment, ActivationRefusal, ActivatedFd } from './endpoints/systemd';
export { serverFromString, clientFromString } from './endpoints/strings';
export type { IReactorStreams } from './endpoints/strings';
