// `reload-task token`: the lifetime of what it prints. Its default once reached the signer as the
// text '1h', and tokens made without --expires-in expired some two million years later.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { cli } from './cli-harness.js';

const dataDir = mkdtempSync(join(tmpdir(), 'reload-tasks-token-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

async function lifetime(...extra: string[]): Promise<number> {
  const r = await cli(['token', '--tenant', 'acme', '--user', 'alice', ...extra], { env: { DATA_DIR: dataDir } });
  assert.equal(r.code, 0, r.stderr);
  const claims = JSON.parse(Buffer.from(r.stdout.trim().split('.')[1]!, 'base64url').toString());
  return claims.exp - claims.iat;
}

it('lives an hour by default, and as long as --expires-in says', async () => {
  assert.equal(await lifetime(), 3600);
  assert.equal(await lifetime('--admin'), 3600);
  assert.equal(await lifetime('--expires-in', '7d'), 7 * 86_400);
  assert.equal(await lifetime('--expires-in', '365d'), 365 * 86_400);
});

it('refuses a lifetime over 365 days as bad usage', async () => {
  const r = await cli(['token', '--tenant', 'acme', '--user', 'alice', '--expires-in', '366d'], { env: { DATA_DIR: dataDir } });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--expires-in: '366d' is not a duration/);
});
