// TimeZone: one zone per canonical name, and far years derived from the Gregorian 400-year cycle.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileSchedule } from '../../src/recurrence/index.js';
import { TimeZone } from '../../src/recurrence/zone.js';

interface Tables {
  table(year: number): unknown;
  buildTable(year: number): unknown;
}

describe('TimeZone', () => {
  it('names Intl takes for one zone (another case, a link) share it and its tables', () => {
    const zurich = TimeZone.get('Europe/Zurich');
    assert.ok(zurich);
    assert.equal(TimeZone.get('europe/zurich'), zurich);
    assert.equal(TimeZone.get('EUROPE/ZURICH'), zurich);
    assert.equal(TimeZone.get('US/Eastern'), TimeZone.get('America/New_York'));
    // A schedule still goes by the name it was given.
    assert.equal(compileSchedule({ timeZone: 'europe/zurich', startDateTime: '2027-01-01T09:00:00', recurrence: ['FREQ=DAILY'] }).timeZone, 'europe/zurich');
  });

  it('a year from 2500 on is the year 400 before, shifted: the same transitions as sampled from Intl', () => {
    for (const name of ['Europe/Zurich', 'America/New_York', 'Australia/Lord_Howe', 'Africa/Casablanca', 'America/Santiago', 'Pacific/Chatham', 'Antarctica/Troll']) {
      const zone = TimeZone.get(name) as unknown as Tables;
      for (const year of [2500, 2501, 2777, 4321, 9999]) assert.deepEqual(zone.table(year), zone.buildTable(year), `${name} ${year}`);
    }
  });

  it('a schedule whose every candidate is excluded answers "none" after walking to the year 9999', () => {
    const s = compileSchedule({ timeZone: 'Europe/Zurich', startDateTime: '2027-01-01T09:00:00', recurrence: ['RRULE:FREQ=YEARLY', 'EXRULE:FREQ=YEARLY'] });
    assert.equal(s.next(Date.parse('2026-12-01T00:00:00Z')), null);
  });
});
