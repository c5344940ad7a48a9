// The SCIM filter of GET /api/v1/reloads (src/reloads/scim-filter.ts): what it admits, and how it
// says what is wrong with a filter it refuses.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RELOAD_STATUSES } from '../../src/reloads/reload.js';
import { FilterError, RELOAD_TYPES, selectByFilter } from '../../src/reloads/scim-filter.js';

const ALL = RELOAD_STATUSES.length * 2 * RELOAD_TYPES.length;
const keys = (f: string): string[] => [...selectByFilter(f).keys].sort();

describe('SCIM filter: what it admits', () => {
  it("Qlik's own example", () => {
    const s = selectByFilter('(status eq "FAILED" or status eq "EXCEEDED_LIMIT") and partial eq "false" and type eq "chronos"');
    assert.deepEqual([...s.keys].sort(), ['EXCEEDED_LIMIT|0|chronos', 'FAILED|0|chronos']);
    assert.equal(s.all, false);
    assert.equal(s.status, undefined, 'two statuses');
    assert.equal(s.partial, false);
  });

  it('one comparison; attribute names and operators in any case; partial quoted or bare', () => {
    const s = selectByFilter('Status EQ "SUCCEEDED"');
    assert.equal(s.keys.length, 2 * RELOAD_TYPES.length);
    assert.equal(s.status, 'SUCCEEDED');
    assert.equal(s.partial, undefined);
    assert.deepEqual(keys('PARTIAL eq true'), keys('partial eq "true"'));
    assert.equal(selectByFilter('partial eq true').partial, true);
  });

  it('and binds tighter than or; not and parentheses', () => {
    assert.deepEqual(keys('type eq "hub" or type eq "chronos" and status eq "QUEUED"'), keys('type eq "hub" or (type eq "chronos" and status eq "QUEUED")'));
    assert.notDeepEqual(keys('type eq "hub" or type eq "chronos" and status eq "QUEUED"'), keys('(type eq "hub" or type eq "chronos") and status eq "QUEUED"'));
    assert.equal(selectByFilter('not (status eq "QUEUED")').keys.length, ALL - 2 * RELOAD_TYPES.length);
    assert.equal(selectByFilter('status eq "QUEUED" or not (status eq "QUEUED")').all, true);
    assert.equal(selectByFilter('status eq "QUEUED" and status eq "FAILED"').keys.length, 0);
    assert.deepEqual(keys('((((status eq "CANCELED"))))'), keys('status eq "CANCELED"'));
  });

  it('string values are JSON strings: escapes are read, and compared exactly', () => {
    assert.deepEqual(keys('status eq "\\u0046AILED"'), keys('status eq "FAILED"'));
    assert.throws(() => selectByFilter('status eq "failed"'), /status value 'failed' is not a reload status/);
  });
});

describe('SCIM filter: what it refuses, and the message', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /^filter: is empty$/],
    ['   ', /^filter: is empty$/],
    ['appId eq "a"', /^filter: attribute 'appId' is not supported \(status, partial and type are\)$/],
    ['status ne "FAILED"', /^filter: operator 'ne' after status is not supported \(eq is\)$/],
    ['status co "FAIL"', /^filter: operator 'co' after status is not supported/],
    ['status eq FAILED', /^filter: expected a quoted value after status eq at position 11, found 'FAILED'$/],
    ['status eq "DONE"', /^filter: status value 'DONE' is not a reload status \(QUEUED, /],
    ['partial eq "yes"', /^filter: partial value 'yes' is not true or false$/],
    ['type eq "nightly"', /^filter: type value 'nightly' is not a reload type \(chronos, /],
    ['status eq "FAILED', /^filter: the string at position 11 is not closed$/],
    ['status eq "\\x"', /^filter: the string at position 11 is not a valid JSON string$/],
    ['(status eq "FAILED"', /^filter: ends where '\)' was expected$/],
    ['status eq "FAILED")', /^filter: unexpected '\)' at position 19$/],
    ['status eq "FAILED" and', /^filter: ends where an attribute \(status, partial or type\) was expected$/],
    ['status eq "FAILED" status eq "QUEUED"', /^filter: unexpected 'status' at position 20$/],
    ['not status eq "FAILED"', /^filter: expected '\(' after not at position 5, found 'status'$/],
    ['status', /^filter: ends where an operator after status was expected$/],
    [Array.from({ length: 65 }, () => 'status eq "FAILED"').join(' or '), /^filter: more than 64 comparisons$/],
  ];
  for (const [text, message] of cases) {
    it(JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text), () => {
      assert.throws(() => selectByFilter(text), (e: unknown) => e instanceof FilterError && message.test(e.message));
    });
  }
});
