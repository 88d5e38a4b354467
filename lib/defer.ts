/**
 * Deferreds (twisted.internet.defer): the Deferred class, helpers, lists,
 * locks and queues. Each lives in lib/defer/; this file re-exports them.
 */
export { Deferred } from './defer/deferred';
export type { Awaitable, AddCallbacksOptions } from './defer/deferred';
