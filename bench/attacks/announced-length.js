#!/usr/bin/env node
'use strict';
/**
 * Attack: reserve memory by announcing a length.
 *
 * Every connection sends only a 4-byte Int32 prefix announcing 99,999 bytes
 * (just under MAX_LENGTH) and one byte of the string, then waits. Prints the
 * server's memory (after a full GC) before and after all the connections
 * have been read, and how many bytes the receivers hold.
 *
 *   node bench/attacks/announced-length.js [--connections 5000] [--backend epoll|poll]
 */
const net = require('net');
const path = require('path');
const { serve, startServer, option, report } = require('./harness');

const ANNOUNCED = 99999;

function runServer() {
  const io = require(path.join(__dirname, '..', '..', 'dist'));
  const reactor = io.createReactor({ backend: option('backend', 'epoll') });
  const receivers = new Set();
  let prefixes = 0;
  class Receiver extends io.Int32StringReceiver {
    connectionMade() {
      receivers.add(this);
    }
    dataReceived(data) {
      super.dataReceived(data);
      if (++prefixes % 100 === 0) process.send({ prefixes });
    }
  }
  const port = reactor.listenTCP(0, io.Factory.forProtocol(Receiver), { interface: '127.0.0.1' });
  serve(port.getHost().port, () => ({
    connections: receivers.size,
    heldBytes: [...receivers].reduce((sum, r) => sum + r.bufferedSize, 0),
  }));
}

async function attack() {
  const conns = Number(option('connections', 5000));
  const server = await startServer(__filename, process.argv.slice(2));
  const before = await server.measure();
  const wire = Buffer.alloc(5, 0x61);
  wire.writeUInt32BE(ANNOUNCED, 0);
  const sockets = [];
  for (let i = 0; i < conns; i++) {
    sockets.push(
      await new Promise((resolve, reject) => {
        const s = net.connect(server.port, '127.0.0.1', () => resolve(s));
        s.on('error', reject);
      }),
    );
    sockets[i].write(wire);
  }
  await server.seen('prefixes', Math.floor(conns / 100) * 100);
  const after = await server.measure();
  report(`announced length, ${conns} connections, ioreactor (${option('backend', 'epoll')}): server memory in MB after GC`, before, after);
  for (const s of sockets) s.destroy();
  server.stop();
}

if (process.argv.includes('--server')) runServer();
else attack();
