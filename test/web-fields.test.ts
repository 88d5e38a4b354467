/**
 * Reading request fields without building the Headers map: comma-separated
 * tokens matched in place (web/tokens.ts), a head's field read from its
 * offsets (RequestHead.fieldValues), and what the parser notes for the
 * server itself (Upgrade among them).
 */
import { parseHead, RequestHead } from '../lib/web/head';
import { hasToken } from '../lib/web/tokens';

function head(lines: string[]): RequestHead {
  const text = ['GET /a HTTP/1.1', ...lines, '', ''].join('\r\n');
  const b = Buffer.from(text, 'latin1');
  const h = parseHead(b, 0, b.length, 100);
  if (typeof h === 'number') throw new Error(`refused: ${h}`);
  return h;
}

describe('web: header tokens', () => {
  it.each([
    [['Upgrade'], 'upgrade', true],
    [['keep-alive, Upgrade'], 'upgrade', true],
    [['keep-alive,Upgrade'], 'upgrade', true],
    [['keep-alive ,\tUPGRADE\t'], 'upgrade', true],
    [['close', 'upgrade'], 'upgrade', true],
    [['upgrades'], 'upgrade', false],
    [['x-upgrade'], 'upgrade', false],
    [['up grade'], 'upgrade', false],
    [[',,, ,'], 'upgrade', false],
    [[''], 'close', false],
    [['Close'], 'close', true],
  ] as Array<[string[], string, boolean]>)('%j has %s: %s', (values, token, want) => {
    expect(hasToken(values, token)).toBe(want);
  });

  it('absent values have no token', () => {
    expect(hasToken(undefined, 'close')).toBe(false);
    expect(hasToken(null, 'close')).toBe(false);
  });
});

describe('web: a head read field by field', () => {
  it('reads one field case-insensitively, every value in order, without building the Headers', () => {
    const h = head(['Host: x', 'X-Tag: one', 'x-tag: two', 'X-TAG:three ', 'Sec-WebSocket-Key: abc']);
    expect(h.fieldValues('x-tag')).toEqual(['one', 'two', 'three']);
    expect(h.fieldValues('sec-websocket-key')).toEqual(['abc']);
    expect(h.fieldValues('x-ta')).toBeUndefined();
    expect(h.fieldValues('absent')).toBeUndefined();
    expect(h['built']).toBeNull();
  });

  it('once the Headers are built (and changed), reads them instead', () => {
    const h = head(['X-Tag: one']);
    h.headers.setRawHeaders('x-tag', ['changed']);
    expect(h.fieldValues('x-tag')).toEqual(['changed']);
  });

  it('notes Upgrade with the fields the server acts on, one value array per field', () => {
    const h = head(['Upgrade: websocket', 'Connection: keep-alive', 'connection: Upgrade', 'Content-Length: 0']);
    expect(h.upgrade).toEqual(['websocket']);
    expect(h.connection).toEqual(['keep-alive', 'Upgrade']);
    expect(h.contentLength).toEqual(['0']);
    expect(head(['Host: x']).upgrade).toBeUndefined();
  });

  it('parses heads one after another with the same offsets scratch, each keeping its own', () => {
    const a = head(['A: 1', 'B: 2', 'C: 3']);
    const b = head(['D: 4']);
    expect(a.fieldValues('c')).toEqual(['3']);
    expect(b.fieldValues('d')).toEqual(['4']);
    expect(b.fieldValues('a')).toBeUndefined();
    expect([...a.headers.getAllRawHeaders()]).toEqual([['a', ['1']], ['b', ['2']], ['c', ['3']]]);
  });
});
