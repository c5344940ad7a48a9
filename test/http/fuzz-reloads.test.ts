/**
 * Property-based robustness tests (fast-check) of the endpoints next to the reload tasks:
 * /api/v1/reloads (list, create, get, cancel), /api/v1/events and
 * /api/v1/reload-tasks/{taskId}/occurrences, against the real app on the store TEST_STORE picks
 * (SQLite by default, or PostgreSQL). The reload-task endpoints themselves are in fuzz.test.ts.
 *
 * Whatever a client sends, the answer is a success of the documented shape or a 4xx in the error
 * envelope `{"errors":[{"code","title","detail"}],"traceId"}`, never a 5xx; lists keep their
 * filters and pages; a refused POST /api/v1/reloads queues nothing.
 *
 *   FUZZ_RUNS=100   scale of every property's run count (default 100: ~2,900 requests in ~4 s on
 *                   SQLite, ~7 s on PostgreSQL; 1000: ~29,000 in ~25 s)
 *   FUZZ_SEED=n     replay a failure (fast-check prints the seed and path of each failure)
 *   FUZZ_SHRINK=0   report the first failure as found, without shrinking it
 *
 * A failure prints the request (method, url, headers with tokens replaced by `<token tenant/user>`,
 * body) and the response.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it, type TestContext } from 'node:test';
import fc from 'fast-check';
import { EVENT_TYPES } from '../../src/http/events-routes.js';
import { RELOAD_STATUSES } from '../../src/reloads/reload.js';
import { SimulatedExecutor } from '../../src/reloads/executors/simulated.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { createTestApi, type TestApi } from '../helpers/api.js';
import { authOf, checkAnswer, checkEnvelope, checkListLinks, clip, detailOf, expect, fail, ID_VARIANTS, idVariant, isAbsoluteUrl, reachesCollection, issuedCursors, json, jsonOf, mutate, mutationArb, objectBody, pct, PERCENT_GARBAGE, queryString, render, RUNS, runs, send, sendJson, serverPairs, stats, tokenOf, useApi, type Body, type Caller, type Exchange, type IdVariant, type Mutation, type QueryPart, type Req, type Val } from '../helpers/fuzz.js';
import { quiet } from '../helpers/scheduler.js';
import { TEST_STORE } from '../helpers/store.js';

// ---------------------------------------------------------------------------------------------
// Requests (run counts, sending, the shared checks and JSON body descriptors: test/helpers/fuzz.ts)

const RELOADS = '/api/v1/reloads';
const EVENTS = '/api/v1/events';
const TASKS = '/api/v1/reload-tasks';
const HEX24 = /^[0-9a-f]{24}$/;
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UTC_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const RELOAD_TYPES = ['hub', 'external', 'chronos', 'automations', 'data-refresh', 'choreographer'];
const RESOURCE_TYPES = ['api', 'reload-tasks', 'tasks', 'automate'];
const CONTROL = /[\u0000-\u001f\u007f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const ALICE: Caller = { tenant: 'acme', user: 'alice' };
const BOB: Caller = { tenant: 'acme', user: 'bob' };
const ROOT: Caller = { tenant: 'acme', user: 'root', admin: true };
const GINA: Caller = { tenant: 'globex', user: 'gina' };
const GINA_ADMIN: Caller = { tenant: 'globex', user: 'gadmin', admin: true };
/** The events tenant: /api/v1/events deletes and disables tasks, so it gets a tenant of its own. */
const IVAN: Caller = { tenant: 'initech', user: 'ivan' };
const IVY: Caller = { tenant: 'initech', user: 'ivy' };
const IADMIN: Caller = { tenant: 'initech', user: 'iadmin', admin: true };
/** An admin of a tenant without tasks: whatever the event, it reaches none of the others'. */
const HADMIN: Caller = { tenant: 'hooli', user: 'ivan', admin: true };

let api: TestApi;
/** The reload shape of a success body; `withLog` false: the record must not carry its log. */
const SORT_FIELDS = ['creationTime', 'status', 'startTime', 'endTime'];
/** Where a reload of a list answer stands in a sort by `field`: (value, id), an unset time as -1. */
function sortPosition(field: string, r: Record<string, unknown>): [string | number, string] {
  const id = String(r.id);
  if (field === 'status') return [String(r.status), id];
  if (field === 'startTime' || field === 'endTime') return [typeof r[field] === 'string' ? Date.parse(r[field] as string) : -1, id];
  return [id, id];
}
function comparePositions(a: [string | number, string], b: [string | number, string]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
}

function checkReload(ex: Exchange, r: unknown, caller: Caller, withLog: boolean): asserts r is Record<string, unknown> {
  expect(ex, typeof r === 'object' && r !== null && !Array.isArray(r), 'a reload that is not an object');
  const reload = r as Record<string, unknown>;
  expect(ex, typeof reload.id === 'string' && HEX24.test(reload.id), 'a reload id that is not 24 hex');
  expect(ex, typeof reload.type === 'string' && RELOAD_TYPES.includes(reload.type), 'a reload type not in the enum');
  expect(ex, typeof reload.status === 'string' && (RELOAD_STATUSES as readonly string[]).includes(reload.status), 'a reload status not in the enum');
  expect(ex, typeof reload.resourceType === 'string' && RESOURCE_TYPES.includes(reload.resourceType), 'a resourceType not in the enum');
  for (const k of ['appId', 'userId', 'tenantId']) expect(ex, typeof reload[k] === 'string' && reload[k] !== '', `a reload without a string ${k}`);
  expect(ex, typeof reload.partial === 'boolean', 'a reload without a boolean partial');
  expect(ex, Number.isInteger(reload.weight) && (reload.weight as number) >= 1 && (reload.weight as number) <= 10, 'a reload without a weight from 1 to 10');
  expect(ex, typeof reload.creationTime === 'string' && ISO_MS.test(reload.creationTime), 'a creationTime that is not an ISO instant');
  for (const k of ['startTime', 'endTime']) expect(ex, reload[k] === undefined || (typeof reload[k] === 'string' && ISO_MS.test(reload[k])), `a ${k} that is not an ISO instant`);
  expect(ex, reload.scheduledTime === undefined || (typeof reload.scheduledTime === 'string' && UTC_SECONDS.test(reload.scheduledTime)), 'a scheduledTime that is not YYYY-MM-DDTHH:MM:SSZ');
  for (const k of ['log', 'errorCode', 'errorMessage']) expect(ex, reload[k] === undefined || typeof reload[k] === 'string', `a ${k} that is not a string`);
  expect(ex, reload.resourceId === undefined || (typeof reload.resourceId === 'string' && reload.resourceId !== '' && reload.resourceId.length <= 128), 'a resourceId that is not a string of 1 to 64 characters');
  if (reload.resourceType === 'reload-tasks') expect(ex, typeof reload.resourceId === 'string' && HEX24.test(reload.resourceId), 'a reload-tasks resourceId that is not a task id');
  if (!withLog) expect(ex, reload.log === undefined, 'a reload with its log although log=true was not asked for');
  // What the caller may see: their tenant's, and only their own unless an admin.
  expect(ex, reload.tenantId === caller.tenant, "another tenant's reload");
  if (caller.admin !== true) expect(ex, reload.userId === caller.user, "another user's reload, to a caller who is not an admin");
  const href = (reload.links as { self?: { href?: unknown } } | undefined)?.self?.href;
  expect(ex, isAbsoluteUrl(href) && (href as string).endsWith(`${RELOADS}/${String(reload.id)}`), 'links.self.href is not the absolute URL of the reload');
}

// ---------------------------------------------------------------------------------------------
// JSON bodies (written as member lists, test/helpers/fuzz.ts): how the server reads them.

/** The body as the server parses it (JSON.parse: the last of duplicate keys wins), or undefined when it is not JSON. */
function parsed(text: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return undefined;
  }
}

/** Whether a parsed JSON value has a key or string anywhere that is not well-formed UTF-16. */
function hasLoneSurrogate(v: unknown): boolean {
  const stack = [v];
  while (stack.length > 0) {
    const x = stack.pop();
    if (typeof x === 'string') {
      if (LONE_SURROGATE.test(x)) return true;
    } else if (Array.isArray(x)) stack.push(...(x as unknown[]));
    else if (x !== null && typeof x === 'object') {
      for (const [k, y] of Object.entries(x)) {
        if (LONE_SURROGATE.test(k)) return true;
        stack.push(y);
      }
    }
  }
  return false;
}

/** Ajv counts code points, not UTF-16 units. */
const codePoints = (s: string): number => [...s].length;
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** Keys secure-json-parse refuses (constructor only with a prototype member). */
function poisoned(v: unknown): boolean {
  const stack = [v];
  while (stack.length > 0) {
    const x = stack.pop();
    if (Array.isArray(x)) stack.push(...(x as unknown[]));
    else if (isRecord(x)) {
      if (Object.prototype.hasOwnProperty.call(x, '__proto__')) return true;
      if (Object.prototype.hasOwnProperty.call(x, 'constructor') && isRecord(x.constructor) && Object.prototype.hasOwnProperty.call(x.constructor, 'prototype')) return true;
      stack.push(...Object.values(x));
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Arbitraries: values

/** One half of a surrogate pair, alone (valid in a JSON string as an escape, not valid UTF-16). */
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const controlChar = fc.oneof(fc.integer({ min: 0, max: 0x1f }), fc.constant(0x7f)).map((c) => String.fromCharCode(c));

/** Odd app and user ids: plausible, random, binary, control characters, lone surrogates, very long. */
const idStringArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('app-a', 'app-b', 'app-c', 'ev-a', 'ev-b', 'ivan', 'ivy', 'alice', '5be59decca62aa00097268a4', 'f3b1c2d4-0a1b-4c5d-8e9f-0123456789ab') },
  { weight: 3, arbitrary: fc.string({ minLength: 1, maxLength: 60 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }) },
  { weight: 2, arbitrary: fc.tuple(fc.string({ maxLength: 5 }), controlChar, fc.string({ maxLength: 5 })).map(([a, c, b]) => `app${a}${c}${b}`) },
  { weight: 2, arbitrary: fc.tuple(fc.string({ maxLength: 5 }), loneSurrogate).map(([a, b]) => `app${a}${b}`) },
  { weight: 1, arbitrary: fc.integer({ min: 250, max: 300 }).chain((n) => fc.constantFrom('x', 'é', '😀', '\u0000').map((ch) => ch.repeat(n))) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('', ' ', '\t', 'a\u0000', '\u0000', 'a\u0000b', 'a\nb', '\u007f', '\u0080', '\u2028', '\u202e', '\ufeffapp', '\uffff', '\ufffe', '\ud83d\ude00', 'x'.repeat(256), 'x'.repeat(257), 'x'.repeat(70_000), "'; DROP TABLE reloads; --", '%s%n', '${{7*7}}', '\\', '"', '%00', '\\u0000'),
  },
);

/** Any JSON value a client could put anywhere. */
const anyValue: fc.Arbitrary<Val> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(null, true, false, 0, -0, 1, -1, 1.5, 10, 11, 1e308, -1e308, 2 ** 53 + 1, '', ' ', 'true', 'false', 'null', '0', '[]', '{}', 'app-a', 'a\u0000', [], {}, [null], ['app-a'], { appId: 'x' }, { a: 'b' }).map(json) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map(json) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }).map(json) },
  { weight: 1, arbitrary: fc.double().map(json) },
  { weight: 1, arbitrary: idStringArb.map(json) },
  { weight: 1, arbitrary: fc.record({ n: fc.integer({ min: 300, max: 80_000 }), ch: fc.constantFrom('x', 'é', '😀', '\\', '"', ' ', '\u0000') }).map(({ n, ch }): Val => ({ k: 'huge', n, ch })) },
  { weight: 1, arbitrary: fc.record({ depth: fc.integer({ min: 1, max: 15_000 }), open: fc.constantFrom('array' as const, 'object' as const) }).map(({ depth, open }): Val => ({ k: 'deep', depth, open })) },
  { weight: 1, arbitrary: fc.constantFrom('{', '[1,]', 'NaN', '"\\ud800"', '"\\u0000"', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{}}}').map((text): Val => ({ k: 'raw', text })) },
);



/** A valid body with 0 to 4 mutations (none a third of the time). */
function mutated(valid: fc.Arbitrary<Body>, keyArb: fc.Arbitrary<string>, maxMutations = 4): fc.Arbitrary<Body> {
  return fc
    .tuple(valid, fc.oneof({ weight: 1, arbitrary: fc.constant<Mutation[]>([]) }, { weight: 2, arbitrary: fc.array(mutationArb(keyArb, anyValue), { minLength: 1, maxLength: maxMutations }) }))
    .map(([v, mutations]) => mutations.reduce(mutate, v));
}

const WEIRD_KEYS = ['__proto__', 'constructor', 'prototype', 'id', 'userId', 'tenantId', 'status', 'type', 'resourceId', 'resourceType', 'links', 'log', 'APPID', 'appid', '', '\u0000', 'hasOwnProperty', 'toString', '$ref', 'appId\u0000'];

// ---------------------------------------------------------------------------------------------
// Query strings (as in fuzz.test.ts)

/** How the server reads a query string (as Fastify's fast-querystring does): ordered pairs. */


const garbageArb = fc.array(fc.constantFrom(...PERCENT_GARBAGE), { minLength: 1, maxLength: 3 }).map((a) => a.join(''));
const genericValue = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 10 }) },
  { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 4 }), controlChar).map(([a, c]) => a + c) },
  { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 4 }), loneSurrogate).map(([a, c]) => a + c) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 20_000 }).map((n) => 'v'.repeat(n)) },
);
const HUGE_NUMBERS = ['99999999999999999999', '1e400', '-1e400', '9007199254740993', '2147483648', '-2147483649', '0x7fffffff', '1e1', '10.0', ' 5', '5 ', '', '+3', '1.5', 'NaN', 'Infinity', '-0', '00001', 'true'];
const booleanValue = fc.oneof({ weight: 4, arbitrary: fc.constantFrom('true', 'false') }, { weight: 2, arbitrary: fc.constantFrom('TRUE', 'False', '1', '0', 'yes', '', 'null', 'true ') }, { weight: 1, arbitrary: genericValue });

function queryParts(keyArb: fc.Arbitrary<string>, valueOf: (key: string) => fc.Arbitrary<string>, maxLength = 6): fc.Arbitrary<QueryPart[]> {
  const part = keyArb.chain((key) => fc.record({ key: fc.constant(key), value: fc.option(valueOf(key), { nil: null, freq: 12 }), raw: fc.boolean() }));
  return fc.array(part, { maxLength });
}

// ---------------------------------------------------------------------------------------------
// Fixtures: tasks, scheduled and manual reloads in every status, occurrences, cursors

interface Seeded {
  readonly id: string;
  readonly owner: Caller;
}

const tasks: Seeded[] = [];
const reloads: Seeded[] = [];
const cursorPool: string[] = [];
/** The events tenant's tasks: every event starts from these (a destructive one is undone after it). */
const EVENT_FIXTURE = [
  { owner: IVAN, appId: 'ev-a', autoReload: true },
  { owner: IVAN, appId: 'ev-b', autoReload: true },
  { owner: IVY, appId: 'ev-a', autoReload: true },
  { owner: IVY, appId: 'ev-b', autoReload: false },
] as const;
const eventTasks: string[] = [];

async function createEventTask(i: number): Promise<void> {
  const f = EVENT_FIXTURE[i]!;
  eventTasks[i] = (await create(f.owner, TASKS, { appId: f.appId, timeZone: 'UTC', autoReload: f.autoReload, autoReloadPartial: f.appId === 'ev-b' })).id as string;
}

/** What an event does to the fixture: how many tasks it reloads, deletes or disables. */
function eventTaskCount(type: string, value: unknown): number {
  const field = type === 'com.qlik.v1.user.deleted' || type === 'com.qlik.v1.user.disabled' ? 'owner' : 'appId';
  return EVENT_FIXTURE.filter((f) => (field === 'owner' ? f.owner.user === value : f.appId === value) && (type !== 'com.qlik.v1.app.data.updated' || f.autoReload)).length;
}

/** Undoes an event: deleted tasks are created again, disabled ones enabled. */
async function restoreEventTasks(type: string, value: unknown): Promise<void> {
  for (const [i, f] of EVENT_FIXTURE.entries()) {
    if (type === 'com.qlik.v1.app.deleted' && f.appId === value) await createEventTask(i);
    if ((type === 'com.qlik.v1.user.deleted' || type === 'com.qlik.v1.user.disabled') && f.owner.user === value) {
      const ex = await sendJson(f.owner, 'PUT', `${TASKS}/${eventTasks[i]}`, JSON.stringify({ state: 'Enabled' }));
      expect(ex, ex.res.statusCode === 200, 'fixture: enabling an events task again failed');
    }
  }
}

async function create(c: Caller, url: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const ex = await sendJson(c, 'POST', url, JSON.stringify(body));
  expect(ex, ex.res.statusCode === 201, `fixture: POST ${url} failed`);
  return jsonOf(ex) as Record<string, unknown>;
}

async function seedReload(c: Caller, body: Record<string, unknown>): Promise<string> {
  const r = await create(c, RELOADS, body);
  reloads.push({ id: r.id as string, owner: c });
  return r.id as string;
}

// SCIM filters (GET /api/v1/reloads?filter=…), generated as trees, rendered with random case and
// spacing, and evaluated here on each listed item, independently of src/reloads/scim-filter.ts.
type Scim = { kind: 'eq'; attr: 'status' | 'partial' | 'type'; value: string; quoted: boolean } | { kind: 'and' | 'or'; l: Scim; r: Scim } | { kind: 'not'; x: Scim };
const scimArb: fc.Arbitrary<Scim> = fc.letrec<{ node: Scim }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.oneof(
      fc.record({ kind: fc.constant('eq' as const), attr: fc.constant('status' as const), value: fc.constantFrom(...RELOAD_STATUSES), quoted: fc.constant(true) }),
      fc.record({ kind: fc.constant('eq' as const), attr: fc.constant('partial' as const), value: fc.constantFrom('true', 'false'), quoted: fc.boolean() }),
      fc.record({ kind: fc.constant('eq' as const), attr: fc.constant('type' as const), value: fc.constantFrom('chronos', 'external', 'data-refresh', 'hub'), quoted: fc.constant(true) }),
    ),
    fc.record({ kind: fc.constantFrom('and' as const, 'or' as const), l: tie('node'), r: tie('node') }),
    fc.record({ kind: fc.constant('not' as const), x: tie('node') }),
  ),
})).node;
/** Each rendered filter and the tree it came from (renderings are deterministic per tree and seed). */
const renderedScim = new Map<string, Scim>();
function renderScim(n: Scim): string {
  const text = (function r(x: Scim): string {
    switch (x.kind) {
      case 'eq':
        return `${x.attr === 'status' ? 'Status' : x.attr} ${x.attr === 'type' ? 'EQ' : 'eq'} ${x.quoted ? JSON.stringify(x.value) : x.value}`;
      case 'not':
        return `not (${r(x.x)})`;
      default:
        return `(${r(x.l)}) ${x.kind === 'and' ? 'and' : 'OR'} (${r(x.r)})`;
    }
  })(n);
  renderedScim.set(text, n);
  return text;
}
function evalScim(n: Scim, r: Record<string, unknown>): boolean {
  switch (n.kind) {
    case 'eq':
      return n.attr === 'partial' ? String(r.partial) === n.value : r[n.attr] === n.value;
    case 'and':
      return evalScim(n.l, r) && evalScim(n.r, r);
    case 'or':
      return evalScim(n.l, r) || evalScim(n.r, r);
    case 'not':
      return !evalScim(n.x, r);
  }
}
const BAD_FILTERS: readonly string[] = ['', 'appId eq "app-a"', 'status ne "FAILED"', 'status eq "DONE"', 'status eq FAILED', 'status eq "FAILED', '(status eq "FAILED"', 'status eq "FAILED")', 'status eq "FAILED" and', 'not status eq "FAILED"', 'partial eq "yes"', 'type eq "nightly"', 'status co "FAIL"', 'x'.repeat(1025)];

before(async () => {
  api = await createTestApi();
  useApi(api);
  const hourly = { timeZone: 'UTC', startDateTime: '2026-12-01T12:00:00', recurrence: ['RRULE:FREQ=HOURLY;BYMINUTE=30'] };
  for (const [c, appId, extra] of [
    [ALICE, 'app-a', { autoReload: true }],
    [ALICE, 'app-b', { partial: true }],
    [ALICE, 'app-c', {}],
    [BOB, 'app-a', {}],
    [GINA, 'app-a', {}],
  ] as const) {
    const t = await create(c, TASKS, { appId, ...hourly, ...extra });
    tasks.push({ id: t.id as string, owner: c });
  }
  // Manual reloads, then a scheduler pass: four occurrences are due for each task (three missed,
  // one fired), and every queued reload runs (a few fail).
  // (An app with a queued reload takes no other: RELOADS-429. So a second one of each app has an app id of its own.)
  for (let i = 0; i < 6; i++) await seedReload(i % 3 === 2 ? BOB : ALICE, { appId: `app-${'abc'[i % 3]}${i < 3 ? '' : '2'}`, partial: i % 2 === 0 });
  await seedReload(GINA, { appId: 'app-a' });
  let n = 0;
  const scheduler = new Scheduler(api.store, new SimulatedExecutor({ durationMs: 0, failureRate: 0.5, random: () => (n++ % 3 === 0 ? 0 : 0.9) }), api.clock, quiet, api.config.scheduler, 'fuzz');
  api.clock.set(Date.parse('2026-12-01T15:45:00Z'));
  await scheduler.tick();
  await scheduler.dispatcher.idle();
  // The scheduled reloads (type chronos, with a resourceId) are the tasks' owners'.
  for (const t of tasks) {
    for (const r of await api.store.listReloads({ tenantId: t.owner.tenant, resourceId: t.id, limit: 100 })) reloads.push({ id: r.id, owner: t.owner });
  }
  // Queued reloads (cancel: 204), running ones (202) and canceled ones (409).
  api.clock.advance(60_000);
  for (let i = 0; i < 24; i++) {
    api.clock.advance(1000);
    await seedReload(([ALICE, ALICE, BOB, ROOT, GINA, GINA_ADMIN] as const)[i % 6]!, { appId: `app-${'abc'[i % 3]}${i < 3 ? '' : `-${i}`}`, partial: i % 4 === 0 });
  }
  await api.store.claimQueued(api.clock.now(), 'fuzz', api.clock.now() + 3_600_000, 'simulated', { global: 6, perTenant: 6, batch: 6 });
  const fresh = reloads.slice(-24);
  // The first six run now (oldest first): two of them are asked to cancel (CANCELING), and the last four queued ones (CANCELED).
  for (const r of [...fresh.slice(0, 2), ...fresh.slice(-4)]) {
    const ex = await sendJson(r.owner, 'POST', `${RELOADS}/${r.id}/actions/cancel`);
    expect(ex, [202, 204].includes(ex.res.statusCode), 'fixture: cancel failed');
  }
  const statuses = new Set<string>();
  for (const r of reloads) statuses.add((await api.store.getReload(r.owner.tenant, r.id))!.status);
  for (const s of ['QUEUED', 'RELOADING', 'CANCELING', 'CANCELED', 'SUCCEEDED', 'FAILED']) assert.ok(statuses.has(s), `fixture: no ${s} reload (${[...statuses].join()})`);
  // Cursors the service really issued (reloads with several filters, and one of the tasks list, which
  // this list must refuse), to be replayed, swapped and tampered with.
  for (const [c, url] of [[ALICE, `${RELOADS}?limit=2`], [ROOT, `${RELOADS}?limit=3&appId=app-a`], [ALICE, `${RELOADS}?limit=1&partial=true&log=true`], [ROOT, `${RELOADS}?limit=2&status=SUCCEEDED`], [GINA, `${RELOADS}?limit=1`], [ALICE, `${TASKS}?limit=1`]] as const) cursorPool.push(...(await issuedCursors(c, url, 3)));
  assert.ok(cursorPool.length >= 6, 'fixture: no cursors were issued');
  // The events tenant: auto-reload tasks of two apps, owned by two users.
  for (let i = 0; i < EVENT_FIXTURE.length; i++) await createEventTask(i);
});

after(async () => {
  await api?.close();
});

/** Runs a property and reports its requests and time. */
async function property(t: TestContext, run: () => Promise<void>): Promise<void> {
  const r0 = stats.requests;
  const t0 = performance.now();
  stats.statuses.clear();
  try {
    await run();
  } finally {
    const statuses = [...stats.statuses].sort(([a], [b]) => a - b).map(([code, n]) => `${code}×${n}`).join(' ');
    t.diagnostic(`${stats.requests - r0} requests in ${Math.round(performance.now() - t0)} ms (FUZZ_RUNS=${RUNS}, store ${TEST_STORE}): ${statuses}`);
  }
}

const CALLERS = { alice: ALICE, bob: BOB, root: ROOT, gina: GINA } as const;
type CallerName = keyof typeof CALLERS;
const callerArb = fc.constantFrom(...(Object.keys(CALLERS) as CallerName[]));

const tamper = (c: string, at: number, ch: string): string => {
  const i = at % c.length;
  return c.slice(0, i) + (c[i] === ch ? 'A' : ch) + c.slice(i + 1);
};

// ---------------------------------------------------------------------------------------------

describe('fuzz: reloads, events and occurrences never answer 5xx and always answer the envelope', () => {
  it('1. GET /api/v1/reloads with random query strings: 200 {data, links} with absolute links that keep the filters, or a 4xx envelope', async (t) => {
    const cursorArb = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...cursorPool) },
      { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...cursorPool), fc.nat(), fc.constantFrom('A', '_', '-', '.', '0', '=')).map(([c, at, ch]) => tamper(c, at, ch)) },
      { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{0,40}(\.[A-Za-z0-9_-]{0,20})?$/) },
      { weight: 1, arbitrary: fc.constantFrom('', '.', 'a.', '.a', 'a.b', '..', 'YWk.AAAAAAAAAAAAAAAA', 'x'.repeat(513), 'YWl4.' + 'A'.repeat(16)) },
      { weight: 1, arbitrary: genericValue },
    );
    const valueOf = (key: string): fc.Arbitrary<string> => {
      switch (key) {
        case 'limit':
          return fc.oneof({ weight: 5, arbitrary: fc.integer({ min: -5, max: 150 }).map(String) }, { weight: 2, arbitrary: fc.constantFrom(...HUGE_NUMBERS) }, { weight: 1, arbitrary: genericValue });
        case 'partial':
        case 'log':
          return booleanValue;
        case 'next':
        case 'prev':
          return cursorArb;
        case 'status':
          return fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...RELOAD_STATUSES) }, { weight: 1, arbitrary: fc.constantFrom('queued', 'DONE', '', 'QUEUED ', 'SUCCEEDED,FAILED') }, { weight: 1, arbitrary: genericValue });
        case 'appId':
          return fc.oneof({ weight: 3, arbitrary: fc.constantFrom('app-a', 'app-b', 'app-c', 'nope') }, { weight: 2, arbitrary: idStringArb }, { weight: 1, arbitrary: genericValue });
        case 'resourceId':
          return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...tasks.map((s) => s.id)) }, { weight: 1, arbitrary: fc.stringMatching(/^[0-9a-f]{24}$/) }, { weight: 1, arbitrary: fc.integer({ min: 60, max: 70 }).map((n) => 'a'.repeat(n)) }, { weight: 2, arbitrary: genericValue });
        case 'sort':
          return fc.constantFrom('-creationTime', 'creationTime', 'creationTime', '%2BcreationTime', '+creationTime', '', '-id', 'status', '-endTime', '%2BstartTime', 'endTime', '-status', 'Status', 'endtime', '--endTime');
        case 'filter':
          return fc.oneof(
            { weight: 4, arbitrary: scimArb.map(renderScim) },
            { weight: 1, arbitrary: fc.constantFrom(...BAD_FILTERS) },
            { weight: 1, arbitrary: genericValue },
          );
        default:
          return genericValue;
      }
    };
    const keyArb = fc.oneof(
      { weight: 12, arbitrary: fc.constantFrom('limit', 'appId', 'partial', 'next', 'prev', 'status', 'resourceId', 'log') },
      { weight: 1, arbitrary: fc.constantFrom('sort', 'filter') },
      { weight: 2, arbitrary: fc.constantFrom('LIMIT', 'limit[]', 'appId[0]', 'status[]', '__proto__', 'constructor', 'hasOwnProperty', 'toString', 'page', 'offset', '', 'a b', 'next ', 'appid', 'userId', 'tenantId') },
      { weight: 1, arbitrary: fc.string({ maxLength: 10 }) },
    );
    const specArb = fc.record({
      caller: callerArb,
      parts: queryParts(keyArb, valueOf),
      garbage: fc.array(garbageArb, { maxLength: 2 }),
      separator: fc.constantFrom('&', '&', '&', '&&'),
    });
    await property(t, () =>
      fc.assert(
        fc.asyncProperty(specArb, async (q) => {
          const search = queryString(q.parts, q.garbage, q.separator);
          const url = search === '' ? RELOADS : `${RELOADS}?${search}`;
          const caller = CALLERS[q.caller];
          const ex = await sendJson(caller, 'GET', url);
          checkAnswer(ex);
          const s = ex.res.statusCode;
          expect(ex, s === 200 || s === 400, 'expected 200 or 400');
          // The query as it reached the server (inject() percent-encodes a few characters first).
          const pairs = serverPairs(new URL(url, 'http://localhost').search);
          const all = (k: string): string[] => pairs.filter(([key]) => key === k).map(([, v]) => v);
          const one = (k: string): string | undefined => (all(k).length === 1 ? all(k)[0] : undefined);
          if (all('next').length > 0 && all('prev').length > 0) expect(ex, s === 400, 'both next and prev: expected 400');
          const filter = one('filter');
          if (filter !== undefined && BAD_FILTERS.includes(filter)) {
            expect(ex, s === 400, 'a filter that is not valid: expected 400');
            // The detail names the first invalid parameter, which need not be this one.
            if (pairs.length === 1) expect(ex, detailOf(ex).startsWith('filter: '), 'the detail does not name the filter');
          }
          const limit = one('limit');
          if (limit !== undefined && /^\d+$/.test(limit) && (Number(limit) < 1 || Number(limit) > 100)) expect(ex, s === 400, 'limit out of 1..100: expected 400');
          const status = one('status');
          if (status !== undefined && !(RELOAD_STATUSES as readonly string[]).includes(status)) expect(ex, s === 400, 'a status not in the enum: expected 400');
          for (const k of ['appId', 'resourceId']) {
            const v = one(k);
            if (v !== undefined && CONTROL.test(v)) {
              expect(ex, s === 400, `a control character in ${k}: expected 400`);
              // The detail names the first invalid parameter, which need not be this one.
              if (!/^\w+: /.test(detailOf(ex))) fail(ex, 'the detail does not name the parameter');
            }
          }
          if (s !== 200) return;
          const body = jsonOf(ex) as { data?: unknown; links?: Record<string, { href?: unknown } | undefined> };
          expect(ex, Object.keys(body).sort().join() === 'data,links', 'a list that is not {data, links}');
          expect(ex, Array.isArray(body.data), 'a list without data');
          const data = body.data as unknown[];
          const withLog = one('log') === 'true';
          for (const r of data) checkReload(ex, r, caller, withLog);
          const items = data as Array<Record<string, unknown>>;
          const sort = one('sort');
          const field = sort?.replace(/^[+-]/, '') ?? 'creationTime';
          if (sort !== undefined && !SORT_FIELDS.includes(field)) fail(ex, `sort=${sort}: expected 400`);
          const ascending = sort !== undefined && !sort.startsWith('-');
          for (let i = 1; i < items.length; i++) {
            const [a, b] = [sortPosition(field, items[i - 1]!), sortPosition(field, items[i]!)];
            expect(ex, ascending ? comparePositions(a, b) < 0 : comparePositions(a, b) > 0, `sort=${sort ?? '(none)'}: a list that is not in ${ascending ? 'ascending' : 'descending'} (${field}, id) order`);
          }
          const n = limit === undefined ? 10 : Number(limit);
          if (Number.isInteger(n) && n >= 1 && n <= 100) expect(ex, items.length <= n, 'more items than the limit');
          // The filters hold for every item.
          for (const k of ['appId', 'status', 'resourceId'] as const) {
            const v = one(k);
            if (v !== undefined) for (const r of items) expect(ex, r[k] === v, `an item whose ${k} is not the ${k} asked for`);
          }
          const partial = one('partial');
          if (partial === 'true' || partial === 'false') for (const r of items) expect(ex, r.partial === (partial === 'true'), 'an item whose partial is not the partial asked for');
          const scim = filter !== undefined ? renderedScim.get(filter) : undefined;
          if (scim) for (const r of items) expect(ex, evalScim(scim, r), `an item that does not satisfy the filter: ${clip(JSON.stringify({ status: r.status, partial: r.partial, type: r.type }))}`);
          checkListLinks(ex, body.links, RELOADS, pairs);
        }),
        runs(5),
      ),
    );
  });

  /** `arb` with probability p, else undefined. */
  const sometimes = <T,>(arb: fc.Arbitrary<T>, p: number): fc.Arbitrary<T | undefined> => fc.oneof({ weight: Math.round(p * 100), arbitrary: arb }, { weight: Math.round((1 - p) * 100), arbitrary: fc.constant(undefined) });

  it('1b. GET /api/v1/reloads pages: next links visit every selected reload once, in the order asked for, and prev links lead back', async (t) => {
    const specArb = fc.record({
      caller: callerArb,
      // Few filters most of the time, so that there are several pages to walk.
      filters: fc
        .record({
          appId: sometimes(fc.constantFrom('app-a', 'app-b', 'app-c'), 0.3),
          status: sometimes(fc.constantFrom(...RELOAD_STATUSES), 0.25),
          partial: sometimes(fc.constantFrom('true', 'false'), 0.3),
          resourceId: sometimes(fc.constantFrom(...tasks.map((x) => x.id)), 0.15),
          log: sometimes(fc.constantFrom('true', 'false'), 0.5),
          sort: sometimes(fc.constantFrom('creationTime', '%2BcreationTime', '-creationTime', 'status', '-status', 'startTime', '-startTime', '%2BendTime', '-endTime'), 0.4),
          filter: sometimes(scimArb.map((n) => encodeURIComponent(renderScim(n))), 0.3),
        })
        .map((f) => Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined)) as Partial<Record<'appId' | 'status' | 'partial' | 'resourceId' | 'log' | 'sort' | 'filter', string>>),
      limit: fc.integer({ min: 1, max: 5 }),
    });
    const path = (href: string): string => new URL(href).pathname + new URL(href).search;
    async function walk(caller: Caller, url: string, rel: 'next' | 'prev', withLog: boolean): Promise<{ pages: string[][]; last: Exchange }> {
      const pages: string[][] = [];
      let next: string | undefined = url;
      let ex: Exchange | undefined;
      while (next !== undefined) {
        ex = await sendJson(caller, 'GET', next);
        checkAnswer(ex);
        expect(ex, ex.res.statusCode === 200, `following links.${rel}: expected 200`);
        const body = jsonOf(ex) as { data: Array<Record<string, unknown>>; links: Record<string, { href: string } | undefined> };
        for (const r of body.data) checkReload(ex, r, caller, withLog);
        pages.push(body.data.map((r) => r.id as string));
        expect(ex, pages.length <= 200, `more than 200 pages following links.${rel}`);
        const href = body.links[rel]?.href;
        next = href === undefined ? undefined : path(href);
      }
      return { pages, last: ex! };
    }
    await property(t, () =>
      fc.assert(
        fc.asyncProperty(specArb, async ({ caller: name, filters, limit }) => {
          const caller = CALLERS[name];
          const q = Object.entries(filters).map(([k, v]) => `${k}=${v}`);
          const withLog = filters.log === 'true';
          const reference = (await walk(caller, `${RELOADS}?${[...q, 'limit=100'].join('&')}`, 'next', withLog)).pages.flat();
          if (filters.sort !== undefined && /^(%2B)?creationTime$/.test(filters.sort)) {
            // Oldest first: the same reloads as newest first, the other way round.
            const unsorted = q.filter((p) => !p.startsWith('sort='));
            const newest = (await walk(caller, `${RELOADS}?${[...unsorted, 'limit=100'].join('&')}`, 'next', withLog));
            const want = newest.pages.flat().reverse();
            expect(newest.last, JSON.stringify(reference) === JSON.stringify(want), `sort=${filters.sort} does not list the reloads oldest first:\n${JSON.stringify(reference)}\ninstead of\n${JSON.stringify(want)}`);
          }
          const forward = await walk(caller, `${RELOADS}?${[...q, `limit=${limit}`].join('&')}`, 'next', withLog);
          const seen = forward.pages.flat();
          expect(forward.last, JSON.stringify(seen) === JSON.stringify(reference), `pages of ${limit} do not visit what one page of 100 does:\n${JSON.stringify(seen)}\ninstead of\n${JSON.stringify(reference)}`);
          for (const [i, page] of forward.pages.entries()) expect(forward.last, page.length === limit || i === forward.pages.length - 1, 'a page that is not full before the last');
          // Back from the last page: the same pages, in reverse order.
          const lastBody = jsonOf(forward.last) as { links: Record<string, { href: string } | undefined> };
          const prev = lastBody.links.prev?.href;
          if (forward.pages.length > 1) expect(forward.last, prev !== undefined, 'the last of several pages has no prev link');
          if (prev === undefined) return;
          const back = await walk(caller, path(prev), 'prev', withLog);
          const want = forward.pages.slice(0, -1).reverse();
          expect(back.last, JSON.stringify(back.pages) === JSON.stringify(want), `prev links do not lead back through the same pages:\n${JSON.stringify(back.pages)}\ninstead of\n${JSON.stringify(want)}`);
        }),
        runs(0.6),
      ),
    );
  });

  // -------------------------------------------------------------------------------------------

  it('2. random and mutated POST /api/v1/reloads bodies: 201 with the reload shape, or a 4xx envelope', async (t) => {
    const validReload: fc.Arbitrary<Body> = fc
      .record(
        {
          appId: idStringArb,
          partial: fc.oneof({ weight: 4, arbitrary: fc.boolean() }, { weight: 1, arbitrary: fc.constantFrom<unknown>('true', 1, 0, null, [], {}) }),
          weight: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 10 }) }, { weight: 1, arbitrary: fc.constantFrom<unknown>(0, 11, -1, 1.5, '5', null, 1e308, 2 ** 53 + 1) }),
          variables: fc.oneof(
            { weight: 4, arbitrary: fc.dictionary(fc.string({ maxLength: 10 }), fc.oneof(fc.string({ maxLength: 20 }), idStringArb), { maxKeys: 5 }) },
            { weight: 1, arbitrary: fc.constantFrom<unknown>(null, [], 'x', 1, { a: 1 }, { a: null }, { a: 'x'.repeat(257) }, Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`v${i}`, 'x']))) },
          ),
          resourceType: fc.oneof({ weight: 4, arbitrary: fc.constantFrom<unknown>(...RESOURCE_TYPES) }, { weight: 1, arbitrary: fc.constantFrom<unknown>('hub', '', 'API', null, 1) }),
          resourceId: fc.oneof({ weight: 4, arbitrary: idStringArb }, { weight: 1, arbitrary: fc.constantFrom<unknown>('', 'x'.repeat(65), null, 7) }),
        },
        { requiredKeys: ['appId'] },
      )
      .map((o) => objectBody(o));
    const keyArb = fc.oneof({ weight: 6, arbitrary: fc.constantFrom('appId', 'partial', 'weight', 'variables') }, { weight: 3, arbitrary: fc.constantFrom(...WEIRD_KEYS) }, { weight: 1, arbitrary: fc.string({ maxLength: 10 }) });
    type Raw = { readonly kind: 'body'; readonly body: Body } | { readonly kind: 'raw'; readonly payload: string; readonly contentType: string | null };
    const rawArb: fc.Arbitrary<Raw> = fc.oneof(
      { weight: 12, arbitrary: mutated(validReload, keyArb).map((body): Raw => ({ kind: 'body', body })) },
      {
        weight: 1,
        arbitrary: fc
          .tuple(fc.constantFrom('', ' ', 'null', '[]', '"app-a"', '1', 'true', '{', '{"appId":"a"', '{"appId":"a"} x', 'appId=a', '<reload/>', '{"appId":"a","x":"' + 'x'.repeat(70_000) + '"}'), fc.constantFrom<string | null>('application/json', 'application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=utf-16', null))
          .map(([payload, contentType]): Raw => ({ kind: 'raw', payload, contentType })),
      },
    );
    await property(t, () =>
      fc.assert(
        fc.asyncProperty(fc.constantFrom(ALICE, ALICE, BOB, ROOT, GINA), rawArb, async (caller, raw) => {
          const payload = raw.kind === 'body' ? render(raw.body) : raw.payload;
          const contentType = raw.kind === 'body' ? 'application/json' : raw.contentType;
          // The reload of that app waiting in the queue before this request, if any: a valid body is a 429 then.
          const sentAppId = raw.kind === 'body' && isRecord(parsed(payload)?.value) ? (parsed(payload)!.value as Record<string, unknown>).appId : undefined;
          const pending = typeof sentAppId === 'string' && sentAppId !== '' && codePoints(sentAppId) <= 256 && !CONTROL.test(sentAppId) && !hasLoneSurrogate(sentAppId)
            ? (await api.store.listReloads({ tenantId: caller.tenant, appId: sentAppId, status: 'QUEUED', limit: 100 })).at(-1)
            : undefined;
          const ex = await send({ method: 'POST', url: RELOADS, headers: { ...(await authOf(caller)), ...(contentType !== null && { 'content-type': contentType }) }, payload });
          checkAnswer(ex);
          const s = ex.res.statusCode;
          expect(ex, [201, 400, 413, 415, 429].includes(s), 'expected 201, 400, 413, 415 or 429');
          if (contentType === null || !contentType.startsWith('application/json')) return expect(ex, s === 415 || (s === 400 && payload === ''), 'not JSON: expected 415');
          if (Buffer.byteLength(payload) > 64 * 1024) return expect(ex, s === 413, 'over 64 KiB: expected 413');
          const p = parsed(payload);
          if (p === undefined) return expect(ex, s === 400 || (payload.trim() === '' && s === 400), 'not JSON: expected 400');
          const b = p.value;
          // What the schema promises, where it is certain: a 400 for these, a 201 for a plainly valid body.
          if (!isRecord(b)) return expect(ex, s === 400, 'a body that is not an object: expected 400');
          if (poisoned(b)) return expect(ex, s === 400, 'a __proto__ or constructor.prototype key: expected 400');
          if (hasLoneSurrogate(b)) {
            expect(ex, s === 400 && /is not valid Unicode text/.test(detailOf(ex)), 'a lone surrogate: expected a 400 that says so');
            return;
          }
          const appId = b.appId;
          if (typeof appId === 'string' && CONTROL.test(appId) && codePoints(appId) <= 256) {
            expect(ex, s === 400, 'a control character in appId: expected 400');
          }
          const validVars = b.variables === undefined || (isRecord(b.variables) && Object.keys(b.variables).length <= 20 && Object.entries(b.variables).every(([k, v]) => codePoints(k) <= 256 && typeof v === 'string' && codePoints(v) <= 256));
          // resourceType reload-tasks needs one of the caller's tasks of that app: none exists here.
          const validResource =
            (b.resourceType === undefined || (typeof b.resourceType === 'string' && RESOURCE_TYPES.includes(b.resourceType) && b.resourceType !== 'reload-tasks')) &&
            (b.resourceId === undefined || (typeof b.resourceId === 'string' && b.resourceId !== '' && codePoints(b.resourceId) <= 64 && !CONTROL.test(b.resourceId)));
          const valid =
            typeof appId === 'string' && appId !== '' && codePoints(appId) <= 256 && !CONTROL.test(appId) &&
            (b.partial === undefined || typeof b.partial === 'boolean') &&
            (b.weight === undefined || (Number.isInteger(b.weight) && (b.weight as number) >= 1 && (b.weight as number) <= 10)) &&
            validVars && validResource;
          if (valid && pending) {
            // Named only to whoever may read it: its owner or an admin.
            const mayRead = pending.userId === caller.user || caller.admin === true;
            expect(ex, s === 429 && (jsonOf(ex) as { errors: Array<{ code: string }> }).errors[0]?.code === 'RELOADS-429' && detailOf(ex).includes(`(reload ${pending.id})`) === mayRead, `a valid body for an app with reload ${pending.id} queued: expected 429 RELOADS-429, naming it only to its owner or an admin`);
            return;
          }
          expect(ex, valid ? s === 201 : s === 400, valid ? 'a valid body: expected 201' : 'an invalid body: expected 400');
          if (s !== 201) return;
          const r = jsonOf(ex);
          checkReload(ex, r, caller, true);
          expect(ex, r.appId === appId, "the answer's appId is not the appId sent");
          expect(ex, r.partial === (b.partial ?? false), "the answer's partial is not the partial sent");
          expect(ex, r.weight === (b.weight ?? 1), "the answer's weight is not the weight sent (or 1)");
          expect(ex, r.userId === caller.user && r.status === 'QUEUED' && r.type === 'external', 'not a queued external reload of the caller');
          expect(ex, r.resourceType === (b.resourceType ?? 'api') && r.resourceId === b.resourceId, "the answer's resourceType and resourceId are not those sent (or api and none)");
          expect(ex, ex.res.headers.location === (r.links as { self: { href: string } }).self.href, 'Location is not links.self.href');
          const back = await sendJson(caller, 'GET', `${RELOADS}/${String(r.id)}`);
          checkAnswer(back);
          expect(back, back.res.statusCode === 200 && JSON.stringify(jsonOf(back)) === JSON.stringify(r), `GET does not return the reload the POST answered: ${clip(JSON.stringify(r))}`);
        }),
        runs(4),
      ),
    );
  });

  // -------------------------------------------------------------------------------------------

  type IdCase =
    | { readonly kind: 'random'; readonly id: string; readonly encode: boolean }
    | { readonly kind: 'long'; readonly n: number; readonly ch: string }
    | { readonly kind: 'missing'; readonly id: string }
    | { readonly kind: 'seeded'; readonly i: number; readonly as: 'owner' | 'other-user' | 'admin' | 'other-tenant' }
    | { readonly kind: 'variant'; readonly i: number; readonly how: IdVariant | 'tampered'; readonly at: number };

  const PATH_PIECES = ['%2F', '%2f', '..', '.', '%', '%zz', '%ZZ', '%00', '%1F', ';', ',', ':', '@', '!', '$', '&', "'", '(', ')', '*', '+', '=', '~', '%20', '%5C', '%E2%80%AE', '%C0%AF', '%ED%A0%80', '%ED%B0%80', '%F0%9F%98%80', '/', '//', '?', '?x=1', '#', '%23', '%3F', 'actions', 'cancel'];
  const idCaseArb = (): fc.Arbitrary<IdCase> =>
    fc.oneof(
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('random' as const), id: fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 20 }), idStringArb.filter((s) => s.length < 1000)), encode: fc.constant(true) }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('random' as const), id: fc.array(fc.oneof(fc.constantFrom(...PATH_PIECES), fc.stringMatching(/^[A-Za-z0-9_-]{1,8}$/), fc.stringMatching(/^[0-9a-f]{24}$/)), { maxLength: 5 }).map((a) => a.join('')), encode: fc.constant(false) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('long' as const), n: fc.integer({ min: 25, max: 10_000 }), ch: fc.constantFrom('a', '0', '%41', '-', '%00') }) },
      { weight: 2, arbitrary: fc.stringMatching(/^[0-9a-f]{24}$/).filter((id) => !reloads.some((r) => r.id === id)).map((id): IdCase => ({ kind: 'missing', id })) },
      { weight: 5, arbitrary: fc.record({ kind: fc.constant('seeded' as const), i: fc.nat(reloads.length - 1), as: fc.constantFrom('owner' as const, 'owner' as const, 'other-user' as const, 'admin' as const, 'other-tenant' as const) }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('variant' as const), i: fc.nat(reloads.length - 1), how: fc.constantFrom<IdVariant | 'tampered'>(...ID_VARIANTS, 'tampered'), at: fc.nat() }) },
    );

  function idPath(c: IdCase): string {
    switch (c.kind) {
      case 'random':
        return c.encode ? pct(c.id) : c.id;
      case 'long':
        return c.ch.repeat(c.n);
      case 'missing':
        return c.id;
      case 'seeded':
        return reloads[c.i]!.id;
      case 'variant': {
        const id = reloads[c.i]!.id;
        return c.how === 'tampered' ? tamper(id, c.at, 'g') : idVariant(id, c.how);
      }
    }
  }

  /** Who asks: the owner, another user of the tenant, the tenant's admin, or another tenant (admin too). */
  function callerFor(c: IdCase): Caller {
    if (c.kind !== 'seeded' && c.kind !== 'variant') return ALICE;
    const owner = reloads[c.i]!.owner;
    if (c.kind === 'variant') return owner;
    switch (c.as) {
      case 'owner':
        return owner;
      case 'other-user':
        return owner.user === 'bob' ? ALICE : BOB.tenant === owner.tenant ? BOB : GINA.user === owner.user ? { tenant: owner.tenant, user: 'gus' } : GINA;
      case 'admin':
        return owner.tenant === 'acme' ? ROOT : GINA_ADMIN;
      case 'other-tenant':
        return owner.tenant === 'acme' ? GINA_ADMIN : ROOT;
    }
  }

  it('3a. GET /api/v1/reloads/{id} with random ids: 200, 403 or 404 as it applies (400/405 for odd paths), never 5xx', async (t) => {
    await property(t, () =>
      fc.assert(
        fc.asyncProperty(idCaseArb(), fc.constantFrom('GET', 'GET', 'GET', 'HEAD') as fc.Arbitrary<'GET' | 'HEAD'>, async (c, method) => {
          const caller = callerFor(c);
          const url = `${RELOADS}/${idPath(c)}`;
          const ex = await sendJson(caller, method, url);
          checkAnswer(ex);
          const s = ex.res.statusCode;
          const exact = c.kind === 'seeded' || (c.kind === 'variant' && (c.how === 'encoded' || c.how === 'slash'));
          if (reachesCollection(url, RELOADS)) {
            // `/api/v1/reloads/` is the list (a trailing slash is ignored).
            expect(ex, s === 200 && (method === 'HEAD' || Array.isArray((jsonOf(ex) as { data?: unknown }).data)), 'the list: expected 200 with data');
            return;
          }
          if (c.kind === 'missing' || (c.kind === 'seeded' && c.as === 'other-tenant')) {
            expect(ex, s === 404, 'a reload id that does not exist for the tenant: expected 404');
            checkEnvelope(ex, 'HTTP-404');
          } else if (c.kind === 'seeded' && c.as === 'other-user' && caller.admin !== true) {
            expect(ex, s === 403, "another user's reload: expected 403");
            checkEnvelope(ex, 'RELOADS-003');
          } else if (exact) {
            expect(ex, s === 200, 'the reload of its owner or an admin: expected 200');
          } else {
            expect(ex, [400, 404, 405].includes(s), 'expected 404 (or 400/405)');
          }
          if (s === 200 && method === 'GET') {
            const r = jsonOf(ex);
            checkReload(ex, r, caller, true);
            if (exact) expect(ex, r.id === reloads[c.i]!.id, 'not the reload asked for');
          }
        }),
        runs(3),
      ),
    );
  });

  it('3b. POST /api/v1/reloads/{id}/actions/cancel with random ids: 202, 204 or 409 for a visible reload, 403/404 otherwise, never 5xx', async (t) => {
    await property(t, () =>
      fc.assert(
        fc.asyncProperty(idCaseArb(), fc.constantFrom<string | undefined>(undefined, undefined, undefined, '', '{}', 'null', '{"x":1}', '[', 'x'), async (c, body) => {
          const caller = callerFor(c);
          const prior = c.kind === 'seeded' ? await api.store.getReload(reloads[c.i]!.owner.tenant, reloads[c.i]!.id) : undefined;
          const ex = await sendJson(caller, 'POST', `${RELOADS}/${idPath(c)}/actions/cancel`, body);
          checkAnswer(ex);
          const s = ex.res.statusCode;
          const visible = c.kind === 'seeded' && (c.as === 'owner' || c.as === 'admin' || (c.as === 'other-user' && caller.admin === true));
          // A body is not read (any JSON or none), but one that is not JSON is refused by the parser.
          const badBody = body !== undefined && body.trim() !== '' && parsed(body) === undefined;
          if (badBody) return expect(ex, s === 400 || s === 404, 'a body that is not JSON: expected 400 (or 404)');
          if (c.kind === 'missing' || (c.kind === 'seeded' && c.as === 'other-tenant')) {
            expect(ex, s === 404, 'a reload id that does not exist for the tenant: expected 404');
          } else if (c.kind === 'seeded' && !visible) {
            expect(ex, s === 403, "another user's reload: expected 403");
          } else if (visible) {
            const was = prior!.status;
            const want = was === 'QUEUED' ? 204 : was === 'RELOADING' || was === 'CANCELING' ? 202 : 409;
            expect(ex, s === want, `cancelling a ${was} reload: expected ${want}`);
            const now = (await api.store.getReload(prior!.tenantId, prior!.id))?.status;
            expect(ex, s === 204 ? now === 'CANCELED' : s === 202 ? now === 'CANCELING' : now === was, `the reload is ${String(now)} after a ${s}`);
            if (s === 202) expect(ex, JSON.stringify(jsonOf(ex)) === '{"status":"CANCELING"}', 'a 202 that is not {"status":"CANCELING"}');
            if (s === 409) checkEnvelope(ex, 'HTTP-409');
          } else if (c.kind === 'variant' && c.how === 'encoded') {
            expect(ex, [202, 204, 409].includes(s), 'a percent-encoded id is that id: expected 202, 204 or 409');
          } else {
            expect(ex, [400, 404, 405].includes(s), 'expected 404 (or 400/405)');
          }
        }),
        runs(3),
      ),
    );
  });

  // -------------------------------------------------------------------------------------------

  it('4. POST /api/v1/events with random and mutated CloudEvents: 202 for an admin (or a 4xx envelope), 403 for anyone else', async (t) => {
    const typeArb = fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...EVENT_TYPES) }, { weight: 1, arbitrary: fc.constantFrom('com.qlik.v1.app.created', 'com.qlik.v1.app.data.updated ', 'COM.QLIK.V1.APP.DELETED', '', 'com.qlik.v1.user.deleted\u0000') }, { weight: 1, arbitrary: fc.string({ maxLength: 30 }) });
    const dataArb: fc.Arbitrary<Record<string, unknown>> = fc.record(
      {
        appId: fc.oneof({ weight: 3, arbitrary: fc.constantFrom('ev-a', 'ev-b', 'ev-none') }, { weight: 2, arbitrary: idStringArb }),
        userId: fc.oneof({ weight: 3, arbitrary: fc.constantFrom('ivan', 'ivy', 'nobody') }, { weight: 2, arbitrary: idStringArb }),
        extra: fc.jsonValue({ maxDepth: 2 }),
      },
      { requiredKeys: ['appId', 'userId'] },
    );
    const validEvent: fc.Arbitrary<Body> = fc
      .record(
        {
          specversion: fc.oneof({ weight: 8, arbitrary: fc.constantFrom('1.0', '0.3', '') }, { weight: 1, arbitrary: fc.constant('x'.repeat(17)) }),
          id: fc.oneof(fc.uuid(), fc.string({ maxLength: 20 })),
          source: fc.oneof({ weight: 8, arbitrary: fc.constantFrom('qlik', 'https://tenant.example/api', '') }, { weight: 1, arbitrary: fc.constant('x'.repeat(1025)) }),
          type: typeArb,
          time: fc.oneof({ weight: 8, arbitrary: fc.constantFrom('2026-12-01T12:00:00Z', 'yesterday', '') }, { weight: 1, arbitrary: fc.constant('x'.repeat(65)) }),
          data: dataArb,
          datacontenttype: fc.constant('application/json'),
        },
        { requiredKeys: ['type', 'data'] },
      )
      .map((o) => objectBody(o));
    const keyArb = fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom('type', 'data', 'specversion', 'id', 'source', 'time') },
      { weight: 3, arbitrary: fc.constantFrom(...WEIRD_KEYS, 'subject', 'data_base64', 'tenantId') },
      { weight: 1, arbitrary: fc.string({ maxLength: 10 }) },
    );
    /** A mutation of the data member too: its fields set to anything. */
    const eventArb = fc.tuple(mutated(validEvent, keyArb, 2), fc.option(fc.oneof(fc.tuple(fc.constantFrom('appId', 'userId', '__proto__', 'x'), anyValue).map(([key, v]): Mutation => ({ op: 'set', key, v })), fc.constantFrom('appId', 'userId').map((key): Mutation => ({ op: 'drop', key }))), { nil: undefined, freq: 3 })).map(([body, dataMutation]): Body => {
      if (dataMutation === undefined || body.k !== 'object') return body;
      return {
        k: 'object',
        members: body.members.map(([key, v]) => {
          if (key !== 'data' || v.k !== 'json' || !isRecord(v.v)) return [key, v] as const;
          return [key, { k: 'body', body: mutate(objectBody(v.v), dataMutation) }] as const;
        }),
      };
    });
    const senderArb = fc.constantFrom(IADMIN, IADMIN, IADMIN, IADMIN, HADMIN, IVAN, BOB);
    await property(t, () =>
      fc.assert(
        fc.asyncProperty(senderArb, eventArb, async (caller, event) => {
          const payload = render(event);
          const ex = await sendJson(caller, 'POST', EVENTS, payload);
          checkAnswer(ex);
          const s = ex.res.statusCode;
          expect(ex, [202, 400, 403, 413].includes(s), 'expected 202, 400, 403 or 413');
          if (Buffer.byteLength(payload) > 64 * 1024) return expect(ex, s === 413, 'over 64 KiB: expected 413');
          const p = parsed(payload);
          const b = p?.value;
          const typeOk = isRecord(b) && typeof b.type === 'string' && (EVENT_TYPES as readonly string[]).includes(b.type);
          if (caller.admin !== true) {
            // Validation runs before the admin check: a non-admin's invalid body is a 400, a valid one a 403.
            expect(ex, s === 403 || s === 400, 'an event from a non-admin: expected 403 (or 400 for an invalid body)');
            if (s === 403) checkEnvelope(ex, 'HTTP-403');
            return;
          }
          expect(ex, s !== 403, 'an event from an admin: 403');
          if (p === undefined || !isRecord(b) || !typeOk || !isRecord(b.data)) return expect(ex, s === 400, 'an event without a known type and a data object: expected 400');
          if (hasLoneSurrogate(b)) return expect(ex, s === 400, 'a lone surrogate: expected 400');
          const field = b.type === 'com.qlik.v1.user.deleted' || b.type === 'com.qlik.v1.user.disabled' ? 'userId' : 'appId';
          const v = b.data[field];
          if (poisoned(b)) return expect(ex, s === 400, 'a __proto__ or constructor.prototype key: expected 400');
          // The schema, where it is certain: a 400 for an invalid event, a 202 (or a 400 naming the
          // missing data field) for a valid one.
          const str = (x: unknown, max: number): boolean => x === undefined || (typeof x === 'string' && codePoints(x) <= max);
          const idOk = (x: unknown): boolean => x === undefined || (typeof x === 'string' && x !== '' && codePoints(x) <= 256 && !CONTROL.test(x));
          const valid = str(b.specversion, 16) && str(b.id, 256) && str(b.source, 1024) && str(b.time, 64) && idOk(b.data.appId) && idOk(b.data.userId);
          if (typeof v === 'string' && CONTROL.test(v)) expect(ex, s === 400, `a control character in data.${field}: expected 400`);
          if (!valid) return expect(ex, s === 400, 'an invalid event: expected 400');
          if (v === undefined) return expect(ex, s === 400 && detailOf(ex) === `data.${field}: is required for ${String(b.type)}`, `no data.${field}: expected a 400 that names it`);
          expect(ex, s === 202, 'a valid event: expected 202');
          if (s !== 202) return;
          const r = jsonOf(ex) as Record<string, unknown>;
          expect(ex, r.type === b.type, 'the answer does not name the event type');
          expect(ex, Number.isInteger(r.tasks) && (r.tasks as number) >= 0, 'the answer has no task count');
          const want = caller.tenant === 'initech' ? eventTaskCount(b.type as string, v) : 0;
          expect(ex, r.tasks === want, `the event should have reached ${want} task(s)`);
          if (want > 0 && b.type !== 'com.qlik.v1.app.data.updated') await restoreEventTasks(b.type as string, v);
          if (b.type === 'com.qlik.v1.app.data.updated') {
            expect(ex, Array.isArray(r.reloads) && r.reloads.length === r.tasks && r.reloads.every((id) => typeof id === 'string' && HEX24.test(id)), 'a data-updated answer without a reload per task');
            for (const id of r.reloads as string[]) {
              const got = await sendJson(caller, 'GET', `${RELOADS}/${id}`);
              checkAnswer(got);
              expect(got, got.res.statusCode === 200, 'a reload the event created cannot be read by the admin');
              const reload = jsonOf(got);
              checkReload(got, reload, caller, true);
              // A new data-refresh, or a reload of the app already queued (it will load the new data).
              expect(got, reload.appId === v && reload.status === 'QUEUED', 'not a queued reload of the app');
            }
          } else {
            expect(ex, r.reloads === undefined, 'a reloads list on an event that queues none');
          }
        }),
        runs(3),
      ),
    );
  });

  // -------------------------------------------------------------------------------------------

  it('5. GET /api/v1/reload-tasks/{taskId}/occurrences with random ids and query strings: 200 {data, missedCount} or a 4xx envelope', async (t) => {
    type TaskRef = { readonly kind: 'seeded'; readonly i: number; readonly as: 'owner' | 'other-user' | 'admin' | 'other-tenant' } | { readonly kind: 'path'; readonly path: string };
    const taskRefArb: fc.Arbitrary<TaskRef> = fc.oneof(
      { weight: 5, arbitrary: fc.record({ kind: fc.constant('seeded' as const), i: fc.nat(tasks.length - 1), as: fc.constantFrom('owner' as const, 'owner' as const, 'owner' as const, 'other-user' as const, 'admin' as const, 'other-tenant' as const) }) },
      {
        weight: 3,
        arbitrary: fc
          .oneof(
            fc.stringMatching(/^[0-9a-f]{24}$/),
            fc.tuple(fc.constantFrom(...tasks.map((x) => x.id)), fc.nat(), fc.constantFrom('g', 'A', '0', '%00', '%ZZ', '/', '%2F')).map(([id, at, ch]) => tamper(id, at, ch)),
            fc.string({ maxLength: 30 }).map(pct),
            fc.array(fc.oneof(fc.constantFrom(...PATH_PIECES), fc.stringMatching(/^[A-Za-z0-9_-]{1,8}$/)), { maxLength: 4 }).map((a) => a.join('')),
            fc.integer({ min: 25, max: 5000 }).map((n) => 'a'.repeat(n)),
          )
          .map((path): TaskRef => ({ kind: 'path', path })),
      },
    );
    const valueOf = (key: string): fc.Arbitrary<string> => {
      switch (key) {
        case 'limit':
          return fc.oneof({ weight: 5, arbitrary: fc.integer({ min: -5, max: 1100 }).map(String) }, { weight: 2, arbitrary: fc.constantFrom(...HUGE_NUMBERS) }, { weight: 1, arbitrary: genericValue });
        case 'before':
          return fc.oneof(
            { weight: 3, arbitrary: fc.date({ min: new Date('2026-12-01T00:00:00Z'), max: new Date('2026-12-02T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString()) },
            { weight: 1, arbitrary: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()) },
            {
              weight: 2,
              arbitrary: fc.constantFrom('2026-12-01T14:00:00Z', '2026-12-01', '2026-12-01T14:00:00', '2026-12-01T14:00:00+05:00', '+275760-09-13T00:00:00Z', '-271821-04-20T00:00:00Z', '+275760-09-13T00:00:00.001Z', '0', '-1', '1e3', '99999999999999999999', 'Tue, 01 Dec 2026 14:00:00 GMT', 'now', '', 'NaN', '2026-02-30T00:00:00Z', '2026-12-01T14:00:00Z\u0000', 'x'.repeat(65)),
            },
            { weight: 1, arbitrary: genericValue },
          );
        default:
          return genericValue;
      }
    };
    const keyArb = fc.oneof({ weight: 8, arbitrary: fc.constantFrom('limit', 'before') }, { weight: 1, arbitrary: fc.constantFrom('after', 'next', 'LIMIT', 'limit[]', '__proto__', 'outcome', '') }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }) });
    const specArb = fc.record({ ref: taskRefArb, parts: queryParts(keyArb, valueOf, 4), garbage: fc.array(garbageArb, { maxLength: 2 }), method: fc.constantFrom('GET', 'GET', 'GET', 'HEAD') as fc.Arbitrary<'GET' | 'HEAD'> });
    await property(t, () =>
      fc.assert(
        fc.asyncProperty(specArb, async ({ ref, parts, garbage, method }) => {
          let caller: Caller = ALICE;
          let path: string;
          if (ref.kind === 'seeded') {
            const task = tasks[ref.i]!;
            path = task.id;
            caller = { owner: task.owner, 'other-user': task.owner.tenant === 'acme' ? (task.owner.user === 'bob' ? ALICE : BOB) : { tenant: task.owner.tenant, user: 'gus' }, admin: task.owner.tenant === 'acme' ? ROOT : GINA_ADMIN, 'other-tenant': task.owner.tenant === 'acme' ? GINA_ADMIN : ROOT }[ref.as];
          } else {
            path = ref.path;
          }
          const search = queryString(parts, garbage, '&');
          const url = `${TASKS}/${path}/occurrences${search === '' ? '' : `?${search}`}`;
          const ex = await sendJson(caller, method, url);
          checkAnswer(ex);
          const s = ex.res.statusCode;
          expect(ex, [200, 400, 403, 404, 405].includes(s), 'expected 200, 400, 403, 404 or 405');
          const pairs = serverPairs(new URL(url, 'http://localhost').search);
          const all = (k: string): string[] => pairs.filter(([key]) => key === k).map(([, v]) => v);
          const limit = all('limit').length === 1 ? all('limit')[0]! : undefined;
          if (ref.kind === 'seeded') {
            // The query is validated first: an invalid one is a 400 whoever's the task.
            if (ref.as === 'other-tenant') expect(ex, s === 404 || s === 400, "another tenant's task: expected 404 (or 400 for an invalid query)");
            else if (ref.as === 'other-user') expect(ex, s === 403 || s === 400, "another user's task: expected 403 (or 400 for an invalid query)");
            else {
              expect(ex, s === 200 || s === 400, 'a visible task: expected 200 or 400');
              if (limit !== undefined && /^\d+$/.test(limit) && (Number(limit) < 1 || Number(limit) > 1000)) expect(ex, s === 400, 'limit out of 1..1000: expected 400');
            }
          }
          if (s !== 200 || method === 'HEAD') return;
          if (reachesCollection(url, TASKS)) return; // the task list (`${TASKS}/?/occurrences`, `${TASKS}/#…`)
          const body = jsonOf(ex) as { data?: unknown; missedCount?: unknown };
          expect(ex, Object.keys(body).sort().join() === 'data,missedCount', 'not {data, missedCount}');
          expect(ex, Number.isInteger(body.missedCount) && (body.missedCount as number) >= 0, 'a missedCount that is not a non-negative integer');
          expect(ex, Array.isArray(body.data), 'data is not an array');
          const data = body.data as Array<Record<string, unknown>>;
          const n = limit === undefined ? 100 : Number(limit);
          if (Number.isInteger(n)) expect(ex, data.length <= n, 'more occurrences than the limit');
          const beforeText = all('before').length === 1 ? all('before')[0]! : undefined;
          const bound = beforeText === undefined ? undefined : Date.parse(beforeText);
          for (const [i, o] of data.entries()) {
            expect(ex, typeof o.scheduledTime === 'string' && UTC_SECONDS.test(o.scheduledTime), 'a scheduledTime that is not YYYY-MM-DDTHH:MM:SSZ');
            expect(ex, ['fired', 'missed', 'skipped'].includes(o.outcome as string), 'an outcome not in the enum');
            expect(ex, o.reloadId === undefined || (typeof o.reloadId === 'string' && HEX24.test(o.reloadId)), 'a reloadId that is not 24 hex');
            expect(ex, typeof o.recordedTime === 'string' && ISO_MS.test(o.recordedTime), 'a recordedTime that is not an ISO instant');
            if (i > 0) expect(ex, (o.scheduledTime as string) < (data[i - 1]!.scheduledTime as string), 'occurrences that are not newest first');
            if (bound !== undefined && !Number.isNaN(bound)) expect(ex, Date.parse(o.scheduledTime as string) < bound, 'an occurrence that is not before `before`');
          }
        }),
        runs(3),
      ),
    );
  });

  // -------------------------------------------------------------------------------------------

  it('6. random Host and other headers: links follow a valid Host, an invalid one is a 400 that queues nothing, no token is a 401', async (t) => {
    /** What app.ts accepts as a Host for links: host[:port], a port up to 65535, and a URL parser takes it. */
    const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/;
    const validHost = (host: string): boolean => {
      const m = HOST.exec(host);
      return m !== null && (m[1] === undefined || Number(m[1]) <= 65535) && URL.canParse(`http://${host}/`);
    };
    const label = fc.stringMatching(/^[A-Za-z]([A-Za-z0-9-]{0,10}[A-Za-z0-9])?$/);
    const hostArb = fc.oneof(
      { weight: 4, arbitrary: fc.tuple(fc.array(label, { minLength: 1, maxLength: 3 }), fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined })).map(([ls, port]) => ls.join('.') + (port === undefined ? '' : `:${port}`)) },
      { weight: 1, arbitrary: fc.constantFrom('localhost', 'localhost:80', '127.0.0.1:3000', '[::1]:8080', '[::1]', 'API.Example.COM') },
      {
        weight: 3,
        arbitrary: fc.constantFrom('', ' ', 'bad_host', 'a b', 'evil.example/path', 'evil.example?x', 'evil.example#x', 'user@evil.example', 'evil.example:', 'evil.example:abc', ':80', '-a.example', 'a-.example', 'a..b', '.a', '[::1', '[zz]', 'x'.repeat(64), `${'a'.repeat(63)}.example`, 'évil.example', 'evil.example:80:80', 'localhost\t', 'a.0', '1.2.3.999', 'a:99999', 'example.com:65536'),
      },
      { weight: 1, arbitrary: fc.stringMatching(/^[\x21-\x7e]{0,30}$/) },
    );
    type Endpoint = 'list' | 'get' | 'post' | 'cancel' | 'events' | 'occurrences';
    const caseArb = fc.record({
      endpoint: fc.constantFrom<Endpoint>('list', 'get', 'post', 'post', 'post', 'cancel', 'events', 'occurrences'),
      host: fc.option(hostArb, { nil: undefined, freq: 8 }),
      auth: fc.constantFrom('alice', 'alice', 'alice', 'alice', 'none', 'garbage', 'lower') as fc.Arbitrary<'alice' | 'none' | 'garbage' | 'lower'>,
      extra: fc.record(
        {
          'x-forwarded-host': fc.constantFrom('evil.example', 'bad_host', ''),
          'x-forwarded-proto': fc.constantFrom('https', 'gopher', ''),
          forwarded: fc.constantFrom('for=1.2.3.4;proto=https;host=evil.example', 'garbage'),
          traceparent: fc.constantFrom(`00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`, 'x'.repeat(100), ''),
          accept: fc.constantFrom('application/xml', '*/*', 'text/html'),
          'accept-encoding': fc.constantFrom('gzip', 'br', 'identity;q=0'),
          'x-http-method-override': fc.constantFrom('DELETE', 'GET'),
        },
        { requiredKeys: [] },
      ),
    });
    let marker = 0;
    await property(t, () =>
      fc.assert(
        fc.asyncProperty(caseArb, async (c) => {
          const appId = `hdr-${marker++}`;
          const token = await tokenOf(ALICE);
          const headers: Record<string, string> = { ...c.extra };
          if (c.auth === 'alice') headers.authorization = `Bearer ${token}`;
          else if (c.auth === 'lower') headers.authorization = `bearer ${token}`;
          else if (c.auth === 'garbage') headers.authorization = `Bearer ${token.slice(0, -4)}`;
          if (c.host !== undefined) headers.host = c.host;
          const own = reloads.find((r) => r.owner === ALICE)!.id;
          const [method, url, body]: [Req['method'], string, string | undefined] = {
            list: ['GET', `${RELOADS}?limit=2`, undefined],
            get: ['GET', `${RELOADS}/${own}`, undefined],
            post: ['POST', RELOADS, JSON.stringify({ appId })],
            cancel: ['POST', `${RELOADS}/ffffffffffffffffffffffff/actions/cancel`, undefined],
            events: ['POST', EVENTS, JSON.stringify({ type: 'com.qlik.v1.app.data.updated', data: { appId } })],
            occurrences: ['GET', `${TASKS}/${tasks[0]!.id}/occurrences?limit=1`, undefined],
          }[c.endpoint] as [Req['method'], string, string | undefined];
          if (body !== undefined) headers['content-type'] = 'application/json';
          const ex = await send({ method, url, headers, ...(body !== undefined && { payload: body }) });
          checkAnswer(ex);
          const s = ex.res.statusCode;
          if (c.auth === 'none' || c.auth === 'garbage') {
            expect(ex, s === 401, 'no acceptable token: expected 401');
            checkEnvelope(ex, 'HTTP-401');
            expect(ex, ex.res.headers['www-authenticate'] === 'Bearer', 'a 401 without WWW-Authenticate: Bearer');
          } else {
            // light-my-request sends Host: localhost:80 when none (or an empty one) is given.
            const host = c.host || 'localhost:80';
            const linked = c.endpoint === 'list' || c.endpoint === 'get' || c.endpoint === 'post';
            const want = { list: 200, get: 200, post: 201, cancel: 404, events: 403, occurrences: 200 }[c.endpoint];
            // Every authenticated request is refused for a Host that cannot make links, before its
            // handler runs (so that no write comes before the 400), whether it answers links or not.
            if (!validHost(host)) {
              expect(ex, s === 400, 'an invalid Host: expected 400');
              expect(ex, detailOf(ex).startsWith('the Host header is not a valid host[:port]'), 'a 400 that does not name the Host header');
            } else {
              expect(ex, s === want, `expected ${want}`);
            }
            if (s < 300 && linked) {
              const b = jsonOf(ex) as { links?: Record<string, { href: string }>; data?: Array<{ links: { self: { href: string } } }> };
              const hrefs = [...Object.values(b.links ?? {}).map((l) => l.href), ...(b.data ?? []).map((r) => r.links.self.href)];
              for (const href of hrefs) {
                expect(ex, isAbsoluteUrl(href), `a link that is not an absolute URL: ${href}`);
                expect(ex, new URL(href).host === new URL(`http://${host}`).host, `a link not on the request's Host: ${href}`);
              }
            }
          }
          if (c.endpoint === 'post') {
            const made = await api.store.listReloads({ tenantId: ALICE.tenant, appId, limit: 10 });
            expect(ex, made.length === (s === 201 ? 1 : 0), `${made.length} reload(s) of ${appId} after a ${s}: a refused POST must queue nothing, an accepted one one`);
          }
        }),
        runs(3),
      ),
    );
  });

  it('7. other methods on these paths: 405 with Allow, in the envelope', async (t) => {
    const paths = (): fc.Arbitrary<{ url: string; allow: string }> =>
      fc.constantFrom(
        { url: RELOADS, allow: 'GET, HEAD, POST' },
        { url: `${RELOADS}/${reloads[0]!.id}`, allow: 'GET, HEAD' },
        { url: `${RELOADS}/ffffffffffffffffffffffff/actions/cancel`, allow: 'POST' },
        { url: EVENTS, allow: 'POST' },
        { url: `${TASKS}/${tasks[0]!.id}/occurrences`, allow: 'GET, HEAD' },
      );
    await property(t, () =>
      fc.assert(
        fc.asyncProperty(paths(), fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS') as fc.Arbitrary<Req['method']>, fc.option(fc.constantFrom('{}', '{"appId":"x"}', 'x'), { nil: undefined }), async (p, method, body) => {
          const ex = await sendJson(ALICE, method, p.url, body);
          checkAnswer(ex);
          if (p.allow.split(', ').includes(String(method))) return expect(ex, ex.res.statusCode !== 405, 'an allowed method answered 405');
          expect(ex, ex.res.statusCode === 405 || (ex.res.statusCode === 400 && body === 'x'), 'expected 405');
          if (ex.res.statusCode === 405) {
            checkEnvelope(ex, 'HTTP-405');
            expect(ex, ex.res.headers.allow === p.allow, `Allow is not ${p.allow}`);
          }
        }),
        runs(0.5),
      ),
    );
    if (stats.slowest.length > 0) t.diagnostic(`slowest requests: ${stats.slowest.map((s) => `${Math.round(s.ms)} ms ${s.what}`).join(' | ')}`);
    t.diagnostic(`total requests in this file: ${stats.requests}`);
  });
});
