'use strict';
/**
 * ioreactor key-value server: a LineReceiver answering GET/SET lines
 * (kv-store.js). The replies to the lines of one read are gathered and
 * written once, as a pipelining server would.
 * Arguments: [--backend epoll|poll] [--check].
 */
const { parseArgs, loadReactor, listenReactor } = require('./common');
const { answer } = require('./kv-store');

const opts = parseArgs(process.argv.slice(2));
const io = loadReactor();

class KV extends io.LineReceiver {
  connectionMade() {
    this.transport.setTcpNoDelay(true);
    this.out = '';
  }

  dataReceived(data) {
    super.dataReceived(data);
    if (this.out.length > 0) {
      this.transport.write(Buffer.from(this.out, 'latin1'));
      this.out = '';
    }
  }

  lineReceived(line) {
    this.out += answer(line.toString('latin1'));
  }
}

listenReactor(opts, io, io.Factory.forProtocol(KV));
