// Running reloads: concurrency limits, queue and run time limits, the failure policy, cancel,
// and handing reloads over across a shutdown. ManualClock throughout.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { delay, type ExecutionContext, type ExecutionResult, type Executor, type ReloadJob } from '../../src/reloads/executor.js';
import { failureLog, updateTask } from '../../src/tasks/task.js';
import { createRig, type SchedulerRig } from '../helpers/scheduler.js';

let rig: SchedulerRig;
afterEach(() => rig?.close());
const ms = Date.parse;
const hourly = { startDateTime: '2027-01-04T00:00:00', recurrence: ['FREQ=HOURLY;BYMINUTE=0;BYSECOND=0'] };

/** An executor that takes `durationMs` on the clock and then succeeds or fails as scripted. */
class Scripted implements Executor {
  readonly name = 'scripted';
  readonly started: string[] = [];
  constructor(
    private readonly outcomes: Array<'ok' | 'fail'>,
    private readonly durationMs = 0,
  ) {}
  async run(job: ReloadJob, ctx: ExecutionContext): Promise<ExecutionResult> {
    this.started.push(job.id);
    if (this.durationMs > 0) await delay(this.durationMs, ctx);
    const o = this.outcomes.shift() ?? 'ok';
    return o === 'ok' ? { status: 'SUCCEEDED', log: 'ok' } : { status: 'FAILED', errorCode: 'E', errorMessage: 'boom', log: 'boom' };
  }
  resume(job: ReloadJob, ctx: ExecutionContext): Promise<ExecutionResult> {
    return this.run(job, ctx);
  }
}

describe('concurrency', () => {
  it('never runs more than the global and per-tenant limits, and starts the rest as slots free', async () => {
    rig = await createRig({ MAX_CONCURRENT_RELOADS: '3', MAX_CONCURRENT_RELOADS_PER_TENANT: '2', SIMULATED_DURATION_MS: '60000' });
    for (let i = 0; i < 4; i++) await rig.task({ ...hourly, appId: `a${i}` });
    for (let i = 0; i < 3; i++) await rig.task({ ...hourly, appId: `b${i}` }, { tenantId: 'globex', userId: 'bob' });
    await rig.at('2027-01-04T09:00:00Z');
    const status = async () => {
      const all = [...(await rig.store.listReloads({ tenantId: 'acme', limit: 100 })), ...(await rig.store.listReloads({ tenantId: 'globex', limit: 100 }))];
      const running = all.filter((r) => r.status === 'RELOADING');
      return { running: running.length, acme: running.filter((r) => r.tenantId === 'acme').length, globex: running.filter((r) => r.tenantId === 'globex').length, done: all.filter((r) => r.status === 'SUCCEEDED').length };
    };
    let s = await status();
    assert.equal(s.running, 3);
    assert.ok(s.acme <= 2 && s.globex <= 2);
    // Each minute the running ones finish and others start, until all seven are done.
    for (let minute = 1; minute <= 3; minute++) {
      rig.clock.advance(60_000);
      await rig.scheduler.dispatcher.idle();
      await rig.scheduler.tick();
      s = await status();
      assert.ok(s.running <= 3 && s.acme <= 2 && s.globex <= 2, JSON.stringify(s));
    }
    assert.equal(s.done, 7);
  });

  it("a herd of one tenant does not hold back another's reloads: free slots are shared between the tenants", async () => {
    rig = await createRig({ MAX_CONCURRENT_RELOADS: '4', MAX_CONCURRENT_RELOADS_PER_TENANT: '10', SIMULATED_DURATION_MS: '60000' });
    // acme's tasks are created first, so its reloads are the older ones at 09:00.
    for (let i = 0; i < 20; i++) await rig.task({ ...hourly, appId: `a${i}` });
    for (let i = 0; i < 2; i++) await rig.task({ ...hourly, appId: `g${i}` }, { tenantId: 'globex', userId: 'bob' });
    await rig.at('2027-01-04T09:00:00Z');
    const running = async (tenantId: string) => (await rig.store.listReloads({ tenantId, status: 'RELOADING', limit: 100 })).length;
    assert.deepEqual([await running('acme'), await running('globex')], [2, 2]);
    // globex has nothing left queued: the next free slots all go to acme.
    rig.clock.advance(60_000);
    await rig.scheduler.dispatcher.idle();
    await rig.scheduler.tick();
    assert.deepEqual([await running('acme'), await running('globex')], [4, 0]);
  });
});

describe('time limits', () => {
  it('a reload queued longer than the limit fails with EXCEEDED_LIMIT and counts as a failure', async () => {
    rig = await createRig({ MAX_CONCURRENT_RELOADS: '1', SIMULATED_DURATION_MS: String(10 * 3_600_000), RELOAD_QUEUE_LIMIT_MINUTES: '360', RELOAD_TIMEOUT_MINUTES: '1440' });
    const a = await rig.task({ ...hourly, recurrence: ['FREQ=DAILY;BYHOUR=9'] });
    const b = await rig.task({ ...hourly, recurrence: ['FREQ=DAILY;BYHOUR=9'], appId: 'b' });
    await rig.at('2027-01-04T09:00:00Z');
    const queued = (await rig.reloads()).find((r) => r.status === 'QUEUED')!;
    assert.equal(await rig.scheduler.nextWakeAt() <= ms('2027-01-04T15:00:00Z'), true);
    await rig.at('2027-01-04T15:00:00Z'); // exactly 6 h: not yet
    assert.equal((await rig.store.getReload('acme', queued.id))!.status, 'QUEUED');
    await rig.at('2027-01-04T15:00:00.001Z');
    const expired = (await rig.store.getReload('acme', queued.id))!;
    assert.equal(expired.status, 'EXCEEDED_LIMIT');
    assert.match(expired.log!, /waited in the queue for more than 6 hours/);
    const task = await rig.get(queued.resourceId!);
    assert.equal(task.consecutiveFailures, 1);
    assert.ok([a.id, b.id].includes(task.id));
  });

  it('a task disabled by a reload that expired in the queue is reported as one disabled by a failed run (log, metric)', async () => {
    rig = await createRig({ MAX_CONCURRENT_RELOADS: '1', MAX_CONSECUTIVE_FAILURES: '1', SIMULATED_DURATION_MS: String(10 * 3_600_000), RELOAD_TIMEOUT_MINUTES: '1440' });
    await rig.task({ ...hourly, recurrence: ['FREQ=DAILY;BYHOUR=9'] });
    await rig.task({ ...hourly, recurrence: ['FREQ=DAILY;BYHOUR=9'], appId: 'b' });
    const finished: Array<{ status: string; disabledTaskId: string | undefined }> = [];
    rig.scheduler.on('finished', (f) => finished.push({ status: f.reload.status, disabledTaskId: f.disabledTaskId }));
    await rig.at('2027-01-04T09:00:00Z');
    const queued = (await rig.reloads()).find((r) => r.status === 'QUEUED')!;
    await rig.at('2027-01-04T15:00:00.001Z');
    const task = await rig.get(queued.resourceId!);
    assert.equal(task.state, 'Disabled');
    assert.equal(task.disabledCode, 'CONSECUTIVE-FAILURES');
    assert.deepEqual(finished, [{ status: 'EXCEEDED_LIMIT', disabledTaskId: task.id }]);
  });

  it('a reload running past its timeout is stopped and fails', async () => {
    rig = await createRig({ SIMULATED_DURATION_MS: String(4 * 3_600_000), RELOAD_TIMEOUT_MINUTES: '180' });
    const t = await rig.task({ ...hourly, recurrence: ['FREQ=DAILY;BYHOUR=9'] });
    await rig.at('2027-01-04T09:00:00Z');
    rig.clock.set(ms('2027-01-04T12:00:00Z'));
    await rig.scheduler.dispatcher.idle();
    const [r] = await rig.reloads(t.id);
    assert.equal(r!.status, 'FAILED');
    assert.equal(r!.errorCode, 'TIMEOUT');
    assert.equal(r!.endTime, ms('2027-01-04T12:00:00Z'));
    assert.match(r!.log!, /longer than its limit of 180 minutes/);
  });
});

describe('failure policy', () => {
  it('five failures in a row disable the task with Qlik\'s log; a success resets the count', async () => {
    const exec = new Scripted(['fail', 'fail', 'ok', 'fail', 'fail', 'fail', 'fail', 'fail']);
    rig = await createRig({}, exec);
    const t = await rig.task(hourly);
    for (let h = 9; h <= 16; h++) {
      await rig.at(`2027-01-04T${String(h).padStart(2, '0')}:00:00Z`);
      await rig.scheduler.dispatcher.idle();
      if (h === 10) assert.equal((await rig.get(t.id)).consecutiveFailures, 2);
      if (h === 11) assert.equal((await rig.get(t.id)).consecutiveFailures, 0);
    }
    const off = await rig.get(t.id);
    assert.equal(off.state, 'Disabled');
    assert.equal(off.disabledCode, 'CONSECUTIVE-FAILURES');
    assert.equal(off.log, 'Scheduled reload has been disabled since exceeded limit of 5 consecutive reload failures. Please fix error and re-enable schedule.');
    assert.equal(off.log, failureLog(5));
    assert.equal(off.nextExecutionTime, null);
    // Disabled: nothing more fires.
    await rig.at('2027-01-04T17:00:00Z');
    assert.equal((await rig.reloads(t.id)).length, 8);
    // Re-enabling clears code, log and the count.
    const on = updateTask(off, { state: 'Enabled' }, rig.clock.now());
    assert.equal(on.consecutiveFailures, 0);
    assert.equal(on.disabledCode, null);
    assert.equal(on.log, null);
    assert.equal(on.nextExecutionTime, ms('2027-01-04T18:00:00Z'));
  });

  it('the limit is configurable', async () => {
    rig = await createRig({ MAX_CONSECUTIVE_FAILURES: '2' }, new Scripted(['fail', 'fail']));
    const t = await rig.task(hourly);
    await rig.at('2027-01-04T09:00:00Z');
    await rig.scheduler.dispatcher.idle();
    await rig.at('2027-01-04T10:00:00Z');
    await rig.scheduler.dispatcher.idle();
    assert.equal((await rig.get(t.id)).log, failureLog(2));
  });
});

describe('cancel', () => {
  it('a queued reload is canceled at once; a running one is stopped by its runner', async () => {
    rig = await createRig({ MAX_CONCURRENT_RELOADS: '1', SIMULATED_DURATION_MS: '600000' });
    await rig.task({ ...hourly, appId: 'x' });
    await rig.task({ ...hourly, appId: 'y' });
    await rig.at('2027-01-04T09:00:00Z');
    const [running, queued] = await rig.reloads();
    assert.equal(await rig.store.requestCancel('acme', queued!.id, rig.clock.now()), 'CANCELED');
    assert.equal(await rig.store.requestCancel('acme', running!.id, rig.clock.now()), 'CANCELING');
    assert.equal(await rig.store.requestCancel('acme', queued!.id, rig.clock.now()), 'CANCELED'); // final stays
    assert.equal(await rig.store.requestCancel('globex', running!.id, rig.clock.now()), undefined);
    // The runner notices at its next lease renewal.
    await rig.at(rig.clock.now() + 10_000);
    await rig.scheduler.dispatcher.idle();
    const r = (await rig.store.getReload('acme', running!.id))!;
    assert.equal(r.status, 'CANCELED');
    assert.ok(r.endTime! < ms('2027-01-04T09:10:00Z'));
  });
});

describe('shutdown and restart', () => {
  it('a reload still running at shutdown is handed off and resumed after its lease expires', async () => {
    const exec = new Scripted([], 3_600_000);
    rig = await createRig({ SHUTDOWN_GRACE_SECONDS: '0' }, exec);
    const t = await rig.task({ ...hourly, recurrence: ['FREQ=DAILY;BYHOUR=9'] });
    await rig.at('2027-01-04T09:00:00Z');
    await rig.scheduler.dispatcher.drain(0); // what stop() does after the loop (the passes here are run by hand)
    assert.equal(rig.scheduler.dispatcher.running, 0, 'the run was stopped');
    const [left] = await rig.reloads(t.id);
    assert.equal(left!.status, 'RELOADING');
    // "Restart": a new scheduler on the same database and clock.
    const exec2 = new Scripted([], 0);
    const rig2 = await createRig({}, exec2, { location: rig.location, clock: rig.clock, owner: 'restarted-instance' });
    try {
      await rig2.at('2027-01-04T09:00:10Z'); // lease still held by the old process
      assert.equal(exec2.started.length, 0);
      await rig2.at('2027-01-04T09:00:31Z'); // lease expired: taken over
      await rig2.scheduler.dispatcher.idle();
      assert.deepEqual(exec2.started, [left!.id]);
      const [done] = await rig2.reloads(t.id);
      assert.equal(done!.status, 'SUCCEEDED');
      assert.equal(done!.attempts, 1);
    } finally {
      await rig2.close();
    }
  });
});

describe('shutdown with an executor that cannot resume (a command)', () => {
  it('records what the stopped run ended with, output included, instead of leaving it for a restart to call lost', async () => {
    const exec: Executor = {
      name: 'command',
      resumable: false,
      async run(_job, ctx) {
        try {
          await delay(3_600_000, ctx);
        } catch {
          // stopped: what a command executor answers, with the tail of the output
        }
        return { status: 'FAILED', errorCode: 'SHUTDOWN', errorMessage: 'the service shut down while the command ran, and stopped it', log: '--- stdout ---\nhalfway\n' };
      },
      resume: () => Promise.reject(new Error('a command cannot be resumed')),
    };
    rig = await createRig({ SHUTDOWN_GRACE_SECONDS: '0' }, exec);
    const t = await rig.task({ ...hourly, recurrence: ['FREQ=DAILY;BYHOUR=9'] });
    await rig.at('2027-01-04T09:00:00Z');
    await rig.scheduler.dispatcher.drain(0); // what stop() does after the loop (the passes here are run by hand)
    const [r] = await rig.reloads(t.id);
    assert.equal(r!.status, 'FAILED');
    assert.equal(r!.errorCode, 'SHUTDOWN');
    assert.equal(r!.log, '--- stdout ---\nhalfway\n');
    assert.equal(r!.leaseOwner, null, 'nothing left for a restart to take over');
  });
});

describe('a cancel while the runner is down', () => {
  it('the reload is resumed already canceled, so its executor stops what it started (a Qlik reload), and ends CANCELED', async () => {
    const exec = new Scripted([], 3_600_000);
    rig = await createRig({ SHUTDOWN_GRACE_SECONDS: '0' }, exec);
    const t = await rig.task({ ...hourly, recurrence: ['FREQ=DAILY;BYHOUR=9'] });
    await rig.at('2027-01-04T09:00:00Z');
    await rig.scheduler.dispatcher.drain(0); // the runner is gone; its lease runs on
    const [left] = await rig.reloads(t.id);
    assert.equal(await rig.store.requestCancel('acme', left!.id, rig.clock.now()), 'CANCELING');

    const resumed: Array<{ id: string; aborted: boolean; why: unknown }> = [];
    const exec2: Executor = {
      name: 'scripted',
      run: () => Promise.reject(new Error('not a new run')),
      async resume(job, ctx) {
        resumed.push({ id: job.id, aborted: ctx.signal.aborted, why: (ctx.signal.reason as { why?: unknown } | undefined)?.why });
        return { status: 'CANCELED', log: 'Asked Qlik Cloud to cancel reload Q1 (HTTP 204).' };
      },
    };
    const rig2 = await createRig({}, exec2, { location: rig.location, clock: rig.clock, owner: 'restarted-instance' });
    try {
      await rig2.at('2027-01-04T09:00:31Z'); // lease expired: taken over
      await rig2.scheduler.dispatcher.idle();
      assert.deepEqual(resumed, [{ id: left!.id, aborted: true, why: 'cancel' }]);
      const done = (await rig2.store.getReload('acme', left!.id))!;
      assert.equal(done.status, 'CANCELED');
      assert.equal(done.log, 'Asked Qlik Cloud to cancel reload Q1 (HTTP 204).');
    } finally {
      await rig2.close();
    }
  });
});

describe('the loop', () => {
  it('sleeps until the next due instant, wakes when a task changes, and fires on time', async () => {
    rig = await createRig();
    rig.scheduler.start();
    await rig.scheduler.settled();
    assert.equal(await rig.scheduler.nextWakeAt(), ms('2027-01-04T08:00:30Z')); // nothing due: the 30 s safety net
    const t = await rig.task({ startDateTime: '2027-01-04T08:00:20' });
    rig.scheduler.nudge();
    await rig.scheduler.settled();
    assert.equal(await rig.scheduler.nextWakeAt(), ms('2027-01-04T08:00:20Z'));
    rig.clock.set(ms('2027-01-04T08:00:19.999Z'));
    await rig.scheduler.settled();
    assert.equal((await rig.reloads(t.id)).length, 0);
    rig.clock.set(ms('2027-01-04T08:00:20Z'));
    await rig.scheduler.settled();
    const [r] = await rig.reloads(t.id);
    assert.equal(r!.creationTime, ms('2027-01-04T08:00:20Z'));
    assert.equal(r!.status, 'SUCCEEDED');
  });
});
