/** examples/wc-process.js and examples/udp-echo.js run as written, as child processes. */
import * as dgram from 'dgram';
import { run } from './helpers/examples';

jest.setTimeout(60000); // each example child loads lib/ through ts-register

test('wc-process writes lines to wc and prints its counts, then exits by itself', async () => {
  const wc = run('wc-process.js', ['5']);
  expect(await wc.exited).toBe(0);
  // 5 lines of "line number N\n": 3 words each, 14 characters each.
  expect(wc.stdout()).toBe('lines: 5 words: 15 chars: 70\nwc ended: A process has ended without apparent errors: process finished with exit code 0.\n');
});

test('udp-echo: the server echoes to Node dgram and to the example client, which then exits', async () => {
  const server = run('udp-echo.js', ['server'], { PORT: '0' });
  const port = await new Promise<number>((resolve, reject) => {
    server.child.stdout?.on('data', () => {
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(server.stdout());
      if (m) resolve(Number(m[1]));
    });
    server.exited.then((code) => reject(new Error(`server exited (${code}): ${server.stderr()}`)));
  });
  const sock = dgram.createSocket('udp4');
  try {
    const reply = new Promise<string>((resolve) => sock.once('message', (m) => resolve(m.toString())));
    sock.send('raw \x00 bytes', port, '127.0.0.1');
    expect(await reply).toBe('raw \x00 bytes');
  } finally {
    sock.close();
  }
  const client = run('udp-echo.js', ['client', String(port), 'first', 'second']);
  expect(await client.exited).toBe(0);
  expect(client.stdout()).toBe('echo: first\necho: second\n');
});

test('udp-echo client reports a port nobody listens on and exits non-zero', async () => {
  const probe = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', () => resolve()));
  const port = probe.address().port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const client = run('udp-echo.js', ['client', String(port), 'hello']);
  expect(await client.exited).toBe(1);
  expect(client.stderr()).toMatch(/nobody is listening on 127\.0\.0\.1:\d+/);
});
