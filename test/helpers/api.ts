/**
 * An API under test: the real Fastify app on a real SQLite file in a temporary directory, a
 * ManualClock, and tokens signed with that directory's local key. Requests go through
 * app.inject(), without a socket.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { ManualClock } from '../../src/clock.js';
import { loadConfig, type Config } from '../../src/config.js';
import { loadOrCreateLocalKey } from '../../src/auth/local-key.js';
import { mintToken } from '../../src/auth/mint.js';
import { createVerifier } from '../../src/auth/verifier.js';
import { buildApp } from '../../src/http/app.js';
import type { Store } from '../../src/store/store.js';
import { createTestStore } from './store.js';

export const NOW = Date.parse('2026-12-01T12:00:00Z');

export interface TestApi {
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly clock: ManualClock;
  readonly config: Config;
  readonly dir: string;
  token(tenantId: string, userId: string, opts?: { admin?: boolean; expiresInSeconds?: number }): Promise<string>;
  /** inject() with a bearer token for the given caller (default acme/alice) and a JSON body. */
  call(method: InjectOptions['method'], url: string, opts?: { body?: unknown; as?: [string, string] | string; admin?: boolean; headers?: Record<string, string> }): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export async function createTestApi(env: Record<string, string> = {}): Promise<TestApi> {
  const dir = mkdtempSync(join(tmpdir(), 'reload-tasks-test-'));
  const config = loadConfig({ DATA_DIR: dir, RATE_LIMIT_ENABLED: 'false', ...env });
  const testStore = await createTestStore(dir);
  const store = testStore.store;
  const clock = new ManualClock(NOW);
  const localKey = () => loadOrCreateLocalKey(dir);
  const app = await buildApp({ config, store, clock, verify: createVerifier(config.auth, localKey) });
  const tokens = new Map<string, string>();
  const token = async (tenantId: string, userId: string, opts: { admin?: boolean; expiresInSeconds?: number } = {}) => {
    const key = `${tenantId}/${userId}/${opts.admin === true}/${opts.expiresInSeconds ?? ''}`;
    let t = tokens.get(key);
    if (!t) {
      // Tokens are checked against the real clock (jose), so they are minted for real time.
      t = await mintToken(config.auth, localKey, { tenantId, userId, admin: opts.admin === true, expiresInSeconds: opts.expiresInSeconds ?? 3600, now: Date.now() });
      tokens.set(key, t);
    }
    return t;
  };
  return {
    app,
    store,
    clock,
    config,
    dir,
    token,
    async call(method, url, opts = {}) {
      const [tenant, user] = opts.as === undefined ? ['acme', 'alice'] : typeof opts.as === 'string' ? ['acme', opts.as] : opts.as;
      const headers: Record<string, string> = { authorization: `Bearer ${await token(tenant, user, { admin: opts.admin === true })}`, ...opts.headers };
      const inject: InjectOptions = { method, url, headers };
      if (opts.body !== undefined) {
        inject.payload = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
        headers['content-type'] ??= 'application/json';
      }
      return app.inject(inject);
    },
    async close() {
      await app.close();
      await testStore.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Asserts the error envelope and returns its single error. */
export function errorOf(res: LightMyRequestResponse): { code: string; title: string; detail: string; traceId: string } {
  if (!String(res.headers['content-type']).startsWith('application/json')) throw new Error(`not JSON: ${res.headers['content-type']} ${res.body}`);
  const body = res.json() as { errors?: Array<{ code: string; title: string; detail: string }>; traceId?: string };
  if (!Array.isArray(body.errors) || body.errors.length !== 1 || typeof body.traceId !== 'string') throw new Error(`not the error envelope: ${res.body}`);
  const [e] = body.errors;
  if (typeof e!.code !== 'string' || typeof e!.title !== 'string' || typeof e!.detail !== 'string') throw new Error(`incomplete error: ${res.body}`);
  return { ...e!, traceId: body.traceId };
}
