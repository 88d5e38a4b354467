/**
 * A leaf Resource that answers nothing itself: each GET is kept in
 * `waiting` (NOT_DONE_YET) for the test to write and finish later.
 */
import { NOT_DONE_YET, Request, Resource } from '../../lib/web';

export class Slow extends Resource {
  override isLeaf = true;
  waiting: Request[] = [];
  render_GET(request: Request): typeof NOT_DONE_YET {
    this.waiting.push(request);
    return NOT_DONE_YET;
  }
}
