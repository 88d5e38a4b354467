/** Cooperator, cooperate and coiterate with an injected scheduler (test_cooperator.py). */
import { Cooperator, coiterate } from '../lib/task';
import { Deferred } from '../lib/defer';
import { Failure } from '../lib/failure';
import { NotPaused, SchedulerStopped, TaskDone, TaskStopped } from '../lib/errors';

/** A scheduler the test drives by hand: `tick()` runs what was scheduled. */
function manualScheduler() {
  const queue: (() => void)[] = [];
  return {
    scheduler: (fn: () => void) => {
      queue.push(fn);
      return {
        cancel: () => {
          const i = queue.indexOf(fn);
          if (i >= 0) queue.splice(i, 1);
        },
      };
    },
    pending: () => queue.length,
    tick: () => {
      const fn = queue.shift();
      if (!fn) throw new Error('nothing scheduled');
      fn();
    },
  };
}

/** Ends a tick after `n` work units. */
const unitsPerTick = (n: number) => () => {
  let left = n;
  return () => --left <= 0;
};

function* counter(log: string[], name: string, n: number): Generator<unknown, void, unknown> {
  for (let i = 0; i < n; i++) {
    log.push(`${name}${i}`);
    yield undefined;
  }
}

describe('Cooperator', () => {
  test('runs tasks round-robin, a slice per tick, and whenDone fires with the iterator', () => {
    const s = manualScheduler();
    const coop = new Cooperator({ scheduler: s.scheduler, terminationPredicateFactory: unitsPerTick(3) });
    const log: string[] = [];
    const itA = counter(log, 'a', 2);
    const done: unknown[] = [];
    coop.cooperate(itA).whenDone().addCallback((it) => done.push(it));
    coop.coiterate(counter(log, 'b', 3)).addCallback(() => done.push('b'));
    expect(log).toEqual([]);
    s.tick();
    expect(log).toEqual(['a0', 'b0', 'a1']);
    s.tick();
    expect(log).toEqual(['a0', 'b0', 'a1', 'b1', 'b2']);
    expect(done).toEqual([itA]);
    s.tick();
    expect(done).toEqual([itA, 'b']);
    expect(s.pending()).toBe(0);
  });

  test('a yielded Deferred pauses that task until it fires', () => {
    const s = manualScheduler();
    const coop = new Cooperator({ scheduler: s.scheduler, terminationPredicateFactory: unitsPerTick(10) });
    const gate = new Deferred<void>();
    const log: string[] = [];
    function* gated(): Generator<unknown, void, unknown> {
      log.push('before');
      yield gate;
      log.push('after');
    }
    coop.cooperate(gated());
    s.tick();
    expect(log).toEqual(['before']);
    expect(s.pending()).toBe(0);
    gate.callback();
    expect(s.pending()).toBe(1);
    s.tick();
    expect(log).toEqual(['before', 'after']);
    expect(s.pending()).toBe(0);
  });

  test('a yielded Promise pauses the task; a rejected one fails it', async () => {
    const coop = new Cooperator();
    const log: string[] = [];
    function* withPromises(): Generator<unknown, void, unknown> {
      yield Promise.resolve(1);
      log.push('resumed');
      yield Promise.reject(new Error('rejected'));
      log.push('not reached');
    }
    await expect(coop.coiterate(withPromises()).asPromise()).rejects.toThrow('rejected');
    expect(log).toEqual(['resumed']);
  });

  test('an iterator that throws fails whenDone with its error', () => {
    const s = manualScheduler();
    const coop = new Cooperator({ scheduler: s.scheduler });
    const boom = new Error('boom');
    const it: Iterator<number> = {
      next() {
        throw boom;
      },
    };
    let f: Failure | undefined;
    coop.cooperate(it).whenDone().addErrback((x) => {
      f = x;
    });
    s.tick();
    expect(f?.value).toBe(boom);
  });

  test('pause, resume and stop a task', () => {
    const s = manualScheduler();
    const coop = new Cooperator({ scheduler: s.scheduler, terminationPredicateFactory: unitsPerTick(1) });
    const log: string[] = [];
    const task = coop.cooperate(counter(log, 'x', 100));
    task.pause();
    expect(s.pending()).toBe(0);
    expect(() => {
      task.resume();
      task.resume();
    }).toThrow(NotPaused);
    s.tick();
    expect(log).toEqual(['x0']);
    let f: Failure | undefined;
    task.whenDone().addErrback((x) => {
      f = x;
    });
    task.stop();
    expect(f?.value).toBeInstanceOf(TaskStopped);
    expect(() => task.stop()).toThrow(TaskStopped);
    expect(() => task.pause()).toThrow(TaskStopped);
    expect(s.pending()).toBe(0);
  });

  test('a finished task raises TaskDone on stop; whenDone after the end fires at once', () => {
    const s = manualScheduler();
    const coop = new Cooperator({ scheduler: s.scheduler });
    const task = coop.cooperate([1, 2][Symbol.iterator]());
    s.tick();
    expect(() => task.stop()).toThrow(TaskDone);
    let fired = false;
    task.whenDone().addCallback(() => {
      fired = true;
    });
    expect(fired).toBe(true);
  });

  test('stopping the Cooperator fails its tasks with SchedulerStopped', () => {
    const s = manualScheduler();
    const coop = new Cooperator({ scheduler: s.scheduler });
    const errs: unknown[] = [];
    coop.coiterate(counter([], 'y', 10)).addErrback((f) => errs.push(f.value));
    coop.stop();
    expect(errs[0]).toBeInstanceOf(SchedulerStopped);
    expect(coop.running).toBe(false);
    coop.coiterate(counter([], 'z', 1)).addErrback((f) => errs.push(f.value));
    expect(errs[1]).toBeInstanceOf(SchedulerStopped);
  });

  test('started: false waits for start()', () => {
    const s = manualScheduler();
    const coop = new Cooperator({ scheduler: s.scheduler, started: false });
    coop.cooperate(counter([], 'w', 1));
    expect(s.pending()).toBe(0);
    coop.start();
    expect(s.pending()).toBe(1);
  });

  test('cooperate rejects a non-iterator', () => {
    const coop = new Cooperator();
    expect(() => coop.cooperate(42 as unknown as Iterator<unknown>)).toThrow(TypeError);
  });
});

describe('global coiterate', () => {
  test('runs a long iterator to the end on setImmediate slices', async () => {
    let n = 0;
    function* work(): Generator<undefined, void, unknown> {
      for (let i = 0; i < 10000; i++) {
        n++;
        yield undefined;
      }
    }
    await coiterate(work());
    expect(n).toBe(10000);
  });
});
