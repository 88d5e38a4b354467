/**
 * twisted.internet.task: Clock, LoopingCall, deferLater and the Cooperator.
 * Each lives in lib/task/; this file re-exports them.
 */
export { Clock } from './task/clock';
export { LoopingCall } from './task/looping-call';
export { deferLater } from './task/defer-later';
export { react } from './task/react';
export { realClock, monotonicSeconds } from './task/realtime';
export { Cooperator, CooperativeTask, cooperate, coiterate, immediateScheduler, timeSlice } from './task/cooperator';
export type { CooperatorOptions, CooperatorScheduler, ScheduledStep, TerminationPredicateFactory } from './task/cooperator';
