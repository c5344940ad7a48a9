// The Store contract, run against SQLite and PostgreSQL (TEST_STORE): task rows, keyset pages,
// optimistic concurrency, service secrets, and the (task, nominal time) identity of occurrences.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { queuedReload, type Reload } from '../../src/reloads/reload.js';
import type { Store } from '../../src/store/store.js';
import { createTask, type Task } from '../../src/tasks/task.js';
import { createTestStore, TEST_STORE, type TestStore } from '../helpers/store.js';

const NOW = Date.parse('2026-12-01T12:00:00Z');
let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'reload-tasks-store-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

let seq = 0;
function task(over: Partial<{ tenantId: string; userId: string; appId: string; partial: boolean }> = {}): Task {
  seq += 1;
  const id = (0x6b000000 + seq).toString(16).padStart(8, '0') + '0'.repeat(16);
  return createTask(
    { appId: over.appId ?? 'app', timeZone: 'UTC', partial: over.partial ?? false, startDateTime: '2027-01-01T00:00:00', recurrence: ['FREQ=DAILY'] },
    id,
    { tenantId: over.tenantId ?? 'acme', userId: over.userId ?? 'alice' },
    NOW,
  );
}

describe(`tasks (${TEST_STORE})`, () => {
  let t0: TestStore;
  let store: Store;
  before(async () => {
    t0 = await createTestStore(dir);
    store = t0.store;
  });
  after(() => t0.drop());

  it('stores and returns a task field for field, only within its tenant', async () => {
    const t = { ...task(), log: 'a log', disabledCode: 'MANUALLY' as const, state: 'Disabled' as const, lastExecutionTime: NOW - 5000 };
    await store.insertTask(t);
    assert.deepEqual(await store.getTask('acme', t.id), t);
    assert.equal(await store.getTask('globex', t.id), undefined);
  });

  it('refuses a stale update (optimistic concurrency)', async () => {
    const t = task();
    await store.insertTask(t);
    const a = { ...t, appId: 'a', version: t.version + 1 };
    const b = { ...t, appId: 'b', version: t.version + 1 };
    assert.equal(await store.updateTask(a), true);
    assert.equal(await store.updateTask(b), false);
    assert.equal((await store.getTask('acme', t.id))?.appId, 'a');
    assert.equal(await store.updateTask({ ...a, tenantId: 'globex', version: a.version + 1 }), false);
  });

  it('deletes only within the tenant', async () => {
    const t = task();
    await store.insertTask(t);
    assert.equal(await store.deleteTask('globex', t.id), false);
    assert.equal(await store.deleteTask('acme', t.id), true);
    assert.equal(await store.deleteTask('acme', t.id), false);
  });

  it('pages by id with filters and inclusive or exclusive bounds', async () => {
    const mine = [task({ tenantId: 't2', appId: 'x' }), task({ tenantId: 't2', appId: 'y', partial: true }), task({ tenantId: 't2', appId: 'x', userId: 'bob' }), task({ tenantId: 't2', appId: 'x', partial: true })];
    for (const t of [...mine].reverse()) await store.insertTask(t);
    const ids = (ts: Task[]) => ts.map((t) => t.id);
    assert.deepEqual(ids(await store.listTasks({ tenantId: 't2', limit: 10 })), ids(mine));
    assert.deepEqual(ids(await store.listTasks({ tenantId: 't2', limit: 2 })), ids(mine.slice(0, 2)));
    assert.deepEqual(ids(await store.listTasks({ tenantId: 't2', after: mine[1]!.id, limit: 10 })), ids(mine.slice(2)));
    assert.deepEqual(ids(await store.listTasks({ tenantId: 't2', after: mine[1]!.id, inclusive: true, limit: 10 })), ids(mine.slice(1)));
    assert.deepEqual(ids(await store.listTasks({ tenantId: 't2', before: mine[3]!.id, limit: 2 })), ids(mine.slice(1, 3)));
    assert.deepEqual(ids(await store.listTasks({ tenantId: 't2', before: mine[3]!.id, inclusive: true, limit: 2 })), ids(mine.slice(2, 4)));
    assert.deepEqual(ids(await store.listTasks({ tenantId: 't2', appId: 'x', limit: 10 })), ids([mine[0]!, mine[2]!, mine[3]!]));
    assert.deepEqual(ids(await store.listTasks({ tenantId: 't2', partial: true, limit: 10 })), ids([mine[1]!, mine[3]!]));
    assert.deepEqual(ids(await store.listTasks({ tenantId: 't2', userId: 'alice', appId: 'x', partial: false, limit: 10 })), ids([mine[0]!]));
    assert.equal(await store.anyTask({ tenantId: 't2', before: mine[0]!.id }), false);
    assert.equal(await store.anyTask({ tenantId: 't2', before: mine[0]!.id, inclusive: true }), true);
    assert.equal(await store.anyTask({ tenantId: 't3' }), false);
  });

  it('keeps a service secret, the same for every connection', async () => {
    const s1 = await store.secret('cursor-hmac');
    assert.equal(s1.length, 32);
    assert.deepEqual(await store.secret('cursor-hmac'), s1);
    const other = await t0.reopen();
    try {
      assert.deepEqual(await other.secret('cursor-hmac'), s1);
      assert.notDeepEqual(await other.secret('another'), s1);
    } finally {
      await other.close();
    }
  });

  it('a fired reload reads back exactly as fireDue returned it', async () => {
    const due = Date.parse('2026-04-01T00:00:00Z');
    const tasks = [true, false].map((partial) => ({ ...task({ tenantId: 'readback' }), partial, nextExecutionTime: due }));
    for (const t of tasks) await store.insertTask(t);
    const now = due + 1234;
    const fired = await store.fireDue(now, 10, (t) => ({ kind: 'plan' as const, plan: { occurrences: [{ nominal: t.nextExecutionTime!, outcome: 'fired' as const }], next: t.nextExecutionTime! + 86_400_000 } }));
    assert.equal(fired.length, 2);
    for (const f of fired) {
      assert.equal(f.reload!.creationTime, now);
      assert.deepEqual(await store.getReload('readback', f.reload!.id), f.reload);
    }
    for (const t of tasks) await store.deleteTask('readback', t.id); // not due for the tests after this one
  });

  it('records an occurrence once: a second firing of the same (task, nominal time) records nothing', async () => {
    // Due long before the other tests' tasks, so that only it is due.
    const t = { ...task({ tenantId: 'occ' }), nextExecutionTime: Date.parse('2026-06-01T00:00:00Z') };
    await store.insertTask(t);
    const plan = { kind: 'plan' as const, plan: { occurrences: [{ nominal: t.nextExecutionTime!, outcome: 'fired' as const }], next: t.nextExecutionTime! } };
    const first = await store.fireDue(t.nextExecutionTime!, 10, () => plan);
    assert.equal(first.length, 1);
    // The planner says the same occurrence again (as a stale task row would): nothing more happens.
    const again = await store.fireDue(t.nextExecutionTime!, 10, () => plan);
    assert.equal(again.length, 0);
    assert.equal((await store.listReloads({ tenantId: 'occ', limit: 10 })).length, 1);
    assert.equal((await store.listOccurrences('occ', t.id, 10)).length, 1);
  });

  it('never fires an occurrence twice, even when the task row is put back entirely, nor fires one recorded as missed', async () => {
    const t = { ...task({ tenantId: 'occ2' }), nextExecutionTime: Date.parse('2026-05-01T00:00:00Z') };
    await store.insertTask(t);
    const fire = (nominal: number) => ({ kind: 'plan' as const, plan: { occurrences: [{ nominal, outcome: 'fired' as const }], next: nominal + 86_400_000 } });
    assert.equal((await store.fireDue(t.nextExecutionTime!, 10, () => fire(t.nextExecutionTime!))).length, 1);
    // A writer that bypasses versions puts the whole row back (next and last execution as before).
    const after = (await store.getTask('occ2', t.id))!;
    await store.updateTask({ ...t, version: after.version + 1 });
    assert.equal((await store.fireDue(t.nextExecutionTime!, 10, () => fire(t.nextExecutionTime!))).length, 0);
    assert.equal((await store.listReloads({ tenantId: 'occ2', limit: 10 })).length, 1);
    // Recorded as missed, then planned as fired (a clock set back): it stays missed.
    const later = t.nextExecutionTime! + 86_400_000;
    const now = (await store.getTask('occ2', t.id))!;
    await store.updateTask({ ...now, nextExecutionTime: later, version: now.version + 1 });
    const missed = await store.fireDue(later, 10, () => ({ kind: 'plan' as const, plan: { occurrences: [{ nominal: later, outcome: 'missed' as const }], next: later + 60_000 } }));
    assert.deepEqual(missed.map((o) => o.outcome), ['missed']);
    const back = (await store.getTask('occ2', t.id))!;
    await store.updateTask({ ...back, nextExecutionTime: later, version: back.version + 1 });
    assert.equal((await store.fireDue(later, 10, () => fire(later))).length, 0);
    assert.equal((await store.listReloads({ tenantId: 'occ2', limit: 10 })).length, 1);
    assert.deepEqual((await store.listOccurrences('occ2', t.id, 10)).map((o) => o.outcome), ['missed', 'fired']);
    await store.deleteTask('occ2', t.id); // not due for the tests after this one
  });

  it('finishes a batch of reloads at once: each once, the first result of a repeated id, final ones left alone, failures counted', async () => {
    const due = Date.parse('2026-07-01T00:00:00Z');
    const tasks = [0, 1, 2].map(() => ({ ...task({ tenantId: 'fin' }), nextExecutionTime: due }));
    for (const t of tasks) await store.insertTask(t);
    const fired = await store.fireDue(due, 10, (t) => ({ kind: 'plan' as const, plan: { occurrences: [{ nominal: t.nextExecutionTime!, outcome: 'fired' as const }], next: t.nextExecutionTime! + 86_400_000 } }));
    assert.equal(fired.length, 3);
    const claimed = await store.claimQueued(due, 'me', due + 60_000, 'simulated', { global: 10, perTenant: 10, batch: 10 });
    const ids = new Map(claimed.filter((r) => r.tenantId === 'fin').map((r) => [r.resourceId!, r.id]));
    const [a, b, c] = tasks.map((t) => ids.get(t.id)!);
    assert.ok(a && b && c, 'the three reloads were started');
    // What the claim answers is what the database holds (the SQLite store builds it from the row it read).
    for (const r of claimed.filter((x) => x.tenantId === 'fin')) {
      assert.deepEqual(r, await store.getReload('fin', r.id));
      assert.deepEqual([r.status, r.startTime, r.leaseOwner, r.leaseUntil, r.executor, r.attempts], ['RELOADING', due, 'me', due + 60_000, 'simulated', 1]);
    }
    const policy = { maxConsecutiveFailures: 1 };
    const out = await store.finishReloads(
      [
        { id: a, result: { status: 'SUCCEEDED', log: 'ok' } },
        { id: b, result: { status: 'FAILED', log: 'boom', errorCode: 'X', errorMessage: 'boom' } },
        { id: a, result: { status: 'FAILED' } },
        { id: 'no-such-reload', result: { status: 'SUCCEEDED' } },
      ],
      due + 1000,
      policy,
    );
    assert.equal(out.length, 4);
    assert.equal(out[0]?.reload.status, 'SUCCEEDED');
    assert.equal(out[0]?.reload.log, 'ok');
    assert.equal(out[0]?.disabledTask, undefined);
    assert.equal(out[1]?.reload.status, 'FAILED');
    assert.equal(out[1]?.reload.errorCode, 'X');
    assert.equal(out[1]?.disabledTask?.id, tasks[1]!.id, 'one failure disables at maxConsecutiveFailures 1');
    assert.equal(out[1]?.disabledTask?.state, 'Disabled');
    assert.equal(out[2], undefined, 'a repeated id is finished once, with its first result');
    assert.equal(out[3], undefined);
    // What the finish answers is what the database holds.
    for (const done of [out[0], out[1]]) assert.deepEqual(done!.reload, await store.getReload('fin', done!.reload.id));
    assert.deepEqual([out[1]!.reload.endTime, out[1]!.reload.leaseOwner, out[1]!.reload.leaseUntil, out[1]!.reload.errorMessage], [due + 1000, null, null, 'boom']);
    assert.equal((await store.getReload('fin', a))?.status, 'SUCCEEDED');
    // Already final: a second finish changes nothing.
    const again = await store.finishReloads([{ id: b, result: { status: 'SUCCEEDED' } }, { id: c, result: { status: 'CANCELED' } }], due + 2000, policy);
    assert.equal(again[0], undefined);
    assert.equal(again[1]?.reload.status, 'CANCELED');
    assert.deepEqual(again[1]!.reload, await store.getReload('fin', c));
    assert.equal((await store.getReload('fin', b))?.status, 'FAILED');
  });

  it('a finish without a log keeps the log on record, and answers the reload as stored', async () => {
    const at = Date.parse('2026-07-02T00:00:00Z');
    const fields = { tenantId: 'fin2', userId: 'alice', appId: 'app', partial: false, type: 'external', resourceType: 'api', resourceId: null, scheduledTime: null } as const;
    const running: Reload = { ...queuedReload(fields, at), status: 'RELOADING', startTime: at, log: 'started by hand', leaseOwner: 'me', leaseUntil: at + 60_000, attempts: 1 };
    await store.insertReload(running);
    const [done] = await store.finishReloads([{ id: running.id, result: { status: 'SUCCEEDED' } }], at + 5000, { maxConsecutiveFailures: 5 });
    assert.equal(done?.reload.log, 'started by hand');
    assert.deepEqual(done!.reload, await store.getReload('fin2', running.id));
    assert.deepEqual([done!.reload.status, done!.reload.endTime, done!.reload.leaseOwner], ['SUCCEEDED', at + 5000, null]);
  });

  it('tells the database time', async () => {
    const t = await store.databaseTime();
    assert.ok(Math.abs(t - Date.now()) < 5000, `database time ${t} is far from ${Date.now()}`);
  });
});

describe(`a reload asked for while one of the app is queued (${TEST_STORE})`, () => {
  let ts: TestStore;
  before(async () => {
    ts = await createTestStore(dir);
  });
  after(() => ts.drop());

  let at = NOW;
  function reload(over: Partial<Reload> = {}): Reload {
    at += 1;
    const fields = { tenantId: 'acme', userId: 'alice', appId: 'app-q', partial: false, type: 'external', resourceType: 'api', resourceId: null, scheduledTime: null } as const;
    return { ...queuedReload(fields, at), ...over };
  }
  const ids = async (appId: string, tenantId = 'acme'): Promise<string[]> =>
    (await ts.store.listReloads({ tenantId, appId, limit: 100 })).map((r) => r.id).sort();

  it('inserts when none is queued; else answers the oldest queued one, scheduled or not, and inserts nothing', async () => {
    const s = ts.store;
    // Running and ended reloads of the app do not count.
    await s.insertReload(reload({ status: 'RELOADING', startTime: at }));
    await s.insertReload(reload({ status: 'FAILED', endTime: at }));
    const first = reload();
    assert.equal(await s.insertReloadUnlessPending(first), undefined);
    assert.equal((await s.insertReloadUnlessPending(reload({ partial: true })))?.id, first.id);
    // A scheduled reload of the app waiting in the queue is pending as well.
    const scheduled = reload({ appId: 'app-s', type: 'chronos', resourceType: 'reload-tasks', resourceId: 'f'.repeat(24), scheduledTime: at });
    await s.insertReload(scheduled);
    assert.equal((await s.insertReloadUnlessPending(reload({ appId: 'app-s' })))?.id, scheduled.id);
    // Other apps, and the same app in another tenant, are not affected.
    assert.equal(await s.insertReloadUnlessPending(reload({ appId: 'app-r' })), undefined);
    assert.equal(await s.insertReloadUnlessPending(reload({ tenantId: 'globex' })), undefined);
    assert.equal((await ids('app-q')).length, 3);
    assert.equal((await ids('app-s')).length, 1);
  });

  it('of many asked for at once, one is queued', async () => {
    const asked = Array.from({ length: 8 }, () => reload({ appId: 'app-race' }));
    const answers = await Promise.all(asked.map((r) => ts.store.insertReloadUnlessPending(r)));
    const inserted = asked.filter((_, i) => answers[i] === undefined);
    assert.equal(inserted.length, 1);
    assert.deepEqual(await ids('app-race'), [inserted[0]!.id]);
    for (const a of answers) if (a) assert.equal(a.id, inserted[0]!.id);
  });
});

describe(`the queue and weights (${TEST_STORE})`, () => {
  let ts: TestStore;
  before(async () => {
    ts = await createTestStore(dir);
  });
  after(() => ts.drop());

  it("a tenant's free slots go to its heaviest queued reloads first, then the oldest; other tenants keep their order", async () => {
    const made: Reload[] = [];
    let at = NOW;
    const add = async (tenantId: string, weight: number, appId: string): Promise<Reload> => {
      at += 1;
      const r = queuedReload({ tenantId, userId: 'alice', appId, partial: false, type: 'external', resourceType: 'api', resourceId: null, scheduledTime: null, weight }, at);
      await ts.store.insertReload(r);
      made.push(r);
      return r;
    };
    const a1 = await add('wa', 1, 'a1');
    const a2 = await add('wa', 1, 'a2');
    const a3 = await add('wa', 7, 'a3');
    const a4 = await add('wa', 10, 'a4');
    const b1 = await add('wb', 1, 'b1');
    const a5 = await add('wa', 7, 'a5');
    const claim = async () => (await ts.store.claimQueued(at, 'me', at + 60_000, 'simulated', { global: 100, perTenant: 2, batch: 100 })).map((r) => r.id).sort();
    // Two slots per tenant: wa's weight 10 and the older of its two weight 7; wb's only one.
    assert.deepEqual(await claim(), [a4.id, a3.id, b1.id].sort());
    // Those two end: wa's next are its other weight 7, then its oldest of weight 1.
    await ts.store.finishReloads([{ id: a4.id, result: { status: 'SUCCEEDED' } }, { id: a3.id, result: { status: 'SUCCEEDED' } }], at, { maxConsecutiveFailures: 5 });
    assert.deepEqual(await claim(), [a5.id, a1.id].sort());
    assert.deepEqual((await ts.store.listReloads({ tenantId: 'wa', status: 'QUEUED', limit: 10 })).map((r) => r.id), [a2.id]);
    assert.equal(made.length, 6);
  });

  it("one tenant's backlog, however long, starves neither another tenant nor its own heaviest reload", async () => {
    // A herd of one tenant fills the queue's oldest 10,500 places; another tenant's reload and the
    // big tenant's own weight-10 reload come after it. Each tenant's free slots must still reach them.
    const own = await createTestStore(dir);
    try {
      let at = NOW + 1_000_000;
      const make = (tenantId: string, weight: number, appId: string): Reload => {
        at += 1;
        return queuedReload({ tenantId, userId: 'alice', appId, partial: false, type: 'external', resourceType: 'api', resourceId: null, scheduledTime: null, weight }, at);
      };
      const herd = Array.from({ length: 10_500 }, (_, i) => make('big', 1, `herd-${i}`));
      for (let i = 0; i < herd.length; i += 500) await Promise.all(herd.slice(i, i + 500).map((r) => own.store.insertReload(r)));
      const other = make('small', 1, 'other');
      const urgent = make('big', 10, 'urgent');
      await own.store.insertReload(other);
      await own.store.insertReload(urgent);
      const started = (await own.store.claimQueued(at, 'me', at + 60_000, 'simulated', { global: 50, perTenant: 3, batch: 50 })).map((r) => r.id).sort();
      // big: its weight 10 first, then its two oldest; small: its only one.
      assert.deepEqual(started, [urgent.id, herd[0]!.id, herd[1]!.id, other.id].sort());
    } finally {
      await own.drop();
    }
  });

  it('free room is shared equally between the tenants with queued reloads, oldest first within each', async () => {
    const own = await createTestStore(dir);
    try {
      let at = NOW + 3_000_000;
      const make = (tenantId: string): Reload => {
        at += 1;
        return queuedReload({ tenantId, userId: 'alice', appId: 'share', partial: false, type: 'external', resourceType: 'api', resourceId: null, scheduledTime: null }, at);
      };
      const older = Array.from({ length: 6 }, () => make('share-a'));
      const newer = Array.from({ length: 6 }, () => make('share-b'));
      for (const r of [...older, ...newer]) await own.store.insertReload(r);
      const claim = async (global: number) => (await own.store.claimQueued(at, 'me', at + 60_000, 'simulated', { global, perTenant: 10, batch: 100 })).map((r) => r.id).sort();
      // Room for 4: 2 each, not the 4 oldest, which are all share-a's.
      assert.deepEqual(await claim(4), [older[0]!.id, older[1]!.id, newer[0]!.id, newer[1]!.id].sort());
      // Room for 3 more: 2 each would be 4, so the oldest 3 of those.
      assert.deepEqual(await claim(7), [older[2]!.id, older[3]!.id, newer[2]!.id].sort());
    } finally {
      await own.drop();
    }
  });

  it("a task's second queued reload waits without taking one of its tenant's slots", async () => {
    let at = NOW + 2_000_000;
    const make = (over: Partial<Reload>): Reload => {
      at += 1;
      return { ...queuedReload({ tenantId: 'slots', userId: 'alice', appId: 'x', partial: false, type: 'external', resourceType: 'api', resourceId: null, scheduledTime: null }, at), ...over };
    };
    const scheduled = (n: number): Partial<Reload> => ({ type: 'chronos', resourceType: 'reload-tasks', resourceId: 'task-slots', scheduledTime: NOW + n * 60_000 });
    const first = make(scheduled(1));
    const second = make(scheduled(2));
    const manual = make({ appId: 'y' });
    for (const r of [first, second, manual]) await ts.store.insertReload(r);
    const claim = async () => (await ts.store.claimQueued(at, 'me', at + 60_000, 'simulated', { global: 100, perTenant: 2, batch: 100 })).map((r) => r.id).sort();
    // Two slots: the task's first and the manual one; the task's second waits for its first.
    assert.deepEqual(await claim(), [first.id, manual.id].sort());
    assert.deepEqual(await claim(), []);
    await ts.store.finishReloads([{ id: first.id, result: { status: 'SUCCEEDED' } }], at, { maxConsecutiveFailures: 5 });
    assert.deepEqual(await claim(), [second.id]);
  });
});

describe(`whether a reload of a task is active (${TEST_STORE})`, () => {
  it('is so while any reload of the task is queued or running, whatever order its reloads end in', async () => {
    const own = await createTestStore(dir);
    try {
      const { store } = own;
      const due = Date.parse('2026-03-01T00:00:00Z');
      const t = { ...task({ tenantId: 'walk' }), nextExecutionTime: due };
      await store.insertTask(t);
      // What the store tells the planner; the plan changes nothing, so the task stays due.
      const active = async (): Promise<boolean> => {
        let seen: boolean | undefined;
        await store.fireDue(due, 10, (_task, a) => {
          seen = typeof a === 'function' ? a() : a;
          return { kind: 'plan', plan: { occurrences: [], next: due } };
        });
        assert.notEqual(seen, undefined, 'the task was not due');
        return seen!;
      };
      let at = NOW + 5_000_000;
      const add = async (type: 'chronos' | 'data-refresh'): Promise<Reload> => {
        at += 1;
        const r = queuedReload({ tenantId: 'walk', userId: 'alice', appId: 'app', partial: false, type, resourceType: 'reload-tasks', resourceId: t.id, scheduledTime: type === 'chronos' ? at : null }, at);
        await store.insertReload(r);
        return r;
      };
      const claim = async () => (await store.claimQueued(at, 'me', at + 60_000, 'simulated', { global: 10, perTenant: 10, batch: 10 })).map((r) => r.id);
      const policy = { maxConsecutiveFailures: 5 };
      assert.equal(await active(), false, 'no reload yet');

      const r1 = await add('chronos');
      assert.equal(await active(), true, 'queued');
      const r2 = await add('data-refresh');
      assert.deepEqual(await claim(), [r1.id], 'one reload of a task at a time, the oldest first');
      // The newest ends first (canceled in the queue); the older one still runs.
      assert.equal(await store.requestCancel('walk', r2.id, at), 'CANCELED');
      assert.equal(await active(), true, 'running, behind a newer reload that ended without starting');
      await store.finishReloads([{ id: r1.id, result: { status: 'SUCCEEDED' } }], at, policy);
      assert.equal(await active(), false, 'every reload ended');

      // One expires in the queue (it never started): nothing of the task is active.
      const r3 = await add('chronos');
      assert.equal(await active(), true);
      assert.deepEqual((await store.expireQueued(at + 1, at + 1, policy, 10)).map((r) => r.reload.id), [r3.id]);
      assert.equal(await active(), false, 'expired without starting');

      // Three queued: they start one by one in order, each once the one before has ended, and the
      // task is active until the last has ended.
      const rs = [await add('chronos'), await add('data-refresh'), await add('chronos')];
      for (const r of rs) {
        assert.deepEqual(await claim(), [r.id]);
        assert.deepEqual(await claim(), [], 'the next waits for it');
        assert.equal(await active(), true);
        await store.finishReloads([{ id: r.id, result: { status: 'FAILED' } }], at, policy);
      }
      assert.equal(await active(), false);

      // A client's own resource id that happens to be the task's, under another resourceType, is
      // not the task's: it neither counts as active nor waits for, or holds back, the task's reloads.
      const theirs = queuedReload({ tenantId: 'walk', userId: 'alice', appId: 'app', partial: false, type: 'external', resourceType: 'automate', resourceId: t.id, scheduledTime: null }, (at += 1));
      await store.insertReload(theirs);
      assert.equal(await active(), false, "another service's resource");
      const mine = await add('chronos');
      const theirs2 = queuedReload({ tenantId: 'walk', userId: 'alice', appId: 'app-2', partial: false, type: 'external', resourceType: 'api', resourceId: t.id, scheduledTime: null }, (at += 1));
      await store.insertReload(theirs2);
      assert.deepEqual((await claim()).sort(), [theirs.id, mine.id, theirs2.id].sort());
    } finally {
      await own.drop();
    }
  });

  it("a heavier reload of a task (a run asked for by hand) still waits for the task's older queued one", async () => {
    const own = await createTestStore(dir);
    try {
      const { store } = own;
      let at = NOW + 6_000_000;
      const make = (weight: number, type: 'chronos' | 'external'): Reload =>
        queuedReload({ tenantId: 'heavy', userId: 'alice', appId: 'app', partial: false, type, resourceType: 'reload-tasks', resourceId: 'task-heavy', scheduledTime: type === 'chronos' ? at : null, weight }, (at += 1));
      const scheduled = make(1, 'chronos');
      const byHand = make(5, 'external');
      for (const r of [scheduled, byHand]) await store.insertReload(r);
      const claim = async () => (await store.claimQueued(at, 'me', at + 60_000, 'simulated', { global: 10, perTenant: 10, batch: 10 })).map((r) => r.id);
      // The heavier one is read first, and waits; the older one of the task starts.
      assert.deepEqual(await claim(), [scheduled.id]);
      assert.deepEqual(await claim(), []);
      await store.finishReloads([{ id: scheduled.id, result: { status: 'SUCCEEDED' } }], at, { maxConsecutiveFailures: 5 });
      assert.deepEqual(await claim(), [byHand.id]);
    } finally {
      await own.drop();
    }
  });
});
