'use strict';
/**
 * The Redis-protocol server on ioreactor, written as the README teaches a
 * first server (Protocol, Factory.forProtocol, reactor.listenTCP, the default
 * reactor): what a new user would write. Prints its port on one line.
 */
const { Factory, Protocol, reactor } = require('../..');
const { Store, CommandReader } = require('./resp');

const store = new Store();

class Resp extends Protocol {
  connectionMade() {
    this.reader = new CommandReader(store);
  }

  dataReceived(data) {
    const out = this.reader.feed(data.toString('latin1'));
    if (out.length > 0) this.transport.write(Buffer.from(out, 'latin1'));
  }
}

const port = reactor.listenTCP(0, Factory.forProtocol(Resp), { interface: '127.0.0.1', backlog: 1024 });
console.log(port.getHost().port);
process.stdin.on('end', () => process.exit(0)).resume();
