'use strict';
/** The same Redis-protocol server on Node `net`. Prints its port on one line. */
const net = require('net');
const { Store, CommandReader } = require('./resp');

const store = new Store();
const server = net.createServer({ noDelay: true }, (socket) => {
  const reader = new CommandReader(store);
  socket.on('data', (data) => {
    const out = reader.feed(data.toString('latin1'));
    if (out.length > 0) socket.write(Buffer.from(out, 'latin1'));
  });
  socket.on('error', () => socket.destroy());
});
server.listen({ port: 0, host: '127.0.0.1', backlog: 1024 }, () => console.log(server.address().port));
process.stdin.on('end', () => process.exit(0)).resume();
