/**
 * Ordinary code a strict TypeScript user writes against ioreactor. It must
 * compile under `tsc --strict` against the published declarations, with no
 * non-null assertion and no cast (test/types.test.ts checks both).
 */
import {
  CertificateOptions,
  ClientFactory,
  Deferred,
  Factory,
  IPv4Address,
  IPv6Address,
  LineReceiver,
  NOT_DONE_YET,
  ProcessProtocol,
  Protocol,
  ReconnectingClientFactory,
  Resource,
  TCP4ClientEndpoint,
  UNIXAddress,
  WebSocketClientFactory,
  WebSocketClientProtocol,
  WebSocketResource,
  WebSocketServerFactory,
  WebSocketServerProtocol,
  clientFromString,
  connectProtocol,
  connectWS,
  reactor,
  serverFromString,
} from 'ioreactor';
import type { IConnector, IListeningPort, ISSLTransport, ITCPTransport, RenderResult, Request } from 'ioreactor';

// The README's first server: the transport is there, the port has a number.
class Echo extends Protocol {
  override connectionMade(): void {
    this.transport.setTcpNoDelay(true);
  }

  override dataReceived(data: Buffer): void {
    this.transport.write(data);
  }
}

const port = reactor.listenTCP(0, Factory.forProtocol(Echo), { interface: '127.0.0.1' });
const portNumber: number = port.getHost().port;
const tcpHost: IPv4Address | IPv6Address = port.getHost();
const listening: IListeningPort = port;

// forProtocol keeps the protocol class, so a client endpoint yields that protocol.
const echoFactory: Factory<Echo> = Factory.forProtocol(Echo);
const built: Echo | null = echoFactory.buildProtocol(new IPv4Address('TCP', '127.0.0.1', 1));
const connected: Deferred<Echo> = clientFromString(reactor, 'tcp:host=127.0.0.1:port=1').connect(Factory.forProtocol(Echo));
connected.addCallback((echo) => {
  echo.transport.loseConnection();
});
const endpoint = new TCP4ClientEndpoint(reactor, '127.0.0.1', 1);
const viaEndpoint: Deferred<Echo> = endpoint.connect(Factory.forProtocol(Echo));
const viaInstance: Deferred<Echo> = connectProtocol(endpoint, new Echo());
// A Deferred of a protocol subclass is a Deferred of its base, as a Promise is.
const anyProtocol: Deferred<Protocol> = viaEndpoint;

// A protocol names its factory's type; a line protocol too.
class ChatFactory extends Factory<Chat> {
  readonly members = new Set<Chat>();
}

class Chat extends LineReceiver<ChatFactory> {
  override connectionMade(): void {
    this.factory.members.add(this);
    this.transport.setTcpKeepAlive(true);
  }

  override lineReceived(line: Buffer): void {
    for (const member of this.factory.members) if (member !== this) member.sendLine(line);
  }
}

const chat: ChatFactory = ChatFactory.forProtocol(Chat);
const chatPort = reactor.listenTCP(0, chat);

// A factory that takes constructor arguments gets them through forProtocol.
class Greeter extends Factory<Hello> {
  constructor(readonly greeting: string) {
    super();
  }
}

class Hello extends Protocol<Greeter> {
  override connectionMade(): void {
    this.transport.write(`${this.factory.greeting}, ${this.transport.getPeer().toString()}\r\n`);
    this.transport.loseConnection();
  }
}

const greeter: Greeter = Greeter.forProtocol(Hello, 'hello');

// Client factories keep their class and their protocol.
class Pinger extends Protocol {
  override connectionMade(): void {
    this.transport.write('ping');
  }
}

const clientFactory: ClientFactory<Pinger> = ClientFactory.forProtocol(Pinger);
const reconnecting: ReconnectingClientFactory<Pinger> = ReconnectingClientFactory.forProtocol(Pinger);
reconnecting.stopTrying();
const connector: IConnector = reactor.connectTCP('127.0.0.1', portNumber, clientFactory);
const destination: IPv4Address | IPv6Address = reactor.connectTCP('127.0.0.1', 1, reconnecting).getDestination();

// UNIX sockets report their path.
const unixPort = reactor.listenUNIX('/tmp/ioreactor-types.sock', Factory.forProtocol(Echo));
const socketPath: string | null = unixPort.getHost().name;
const unixAddress: UNIXAddress = reactor.connectUNIX('/tmp/ioreactor-types.sock', clientFactory).getDestination();

// A string endpoint can be either kind; narrowing tells them apart.
serverFromString(reactor, 'tcp:0:interface=127.0.0.1')
  .listen(Factory.forProtocol(Echo))
  .addCallback((p) => {
    const host = p.getHost();
    const where: string = host instanceof UNIXAddress ? String(host.name) : `${host.host}:${host.port}`;
    return p.stopListening().addCallback(() => where);
  });

// A protocol may hold its transport as the TCP interface.
function tune(transport: ITCPTransport): void {
  transport.setTcpNoDelay(false);
}

class Tuned extends Protocol {
  override connectionMade(): void {
    tune(this.transport);
  }
}

// STARTTLS: a protocol that starts TLS or reads the peer's certificate names
// the TLS transport type (every TCP and UNIX transport is one), as the README says.
class Smtp extends LineReceiver<Factory<Smtp>, ISSLTransport> {
  override lineReceived(line: Buffer): void {
    if (line.toString() !== 'STARTTLS') return;
    this.transport.startTLS(new CertificateOptions({}));
    const reused: boolean = this.transport.isSessionReused();
    const subject: string | undefined = this.transport.getPeerCertificate()?.subject;
    this.sendLine(`${String(reused)} ${subject ?? ''}`);
  }
}
void reactor.listenTCP(0, Factory.forProtocol(Smtp));

// A child's protocol writes to it and closes its stdin in connectionMade,
// as a stream protocol uses its transport: no `!` (examples/wc-process.js).
class Feed extends ProcessProtocol {
  override connectionMade(): void {
    this.transport.write('some text\n');
    this.transport.closeStdin();
  }
}
const child = reactor.spawnProcess(new Feed(), '/usr/bin/wc', ['wc', '-l']);

// The WebSocket factories keep their class through forProtocol, as Factory
// does: the server's mounts on a WebSocketResource, the client's connects.
class Shout extends WebSocketServerProtocol {
  override onMessage(payload: Buffer): void {
    this.sendMessage(payload.toString().toUpperCase());
  }
}
const shoutFactory: WebSocketServerFactory<Shout> = WebSocketServerFactory.forProtocol(Shout, null, { maxMessagePayloadSize: 4096 });
const shoutResource = new WebSocketResource(shoutFactory);

class Hearer extends WebSocketClientProtocol {
  override onOpen(): void {
    this.sendMessage('hello');
  }
}
const hearer = connectWS(WebSocketClientFactory.forProtocol(Hearer, 'ws://127.0.0.1:9000/'));

// A resource's render methods answer with a body, or NOT_DONE_YET and finish later.
class Greeting extends Resource {
  override isLeaf = true;
  render_GET(request: Request): string {
    return `hello ${request.path}`;
  }
  render_POST(request: Request): RenderResult {
    setImmediate(() => {
      request.write('later');
      request.finish();
    });
    return NOT_DONE_YET;
  }
}
const greeting = new Greeting();

export {
  greeting,
  shoutResource,
  hearer,
  child,
  listening,
  tcpHost,
  built,
  viaEndpoint,
  viaInstance,
  anyProtocol,
  chatPort,
  greeter,
  connector,
  destination,
  socketPath,
  unixAddress,
  Tuned,
};
