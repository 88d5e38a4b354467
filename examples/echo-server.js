#!/usr/bin/env node
/**
 * Echo server: every byte a client sends comes straight back.
 *
 * Run:   npm run build && node examples/echo-server.js [port]
 *        (or PORT=8000 node examples/echo-server.js; port 0 picks a free one)
 * Try:   node examples/echo-client.js <port> hello world
 */
'use strict';
const { Factory, Protocol, reactor, serverFromString } = require('../dist');

class Echo extends Protocol {
  dataReceived(data) {
    this.transport.write(data);
  }
}

const port = Number(process.env.PORT || process.argv[2] || 8000);
const host = process.env.HOST || '127.0.0.1';

serverFromString(reactor, `tcp:${port}:interface=${host}`)
  .listen(Factory.forProtocol(Echo))
  .addCallbacks(
    (listening) => console.log(`echo server listening on ${host}:${listening.getHost().port}`),
    (failure) => {
      console.error(`echo server could not listen: ${failure.getErrorMessage()}`);
      process.exitCode = 1;
    },
  );
