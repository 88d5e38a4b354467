/**
 * A WebSocketServerFactory given straight to listenTCP/listenSSL, as
 * Autobahn's are: each connection's protocol first runs the HTTP handshake
 * through an HTTPChannel of a Site (one per factory) whose every path is
 * the factory's WebSocketResource, told to use this very protocol. The
 * channel's upgrade hands the connection back to it, now upgraded.
 */
import type { ITransport } from '../interfaces';
import type { HTTPChannel } from '../web/channel';
import { Site } from '../web/site';
import type { WebSocketServerFactory } from './factory';
import { WebSocketResource } from './resource';
import type { WebSocketServerProtocol } from './server';

const sites = new WeakMap<object, [Site, WebSocketResource]>();

/** Starts the HTTP handshake of `protocol` on `transport`; returns the channel reads go to until the upgrade. */
export function directHandshake(protocol: WebSocketServerProtocol, transport: ITransport): HTTPChannel {
  const factory = protocol.factory as unknown as WebSocketServerFactory;
  let entry = sites.get(factory);
  if (entry === undefined) {
    const resource = new WebSocketResource(factory);
    entry = [new Site(resource, { reactor: factory.settings.clock }), resource];
    sites.set(factory, entry);
  }
  const channel = entry[0].buildProtocol(transport.getPeer());
  entry[1].prebuilt.set(channel, protocol);
  channel.makeConnection(transport as Parameters<HTTPChannel["makeConnection"]>[0]);
  return channel;
}
