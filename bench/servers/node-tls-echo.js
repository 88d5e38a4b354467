'use strict';
/** Node `tls` echo server: the TLS baseline (the harness's certificate). */
const tls = require('tls');
const { announce, nodeTLS } = require('./common');

const server = tls.createServer(nodeTLS(), (socket) => {
  socket.setNoDelay(true);
  socket.on('data', (data) => socket.write(data));
  socket.on('error', () => socket.destroy());
});
server.on('tlsClientError', () => {});
server.listen({ port: 0, host: '127.0.0.1', backlog: 1024 }, () => announce(server.address().port));
