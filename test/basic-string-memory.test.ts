/**
 * Length-prefixed receivers hold memory for the bytes that arrived, not for
 * the length a peer announces: thousands of connections that each send only
 * a prefix must not reserve thousands of full strings.
 */
import { Int16StringReceiver, Int32StringReceiver, Int8StringReceiver } from '../lib/protocols/int-string';
import { NetstringReceiver } from '../lib/protocols/netstring';
import type { Protocol } from '../lib/protocol';
import { StringTransport } from './helpers/string-transport';

const RECEIVERS = 1000;

/** ArrayBuffer bytes allocated while `RECEIVERS` receivers each get `wire` (kept alive until measured). */
function heldAfter(make: () => Protocol, wire: Buffer): number {
  const before = process.memoryUsage().arrayBuffers;
  const kept: Protocol[] = [];
  for (let i = 0; i < RECEIVERS; i++) {
    const r = make();
    r.makeConnection(new StringTransport());
    r.dataReceived(wire);
    kept.push(r);
  }
  const grown = process.memoryUsage().arrayBuffers - before;
  expect(kept).toHaveLength(RECEIVERS);
  return grown;
}

/** What the receivers may hold: about 1 KiB each for a 5-byte prefix (the announcement was ~100 KB). */
const BOUND = RECEIVERS * 1024;

describe.each([
  ['Int32', () => new Int32StringReceiver(), 4, 99_999],
  ['Int16', () => new Int16StringReceiver(), 2, 65_535],
] as const)('%sStringReceiver', (_name, make, prefix, announced) => {
  test('a prefix announcing a long string reserves memory only for the bytes that arrived', () => {
    const wire = Buffer.alloc(prefix + 1, 0x61);
    wire.writeUIntBE(announced, 0, prefix);
    expect(heldAfter(make, wire)).toBeLessThan(BOUND);
  });

  test('a string that arrives a byte at a time still comes out whole and exact-size', () => {
    const r = make();
    const got: Buffer[] = [];
    r.stringReceived = (s: Buffer): void => {
      got.push(s);
    };
    r.makeConnection(new StringTransport());
    const body = Buffer.alloc(5000, 0x62);
    const wire = Buffer.concat([Buffer.alloc(prefix), body]);
    wire.writeUIntBE(body.length, 0, prefix);
    for (let i = 0; i < wire.length; i += 7) r.dataReceived(wire.subarray(i, i + 7));
    expect(got).toHaveLength(1);
    expect(got[0].equals(body)).toBe(true);
    expect(got[0].buffer.byteLength).toBeLessThanOrEqual(prefix + body.length);
    expect(r.bufferedSize).toBe(0);
  });
});

test('Int8StringReceiver frames stay within one prefix byte', () => {
  expect(heldAfter(() => new Int8StringReceiver(), Buffer.from([255, 0x61]))).toBeLessThan(BOUND);
});

describe('NetstringReceiver', () => {
  test('a length announcing a long string reserves memory only for the bytes that arrived', () => {
    expect(heldAfter(() => new NetstringReceiver(), Buffer.from('99999:a'))).toBeLessThan(BOUND);
  });

  test('a string that arrives a byte at a time still comes out whole and exact-size', () => {
    const r = new NetstringReceiver();
    const got: Buffer[] = [];
    r.stringReceived = (s: Buffer): void => {
      got.push(s);
    };
    r.makeConnection(new StringTransport());
    const body = Buffer.alloc(5000, 0x63);
    const wire = Buffer.concat([Buffer.from(`${body.length}:`), body, Buffer.from(',')]);
    for (let i = 0; i < wire.length; i += 7) r.dataReceived(wire.subarray(i, i + 7));
    expect(got).toHaveLength(1);
    expect(got[0].equals(body)).toBe(true);
    expect(got[0].buffer.byteLength).toBe(body.length);
  });
});
