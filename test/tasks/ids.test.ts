// Ids: task ids are 24 lowercase hex, the creation second first and 64 random bits after it;
// reload ids increase strictly within a process (the queue and the lists rely on id order).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newReloadId, reloadIdBound } from '../../src/reloads/reload.js';
import { newTaskId, TASK_ID } from '../../src/tasks/ids.js';

describe('ids', () => {
  it('task ids: the creation second, then random bits that never repeat across pool refills', () => {
    const now = Date.parse('2027-01-01T16:18:00Z');
    const ids = Array.from({ length: 5000 }, () => newTaskId(now)); // ~10 refills of the random pool
    for (const id of ids) {
      assert.match(id, TASK_ID);
      assert.equal(parseInt(id.slice(0, 8), 16), now / 1000);
    }
    const tails = new Set(ids.map((id) => id.slice(8)));
    assert.equal(tails.size, ids.length);
    // Not a counter: consecutive ids differ in many bits, not only the last.
    const differing = ids.slice(1).filter((id, i) => id.slice(8, 16) !== ids[i]!.slice(8, 16)).length;
    assert.ok(differing > ids.length * 0.99, `${differing} of ${ids.length - 1} consecutive ids differ in their first random bytes`);
  });

  it('reload ids increase strictly, even within one millisecond or when the clock goes back', () => {
    const t = Date.parse('2027-01-01T00:00:00Z');
    const ids = [newReloadId(t), newReloadId(t), newReloadId(t + 1), newReloadId(t - 5), newReloadId(t + 2)];
    for (let i = 1; i < ids.length; i++) assert.ok(ids[i]! > ids[i - 1]!, `${ids[i]} after ${ids[i - 1]}`);
    for (const id of ids) assert.match(id, /^[0-9a-f]{24}$/);
    assert.ok(reloadIdBound(t) <= ids[0]! && ids[0]! < reloadIdBound(t + 3) + 'f');
  });
});
