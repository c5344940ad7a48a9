// `reload-task reloads ls | get | create | cancel` against the real service. One reload at a time,
// each "running" for a minute (simulated), so that one reload is RELOADING while the next is QUEUED:
// cancelling them gives the API's two answers, 202 and 204.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { APP, cli, json, startService, type Result, type Service } from './cli-harness.js';

const OTHER_APP = 'b0b0b0b0-0000-4000-8000-000000000002';

interface Reload {
  id: string;
  appId: string;
  status: string;
  type: string;
  partial: boolean;
  log?: string;
  resourceType?: string;
  resourceId?: string;
}

let service: Service;
let env: Record<string, string>;

before(async () => {
  service = await startService({ SIMULATED_DURATION_MS: '60000', MAX_CONCURRENT_RELOADS: '1' });
  env = { RELOAD_TASKS_SERVER: service.url, RELOAD_TASKS_TOKEN: await service.token('acme', 'alice') };
});

after(async () => {
  await service?.stop();
});

const rt = (...args: string[]): Promise<Result> => cli(args, { env });

function lines(r: Result): string[] {
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').filter((l) => l !== '');
}

async function statusOf(id: string): Promise<string> {
  const r = await fetch(`${service.url}/api/v1/reloads/${id}`, { headers: { authorization: `Bearer ${env.RELOAD_TASKS_TOKEN}` } });
  return ((await r.json()) as Reload).status;
}

describe('reload-task reloads', () => {
  let running: string;
  let queued: string;

  it('create queues a manual reload; -q prints its id', async () => {
    running = lines(await rt('reloads', 'create', '--appId', APP, '-q'))[0]!;
    const created = json<Reload>(await rt('reloads', 'create', '--appId', OTHER_APP, '--partial'));
    queued = created.id;
    assert.equal(created.appId, OTHER_APP);
    assert.equal(created.partial, true);
    assert.equal(created.type, 'external');
    // The scheduler picks the first one up at once; the second waits for the only slot.
    for (let i = 0; i < 200 && (await statusOf(running)) !== 'RELOADING'; i++) await new Promise((r) => setTimeout(r, 25));
    assert.equal(await statusOf(running), 'RELOADING');
    assert.equal(await statusOf(queued), 'QUEUED');
  });

  it('ls lists newest first, with filters, --limit and the alias `reload`', async () => {
    const [all, byApp, byStatus, fullOnly, first, viaAlias] = await Promise.all([
      rt('reloads', 'ls', '-q'),
      rt('reloads', 'ls', '--appId', APP, '-q'),
      rt('reloads', 'ls', '--status', 'QUEUED', '-q'),
      rt('reloads', 'ls', '--partial=false', '-q'),
      rt('reloads', 'ls', '--limit', '1', '-q'),
      rt('reload', 'ls', '-q'),
    ]);
    assert.deepEqual(lines(all), [queued, running]);
    assert.deepEqual(lines(byApp), [running]);
    assert.deepEqual(lines(byStatus), [queued]);
    assert.deepEqual(lines(fullOnly), [running]);
    assert.deepEqual(lines(first), [queued]);
    assert.deepEqual(lines(viaAlias), [queued, running]);
    // --sort and --filter go to the server as they are (a + survives the URL).
    const [oldest, byStatusAsc, filtered] = await Promise.all([
      rt('reloads', 'ls', '--sort', '+creationTime', '-q'),
      rt('reloads', 'ls', '--sort', 'status', '-q'),
      rt('reloads', 'ls', '--filter', 'status eq "RELOADING" or status eq "FAILED"', '-q'),
    ]);
    assert.deepEqual(lines(oldest), [running, queued]);
    assert.deepEqual(lines(byStatusAsc), [queued, running]); // QUEUED before RELOADING
    assert.deepEqual(lines(filtered), [running]);
    const bad = await rt('reloads', 'ls', '--sort', 'name');
    assert.equal(bad.code, 2);
  });

  it('ls --table and get', async () => {
    const table = lines(await rt('reloads', 'ls', '--table'));
    assert.match(table[0]!, /^ID\s+APP ID\s+STATUS\s+TYPE\s+TASK\s+CREATED \(UTC\)\s+DURATION$/);
    assert.match(table[1]!, new RegExp(`^${queued}\\s+${OTHER_APP}\\s+QUEUED\\s+external \\(partial\\)\\s+-\\s+\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\s+-$`));
    assert.match(table[2]!, new RegExp(`^${running}\\s+${APP}\\s+RELOADING\\s+external\\s+-`));
    const got = json<Reload>(await rt('reloads', 'get', running));
    assert.equal(got.id, running);
    assert.equal(got.status, 'RELOADING');
  });

  it('cancel: a queued reload is canceled at once (204, nothing printed), a running one is being stopped (202)', async () => {
    const q = await rt('reloads', 'cancel', queued);
    assert.equal(q.code, 0, q.stderr);
    assert.equal(q.stdout, '');
    assert.equal(await statusOf(queued), 'CANCELED');

    assert.deepEqual(json(await rt('reloads', 'cancel', running)), { status: 'CANCELING' });
  });

  it('cancel of a reload that has ended is the server\'s 409 (exit 1)', async () => {
    const r = await rt('reloads', 'cancel', queued);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`^error: 409 HTTP-409 Conflict\\.: reload '${queued}' is CANCELED and cannot be canceled \\(traceId [0-9a-f]{32}\\)\\n$`));
  });

  it('create --resourceType --resourceId: on the record and found by ls --resourceId; a task that is not there is the server\'s 400', async () => {
    const created = json<Reload>(await rt('reloads', 'create', '--appId', 'app-flow', '--resourceType', 'automate', '--resourceId', 'flow-9'));
    assert.deepEqual([created.resourceType, created.resourceId], ['automate', 'flow-9']);
    assert.deepEqual(lines(await rt('reloads', 'ls', '--resourceId', 'flow-9', '-q')), [created.id]);
    assert.equal((await rt('reloads', 'cancel', created.id)).code, 0);
    const missing = await rt('reloads', 'create', '--appId', APP, '--resourceType', 'reload-tasks', '--resourceId', 'nope');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /resourceId: reload task 'nope' not found/);
  });

  it('get of an unknown reload is a 404 (exit 1); a bad --status is bad usage (exit 2)', async () => {
    const [missing, bad] = await Promise.all([rt('reloads', 'get', 'ffffffffffffffffffffffff'), rt('reloads', 'ls', '--status', 'DONE')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^error: 404 HTTP-404 Not found\./);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /argument 'DONE' is invalid/);
  });
});

describe('reloads create --weight --variable, run by the command executor', () => {
  let cmdService: Service;
  let cmdEnv: Record<string, string>;
  before(async () => {
    cmdService = await startService({ EXECUTOR: 'command', RELOAD_COMMAND: 'echo "weight=$RELOAD_WEIGHT variables=$RELOAD_VARIABLES"' });
    cmdEnv = { RELOAD_TASKS_SERVER: cmdService.url, RELOAD_TASKS_TOKEN: await cmdService.token('acme', 'alice') };
  });
  after(async () => {
    await cmdService?.stop();
  });

  it('the weight is on the record and both reach the command; a --variable without = is bad usage', async () => {
    const created = json<Reload & { weight: number }>(await cli(['reloads', 'create', '--appId', APP, '--weight', '5', '--variable', 'vRegion=EMEA', '--variable', 'vNote=a=b c'], { env: cmdEnv }));
    assert.equal(created.weight, 5);
    // The command is a real process: wait for it to finish, not for a time.
    let r: Reload = created;
    for (let i = 0; i < 200 && (r.status === 'QUEUED' || r.status === 'RELOADING'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      r = json<Reload>(await cli(['reloads', 'get', created.id], { env: cmdEnv }));
    }
    assert.equal(r.status, 'SUCCEEDED', JSON.stringify(r));
    assert.match(r.log!, /weight=5 variables=\{"vRegion":"EMEA","vNote":"a=b c"\}/);
    const bad = await cli(['reloads', 'create', '--appId', APP, '--variable', 'novalue'], { env: cmdEnv });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--variable: 'novalue' is not name=value/);
    const range = await cli(['reloads', 'create', '--appId', APP, '--weight', '11'], { env: cmdEnv });
    assert.equal(range.code, 1);
    assert.match(range.stderr, /weight: must be an integer from 1 to 10/);
  });
});
