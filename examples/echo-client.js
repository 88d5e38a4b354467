#!/usr/bin/env node
/**
 * Echo client: sends each message as a line, prints what comes back, then
 * disconnects; the process exits by itself once the connection is closed.
 *
 * Run:   npm run build && node examples/echo-client.js <port> [message ...]
 *        (HOST=... to connect elsewhere than 127.0.0.1)
 */
'use strict';
const { LineReceiver, Factory, clientFromString, reactor } = require('../dist');

const port = Number(process.env.PORT || process.argv[2] || 8000);
const host = process.env.HOST || '127.0.0.1';
const messages = process.argv.length > 3 ? process.argv.slice(3) : ['hello', 'world'];

class EchoClient extends LineReceiver {
  connectionMade() {
    this.waitingFor = messages.length;
    for (const m of messages) this.sendLine(m);
  }

  lineReceived(line) {
    console.log(`echo: ${line.toString()}`);
    this.waitingFor -= 1;
    if (this.waitingFor === 0) this.transport.loseConnection();
  }

  connectionLost() {
    console.log('connection closed');
  }
}

clientFromString(reactor, `tcp:host=${host}:port=${port}:timeout=5`)
  .connect(Factory.forProtocol(EchoClient))
  .addErrback((failure) => {
    console.error(`could not connect to ${host}:${port}: ${failure.getErrorMessage()}`);
    process.exitCode = 1;
  });
