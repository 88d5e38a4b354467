/**
 * ioreactor: a Twisted-style reactor for Node.js with a native core.
 * Each layer lives in its own module; this file only re-exports them.
 *
 * @packageDocumentation
 * @module ioreactor
 */
export * from './errors';
export { log, stderrObserver } from './log';
export type { LogEvent, LogLevel, LogObserver, LoggableFailure, Logger } from './log';
export * from './address';
export type * from './interfaces';
export * from './protocol';
export { Failure } from './failure';
export type { ErrorClass } from './failure';
export * from './defer';
export * from './timers';
export * from './poller';
export * from './protocols/basic';
export * from './protocols/policies';
export { HAProxyWrappingFactory, HAProxyProtocol, DEFAULT_HEADER_TIMEOUT } from './protocols/haproxy/wrapper';
export { parseProxyHeader, V1_MAX_LENGTH, V2_HEAD_LENGTH, V2_MAX_LENGTH, V2_SIGNATURE } from './protocols/haproxy/parse';
export type { ProxyHeader, ProxyParse } from './protocols/haproxy/parse';
export * from './task';
export * from './reactor/index';
export * from './endpoints';
export * from './tls/index';
export { ReconnectingClientFactory } from './reconnect';
export { drainConnections } from './runner/drain';
export type { DrainResult } from './runner/drain';
export { ProcessProtocol, Process } from './process';
export type { SpawnProcessOptions, ChildFDSpec } from './spawn-options';
export { DatagramProtocol, UDPPort } from './udp';
export type { UDPAddress, ListenUDPOptions } from './udp';
export * from './web/index';
export * from './websocket/index';
