// `reload-task preview`, run as a real process.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

function run(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('reload-task preview', () => {
  it('lines without --startDateTime start at the first whole minute after --after (or now), as a task created then would', () => {
    const r = run('preview', '--timeZone', 'America/Sao_Paulo', '--recurrence', 'RRULE:FREQ=DAILY;INTERVAL=1;BYHOUR=5;BYMINUTE=0;BYSECOND=0', '--after', '2027-03-01T10:20:30Z', '--count', '2', '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), ['2027-03-02T05:00:00-03:00', '2027-03-03T05:00:00-03:00']);
    const weekly = run('preview', '--timeZone', 'UTC', '--recurrence', 'FREQ=WEEKLY', '--after', '2027-03-01T10:20:30Z', '--count', '1', '--json');
    assert.deepEqual(JSON.parse(weekly.stdout), ['2027-03-01T10:21:00+00:00']); // the anchor itself, then weekly
    // Without --after: from now, so nothing listed is already past, and COUNT counts from there.
    const before = Date.now();
    const now = run('preview', '--timeZone', 'UTC', '--recurrence', 'RRULE:FREQ=DAILY;COUNT=2', '--json');
    const times = (JSON.parse(now.stdout) as string[]).map((t) => Date.parse(t));
    assert.equal(times.length, 2);
    assert.ok(times[0]! > before && times[0]! <= Date.now() + 60_000, now.stdout);
    assert.equal(times[1]! - times[0]!, 86_400_000);
  });

  it('prints the issue example as JSON with offsets', () => {
    const r = run('preview', '--timeZone', 'America/Toronto', '--startDateTime', '2027-01-01T11:18:00',
      '--recurrence', 'RRULE:FREQ=DAILY;BYHOUR=11;BYMINUTE=18;BYSECOND=0', '--count', '3', '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), ['2027-01-01T11:18:00-05:00', '2027-01-02T11:18:00-05:00', '2027-01-03T11:18:00-05:00']);
  });

  it('starts strictly after --after, across a DST gap', () => {
    const r = run('preview', '--timeZone', 'America/New_York', '--startDateTime', '2027-01-01T02:30:00',
      '--recurrence', 'FREQ=DAILY', '--after', '2027-03-13T07:30:00Z', '--count', '2', '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), ['2027-03-14T03:30:00-04:00', '2027-03-15T02:30:00-04:00']);
  });

  it('takes repeated --recurrence flags and qlik-cli quoted lists', () => {
    const r = run('preview', '--timeZone', 'UTC', '--startDateTime', '2027-01-04T00:00:00',
      '--recurrence', '"RRULE:FREQ=WEEKLY;BYDAY=MO;BYHOUR=9","RRULE:FREQ=WEEKLY;BYDAY=TU;BYHOUR=10"',
      '--recurrence', 'EXDATE:20270104T090000Z', '--count', '3', '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), ['2027-01-05T10:00:00+00:00', '2027-01-11T09:00:00+00:00', '2027-01-12T10:00:00+00:00']);
  });

  it('prints a table with local time, weekday and UTC', () => {
    const r = run('preview', '--timeZone', 'Europe/London', '--startDateTime', '2027-03-27T01:30:00', '--recurrence', 'FREQ=DAILY', '--count', '2');
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^#\s+Local time \(Europe\/London\)\s+Day\s+UTC$/);
    assert.match(lines[1]!, /^1\s+2027-03-27 01:30:00 \+00:00\s+Sat\s+2027-03-27T01:30:00Z$/);
    assert.match(lines[2]!, /^2\s+2027-03-28 02:30:00 \+01:00\s+Sun\s+2027-03-28T01:30:00Z$/);
  });

  it('says when a schedule has no run times', () => {
    const r = run('preview', '--timeZone', 'UTC', '--startDateTime', '2027-01-01T00:00:00', '--recurrence', 'FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30', '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '[]\n');
  });

  const bad: Array<[string, string[], RegExp]> = [
    ['a bad rule', ['--timeZone', 'UTC', '--startDateTime', '2027-01-01T00:00:00', '--recurrence', 'FREQ=WEEKLY;BYDAY=XX'], /recurrence\[0\]: BYDAY value 'XX' is not a weekday/],
    ['an unknown zone', ['--timeZone', 'Mars/Base', '--startDateTime', '2027-01-01T00:00:00'], /timeZone: 'Mars\/Base' is not an IANA time zone name/],
    ['a missing zone', ['--startDateTime', '2027-01-01T00:00:00'], /required option '--timeZone <zone>'/],
    ['a bad count', ['--timeZone', 'UTC', '--startDateTime', '2027-01-01T00:00:00', '--count', '0'], /--count: '0' is not an integer from 1 to/],
    ['an --after without offset', ['--timeZone', 'UTC', '--startDateTime', '2027-01-01T00:00:00', '--after', '2027-03-01T00:00:00'], /--after: '2027-03-01T00:00:00' is not an RFC 3339 instant/],
    ['an unknown flag', ['--timeZone', 'UTC', '--bogus'], /unknown option '--bogus'/],
  ];
  for (const [what, args, message] of bad) {
    it(`exits 2 with the error on stderr for ${what}`, () => {
      const r = run('preview', ...args);
      assert.equal(r.code, 2);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, message);
    });
  }

  it('has help with an example', () => {
    const r = run('preview', '--help');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Example:\n\s+reload-task preview --timeZone/);
  });
});
