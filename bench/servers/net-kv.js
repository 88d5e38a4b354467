'use strict';
/**
 * Node `net` key-value server: the same lines and replies (kv-store.js),
 * split on CRLF by hand as a `net` user would, one write of the replies'
 * string per read (which Node hands to its stream handle as a string,
 * with no Buffer made for it).
 */
const net = require('net');
const { announce } = require('./common');
const { answer } = require('./kv-store');

const server = net.createServer({ noDelay: true }, (socket) => {
  let tail = '';
  socket.on('data', (data) => {
    const text = tail + data.toString('latin1');
    let out = '';
    let start = 0;
    let nl;
    while ((nl = text.indexOf('\r\n', start)) >= 0) {
      out += answer(text.slice(start, nl));
      start = nl + 2;
    }
    tail = text.slice(start);
    if (out.length > 0) socket.write(out);
  });
  socket.on('error', () => socket.destroy());
});
server.listen({ port: 0, host: '127.0.0.1', backlog: 1024 }, () => announce(server.address().port));
