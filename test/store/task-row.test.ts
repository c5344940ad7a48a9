// The task row mappings agree: a row read raw (an array in TASK_FIELDS order, as the SQLite store
// reads GET by id, list pages and due tasks) gives the same task as the named row, field for field.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromRow, fromValues, TASK_FIELDS, toRow } from '../../src/store/row.js';
import type { Task } from '../../src/tasks/task.js';

// Every field distinct, so a value read from the wrong column cannot go unnoticed.
const task: Task = {
  id: 'task-1',
  tenantId: 'tenant',
  userId: 'user',
  appId: 'app',
  partial: true,
  autoReload: false,
  autoReloadPartial: true,
  timeZone: 'Europe/Zurich',
  recurrence: ['FREQ=DAILY;BYHOUR=9', 'EXDATE:20270102T090000'],
  startDateTime: '2027-01-01T09:00:00',
  endDateTime: '2028-01-01T00:00:00',
  state: 'Disabled',
  disabledCode: 'MANUALLY',
  log: 'log text',
  migrated: true,
  lastExecutionTime: 1,
  nextExecutionTime: 2,
  consecutiveFailures: 3,
  missedCount: 4,
  createdAt: 5,
  updatedAt: 6,
  version: 7,
};

describe('task rows', () => {
  it('TASK_FIELDS names every column of a row once', () => {
    assert.deepEqual([...TASK_FIELDS].sort(), Object.keys(toRow(task, 'integer')).sort());
  });

  for (const booleans of ['integer', 'boolean'] as const) {
    it(`reads a raw row as the named row (${booleans} booleans), and nulls as nulls`, () => {
      for (const t of [task, { ...task, recurrence: null, startDateTime: null, endDateTime: null, disabledCode: null, log: null, lastExecutionTime: null, nextExecutionTime: null, partial: false, migrated: false }]) {
        const row = toRow(t, booleans);
        const values = TASK_FIELDS.map((f) => row[f]);
        assert.deepEqual(fromValues(values), fromRow(row));
        assert.deepEqual(fromValues(values), t);
      }
    });
  }
});
