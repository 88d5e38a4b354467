'use strict';
/**
 * ioreactor echo server: a Protocol that writes back what it receives.
 * Arguments: [--backend epoll|poll] [--accept-batch N] [--check] [--tls]
 * (--tls: over listenSSL, the harness's certificate).
 */
const { parseArgs, loadReactor, listenReactor } = require('./common');

const opts = parseArgs(process.argv.slice(2));
const io = loadReactor();

class Echo extends io.Protocol {
  connectionMade() {
    this.transport.setTcpNoDelay(true);
  }

  dataReceived(data) {
    this.transport.write(data);
  }
}

listenReactor(opts, io, io.Factory.forProtocol(Echo));
