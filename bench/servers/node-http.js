'use strict';
/** Node `http` hello server, keep-alive. */
const http = require('http');
const { announce, BODY } = require('./common');

const server = http.createServer({ keepAliveTimeout: 60000, noDelay: true }, (req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': BODY.length });
  res.end(BODY);
});
server.listen({ port: 0, host: '127.0.0.1', backlog: 1024 }, () => announce(server.address().port));
