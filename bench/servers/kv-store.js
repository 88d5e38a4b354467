'use strict';
/**
 * The key-value protocol both KV servers speak, on one shared Map, so the
 * ioreactor and Node `net` servers run the same logic per line:
 *   SET key value  ->  STORED
 *   GET key        ->  VALUE value | NOT_FOUND
 *   anything else  ->  ERROR
 * `answer` takes a line without its CRLF and returns the reply line with it.
 * The protocol is ASCII: both servers read lines as latin1 (a character a
 * byte, the cheapest decode) and write the replies' string as it is (UTF-8),
 * the same bytes for the ASCII the load generator sends.
 */
const store = new Map();

/**
 * @param {string} line
 * @returns {string}
 */
function answer(line) {
  const sp = line.indexOf(' ');
  const verb = sp < 0 ? line : line.slice(0, sp);
  if (verb === 'GET' && sp > 0) {
    const v = store.get(line.slice(sp + 1));
    return v === undefined ? 'NOT_FOUND\r\n' : `VALUE ${v}\r\n`;
  }
  const sp2 = sp < 0 ? -1 : line.indexOf(' ', sp + 1);
  if (verb === 'SET' && sp2 > 0) {
    store.set(line.slice(sp + 1, sp2), line.slice(sp2 + 1));
    return 'STORED\r\n';
  }
  return 'ERROR\r\n';
}

module.exports = { answer };
