/**
 * Deferreds (twisted.internet.defer): the Deferred class, helpers, lists,
 * locks and queues. Each lives in lib/defer/; this file re-exports them.
 */
export { Deferred } from './defer/deferred';
export type { Awaitable, AddCallbacksOptions } from './defer/deferred';
export { succeed, fail, maybeDeferred } from './defer/helpers';
export { ensureDeferred, inlineCallbacks } from './defer/coroutine';
export type { InlineCallbacksFunction } from './defer/coroutine';
export { race } from './defer/race';
export { DeferredList, gatherResults } from './defer/list';
export type { DeferredListEntry, DeferredListOptions } from './defer/list';
export { DeferredLock, DeferredSemaphore } from './defer/lock';
export { DeferredQueue } from './defer/queue';
