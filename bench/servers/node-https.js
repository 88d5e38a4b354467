'use strict';
/** Node `https` hello server, keep-alive (the harness's certificate), as node-http.js. */
const https = require('https');
const { announce, nodeTLS, BODY } = require('./common');

const server = https.createServer({ ...nodeTLS(), keepAliveTimeout: 60000, noDelay: true }, (req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': BODY.length });
  res.end(BODY);
});
server.on('tlsClientError', () => {});
server.listen({ port: 0, host: '127.0.0.1', backlog: 1024 }, () => announce(server.address().port));
