/**
 * Cooperator: runs many iterators a step at a time in short time slices, so
 * long jobs do not block the loop (twisted.internet.task.Cooperator).
 * A yielded Deferred or Promise pauses its task until it settles.
 */
import { performance } from 'node:perf_hooks';
import { Deferred } from '../defer/deferred';
import { isPromiseLike } from '../defer/helpers';
import { NotPaused, SchedulerStopped, TaskDone, TaskFailed, TaskFinished, TaskStopped } from '../errors';
import { Failure } from '../failure';

/** Something cancellable returned by a scheduler. */
export interface ScheduledStep {
  /** Stops the step from running. */
  cancel(): void;
}

/** Runs `fn` soon (default: setImmediate) and returns a handle to cancel it. */
export type CooperatorScheduler = (fn: () => void) => ScheduledStep;

/** Called at the start of each tick; the returned predicate says when the tick's slice is over. */
export type TerminationPredicateFactory = () => () => boolean;

/** Options of a Cooperator. */
export interface CooperatorOptions {
  /** Schedules each tick; inject one in tests. */
  scheduler?: CooperatorScheduler;
  /** Limits a tick; default: 10 ms of work. */
  terminationPredicateFactory?: TerminationPredicateFactory;
  /** When false, nothing runs until `start()`. Default true. */
  started?: boolean;
}

/** setImmediate as a CooperatorScheduler. */
export const immediateScheduler: CooperatorScheduler = (fn) => {
  const handle = setImmediate(fn);
  return { cancel: () => clearImmediate(handle) };
};

/** Ends a tick after 10 ms of work (Twisted's _Timer). */
export const timeSlice: TerminationPredicateFactory = () => {
  const end = performance.now() + 10;
  return () => performance.now() >= end;
};

/** What a Cooperator needs of its tasks. */
interface SchedulableTask {
  oneWorkUnit(): void;
  completeWith(state: TaskFinished | SchedulerStopped, result: Failure): void;
}

/** One iterator being run by a Cooperator: whenDone, pause, resume, stop. */
export class CooperativeTask<I extends Iterator<unknown> = Iterator<unknown>> {
  private readonly waiters: Deferred<I>[] = [];
  private pauseCount = 0;
  private completion: TaskFinished | null = null;
  private completionResult: I | Failure | null = null;

  /** Use `Cooperator.cooperate` to make one. */
  constructor(
    private readonly iterator: I,
    private readonly cooperator: Cooperator,
  ) {
    cooperator.addTask(this);
  }

  /** Fires with the iterator when it is exhausted; fails with its error, TaskStopped or SchedulerStopped. */
  whenDone(): Deferred<I> {
    const d = new Deferred<I>();
    if (this.completion === null) this.waiters.push(d);
    else this.fire(d);
    return d;
  }

  /** Stops doing work until as many `resume()` calls; throws a TaskFinished when finished. */
  pause(): void {
    this.checkFinish();
    this.pauseCount++;
    if (this.pauseCount === 1) this.cooperator.removeTask(this);
  }

  /** Undoes one `pause()`; NotPaused when not paused. */
  resume(): void {
    if (this.pauseCount === 0) throw new NotPaused('CooperativeTask.resume: the task is not paused');
    this.pauseCount--;
    if (this.pauseCount === 0 && this.completion === null) this.cooperator.addTask(this);
  }

  /** Stops for good; `whenDone()` fails with TaskStopped. Throws a TaskFinished if already finished. */
  stop(): void {
    this.checkFinish();
    this.completeWith(new TaskStopped(), new Failure(new TaskStopped()));
  }

  /** @internal Finishes the task (the Cooperator uses this on its own stop). */
  completeWith(state: TaskFinished | SchedulerStopped, result: I | Failure): void {
    this.completion = state;
    this.completionResult = result;
    if (this.pauseCount === 0) this.cooperator.removeTask(this);
    for (const d of this.waiters.splice(0)) this.fire(d);
  }

  /** @internal Runs one step of the iterator. */
  oneWorkUnit(): void {
    let step: IteratorResult<unknown>;
    try {
      step = this.iterator.next();
    } catch (e) {
      this.completeWith(new TaskFailed(), new Failure(e));
      return;
    }
    if (step.done) {
      this.completeWith(new TaskDone(), this.iterator);
      return;
    }
    const v = step.value;
    const awaited = v instanceof Deferred ? v : isPromiseLike(v) ? Deferred.fromPromise(v) : null;
    if (awaited === null) return;
    this.pause();
    awaited.addCallbacks(
      () => this.resume(),
      (f) => this.completeWith(new TaskFailed(), f),
    );
  }

  private fire(d: Deferred<I>): void {
    const r = this.completionResult;
    if (r instanceof Failure) d.errback(r);
    else d.callback(r as I);
  }

  private checkFinish(): void {
    if (this.completion !== null) throw this.completion;
  }
}

/** Runs iterators cooperatively, round-robin, one time slice per tick. */
export class Cooperator {
  private tasks: SchedulableTask[] = [];
  private cursor = 0;
  private scheduled: ScheduledStep | null = null;
  private stopped = false;
  private started: boolean;
  private readonly scheduler: CooperatorScheduler;
  private readonly terminationPredicateFactory: TerminationPredicateFactory;

  /** See CooperatorOptions; the defaults run a 10 ms slice per setImmediate. */
  constructor(opts: CooperatorOptions = {}) {
    this.scheduler = opts.scheduler ?? immediateScheduler;
    this.terminationPredicateFactory = opts.terminationPredicateFactory ?? timeSlice;
    this.started = opts.started ?? true;
  }

  /** True when started and not stopped. */
  get running(): boolean {
    return this.started && !this.stopped;
  }

  /** Runs `iterator` as a task of this Cooperator (anything with `next()`). */
  cooperate<I extends Iterator<unknown>>(iterator: I): CooperativeTask<I> {
    if (iterator === null || typeof iterator !== 'object' || typeof (iterator as { next?: unknown }).next !== 'function') {
      throw new TypeError('cooperate: expected an iterator (an object with next()); call [Symbol.iterator]() on an iterable');
    }
    return new CooperativeTask(iterator, this);
  }

  /** Like `cooperate`, but returns only the Deferred that fires when the iterator is done. */
  coiterate<I extends Iterator<unknown>>(iterator: I): Deferred<I> {
    return this.cooperate(iterator).whenDone();
  }

  /** Begins scheduling ticks (for a Cooperator made with `started: false`). */
  start(): void {
    this.stopped = false;
    this.started = true;
    this.reschedule();
  }

  /** Stops: every unfinished task fails with SchedulerStopped and is forgotten. */
  stop(): void {
    this.stopped = true;
    const tasks = this.tasks;
    this.tasks = [];
    for (const t of tasks) t.completeWith(new SchedulerStopped(), new Failure(new SchedulerStopped()));
    this.scheduled?.cancel();
    this.scheduled = null;
  }

  /** @internal */
  addTask(task: SchedulableTask): void {
    if (this.stopped) {
      task.completeWith(new SchedulerStopped(), new Failure(new SchedulerStopped()));
      return;
    }
    this.tasks.push(task);
    this.reschedule();
  }

  /** @internal */
  removeTask(task: SchedulableTask): void {
    const i = this.tasks.indexOf(task);
    if (i < 0) return;
    this.tasks.splice(i, 1);
    if (i < this.cursor) this.cursor--;
    if (this.tasks.length === 0 && this.scheduled !== null) {
      this.scheduled.cancel();
      this.scheduled = null;
    }
  }

  private tick(): void {
    this.scheduled = null;
    const done = this.terminationPredicateFactory();
    while (this.tasks.length > 0) {
      if (this.cursor >= this.tasks.length) this.cursor = 0;
      const task = this.tasks[this.cursor++];
      task.oneWorkUnit();
      if (done()) break;
    }
    this.reschedule();
  }

  private reschedule(): void {
    if (!this.started || this.stopped) return;
    if (this.scheduled === null && this.tasks.length > 0) this.scheduled = this.scheduler(() => this.tick());
  }
}

const theCooperator = new Cooperator();

/** Runs `iterator` on the global Cooperator; returns its CooperativeTask. */
export function cooperate<I extends Iterator<unknown>>(iterator: I): CooperativeTask<I> {
  return theCooperator.cooperate(iterator);
}

/** Runs `iterator` on the global Cooperator; the Deferred fires with it when done. */
export function coiterate<I extends Iterator<unknown>>(iterator: I): Deferred<I> {
  return theCooperator.coiterate(iterator);
}
