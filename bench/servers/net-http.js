'use strict';
/** Node `net` raw HTTP responder: counts requests, writes a fixed answer. */
const net = require('net');
const { announce, RequestCounter, responses } = require('./common');

const server = net.createServer({ noDelay: true }, (socket) => {
  const counter = new RequestCounter();
  socket.on('data', (data) => {
    const n = counter.feed(data);
    if (n > 0) socket.write(responses(n));
  });
  socket.on('error', () => socket.destroy());
});
server.listen({ port: 0, host: '127.0.0.1', backlog: 1024 }, () => announce(server.address().port));
