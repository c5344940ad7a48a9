// What the CLI tests share: the real service started as a user starts it (`reload-task serve` on a
// temporary DATA_DIR, PORT=0), tokens from `reload-task token`, and the real CLI run as a process.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
export const APP = '116dbfae-7fb9-4983-8e23-5ccd8c508722';
// A config directory that does not exist: no saved contexts unless a test makes its own.
const NO_CONFIG = join(tmpdir(), `reload-tasks-cli-no-config-${process.pid}`);

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  input?: string;
}

/**
 * Runs `reload-task …` with `env` laid over a clean environment (no RELOAD_TASKS_* from the
 * developer's shell, a config directory of its own). Asynchronous, so that a stub server in the
 * test's own process can answer it.
 */
export function cli(args: readonly string[], options: RunOptions = {}): Promise<Result> {
  const env: Record<string, string> = { ...hermetic(), RELOAD_TASKS_CONFIG_DIR: NO_CONFIG };
  for (const [k, v] of Object.entries(options.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return run(process.execPath, ['--import', 'tsx', MAIN, ...args], env, options.input);
}

// The service's settings and the CLI's own variables, which a developer's shell may hold (a
// DATABASE_URL, a JWT_SECRET): the tests set what they need and nothing else leaks in.
const SETTING = /^(RELOAD_TASKS_|DATABASE_|REDIS_|JWT_|RATE_LIMIT_|PUBLIC_URL$|TRUST_PROXY$|HOST$|PORT$|DATA_DIR$|LOG_LEVEL$|EXECUTOR$|SCHEDULER_|MISFIRE_|CATCH_UP_|OVERLAP_|MAX_CONC|MAX_CONSEC|RELOAD_|QLIK_|WEBHOOK_|SIMULATED_|SHUTDOWN_)/;

function hermetic(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !SETTING.test(k)) env[k] = v;
  return env;
}

export function run(command: string, args: readonly string[], env: Record<string, string>, input?: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

/** Asserts success and parses stdout as JSON. */
export function json<T = unknown>(r: Result): T {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  assert.equal(r.stderr, '');
  return JSON.parse(r.stdout) as T;
}

export interface Service {
  readonly url: string;
  readonly dataDir: string;
  /** A scratch directory removed with the service (config directories, body files). */
  readonly scratch: string;
  token(tenant: string, user: string, ...extra: string[]): Promise<string>;
  stop(): Promise<void>;
}

export async function startService(env: Record<string, string> = {}): Promise<Service> {
  const scratch = mkdtempSync(join(tmpdir(), 'reload-tasks-cli-'));
  const dataDir = join(scratch, 'data');
  const serverEnv = { ...hermetic(), DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', SIMULATED_DURATION_MS: '50', ...env };
  const server: ChildProcess = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve'], { env: serverEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let banner = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner: ${banner}`)), 30_000);
    server.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      banner += chunk;
      const m = /listening on (http:\/\/\S+)/.exec(banner);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    server.stderr!.setEncoding('utf8').on('data', (chunk: string) => (banner += chunk));
    server.on('exit', (code) => reject(new Error(`server exited ${code}: ${banner}`)));
  });
  return {
    url,
    dataDir,
    scratch,
    async token(tenant, user, ...extra) {
      const r = await cli(['token', '--tenant', tenant, '--user', user, ...extra], { env: { DATA_DIR: dataDir } });
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.trim();
    },
    async stop() {
      if (server.exitCode === null) {
        const exited = new Promise((resolve) => server.on('exit', resolve));
        server.kill('SIGKILL');
        await exited;
      }
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}
