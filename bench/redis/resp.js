'use strict';
/**
 * A small Redis-protocol (RESP2) command reader and store, shared by the
 * ioreactor and Node `net` servers of this check so both run the same logic.
 * It speaks just enough for `redis-benchmark -t ping,set,get`: arrays of
 * bulk strings and inline commands in, simple/bulk/array replies out.
 */

/** Commands are answered from one Map; unknown ones get an error reply. */
class Store {
  constructor() {
    this.map = new Map();
  }

  /**
   * @param {string[]} argv the command and its arguments (latin1)
   * @returns {string} the RESP reply
   */
  answer(argv) {
    const cmd = (argv[0] || '').toUpperCase();
    if (cmd === 'GET') {
      const v = this.map.get(argv[1]);
      return v === undefined ? '$-1\r\n' : `$${v.length}\r\n${v}\r\n`;
    }
    if (cmd === 'SET') {
      this.map.set(argv[1], argv[2]);
      return '+OK\r\n';
    }
    if (cmd === 'PING') return '+PONG\r\n';
    if (cmd === 'CONFIG') return '*0\r\n'; // redis-benchmark asks for "save" and "appendonly" first
    return `-ERR unknown command '${cmd}'\r\n`;
  }
}

/**
 * Splits a byte stream into commands. `feed` returns the replies to every
 * command the chunk completed, concatenated, so a server writes once per read.
 */
class CommandReader {
  constructor(store) {
    this.store = store;
    this.tail = '';
  }

  /** @param {string} chunk latin1 text @returns {string} replies */
  feed(chunk) {
    const text = this.tail + chunk;
    let out = '';
    let at = 0;
    for (;;) {
      const next = text.charCodeAt(at) === 42 /* '*' */ ? parseArray(text, at) : parseInline(text, at);
      if (next === null) break;
      out += this.store.answer(next.argv);
      at = next.end;
    }
    this.tail = text.slice(at);
    return out;
  }
}

/** `*N\r\n` followed by N `$len\r\nbytes\r\n`; null if incomplete. */
function parseArray(text, at) {
  let nl = text.indexOf('\r\n', at);
  if (nl < 0) return null;
  const n = parseInt(text.slice(at + 1, nl), 10);
  const argv = [];
  let pos = nl + 2;
  for (let i = 0; i < n; i++) {
    nl = text.indexOf('\r\n', pos);
    if (nl < 0) return null;
    const len = parseInt(text.slice(pos + 1, nl), 10);
    const start = nl + 2;
    if (text.length < start + len + 2) return null;
    argv.push(text.slice(start, start + len));
    pos = start + len + 2;
  }
  return { argv, end: pos };
}

/** An inline command: words up to CRLF; null if incomplete. */
function parseInline(text, at) {
  const nl = text.indexOf('\r\n', at);
  if (nl < 0) return null;
  return { argv: text.slice(at, nl).split(' ').filter((w) => w.length > 0), end: nl + 2 };
}

module.exports = { Store, CommandReader };
