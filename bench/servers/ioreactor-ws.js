'use strict';
/**
 * ioreactor WebSocket server, written only from the DESIGN names: a Site
 * whose root has a WebSocketResource at /ws, its WebSocketServerFactory
 * building WebSocketServerProtocols. The same rule as ws-node.js: a binary
 * message (or a text one not starting "bc:") is echoed to its sender with
 * sendMessage; a text message starting "bc:" goes to every open connection
 * through the broadcast helper (framed once, the same Buffer written to
 * each). As in Autobahn's broadcast example, the factory keeps the open
 * connections: added in onOpen, removed in onClose.
 * Arguments: [--backend epoll|poll] [--tls] [--check] (--tls: wss://, the
 * Site over listenSSL on the harness's certificate).
 */
const { parseArgs, loadReactor, listenReactor, skip } = require('./common');

const opts = parseArgs(process.argv.slice(2));
const io = loadReactor();
for (const name of ['WebSocketServerProtocol', 'WebSocketServerFactory', 'WebSocketResource', 'Site', 'Resource', 'broadcast']) {
  if (typeof io[name] !== 'function') skip(`dist/ has no ${name} yet (WebSocket not landed)`);
}

class Echo extends io.WebSocketServerProtocol {
  onOpen() {
    this.factory.clients.add(this);
  }

  onClose() {
    this.factory.clients.delete(this);
  }

  onMessage(payload, isBinary) {
    if (!isBinary && payload.length >= 3 && payload[0] === 0x62 && payload[1] === 0x63 && payload[2] === 0x3a) {
      io.broadcast(this.factory.clients, payload, false);
    } else {
      this.sendMessage(payload, isBinary);
    }
  }
}

const factory = new io.WebSocketServerFactory();
factory.protocol = Echo;
factory.clients = new Set();
const root = new io.Resource();
root.putChild('ws', new io.WebSocketResource(factory));
listenReactor(opts, io, new io.Site(root));
