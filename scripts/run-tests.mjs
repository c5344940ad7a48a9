#!/usr/bin/env node
// Runs the test suite with Node's own test runner (TypeScript through tsx), twice where it matters:
//  1. every test/**/*.test.ts on SQLite (except *.postgres.test.ts);
//  2. the store, HTTP and scheduler tests again on PostgreSQL (TEST_STORE=postgres), plus the
//     *.postgres.test.ts files, when a server answers at TEST_DATABASE_URL (default: the local one).
//     TEST_POSTGRES=required (set by .ci/run) makes a missing server a failure instead of a notice;
//  3. with the first pass, the *.redis.test.ts files (rate limits shared by instances) when a Redis
//     server answers at TEST_REDIS_URL (default: the local one); TEST_REDIS=required likewise.
// Property tests (fast-check) take their seed from FUZZ_SEED; unset, it is derived from the commit
// under test, so a run on a given commit is the run CI makes on it, and each commit explores new
// cases. FUZZ_SEED=random lets fast-check pick.
// Node 20's --test does not expand globs, so the files are listed here. Extra arguments are passed
// to node --test (e.g. --test-name-pattern=DST).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';

function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return find(p);
    return e.name.endsWith('.test.ts') ? [p] : [];
  });
}

function run(files, env) {
  const args = ['--import', 'tsx', '--import', './scripts/property-seed.mjs', '--test', '--test-concurrency=3', ...process.argv.slice(2), ...files];
  return spawnSync(process.execPath, args, { stdio: 'inherit', env: { ...process.env, ...env } }).status ?? 1;
}

async function postgresAnswers(url) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

async function redisAnswers(url) {
  const client = new Redis(url, { connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

if (process.env.FUZZ_SEED === undefined || process.env.FUZZ_SEED === '') {
  const head = spawnSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' });
  if (head.status === 0 && /^[0-9a-f]{8}/.test(head.stdout)) process.env.FUZZ_SEED = String(parseInt(head.stdout.slice(0, 8), 16) & 0x7fffffff);
} else if (process.env.FUZZ_SEED === 'random') {
  delete process.env.FUZZ_SEED;
}
console.log(`# property tests: seed ${process.env.FUZZ_SEED ?? 'random'} (replay: FUZZ_SEED=<seed> npm test)`);

const all = find('test').sort();
const onBoth = (f) => /^test\/(store|http|scheduler)\//.test(f);
const redisFiles = all.filter((f) => f.endsWith('.redis.test.ts'));
const sqliteFiles = all.filter((f) => !f.endsWith('.postgres.test.ts') && !f.endsWith('.redis.test.ts'));
const postgresFiles = all.filter((f) => f.endsWith('.postgres.test.ts') || (onBoth(f) && !f.endsWith('.sqlite.test.ts')));

const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
let status = 0;
if (await redisAnswers(redisUrl)) {
  console.log(`# Redis (${redisUrl.replace(/\/\/[^@]*@/, '//')}): ${redisFiles.length} files, with the SQLite pass`);
  sqliteFiles.push(...redisFiles);
} else if (process.env.TEST_REDIS === 'required') {
  console.error(`# Redis did not answer at ${redisUrl}, and TEST_REDIS=required`);
  status = 1;
} else {
  console.log(`# Redis did not answer at ${redisUrl}: its tests were not run (set TEST_REDIS_URL to run them)`);
}
console.log(`# SQLite: ${sqliteFiles.length} files`);
status ||= run(sqliteFiles, { TEST_STORE: 'sqlite', TEST_REDIS_URL: redisUrl });

const url = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
if (await postgresAnswers(url)) {
  console.log(`# PostgreSQL (${url.replace(/\/\/[^@]*@/, '//')}): ${postgresFiles.length} files`);
  status ||= run(postgresFiles, { TEST_STORE: 'postgres', TEST_DATABASE_URL: url });
} else if (process.env.TEST_POSTGRES === 'required') {
  console.error(`# PostgreSQL did not answer at ${url}, and TEST_POSTGRES=required`);
  status ||= 1;
} else {
  console.log(`# PostgreSQL did not answer at ${url}: its pass was not run (set TEST_DATABASE_URL to run it)`);
}
process.exit(status);
