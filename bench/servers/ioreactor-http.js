'use strict';
/**
 * ioreactor raw HTTP responder: the same request counting and fixed answer
 * as net-http.js, on a Protocol.
 */
const { parseArgs, loadReactor, listenReactor, RequestCounter, responses } = require('./common');

const opts = parseArgs(process.argv.slice(2));
const io = loadReactor();

class Hello extends io.Protocol {
  connectionMade() {
    this.counter = new RequestCounter();
    this.transport.setTcpNoDelay(true);
  }

  dataReceived(data) {
    const n = this.counter.feed(data);
    if (n > 0) this.transport.write(responses(n));
  }
}

listenReactor(opts, io, io.Factory.forProtocol(Hello));
