/**
 * realClock: the IReactorTime LoopingCall and friends use when no clock is
 * given. It is a ReactorClock of its own (one Node timer armed at the
 * earliest deadline), so it needs no reactor and no native addon.
 */
import { monotonicSeconds, ReactorClock } from '../reactor/time';
import type { IReactorTime } from '../interfaces';

export { monotonicSeconds };

/** The default IReactorTime: Node timers with monotonic epoch seconds. */
export const realClock: IReactorTime = new ReactorClock();
