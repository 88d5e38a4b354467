#!/usr/bin/env node
/**
 * Chat server, after the LineReceiver chat example in Twisted's docs: each
 * client picks a unique name first; after that every line it sends is passed on
 * to everybody else as "<name> line".
 *
 * Run:   npm run build && node examples/chat-server.js [port]   (PORT=... works too)
 * Try:   nc 127.0.0.1 <port>   from two terminals.
 */
'use strict';
const { Factory, LineReceiver, reactor, serverFromString } = require('../dist');

class ChatUser extends LineReceiver {
  constructor() {
    super();
    this.name = null;
  }

  /** The room every user of this server shares: name -> protocol. */
  get room() {
    return this.factory.room;
  }

  connectionMade() {
    this.sendLine('Hello! Who are you? (send a name)');
  }

  connectionLost() {
    if (this.name !== null && this.room.get(this.name) === this) {
      this.room.delete(this.name);
      this.broadcast(`* ${this.name} has left`);
    }
  }

  lineReceived(line) {
    const text = line.toString('utf8').trim();
    if (this.name === null) this.chooseName(text);
    else if (text !== '') this.broadcast(`<${this.name}> ${text}`);
  }

  chooseName(name) {
    if (name === '' || /\s/.test(name)) {
      this.sendLine('A name is one word. Try again.');
    } else if (this.room.has(name)) {
      this.sendLine(`Sorry, ${name} is taken. Pick another name.`);
    } else {
      this.name = name;
      this.room.set(name, this);
      this.sendLine(`Welcome, ${name}! ${this.room.size - 1} other(s) here.`);
      this.broadcast(`* ${name} has joined`);
    }
  }

  /** Sends text to everyone in the room but this user. */
  broadcast(text) {
    for (const [name, user] of this.room) if (name !== this.name) user.sendLine(text);
  }
}

class ChatFactory extends Factory {
  constructor() {
    super();
    this.room = new Map();
  }
}

const port = Number(process.env.PORT || process.argv[2] || 8123);
const host = process.env.HOST || '127.0.0.1';

serverFromString(reactor, `tcp:${port}:interface=${host}`)
  .listen(ChatFactory.forProtocol(ChatUser))
  .addCallbacks(
    (listening) => console.log(`chat server listening on ${host}:${listening.getHost().port}`),
    (failure) => {
      console.error(`chat server could not listen: ${failure.getErrorMessage()}`);
      process.exitCode = 1;
    },
  );
