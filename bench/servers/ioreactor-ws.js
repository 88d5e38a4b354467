'use strict';
/**
 * ioreactor WebSocket server, written only from the DESIGN names: a Site
 * whose root has a WebSocketResource at /ws, its WebSocketServerFactory
 * building WebSocketServerProtocols. The same rule as ws-node.js: a binary
 * message (or a text one not starting "bc:") is echoed to its sender with
 * sendMessage; a text message starting "bc:" goes to every open connection
 * through the factory's broadcast helper (one encoded frame, many writes).
 * Arguments: [--backend epoll|poll] [--check].
 */
const { parseArgs, loadReactor, listenReactor, skip } = require('./common');

const opts = parseArgs(process.argv.slice(2));
const io = loadReactor();
for (const name of ['WebSocketServerProtocol', 'WebSocketServerFactory', 'WebSocketResource', 'Site', 'Resource']) {
  if (typeof io[name] !== 'function') skip(`dist/ has no ${name} yet (WebSocket not landed)`);
}

class Echo extends io.WebSocketServerProtocol {
  onMessage(payload, isBinary) {
    if (!isBinary && payload.length >= 3 && payload[0] === 0x62 && payload[1] === 0x63 && payload[2] === 0x3a) {
      this.factory.broadcast(payload, false);
    } else {
      this.sendMessage(payload, isBinary);
    }
  }
}

const factory = new io.WebSocketServerFactory();
factory.protocol = Echo;
if (typeof factory.broadcast !== 'function') skip('WebSocketServerFactory has no broadcast helper yet');
const root = new io.Resource();
root.putChild('ws', new io.WebSocketResource(factory));
listenReactor(opts, io, new io.Site(root));
