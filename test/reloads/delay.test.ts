// delay(): an executor's wait on the context's clock, ended early by the reload's abort signal.
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { it } from 'node:test';
import { systemClock } from '../../src/clock.js';
import { delay } from '../../src/reloads/executor.js';

it('leaves no abort listener behind, also when the wait is already due (the system clock runs it at once)', async () => {
  const controller = new AbortController();
  const ctx = { clock: systemClock, signal: controller.signal };
  for (let i = 0; i < 20; i++) await delay(0, ctx);
  await delay(1, ctx);
  assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
});

it('rejects with the abort reason when aborted while waiting', async () => {
  const controller = new AbortController();
  const waiting = delay(60_000, { clock: systemClock, signal: controller.signal });
  controller.abort(new Error('stop'));
  await assert.rejects(waiting, /stop/);
  assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
});
