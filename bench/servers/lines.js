'use strict';
/** Calls fn(line) for each complete line read from a stream. */
function onLines(stream, fn) {
  let rest = '';
  stream.on('data', (d) => {
    rest += d;
    const lines = rest.split('\n');
    rest = lines.pop();
    for (const l of lines) fn(l);
  });
}

module.exports = { onLines };
