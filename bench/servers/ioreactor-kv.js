'use strict';
/**
 * ioreactor key-value server: a LineReceiver answering GET/SET lines
 * (kv-store.js), each line a Buffer the handler reads as text with
 * lineText (line.toString('latin1'), one decode per read); with --text a
 * TextLineReceiver, each read decoded once and each line a slice of that
 * string (as net-kv.js splits by hand). The replies to the lines of one
 * read are gathered and written once, as a string, as a pipelining server
 * would; with --sendline each line is answered at once with sendLine, as
 * Twisted's examples do (bench/PERFORMANCE.md, "sendLine with a string"),
 * and with --write with `transport.write(reply)` (the reply has its CRLF).
 * Arguments: [--backend epoll|poll] [--check] [--text] [--sendline | --write].
 */
const { parseArgs, loadReactor, listenReactor } = require('./common');
const { answer } = require('./kv-store');

const opts = parseArgs(process.argv.slice(2));
const text = process.argv.includes('--text');
const eachLine = process.argv.includes('--sendline');
const eachWrite = process.argv.includes('--write');
const io = loadReactor();

class KV extends (text ? io.TextLineReceiver : io.LineReceiver) {
  connectionMade() {
    this.transport.setTcpNoDelay(true);
    this.out = '';
  }

  dataReceived(data) {
    super.dataReceived(data);
    if (this.out.length > 0) {
      this.transport.write(this.out);
      this.out = '';
    }
  }

  lineReceived(line) {
    const reply = answer(text ? line : this.lineText(line));
    if (eachLine) this.sendLine(reply.slice(0, reply.length - 2));
    else if (eachWrite) this.transport.write(reply);
    else this.out += reply;
  }
}

listenReactor(opts, io, io.Factory.forProtocol(KV));
