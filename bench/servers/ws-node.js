'use strict';
/**
 * The WebSocket baseline: the `ws` package on Node's `http`, as most Node
 * WebSocket servers run. One server for every WebSocket scenario: a binary
 * message (or a text one not starting "bc:") is echoed to its sender; a
 * text message starting "bc:" is sent to every client, with ws's usual
 * loop of send per client (the load generator's broadcast mode). With
 * --tls: the same over Node `https` (wss://) on the harness's certificate.
 */
const http = require('http');
const https = require('https');
const { WebSocketServer } = require('ws');
const { announce, nodeTLS, parseArgs } = require('./common');

const { tls } = parseArgs(process.argv.slice(2));
const server = (tls ? https.createServer.bind(null, nodeTLS()) : http.createServer)((req, res) => {
  res.writeHead(426, { 'Content-Type': 'text/plain' });
  res.end('WebSocket only\n');
});
const wss = new WebSocketServer({ server, perMessageDeflate: false });

wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => {
    if (!isBinary && data.length >= 3 && data[0] === 0x62 && data[1] === 0x63 && data[2] === 0x3a) {
      for (const client of wss.clients) client.send(data, { binary: false });
    } else {
      ws.send(data, { binary: isBinary });
    }
  });
  ws.on('error', () => ws.terminate());
});
server.on('tlsClientError', () => {});
server.listen({ port: 0, host: '127.0.0.1', backlog: 1024 }, () => announce(server.address().port));
