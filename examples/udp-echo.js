#!/usr/bin/env node
/**
 * UDP echo: a server that sends every datagram back, and a client that sends
 * its arguments one datagram each and prints what comes back.
 *
 * Run:   npm run build && node examples/udp-echo.js server [port]
 *        (or PORT=9999 node examples/udp-echo.js server; port 0 picks a free one)
 * Try:   node examples/udp-echo.js client <port> hello world
 * The client gives up after 2 s without a reply (UDP may drop datagrams).
 */
'use strict';
const { DatagramProtocol, reactor } = require('../dist');

class EchoServer extends DatagramProtocol {
  datagramReceived(data, [host, port]) {
    this.transport.write(data, [host, port]);
  }
}

class EchoClient extends DatagramProtocol {
  constructor(port, messages) {
    super();
    this.port = port;
    this.waiting = messages.slice();
  }

  startProtocol() {
    // Connected UDP: only the server's replies are received, and a closed
    // port shows up as connectionRefused().
    this.transport.connect('127.0.0.1', this.port);
    this.sendNext();
  }

  sendNext() {
    if (this.waiting.length === 0) {
      void this.transport.stopListening();
      return;
    }
    this.transport.write(this.waiting[0]);
    this.timeout = reactor.callLater(2, () => {
      console.error('no reply within 2 s');
      process.exitCode = 1;
      void this.transport.stopListening();
    });
  }

  datagramReceived(data) {
    this.timeout.cancel();
    console.log(`echo: ${data.toString()}`);
    this.waiting.shift();
    this.sendNext();
  }

  connectionRefused() {
    console.error(`nobody is listening on 127.0.0.1:${this.port}`);
    process.exitCode = 1;
    if (this.timeout && this.timeout.active()) this.timeout.cancel();
    void this.transport.stopListening();
  }
}

const [mode, portArg, ...messages] = process.argv.slice(2);
if (mode === 'server') {
  const port = reactor.listenUDP(Number(process.env.PORT || portArg || 9999), new EchoServer(), { interface: '127.0.0.1' });
  console.log(`udp echo listening on 127.0.0.1:${port.getHost().port}`);
} else if (mode === 'client' && portArg) {
  reactor.listenUDP(0, new EchoClient(Number(portArg), messages.length ? messages : ['hello']), { interface: '127.0.0.1' });
} else {
  console.error('usage: udp-echo.js server [port] | client <port> [message...]');
  process.exitCode = 2;
}
