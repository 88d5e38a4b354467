/**
 * The addon's listenSocket/closeFd (the serve supervisor's held sockets):
 * a listening socket no loop watches, its port, SO_REUSEPORT siblings on
 * that port, and -errno for what cannot be done.
 */
import * as net from 'net';
import * as os from 'os';
import { loadNative } from '../lib/native';
import { openFdCount } from './helpers/fds';

const errno = (name: string): number => -(os.constants.errno as Record<string, number>)[name];

describe('native listenSocket', () => {
  const native = loadNative();

  it('listens on port 0, takes SO_REUSEPORT siblings on the port it got, and closes', async () => {
    const a = native.listenSocket(4, '127.0.0.1', 0, 16, true);
    if (typeof a === 'number') throw new Error(`listenSocket failed: ${a}`);
    expect(a.port).toBeGreaterThan(0);
    const b = native.listenSocket(4, '127.0.0.1', a.port, 16, true);
    if (typeof b === 'number') throw new Error(`listenSocket failed: ${b}`);
    expect(b.port).toBe(a.port);
    expect(native.listenSocket(4, '127.0.0.1', a.port, 16, false)).toBe(errno('EADDRINUSE'));
    // It listens: a connect completes into its accept queue (nobody accepts it).
    await new Promise<void>((resolve, reject) => {
      const s = net.connect(a.port, '127.0.0.1', () => s.destroy());
      s.on('close', () => resolve());
      s.on('error', reject);
    });
    const before = openFdCount(); // (after Node's first connect, which may open fds of its own)
    expect(native.closeFd(a.fd)).toBe(0);
    expect(native.closeFd(b.fd)).toBe(0);
    expect(native.closeFd(b.fd)).toBe(errno('EBADF'));
    expect(openFdCount()).toBe(before - 2);
  });

  it('returns -EINVAL for bad arguments', () => {
    const bad = native as unknown as { listenSocket(...a: unknown[]): unknown; closeFd(...a: unknown[]): unknown };
    expect(bad.listenSocket(0, '/tmp/x', 0, 16, true)).toBe(errno('EINVAL'));
    expect(bad.listenSocket(4, '127.0.0.1', 70000, 16, true)).toBe(errno('EINVAL'));
    expect(bad.listenSocket(4, 'not an address', 0, 16, true)).toBe(errno('EINVAL'));
    expect(bad.listenSocket(4, '127.0.0.1', 0)).toBe(errno('EINVAL'));
    expect(bad.closeFd('3')).toBe(errno('EINVAL'));
    expect(bad.closeFd(-1)).toBe(errno('EBADF'));
  });
});
