#!/usr/bin/env node
/**
 * Twisted's process example: write some lines to `wc`, close its stdin, and
 * read the counts it prints when it exits.
 *
 * Run:   npm run build && node examples/wc-process.js [lines]
 * Prints "lines: N words: W chars: C" and "wc ended: <reason>", then exits.
 */
'use strict';
const { ProcessDone, ProcessProtocol, reactor } = require('../dist');

class WCProcessProtocol extends ProcessProtocol {
  constructor(text) {
    super();
    this.text = text;
    this.output = '';
  }

  connectionMade() {
    this.transport.write(this.text);
    this.transport.closeStdin();
  }

  outReceived(data) {
    this.output += data.toString();
  }

  errReceived(data) {
    process.stderr.write(data);
  }

  processEnded(reason) {
    const [lines, words, chars] = this.output.trim().split(/\s+/).map(Number);
    console.log(`lines: ${lines} words: ${words} chars: ${chars}`);
    console.log(`wc ended: ${reason.getErrorMessage()}`);
    if (!(reason.value instanceof ProcessDone)) process.exitCode = 1;
  }
}

const count = Number(process.argv[2] || 3);
const text = Array.from({ length: count }, (_, i) => `line number ${i + 1}\n`).join('');
// No env given: an empty environment (as Twisted); 'wc' is found in /bin:/usr/bin.
reactor.spawnProcess(new WCProcessProtocol(text), 'wc', ['wc']);
