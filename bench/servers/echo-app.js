'use strict';
/**
 * The echo app `ioreactor serve` runs for the harness (ioreactor-workers.js):
 * each worker echoes on the socket the supervisor passes it (fd 3, as
 * LISTEN_FDS says) and counts the connections it accepted.
 */
const io = require('../../dist');

class Echo extends io.Protocol {
  connectionMade() {
    this.transport.setTcpNoDelay(true);
  }

  dataReceived(data) {
    this.transport.write(data);
  }
}

exports.main = (reactor) => {
  reactor.adoptStreamPort(3, 'INET', io.Factory.forProtocol(Echo));
  return new io.Deferred();
};
