// The command executor with real /bin/sh processes: exit statuses, the environment, output tails,
// and stopping a command with everything it started. Also: createExecutor picks the executor.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { ManualClock } from '../../src/clock.js';
import { ReloadAborted, type AbortCause, type ExecutionContext, type ReloadJob } from '../../src/reloads/executor.js';
import { CommandExecutor, groupAlive, LOST_MESSAGE, type CommandOptions } from '../../src/reloads/executors/command.js';
import { createExecutor } from '../../src/reloads/executors/index.js';
import { QlikCloudExecutor } from '../../src/reloads/executors/qlik-cloud.js';
import { SimulatedExecutor } from '../../src/reloads/executors/simulated.js';
import { WebhookExecutor } from '../../src/reloads/executors/webhook.js';
import { MAX_LOG } from '../../src/reloads/reload.js';

const NOW = Date.parse('2026-12-01T12:00:00Z');
let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'reload-tasks-command-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function harness(command: string, options: CommandOptions = {}) {
  const controller = new AbortController();
  const clock = new ManualClock(NOW);
  const ctx: ExecutionContext = { signal: controller.signal, clock, log: pino({ level: 'silent' }), setExternalId: async () => {} };
  return { ctx, clock, executor: new CommandExecutor({ command }, options), abort: (why: AbortCause) => controller.abort(new ReloadAborted(why)) };
}

function job(over: Partial<ReloadJob> = {}): ReloadJob {
  return {
    weight: 1,
    variables: null,
    id: '0193a1b2c3d4e5f6a7b8c9d0',
    tenantId: 'acme',
    userId: 'alice',
    appId: '116dbfae-7fb9-4983-8e23-5ccd8c508722',
    partial: false,
    type: 'chronos',
    resourceType: 'reload-tasks',
    resourceId: '0193a0000000000000000001',
    scheduledTime: Date.parse('2026-12-01T11:59:00Z'),
    externalId: null,
    attempts: 1,
    creationTime: NOW,
    ...over,
  };
}

/** Waits for real processes (not for time): polls until `cond` holds, up to ~5 s. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i += 1) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), what);
}

/** Alive and not a zombie. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

describe('CommandExecutor', () => {
  it('exit 0 is SUCCEEDED, with the tail of stdout in the log', async () => {
    const h = harness('echo "loading sales"; echo "12 tables reloaded"');
    const result = await h.executor.run(job(), h.ctx);
    assert.equal(result.status, 'SUCCEEDED');
    assert.equal(result.errorCode, undefined);
    assert.match(result.log!, /--- stdout ---\nloading sales\n12 tables reloaded\n/);
    assert.match(result.log!, /exited with code 0/);
  });

  it('exit 3 is FAILED EXIT_3, with the tail of stderr in the log and its last line in the message', async () => {
    const h = harness('echo "connecting"; echo "ERROR: table Orders not found" >&2; exit 3');
    const result = await h.executor.run(job(), h.ctx);
    assert.equal(result.status, 'FAILED');
    assert.equal(result.errorCode, 'EXIT_3');
    assert.equal(result.errorMessage, 'the command exited with code 3: ERROR: table Orders not found');
    assert.match(result.log!, /--- stdout ---\nconnecting\n--- stderr ---\nERROR: table Orders not found\n/);
  });

  it('a command killed by a signal is FAILED SIGNAL_<name>', async () => {
    const h = harness('kill -USR1 $$; sleep 5');
    const result = await h.executor.run(job(), h.ctx);
    assert.equal(result.status, 'FAILED');
    assert.equal(result.errorCode, 'SIGNAL_SIGUSR1');
  });

  it('gets the reload in its environment, on top of the service\'s', async () => {
    process.env.RELOAD_TASKS_TEST_INHERITED = 'inherited';
    try {
      const vars = 'RELOAD_ID APP_ID PARTIAL TENANT_ID USER_ID TASK_ID SCHEDULED_TIME RELOAD_WEIGHT RELOAD_VARIABLES RELOAD_TASKS_TEST_INHERITED';
      const cmd = `for v in ${vars}; do eval "echo \\"$v=[\\$$v]\\""; done`;
      const scheduled = await harness(cmd).executor.run(job(), harness(cmd).ctx);
      assert.equal(scheduled.status, 'SUCCEEDED');
      for (const line of [
        'RELOAD_ID=[0193a1b2c3d4e5f6a7b8c9d0]',
        'APP_ID=[116dbfae-7fb9-4983-8e23-5ccd8c508722]',
        'PARTIAL=[false]',
        'TENANT_ID=[acme]',
        'USER_ID=[alice]',
        'TASK_ID=[0193a0000000000000000001]',
        'SCHEDULED_TIME=[2026-12-01T11:59:00.000Z]',
        'RELOAD_WEIGHT=[1]',
        'RELOAD_VARIABLES=[{}]',
        'RELOAD_TASKS_TEST_INHERITED=[inherited]',
      ]) {
        assert.ok(scheduled.log!.includes(`${line}\n`), `${line} in ${scheduled.log}`);
      }
      const h = harness(cmd);
      const manual = await h.executor.run(job({ partial: true, resourceId: null, scheduledTime: null, type: 'external', weight: 3, variables: { vYear: '2027', 'v Name': "it's" } }), h.ctx);
      for (const line of ['PARTIAL=[true]', 'TASK_ID=[]', 'SCHEDULED_TIME=[]', 'RELOAD_WEIGHT=[3]', `RELOAD_VARIABLES=[{"vYear":"2027","v Name":"it's"}]`]) assert.ok(manual.log!.includes(`${line}\n`), `${line} in ${manual.log}`);
      // Another service's resource id (POST /reloads with resourceType automate) is not a task of this service.
      const h2 = harness(cmd);
      const other = await h2.executor.run(job({ resourceType: 'automate', resourceId: 'flow-1', scheduledTime: null, type: 'external' }), h2.ctx);
      assert.ok(other.log!.includes('TASK_ID=[]\n'), other.log);
    } finally {
      delete process.env.RELOAD_TASKS_TEST_INHERITED;
    }
  });

  it("does not get the service's settings (its secrets among them) or its PostgreSQL connection variables", async () => {
    const secrets = { JWT_SECRET: 'jwt-secret-for-the-test-0123456789', DATABASE_URL: 'postgres://u:DbPassw0rd@db/x', METRICS_TOKEN: 'metrics-token', PGPASSWORD: 'pg-password', RELOAD_TASKS_TEST_KEPT: 'kept' };
    Object.assign(process.env, secrets);
    try {
      const h = harness('env');
      const result = await h.executor.run(job(), h.ctx);
      assert.equal(result.status, 'SUCCEEDED');
      for (const [name, value] of Object.entries(secrets)) {
        if (name === 'RELOAD_TASKS_TEST_KEPT') assert.ok(result.log!.includes(`${name}=${value}\n`), 'other variables are passed on');
        else assert.ok(!result.log!.includes(value), `${name} reached the command: ${result.log}`);
      }
    } finally {
      for (const name of Object.keys(secrets)) delete process.env[name];
    }
  });

  it('an abort kills the whole process group, children included, and the run settles promptly', async () => {
    const pids = join(dir, 'abort.pids');
    const h = harness(`sleep 30 & echo "$$ $!" > ${pids}; echo started; wait`);
    const run = h.executor.run(job(), h.ctx);
    await until(() => existsSync(pids) && readFileSync(pids, 'utf8').includes('\n'), 'the command started');
    const [shell, child] = readFileSync(pids, 'utf8').trim().split(' ').map(Number) as [number, number];
    assert.ok(alive(shell) && alive(child));
    const started = performance.now();
    h.abort('cancel');
    const result = await run;
    assert.ok(performance.now() - started < 2000, `settled in ${Math.round(performance.now() - started)} ms`);
    assert.equal(result.status, 'CANCELED');
    assert.match(result.log!, /started\n/);
    assert.match(result.log!, /stopped \(cancel\)/);
    await until(() => !alive(child) && !alive(shell), 'the shell and its background child are gone');
    assert.ok(!groupAlive(shell));
    assert.equal(h.clock.pendingTimers, 0, 'the SIGKILL timer was disarmed');
  });

  it('a command that ignores SIGTERM gets SIGKILL after the grace period (on the clock)', async () => {
    const pids = join(dir, 'stubborn.pids');
    const h = harness(`trap '' TERM; sleep 30 & echo "$$ $!" > ${pids}; wait`, { killGraceMs: 5_000 });
    const run = h.executor.run(job(), h.ctx);
    await until(() => existsSync(pids) && readFileSync(pids, 'utf8').includes('\n'), 'the command started');
    const [shell, child] = readFileSync(pids, 'utf8').trim().split(' ').map(Number) as [number, number];
    h.abort('timeout');
    assert.equal(h.clock.pendingTimers, 1, 'SIGKILL is scheduled');
    h.clock.advance(5_000);
    const result = await run;
    assert.equal(result.status, 'FAILED');
    assert.equal(result.errorCode, 'TIMEOUT');
    assert.match(result.log!, /killed by SIGKILL/);
    await until(() => !alive(child) && !alive(shell), 'the shell and its background child are gone');
  });

  it('keeps only the tails of huge output', async () => {
    const h = harness(`head -c 1000000 /dev/zero | tr '\\0' 'o'; echo; echo END-OUT; head -c 500000 /dev/zero | tr '\\0' 'e' >&2; echo END-ERR >&2; exit 1`);
    const result = await h.executor.run(job(), h.ctx);
    assert.equal(result.status, 'FAILED');
    assert.equal(result.errorCode, 'EXIT_1');
    assert.ok(result.log!.length <= MAX_LOG, `log of ${result.log!.length} characters`);
    assert.ok(!result.log!.includes('characters cut'), 'both tails fit without a further cut');
    assert.match(result.log!, /--- stdout \(last 7680 of 1000009 bytes\) ---\no+\nEND-OUT\n/);
    assert.match(result.log!, /--- stderr \(last 7680 of 500008 bytes\) ---\ne+END-ERR\n/);
    assert.equal(result.errorMessage, `the command exited with code 1: ${'e'.repeat(300)}…`);
  });

  it('does not wait for a background process that keeps the output open', async () => {
    const pids = join(dir, 'background.pids');
    const h = harness(`sleep 30 & echo $! > ${pids}; echo done`, { pipeGraceMs: 50 });
    const started = performance.now();
    const result = await h.executor.run(job(), h.ctx);
    assert.ok(performance.now() - started < 2000);
    assert.equal(result.status, 'SUCCEEDED');
    assert.match(result.log!, /done\n/);
    process.kill(Number(readFileSync(pids, 'utf8').trim()), 'SIGKILL');
  });

  it('an abort before the start runs nothing', async () => {
    const marker = join(dir, 'never');
    const h = harness(`touch ${marker}`);
    h.abort('cancel');
    const result = await h.executor.run(job(), h.ctx);
    assert.equal(result.status, 'CANCELED');
    assert.ok(!existsSync(marker));
  });

  it('a shell that cannot be started is FAILED SPAWN_ERROR', async () => {
    const h = harness('true', { shell: join(dir, 'no-such-shell') });
    const result = await h.executor.run(job(), h.ctx);
    assert.equal(result.status, 'FAILED');
    assert.equal(result.errorCode, 'SPAWN_ERROR');
  });

  it('resume reports the outcome lost rather than running the command again', async () => {
    const marker = join(dir, 'resumed');
    const h = harness(`touch ${marker}`);
    const result = await h.executor.resume(job({ externalId: null }), h.ctx);
    assert.equal(result.status, 'FAILED');
    assert.equal(result.errorCode, 'LOST');
    assert.equal(result.errorMessage, LOST_MESSAGE);
    assert.equal(LOST_MESSAGE, 'the service restarted while the command was running; its outcome is unknown');
    assert.ok(!existsSync(marker));
  });
});

describe('createExecutor', () => {
  it('builds the executor the configuration names', () => {
    const simulated = createExecutor({ kind: 'simulated', durationMs: 10, failureRate: 0 });
    assert.ok(simulated instanceof SimulatedExecutor);
    assert.equal(simulated.name, 'simulated');
    const qlik = createExecutor({ kind: 'qlik-cloud', tenantUrl: 'https://t.eu.qlikcloud.com', apiKey: 'k', pollIntervalMs: 5000 });
    assert.ok(qlik instanceof QlikCloudExecutor);
    assert.equal(qlik.name, 'qlik-cloud');
    const webhook = createExecutor({ kind: 'webhook', url: 'https://example.test/hook', secret: 's', timeoutMs: 1000, retries: 2 });
    assert.ok(webhook instanceof WebhookExecutor);
    assert.equal(webhook.name, 'webhook');
    const command = createExecutor({ kind: 'command', command: 'true' });
    assert.ok(command instanceof CommandExecutor);
    assert.equal(command.name, 'command');
  });
});
