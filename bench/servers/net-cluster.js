'use strict';
/**
 * Node `cluster` with N workers of the `net` echo server (the baseline for
 * `ioreactor serve`; Node's default scheduling: the primary accepts and
 * hands connections round-robin). Same handshake as ioreactor-workers.js:
 * the port, `SHARES [accepted per worker...]` for a "shares" line on stdin,
 * exit when stdin closes. Arguments: --workers N.
 */
const cluster = require('cluster');
const net = require('net');
const { announce, skip } = require('./common');
const { onLines } = require('./lines');

if (cluster.isPrimary) {
  const argv = process.argv.slice(2);
  const workers = Number(argv.includes('--workers') ? argv[argv.indexOf('--workers') + 1] : 2);
  if (!Number.isInteger(workers) || workers < 1) skip('--workers must be a positive integer');
  if (argv.includes('--check')) {
    process.stdout.write('OK\n');
    process.exit(0);
  }
  const all = Array.from({ length: workers }, () => cluster.fork());
  let listening = 0;
  cluster.on('listening', (w, address) => {
    if (++listening === workers) {
      announce(address.port);
      onLines(process.stdin, (line) => line === 'shares' && shares());
    }
  });
  process.on('exit', () => all.forEach((w) => w.process.kill('SIGKILL')));
  process.on('SIGTERM', () => process.exit(0));
  const shares = () => {
    const counts = new Array(workers).fill(null);
    all.forEach((w, i) => {
      w.once('message', (m) => {
        counts[i] = m.accepted;
        if (counts.every((c) => c !== null)) process.stdout.write(`SHARES ${JSON.stringify(counts)}\n`);
      });
      w.send('shares');
    });
  };
} else {
  let accepted = 0;
  const server = net.createServer({ noDelay: true }, (socket) => {
    accepted++;
    socket.on('data', (data) => socket.write(data));
    socket.on('error', () => socket.destroy());
  });
  process.on('message', () => process.send({ accepted }));
  server.listen({ port: 0, host: '127.0.0.1', backlog: 1024 });
}
