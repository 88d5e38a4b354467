/**
 * An echo whose replies are written from queued JS, in turn from a nextTick,
 * a promise reaction and a setImmediate: a reactor that left one of those
 * queues undrained until some other event stalls its client.
 */
import { Factory, Protocol } from '../../lib/protocol';

/** A factory of such echoes; the turn (nextTick, promise, setImmediate) runs across its connections. */
export function queuedEchoFactory(): Factory {
  let n = 0;
  class QueuedEcho extends Protocol {
    override dataReceived(data: Buffer): void {
      const reply = (): void => void this.transport!.write(data);
      const way = n++ % 3;
      if (way === 0) process.nextTick(reply);
      else if (way === 1) void Promise.resolve().then(reply);
      else setImmediate(reply);
    }
  }
  return Factory.forProtocol(QueuedEcho);
}
