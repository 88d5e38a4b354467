/**
 * Misuse the declarations must reject. Each `@ts-expect-error` line is a
 * mistake; if the types grow loose enough to accept one, tsc reports the
 * directive as unused and test/types.test.ts fails.
 */
import { ClientFactory, Deferred, Factory, Protocol, Resource, clientFromString, reactor } from 'ioreactor';
import type { IListeningPort, ITransport, UNIXAddress } from 'ioreactor';

class Echo extends Protocol {
  override dataReceived(data: Buffer): void {
    this.transport.write(data);
  }
}

class Other extends Protocol {
  other(): void {}
}

class CountingFactory extends Factory<Counter> {
  count = 0;
}

class Counter extends Protocol<CountingFactory> {
  override connectionMade(): void {
    this.factory.count += 1;
    // @ts-expect-error this.factory is a CountingFactory, which has no `missing`
    this.factory.missing += 1;
    // @ts-expect-error write takes bytes or a string, not a number
    this.transport.write(42);
  }
}

class Greeter extends Factory<Hello> {
  constructor(readonly greeting: string) {
    super();
  }
}

class Hello extends Protocol<Greeter> {}

class NeedsArgument extends Protocol {
  constructor(readonly n: number) {
    super();
  }
}

/** A protocol that asks for a plain ITransport sees no TCP methods. */
class Plain extends Protocol<Factory, ITransport> {
  override connectionMade(): void {
    // @ts-expect-error a plain ITransport has no setTcpNoDelay
    this.transport.setTcpNoDelay(true);
  }
}

class WrongData extends Protocol {
  // @ts-expect-error dataReceived gets a Buffer
  override dataReceived(data: number): void {
    void data;
  }
}

const f = Factory.forProtocol(Echo);

// @ts-expect-error a UNIX port has no port number
reactor.listenUNIX('/tmp/ioreactor-misuse.sock', f).getHost().port;

// @ts-expect-error a TCP port has no socket path
reactor.listenTCP(0, f).getHost().name;

// @ts-expect-error a TCP port is not a UNIX port
const unixPort: IListeningPort<UNIXAddress> = reactor.listenTCP(0, f);

// @ts-expect-error the Deferred carries the factory's protocol, not another one
const wrong: Deferred<Other> = clientFromString(reactor, 'tcp:host=127.0.0.1:port=1').connect(Factory.forProtocol(Echo));

// @ts-expect-error a Deferred of the base class is not a Deferred of a subclass
const narrowed: Deferred<Other> = new Deferred<Protocol>();

// @ts-expect-error Counter reads a CountingFactory; a plain Factory would build it
Factory.forProtocol(Counter);

// @ts-expect-error nor may a ClientFactory build it
ClientFactory.forProtocol(Counter);

// @ts-expect-error forProtocol takes a protocol class
Factory.forProtocol(class NotAProtocol {});

// @ts-expect-error buildProtocol constructs the class with no arguments
Factory.forProtocol(NeedsArgument);

// @ts-expect-error Greeter's constructor needs its greeting
Greeter.forProtocol(Hello);

// @ts-expect-error and the greeting is a string
Greeter.forProtocol(Hello, 42);

// @ts-expect-error a Factory<Echo> builds Echo, not Other
const other: Other | null = f.buildProtocol(reactor.listenTCP(0, f).getHost());

class AsyncPage extends Resource {
  // @ts-expect-error a render method answers at once (a body or NOT_DONE_YET): an async one would be a 500
  async render_GET(): Promise<string> {
    return 'too late';
  }
}

export { Plain, WrongData, unixPort, wrong, narrowed, other, AsyncPage };
