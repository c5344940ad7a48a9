// "Done when": every Qlik CLI and cURL example of ../shared/spec/reload-tasks-api.md, typed into a
// shell as a new user would (`qlik reload-task` → `reload-task`, 2022 → 2099 so the dates are in
// the future), works against the real service; and so does the README's session.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { APP, MAIN, run, startService, type Result, type Service } from './cli-harness.js';

// The spec's examples, verbatim but for the command name and the year.
const SPEC_CLI = {
  ls: 'qlik reload-task ls',
  create: `qlik reload-task create \\
--appId="116dbfae-7fb9-4983-8e23-5ccd8c508722" \\
--endDateTime="2022-10-12T23:59:00" \\
--recurrence='"RRULE:FREQ=DAILY;INTERVAL=1;BYHOUR=11;BYMINUTE=18;BYSECOND=0","RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TU;BYHOUR=13;BYMINUTE=17;BYSECOND=0"' \\
--startDateTime="2022-09-19T11:18:00" \\
--timeZone="America/Toronto" \\
--type="scheduled_reload"`,
  get: 'qlik reload-task get <taskId>',
  update: `qlik reload-task update <taskId> \\
--appId="116dbfae-7fb9-4983-8e23-5ccd8c508722" \\
--endDateTime="2022-10-12T23:59:00" \\
--recurrence='"RRULE:FREQ=DAILY;INTERVAL=1;BYHOUR=11;BYMINUTE=18;BYSECOND=0","RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TU;BYHOUR=13;BYMINUTE=17;BYSECOND=0"' \\
--startDateTime="2022-09-19T11:18:00" \\
--state="Disabled" \\
--timeZone="America/Toronto"`,
  rm: 'qlik reload-task rm <taskId>',
};

// The cURL examples' request bodies (POST and PUT), sent with `-f -` as a script would pipe them.
const SPEC_CURL_BODY = {
  create: `{"appId":"116dbfae-7fb9-4983-8e23-5ccd8c508722","partial":false,"timeZone":"America/Toronto","autoReload":false,"recurrence":["RRULE:FREQ=DAILY;INTERVAL=1;BYHOUR=11;BYMINUTE=18;BYSECOND=0","RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TU;BYHOUR=13;BYMINUTE=17;BYSECOND=0"],"endDateTime":"2022-10-12T23:59:00","startDateTime":"2022-09-19T11:18:00","autoReloadPartial":false,"type":"scheduled_reload"}`,
  update: `{"appId":"116dbfae-7fb9-4983-8e23-5ccd8c508722","partial":false,"timeZone":"America/Toronto","autoReload":false,"recurrence":["RRULE:FREQ=DAILY;INTERVAL=1;BYHOUR=11;BYMINUTE=18;BYSECOND=0","RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TU;BYHOUR=13;BYMINUTE=17;BYSECOND=0"],"endDateTime":"2022-10-12T23:59:00","startDateTime":"2022-09-19T11:18:00","autoReloadPartial":false,"state":"Disabled"}`,
};

const RECURRENCE = [
  'RRULE:FREQ=DAILY;INTERVAL=1;BYHOUR=11;BYMINUTE=18;BYSECOND=0',
  'RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TU;BYHOUR=13;BYMINUTE=17;BYSECOND=0',
];

let service: Service;
let env: Record<string, string>;

before(async () => {
  service = await startService();
  // `reload-task` on the PATH, as `npm install -g` would put it.
  const bin = join(service.scratch, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'reload-task'), `#!/bin/sh\nexec "${process.execPath}" --import tsx "${MAIN}" "$@"\n`);
  chmodSync(join(bin, 'reload-task'), 0o755);
  const token = await service.token('acme', 'alice');
  env = {
    PATH: `${bin}:${process.env.PATH ?? ''}`,
    HOME: process.env.HOME ?? '/tmp',
    RELOAD_TASKS_CONFIG_DIR: join(service.scratch, 'config'),
    RELOAD_TASKS_SERVER: service.url,
    RELOAD_TASKS_TOKEN: token,
  };
});

after(async () => {
  await service?.stop();
});

/** The example as typed: `qlik ` dropped, 2022 dates moved to 2099, `<taskId>` from $TASK_ID. */
function adapt(example: string): string {
  return example.replace(/^qlik /, '').replaceAll('2022-', '2099-').replaceAll('<taskId>', '"$TASK_ID"');
}

function sh(script: string, extra: Record<string, string> = {}, input?: string): Promise<Result> {
  // The repository root is the working directory, so that `--import tsx` resolves.
  return runIn(script, { ...env, ...extra }, input);
}

function runIn(script: string, scriptEnv: Record<string, string>, input?: string): Promise<Result> {
  return run('/bin/sh', ['-c', `cd "${dirname(dirname(dirname(MAIN)))}" && ${script}`], scriptEnv, input);
}

function ok(r: Result): string {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  assert.equal(r.stderr, '');
  return r.stdout;
}

interface Task {
  id: string;
  appId: string;
  state: string;
  recurrence?: string[];
  startDateTime?: string;
  endDateTime?: string;
  nextExecutionTime?: string;
  disabledCode?: string;
  partial?: boolean;
}

describe('the spec\'s Qlik CLI examples, through reload-task', () => {
  let task: Task;

  it('create (flags written --flag="value", recurrence as a quoted list)', async () => {
    task = JSON.parse(ok(await sh(adapt(SPEC_CLI.create)))) as Task;
    assert.match(task.id, /^[0-9a-f]{24}$/);
    assert.equal(task.appId, APP);
    assert.deepEqual(task.recurrence, RECURRENCE);
    assert.equal(task.startDateTime, '2099-09-19T11:18:00');
    assert.equal(task.endDateTime, '2099-10-12T23:59:00');
    assert.equal(task.state, 'Enabled');
    // 11:18 in Toronto on 2099-09-19 (EDT, UTC-4).
    assert.equal(task.nextExecutionTime, '2099-09-19T15:18:00Z');
  });

  it('ls prints the tasks as a JSON array', async () => {
    const list = JSON.parse(ok(await sh(adapt(SPEC_CLI.ls)))) as Task[];
    assert.deepEqual(list.map((t) => t.id), [task.id]);
  });

  it('get prints the task', async () => {
    const got = JSON.parse(ok(await sh(adapt(SPEC_CLI.get), { TASK_ID: task.id }))) as Task;
    assert.deepEqual(got, task);
  });

  it('update with --state="Disabled" and the two-line recurrence', async () => {
    const updated = JSON.parse(ok(await sh(adapt(SPEC_CLI.update), { TASK_ID: task.id }))) as Task;
    assert.equal(updated.id, task.id);
    assert.equal(updated.state, 'Disabled');
    assert.equal(updated.disabledCode, 'MANUALLY');
    assert.deepEqual(updated.recurrence, RECURRENCE);
    assert.equal(updated.nextExecutionTime, undefined);
  });

  it('rm deletes it, printing nothing; a get afterwards is a 404 on stderr, exit 1', async () => {
    assert.equal(ok(await sh(adapt(SPEC_CLI.rm), { TASK_ID: task.id })), '');
    const r = await sh(adapt(SPEC_CLI.get), { TASK_ID: task.id });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, new RegExp(`^error: 404 HTTP-404 Not found\\.: reload task '${task.id}' not found \\(traceId [0-9a-f]{32}\\)\\n$`));
  });
});

describe('a qlik-cli script from the wild (NOTES.md), without --startDateTime', () => {
  it('creates the task, prints only its id (-q), and it starts at the minute it was created', async () => {
    const before = Date.now();
    const id = ok(await sh('reload-task create --appId "$APP_ID" --recurrence "RRULE:FREQ=DAILY;INTERVAL=1;BYHOUR=5;BYMINUTE=0;BYSECOND=0" --timeZone "America/Sao_Paulo" --retry 3 -q', { APP_ID: APP })).trim();
    assert.match(id, /^[0-9a-f]{24}$/);
    const got = JSON.parse(ok(await sh('reload-task get "$TASK_ID"', { TASK_ID: id }))) as Task & { startDateTime: string; nextExecutionTime: string };
    assert.equal(got.state, 'Enabled');
    // The anchor is the first whole minute (São Paulo time) after the call's creation instant.
    const anchor = Date.parse(`${got.startDateTime}-03:00`);
    assert.ok(anchor > before && anchor <= Date.now() + 60_000, got.startDateTime);
    assert.match(got.nextExecutionTime, /T08:00:00Z$/); // 05:00 at -03:00
    ok(await sh('reload-task rm "$TASK_ID"', { TASK_ID: id }));
  });
});

describe('the spec\'s cURL examples, through reload-task', () => {
  it('POST and PUT bodies piped to create -f - and update -f -, GET list with --raw, DELETE', async () => {
    const created = JSON.parse(ok(await sh('reload-task create -f -', {}, SPEC_CURL_BODY.create.replaceAll('2022-', '2099-')))) as Task;
    assert.deepEqual(created.recurrence, RECURRENCE);
    assert.equal(created.partial, false);

    // curl "…/api/v1/reload-tasks": the answer as the API gives it, links and all.
    const page = JSON.parse(ok(await sh('reload-task ls --raw'))) as { data: Task[]; links: { self: { href: string } } };
    assert.deepEqual(page.data.map((t) => t.id), [created.id]);
    assert.equal(page.links.self.href, `${service.url}/api/v1/reload-tasks`);

    const updated = JSON.parse(ok(await sh('reload-task update "$TASK_ID" -f -', { TASK_ID: created.id }, SPEC_CURL_BODY.update.replaceAll('2022-', '2099-')))) as Task;
    assert.equal(updated.state, 'Disabled');

    assert.equal(ok(await sh('reload-task rm "$TASK_ID" && reload-task ls -q', { TASK_ID: created.id })), '');
  });
});

describe('the README session', () => {
  it('create, list, preview, disable, delete', async () => {
    const script = `
      ID=$(reload-task create --appId ${APP} --timeZone America/Toronto \\
        --startDateTime 2099-01-01T11:18:00 --recurrence 'RRULE:FREQ=DAILY;BYHOUR=11;BYMINUTE=18;BYSECOND=0' -q)
      echo "id $ID"
      reload-task ls --table
      reload-task preview --timeZone America/Toronto --startDateTime 2099-01-01T11:18:00 \\
        --recurrence 'RRULE:FREQ=DAILY;BYHOUR=11;BYMINUTE=18;BYSECOND=0' --count 3
      reload-task update "$ID" --state Disabled --table
      reload-task rm "$ID"
      reload-task ls --table`;
    const out = ok(await sh(`set -e; ${script}`)).split('\n');
    const id = /^id ([0-9a-f]{24})$/.exec(out[0]!)?.[1];
    assert.ok(id, out[0]);
    assert.match(out[1]!, /^ID\s+APP ID\s+STATE\s+TIME ZONE\s+NEXT RUN \(UTC\)\s+LAST RUN \(UTC\)\s+SCHEDULE$/);
    assert.match(out[2]!, new RegExp(`^${id}\\s+${APP}\\s+Enabled\\s+America/Toronto\\s+2099-01-01T16:18:00Z\\s+-\\s+RRULE:FREQ=DAILY;BYHOUR=11;BYMINUTE=18;BYSECOND=0$`));
    assert.match(out[4]!, /^1\s+2099-01-01 11:18:00 -05:00\s+Thu\s+2099-01-01T16:18:00Z$/);
    assert.match(out[8]!, new RegExp(`^${id}\\s+${APP}\\s+Disabled \\(MANUALLY\\)\\s+America/Toronto\\s+-\\s+-`));
    assert.equal(out[9], 'No reload tasks.');
  });
});
