/**
 * A plain function as a leaf resource, for a Node user's `(request) => ...`:
 * the function may return the body, nothing (it finishes the request
 * itself), NOT_DONE_YET, or a promise (or Deferred) of the body.
 */
import { isThenable } from '../defer/deferred';
import { log } from '../log';
import { Failure } from '../failure';
import type { Request } from './request';
import { NOT_DONE_YET, RenderResult, Resource } from './resource';

/** What a function handler may return. */
export type HandlerResult = Buffer | string | void | typeof NOT_DONE_YET | PromiseLike<Buffer | string | void>;

/** A function answering every request under its mount point. */
export type RequestHandler = (request: Request) => HandlerResult;

/** A leaf resource calling `handler` for every method and path below it. */
export class FunctionResource extends Resource {
  override isLeaf = true;

  /** Wraps `handler`; TypeError when it is not a function. */
  constructor(private readonly handler: RequestHandler) {
    super();
    if (typeof handler !== 'function') throw new TypeError('FunctionResource: handler must be a function');
  }

  /** Calls the handler; a promise's value becomes the body, its rejection a 500. */
  override render(request: Request): RenderResult {
    const result = this.handler(request);
    if (result === undefined || result === NOT_DONE_YET) return NOT_DONE_YET;
    if (typeof result === 'string' || Buffer.isBuffer(result)) return result;
    if (isThenable(result)) {
      result.then(
        (body) => {
          if (request.finished || request.lostReason !== null) return;
          if (body !== undefined) request.respond(body as Buffer | string);
        },
        (err: unknown) => {
          log.failure('Unhandled error in a web handler', new Failure(err));
          if (request.finished || request.lostReason !== null) return;
          if (request.startedWriting) return request.finish();
          request.setResponseCode(500);
          request.respond('Internal Server Error\n');
        },
      );
      return NOT_DONE_YET;
    }
    throw new TypeError(`FunctionResource: the handler returned ${typeof result}, not a Buffer, string, promise or nothing`);
  }
}
