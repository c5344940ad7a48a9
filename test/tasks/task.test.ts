// The task model's state rules for a PUT, pure: what `state` does to disabledCode and log.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTask, failureLog, toJson, updateTask, utc, type Task } from '../../src/tasks/task.js';

const NOW = Date.parse('2026-12-01T12:00:00Z');
const owner = { tenantId: 'acme', userId: 'alice' };
const daily = { appId: 'app', timeZone: 'UTC', startDateTime: '2027-01-01T09:00:00', recurrence: ['FREQ=DAILY'] };

function failed(): Task {
  const t = createTask(daily, 'a'.repeat(24), owner, NOW);
  // As the scheduler leaves a task after five failures in a row.
  return { ...t, state: 'Disabled', disabledCode: 'CONSECUTIVE-FAILURES', log: failureLog(5), consecutiveFailures: 5, nextExecutionTime: null };
}

describe('PUT state', () => {
  it('Disabled on an enabled task sets MANUALLY', () => {
    const t = updateTask(createTask(daily, 'b'.repeat(24), owner, NOW), { state: 'Disabled' }, NOW);
    assert.equal(t.state, 'Disabled');
    assert.equal(t.disabledCode, 'MANUALLY');
    assert.equal(t.nextExecutionTime, null);
  });

  it('Disabled sent back with a task its failures disabled (get, edit, put) keeps CONSECUTIVE-FAILURES and the log', () => {
    const t = updateTask(failed(), { state: 'Disabled', partial: true }, NOW);
    assert.equal(t.state, 'Disabled');
    assert.equal(t.disabledCode, 'CONSECUTIVE-FAILURES');
    assert.equal(t.log, failureLog(5));
    assert.equal(t.partial, true);
  });

  it('a PUT without state leaves a disabled task as it is', () => {
    const t = updateTask({ ...failed(), disabledCode: 'OWNER-DELETED', log: null }, { appId: 'other' }, NOW);
    assert.deepEqual([t.state, t.disabledCode, t.nextExecutionTime], ['Disabled', 'OWNER-DELETED', null]);
  });

  it('Enabled clears the code, the log and the failure count, and computes the next run', () => {
    const t = updateTask(failed(), { state: 'Enabled' }, NOW);
    assert.deepEqual([t.state, t.disabledCode, t.log, t.consecutiveFailures], ['Enabled', null, null, 0]);
    assert.equal(t.nextExecutionTime, Date.parse('2027-01-01T09:00:00Z'));
  });

  it('Enabled sent back with an enabled task (get, edit, put) keeps its failures in a row: they still disable it at the limit', () => {
    const enabled = { ...createTask(daily, 'd'.repeat(24), owner, NOW), consecutiveFailures: 4 };
    const t = updateTask(enabled, { state: 'Enabled', partial: true }, NOW);
    assert.deepEqual([t.state, t.consecutiveFailures, t.partial], ['Enabled', 4, true]);
  });

  it('Completed sent back with a new schedule (get, edit, put) enables the task when the schedule has runs', () => {
    const done: Task = { ...createTask(daily, 'e'.repeat(24), owner, NOW), state: 'Completed', nextExecutionTime: null };
    const t = updateTask(done, { state: 'Completed', recurrence: ['FREQ=WEEKLY'], startDateTime: '2027-02-01T09:00:00' }, NOW);
    assert.deepEqual([t.state, t.nextExecutionTime], ['Enabled', Date.parse('2027-02-01T09:00:00Z')]);
    const unchanged = updateTask(done, { state: 'Completed', partial: true }, NOW);
    assert.deepEqual([unchanged.state, unchanged.nextExecutionTime], ['Completed', null], 'without a schedule change it stays Completed');
  });

  it('the whole task sent back (get, edit, put) keeps a next execution that is due and not yet fired', () => {
    const t = createTask(daily, 'f'.repeat(24), owner, NOW);
    const due = t.nextExecutionTime!;
    const later = due + 3000; // the scheduler has not reached it yet
    const { appId, partial, autoReload, autoReloadPartial, timeZone, recurrence, startDateTime, endDateTime } = t;
    const echoed = updateTask(t, { appId, partial: !partial, autoReload, autoReloadPartial, timeZone, recurrence: [...recurrence!], startDateTime, endDateTime, state: 'Enabled' }, later);
    assert.equal(echoed.nextExecutionTime, due, 'the due occurrence still fires');
    assert.equal(echoed.partial, true);
    const changed = updateTask(t, { recurrence: ['FREQ=WEEKLY'] }, later);
    assert.equal(changed.nextExecutionTime, Date.parse('2027-01-08T09:00:00Z'), 'a schedule changed in value is computed from now');
  });

  it('a COUNT past what can be counted is refused when a schedule is set, not when a task kept from before is edited', () => {
    const big = { ...daily, recurrence: ['FREQ=MINUTELY;COUNT=1000000'] };
    assert.throws(() => createTask(big, '1'.repeat(24), owner, NOW), /recurrence\[0\]: COUNT is more occurrences than can be counted/);
    const ok = createTask(daily, '2'.repeat(24), owner, NOW);
    assert.throws(() => updateTask(ok, { recurrence: big.recurrence }, NOW), /COUNT is more occurrences/);
    const kept: Task = { ...ok, recurrence: big.recurrence }; // stored by an older release
    const off = updateTask(kept, { state: 'Disabled' }, NOW);
    assert.equal(off.state, 'Disabled');
  });

  it('recurrence without a start, created in the second pass of a repeated hour, starts after now and runs its COUNT', () => {
    const t = createTask({ appId: 'a', timeZone: 'America/New_York', recurrence: ['RRULE:FREQ=MINUTELY;COUNT=3'] }, '3'.repeat(24), owner, Date.parse('2027-11-07T06:30:10Z'));
    // 01:31 would read as 05:31Z (EDT), before now: the task was Completed and never ran.
    assert.deepEqual([t.startDateTime, t.state, t.nextExecutionTime], ['2027-11-07T02:00:00', 'Enabled', Date.parse('2027-11-07T07:00:00Z')]);
  });

  it('Completed clears a disabled code and log, and has no next run', () => {
    const t = updateTask(failed(), { state: 'Completed' }, NOW);
    assert.deepEqual([t.state, t.disabledCode, t.log, t.nextExecutionTime], ['Completed', null, null, null]);
  });
});

describe('the JSON shape', () => {
  it('leaves out what the task lacks and writes execution times in whole UTC seconds', () => {
    const t = createTask({ appId: 'app', timeZone: 'UTC' }, 'c'.repeat(24), owner, NOW);
    const bare = JSON.parse(JSON.stringify(toJson(t, 'http://x/api/v1/reload-tasks/c')));
    assert.deepEqual(Object.keys(bare).sort(), ['appId', 'autoReload', 'autoReloadPartial', 'id', 'links', 'migrated', 'partial', 'state', 'tenantId', 'timeZone', 'userId']);
    const full = JSON.parse(JSON.stringify(toJson({ ...failed(), lastExecutionTime: Date.parse('2027-01-01T09:00:00.999Z'), nextExecutionTime: Date.parse('2027-01-02T09:00:00Z') }, 'h')));
    assert.deepEqual(full.recurrence, ['FREQ=DAILY']);
    assert.equal(full.startDateTime, '2027-01-01T09:00:00');
    assert.equal(full.disabledCode, 'CONSECUTIVE-FAILURES');
    assert.equal(full.log, failureLog(5));
    assert.equal(full.lastExecutionTime, '2027-01-01T09:00:00Z');
    assert.equal(full.nextExecutionTime, '2027-01-02T09:00:00Z');
  });

  it('writes years past 9999 as Date does, without milliseconds', () => {
    assert.equal(utc(Date.parse('+010000-01-01T00:00:00.500Z')), '+010000-01-01T00:00:00Z');
    assert.equal(utc(0), '1970-01-01T00:00:00Z');
  });
});
