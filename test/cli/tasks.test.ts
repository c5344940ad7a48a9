// `reload-task ls | create | get | update | rm` against the real service: pagination with --limit,
// filters, output forms, bodies from files, partial updates, and the exit codes of failures.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { APP, cli, json, startService, type Result, type Service } from './cli-harness.js';

const OTHER_APP = 'b0b0b0b0-0000-4000-8000-000000000001';
const DAILY = 'RRULE:FREQ=DAILY;BYHOUR=6;BYMINUTE=0;BYSECOND=0';

interface Task {
  id: string;
  appId: string;
  timeZone: string;
  state: string;
  partial?: boolean;
  autoReload?: boolean;
  autoReloadPartial?: boolean;
  recurrence?: string[];
  startDateTime?: string;
  endDateTime?: string;
}

let service: Service;
let env: Record<string, string>;
// 103 full-reload tasks of APP and 2 partial ones of OTHER_APP. Lists come in id order, which is
// creation order only to the second (ids end in random bits), hence the sorting.
const full: string[] = [];
const partial: string[] = [];
let ids: string[] = [];

before(async () => {
  // 103 tasks of one app, to page through: past the 10 one app may have by default.
  service = await startService({ RATE_LIMIT_WRITES_PER_MINUTE: '10000', MAX_TASKS_PER_APP: '0' });
  const token = await service.token('acme', 'alice');
  env = { RELOAD_TASKS_SERVER: service.url, RELOAD_TASKS_TOKEN: token };
  // The fixture goes in straight through the API: this file tests the CLI, not 105 processes.
  const post = async (body: object): Promise<string> => {
    const r = await fetch(`${service.url}/api/v1/reload-tasks`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(r.status, 201, await r.clone().text());
    return ((await r.json()) as Task).id;
  };
  for (let i = 0; i < 103; i++) full.push(await post({ appId: APP, timeZone: 'UTC', startDateTime: '2099-01-01T00:00:00', recurrence: [DAILY] }));
  for (let i = 0; i < 2; i++) partial.push(await post({ appId: OTHER_APP, timeZone: 'UTC', partial: true }));
  full.sort();
  partial.sort();
  ids = [...full, ...partial].sort();
});

after(async () => {
  await service?.stop();
});

const rt = (...args: string[]): Promise<Result> => cli(args, { env });

function lines(r: Result): string[] {
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').filter((l) => l !== '');
}

describe('reload-task ls', () => {
  it('prints one page of the server\'s default size without --limit, as qlik-cli does', async () => {
    const list = json<Task[]>(await rt('ls'));
    assert.deepEqual(list.map((t) => t.id), ids.slice(0, 10));
  });

  it('retrieves --limit tasks in total, following links.next across pages of 100', async () => {
    assert.deepEqual(lines(await rt('ls', '--limit', '104', '-q')), ids.slice(0, 104));
    assert.deepEqual(lines(await rt('ls', '--limit', '1000', '-q')), ids);
  });

  it('filters by --appId and --partial (also --partial=false)', async () => {
    const [byApp, partialOnly, fullOnly] = await Promise.all([
      rt('ls', '--appId', OTHER_APP, '-q'),
      rt('ls', '--partial', '-q'),
      rt('ls', '--partial=false', '--limit', '200', '-q'),
    ]);
    assert.deepEqual(lines(byApp), partial);
    assert.deepEqual(lines(partialOnly), partial);
    assert.deepEqual(lines(fullOnly), full);
  });

  it('--raw prints the first page exactly as the API answers it; --next continues from its cursor', async () => {
    const raw = await rt('ls', '--raw', '--limit', '3');
    assert.equal(raw.code, 0, raw.stderr);
    const direct = await fetch(`${service.url}/api/v1/reload-tasks?limit=3`, { headers: { authorization: `Bearer ${env.RELOAD_TASKS_TOKEN}` } });
    assert.equal(raw.stdout, await direct.text());
    const page = JSON.parse(raw.stdout) as { data: Task[]; links: { next: { href: string } } };
    assert.deepEqual(page.data.map((t) => t.id), ids.slice(0, 3));
    const cursor = new URL(page.links.next.href).searchParams.get('next')!;
    assert.deepEqual(lines(await rt('ls', '--next', cursor, '--limit', '2', '-q')), ids.slice(3, 5));
  });

  it('--table prints a row per task', async () => {
    const out = lines(await rt('ls', '--appId', OTHER_APP, '--table'));
    assert.match(out[0]!, /^ID\s+APP ID\s+STATE\s+TIME ZONE\s+NEXT RUN \(UTC\)\s+LAST RUN \(UTC\)\s+SCHEDULE$/);
    assert.equal(out.length, 3);
    assert.match(out[1]!, new RegExp(`^${partial[0]}\\s+${OTHER_APP}\\s+Enabled\\s+UTC\\s+-\\s+-\\s+-$`));
  });
});

describe('reload-task create, get, update', () => {
  it('create -f file: flags override the file\'s fields; -q prints the id', async () => {
    const file = join(service.scratch, 'task.json');
    writeFileSync(file, JSON.stringify({ appId: 'from-file', timeZone: 'Europe/Zurich', partial: true, startDateTime: '2099-03-01T08:00:00', recurrence: [DAILY] }));
    const id = lines(await rt('create', '-f', file, '--appId', APP, '--partial=false', '--autoReload', '-q'));
    assert.equal(id.length, 1);
    const task = json<Task>(await rt('get', id[0]!));
    assert.equal(task.appId, APP);
    assert.equal(task.timeZone, 'Europe/Zurich');
    assert.equal(task.partial, false);
    assert.equal(task.autoReload, true);
    assert.deepEqual(task.recurrence, [DAILY]);
    await rt('rm', id[0]!);
  });

  it('update sends only the flags given; an empty value clears a field; repeated --recurrence adds lines', async () => {
    const created = json<Task>(
      await cli(['create', '-f', '-'], {
        env,
        input: JSON.stringify({ appId: APP, timeZone: 'UTC', partial: true, autoReload: true, startDateTime: '2099-01-01T00:00:00', endDateTime: '2099-12-31T00:00:00', recurrence: [DAILY] }),
      }),
    );
    const updated = json<Task>(await rt('update', created.id, '--autoReload=false', '--endDateTime', '', '--recurrence', 'RRULE:FREQ=WEEKLY;BYDAY=MO', '--recurrence', 'EXDATE:20990105T000000Z'));
    assert.equal(updated.partial, true);
    assert.equal(updated.autoReload, false);
    assert.ok(!updated.endDateTime, updated.endDateTime); // cleared: omitted or ""
    assert.deepEqual(updated.recurrence, ['RRULE:FREQ=WEEKLY;BYDAY=MO', 'EXDATE:20990105T000000Z']);
    assert.equal(updated.startDateTime, '2099-01-01T00:00:00');
    const disabled = json<Task>(await rt('update', created.id, '--state', 'Disabled'));
    assert.equal(disabled.state, 'Disabled');
    assert.equal(disabled.autoReload, false);
    await rt('rm', created.id);
  });

  it('rm takes several ids; one that fails is reported and the others are still deleted (exit 1)', async () => {
    const a = lines(await rt('create', '--appId', APP, '--timeZone', 'UTC', '-q'))[0]!;
    const r = await rt('rm', a, 'ffffffffffffffffffffffff');
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^error: ffffffffffffffffffffffff: 404 HTTP-404 Not found\.: .*\nerror: 1 of 2 tasks were not deleted\n$/);
    assert.equal((await rt('get', a)).code, 1);
  });
});

describe('failures: one line on stderr, exit 1 for an error answer, 2 for bad usage', () => {
  it('prints the server\'s status, code, title, detail and trace id', async () => {
    const r = await rt('create', '--appId', APP, '--timeZone', 'UTC', '--startDateTime', '2099-01-01T00:00:00', '--recurrence', '"RRULE:FREQ=DAILY","RRULE:FREQ=WEEKLY;BYDAY=XX"');
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^error: 400 TASKS-003 Invalid schedule\.: recurrence\[1\]: BYDAY value 'XX' is not a weekday \(traceId [0-9a-f]{32}\)\n$/);
  });

  it('a bad token is the server\'s 401 (exit 1)', async () => {
    const r = await cli(['ls'], { env: { ...env, RELOAD_TASKS_TOKEN: 'not-a-jwt' } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: 401 HTTP-401 Unauthorized\.: .* \(traceId [0-9a-f]{32}\)\n$/);
  });

  const usage: Array<[string, string[], Record<string, string | undefined>, RegExp]> = [
    ['an unknown flag', ['ls', '--bogus'], {}, /unknown option '--bogus'/],
    ['a bad --state', ['update', 'x', '--state', 'Paused'], {}, /argument 'Paused' is invalid. Allowed choices are Enabled, Disabled, Completed/],
    ['a bad boolean value', ['create', '--partial=maybe'], {}, /--partial: 'maybe' is not true or false/],
    ['--limit 0', ['ls', '--limit', '0'], {}, /--limit: '0' is not an integer/],
    ['--retry 11', ['ls', '--retry', '11'], {}, /--retry: '11' is not an integer from 0 to 10/],
    ['--next with --prev', ['ls', '--next', 'a', '--prev', 'b'], {}, /give one of them, not both/],
    ['-q with --raw', ['ls', '-q', '--raw'], {}, /cannot be used with option '--raw'/],
    ['an update without fields', ['update', 'x'], {}, /nothing to change/],
    ['a missing -f file', ['create', '-f', '/nonexistent/task.json'], {}, /--file: cannot read '\/nonexistent\/task.json'/],
    ['a recurrence list that does not parse', ['create', '--recurrence', '"RRULE:FREQ=DAILY'], {}, /--recurrence: cannot read/],
    ['no server', ['ls'], { RELOAD_TASKS_SERVER: undefined }, /^error: no server: give --server <url>, set RELOAD_TASKS_SERVER/],
    ['no token', ['ls'], { RELOAD_TASKS_TOKEN: undefined }, /^error: no token for http:\/\/127\.0\.0\.1:\d+: give --token/],
    ['a server that is not a URL', ['ls', '--server', 'localhost:8080'], {}, /--server: 'localhost:8080' is not a server URL/],
  ];
  it('exits 2 for bad usage, before calling the server', async () => {
    const results = await Promise.all(usage.map(([, args, extra]) => cli(args, { env: { ...env, ...extra } })));
    results.forEach((r, i) => {
      const [what, , , message] = usage[i]!;
      assert.equal(r.code, 2, `${what}: ${r.stderr}`);
      assert.equal(r.stdout, '', what);
      assert.match(r.stderr, message, what);
    });
  });

  it('a body piped to -f - that is not JSON is bad usage', async () => {
    const r = await cli(['create', '-f', '-'], { env, input: '{"appId": ' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--file: standard input is not JSON/);
  });
});
