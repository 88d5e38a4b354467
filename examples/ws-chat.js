#!/usr/bin/env node
/**
 * A chat room over WebSocket: one Site serves the page at / and the
 * WebSocket at /ws (a WebSocketResource mounting a WebSocketServerFactory).
 * The first text message a client sends is its name; after that each of
 * its messages goes to everyone in the room as "<name> text", through the
 * broadcast helper, which frames the message once and writes the same
 * Buffer to every connection in the room.
 *
 * Run:   npm run build && node examples/ws-chat.js [port]   (PORT=... works too)
 * Try:   open http://127.0.0.1:<port>/ in two browser tabs, or
 *        node -e "const W=require('ws');const w=new W('ws://127.0.0.1:<port>/ws');
 *                 w.on('open',()=>{w.send('ann');w.send('hi')});w.on('message',(m)=>console.log(String(m)))"
 */
'use strict';
const {
  Resource, Site, WebSocketResource, WebSocketServerFactory, WebSocketServerProtocol, broadcast, reactor, serverFromString,
} = require('../dist');

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>ioreactor chat</title>
<style>body{font-family:sans-serif;max-width:40em;margin:2em auto}#log{border:1px solid #ccc;height:20em;overflow-y:auto;padding:.5em;white-space:pre-wrap}input{width:80%}</style>
</head><body>
<h1>ioreactor chat</h1>
<div id="log"></div>
<form id="f"><input id="text" autocomplete="off" placeholder="your name first, then messages" autofocus> <button>send</button></form>
<script>
const log = document.getElementById('log');
const text = document.getElementById('text');
const show = (line) => { log.textContent += line + '\\n'; log.scrollTop = log.scrollHeight; };
const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws');
ws.onmessage = (e) => show(e.data);
ws.onclose = (e) => show('* connection closed (' + e.code + ')');
document.getElementById('f').onsubmit = (e) => {
  e.preventDefault();
  if (text.value.trim() !== '' && ws.readyState === WebSocket.OPEN) ws.send(text.value);
  text.value = '';
};
</script></body></html>
`;

/** The page, at / only. */
class Page extends Resource {
  constructor() {
    super();
    this.isLeaf = true;
  }

  render_GET(request) {
    request.setHeader('Content-Type', 'text/html; charset=utf-8');
    return PAGE;
  }
}

class ChatUser extends WebSocketServerProtocol {
  constructor() {
    super();
    this.name = null;
  }

  onOpen() {
    this.sendMessage(Buffer.from('* Hello! Send your name first.'), false);
  }

  onMessage(payload, isBinary) {
    const text = payload.toString('utf8').trim();
    if (isBinary || text === '') return;
    if (this.name === null) this.chooseName(text);
    else broadcast(this.factory.room.values(), `<${this.name}> ${text}`);
  }

  chooseName(name) {
    const room = this.factory.room;
    if (/\s/.test(name) || name.length > 32) {
      this.sendMessage(Buffer.from('* A name is one word of at most 32 characters. Try again.'), false);
    } else if (room.has(name)) {
      this.sendMessage(Buffer.from(`* Sorry, ${name} is taken. Pick another name.`), false);
    } else {
      this.name = name;
      this.sendMessage(Buffer.from(`* Welcome, ${name}! ${room.size} other(s) here.`), false);
      broadcast(room.values(), `* ${name} has joined`);
      room.set(name, this);
    }
  }

  onClose() {
    if (this.name === null) return;
    this.factory.room.delete(this.name);
    broadcast(this.factory.room.values(), `* ${this.name} has left`);
  }
}

const port = Number(process.env.PORT || process.argv[2] || 8080);
const host = process.env.HOST || '127.0.0.1';
const factory = new WebSocketServerFactory(null, { maxMessagePayloadSize: 4096 });
factory.protocol = ChatUser;
factory.room = new Map(); // name -> user, for those who have chosen one: who a message goes to
const root = new Resource();
root.putChild('', new Page());
root.putChild('ws', new WebSocketResource(factory));

serverFromString(reactor, `tcp:${port}:interface=${host}`)
  .listen(new Site(root))
  .addCallbacks(
    (listening) => console.log(`ws chat listening on ${host}:${listening.getHost().port} (open http://${host}:${listening.getHost().port}/)`),
    (failure) => {
      console.error(`ws chat could not listen: ${failure.getErrorMessage()}`);
      process.exitCode = 1;
    },
  );
