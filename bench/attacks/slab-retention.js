#!/usr/bin/env node
'use strict';
/**
 * Attack: pin received memory by sending a little.
 *
 * The server keeps the last short value (<= 16 bytes) each connection sent,
 * as a protocol that remembers a name or a token would, and ignores anything
 * longer. The client, one connection after the other, sends a short value,
 * waits for the server to acknowledge it, then sends ~250 KiB of junk, so
 * every kept value was read next to a quarter megabyte of junk. Prints the
 * server's memory (after a full GC) before and after, the bytes kept, and
 * the distinct ArrayBuffers those kept Buffers hold alive.
 *
 *   node bench/attacks/slab-retention.js [--connections 1000] [--backend epoll|poll]
 *   [--via net]   (the same server on Node's net, for comparison)
 */
const net = require('net');
const path = require('path');
const { serve, startServer, option, report } = require('./harness');

const SHORT = 16;
const JUNK = 250 * 1024;

function runServer() {
  const kept = [];
  const retained = () => {
    const held = new Set();
    let keptBytes = 0;
    for (const b of kept) {
      if (b === undefined) continue;
      keptBytes += b.length;
      held.add(b.buffer);
    }
    let heldBytes = 0;
    for (const ab of held) heldBytes += ab.byteLength;
    return { keptBytes, buffersHeld: held.size, heldMB: Math.round(heldBytes / 1e5) / 10 };
  };
  const onData = (id, data, ack) => {
    if (data.length > SHORT) return;
    kept[id] = data;
    ack();
  };
  let next = 0;
  if (option('via') === 'net') {
    const srv = net.createServer((sock) => {
      const id = next++;
      sock.on('data', (d) => onData(id, d, () => sock.write('k')));
    });
    srv.listen(0, '127.0.0.1', () => serve(srv.address().port, retained));
    return;
  }
  const io = require(path.join(__dirname, '..', '..', 'dist'));
  const reactor = io.createReactor({ backend: option('backend', 'epoll') });
  class Keeper extends io.Protocol {
    connectionMade() {
      this.id = next++;
    }
    dataReceived(data) {
      onData(this.id, data, () => this.transport.write('k'));
    }
  }
  const port = reactor.listenTCP(0, io.Factory.forProtocol(Keeper), { interface: '127.0.0.1' });
  serve(port.getHost().port, retained);
}

function connect(port) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
}

async function attack() {
  const conns = Number(option('connections', 1000));
  const server = await startServer(__filename, process.argv.slice(2));
  const before = await server.measure();
  const junk = Buffer.alloc(JUNK, 0x6a);
  const sockets = [];
  for (let i = 0; i < conns; i++) {
    const s = await connect(server.port);
    sockets.push(s);
    const acked = new Promise((resolve) => s.once('data', resolve));
    s.write(`value-${i}`.slice(0, SHORT));
    await acked;
    await new Promise((resolve) => s.write(junk, resolve));
  }
  const after = await server.measure();
  const backend = option('via') === 'net' ? 'Node net' : `ioreactor (${option('backend', 'epoll')})`;
  report(`slab retention, ${conns} connections, ${backend}: server memory in MB after GC`, before, after);
  for (const s of sockets) s.destroy();
  server.stop();
}

if (process.argv.includes('--server')) runServer();
else attack();
