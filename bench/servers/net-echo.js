'use strict';
/** Node `net` echo server: the baseline every ratio is against. */
const net = require('net');
const { announce } = require('./common');

const server = net.createServer({ noDelay: true }, (socket) => {
  socket.on('data', (data) => socket.write(data));
  socket.on('error', () => socket.destroy());
});
server.listen({ port: 0, host: '127.0.0.1', backlog: 1024 }, () => announce(server.address().port));
