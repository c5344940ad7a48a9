/**
 * Property-based robustness tests of the HTTP API (fast-check): random and mutated bodies, raw
 * payloads, query strings, path ids and headers against the real app on a real SQLite file.
 *
 * Whatever a client sends, the answer is a success of the documented shape or a 4xx in the error
 * envelope, never a 5xx; and a rejected request changes nothing.
 *
 *   FUZZ_RUNS=100   scale of every property's run count (default 100: ~3,200 requests in ~6 s; 300: ~10,000)
 *   FUZZ_SEED=n     replay a failure (fast-check prints the seed and path of each failure)
 *   FUZZ_SHRINK=0   report the first failure as found, without shrinking it
 *
 * A failure prints the request (method, url, headers with tokens replaced by `<token tenant/user>`,
 * body) and the response.
 */
import assert from 'node:assert/strict';
import { createHmac, sign } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it, type TestContext } from 'node:test';
import fc from 'fast-check';
import { loadOrCreateLocalKey } from '../../src/auth/local-key.js';
import { createTestApi, NOW, type TestApi } from '../helpers/api.js';
import { authOf, bodyText, checkAnswer, checkEnvelope, checkListLinks, clip, describeExchange, detailOf, expect, fail, ID_VARIANTS, idVariant, isAbsoluteUrl, reachesCollection, issuedCursors, json, jsonOf, mutate, mutationArb, nameToken, objectBody, PERCENT_GARBAGE, queryString, render, RUNS, runs, send, sendJson, serverPairs, stats, tokenOf, useApi, type Body, type Caller, type Exchange, type IdVariant, type Mutation, type QueryPart, type Val } from '../helpers/fuzz.js';

// ---------------------------------------------------------------------------------------------
// Requests (run counts, sending, the shared checks and JSON body descriptors: test/helpers/fuzz.ts)

const TASKS = '/api/v1/reload-tasks';
const HEX24 = /^[0-9a-f]{24}$/;
const UTC_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const STATES = ['Enabled', 'Disabled', 'Completed'];
const DISABLED_CODES = ['MANUALLY', 'CONSECUTIVE-FAILURES', 'OWNER-DELETED', 'OWNER-DISABLED'];

const ALICE: Caller = { tenant: 'acme', user: 'alice' };
const BOB: Caller = { tenant: 'acme', user: 'bob' };
const ROOT: Caller = { tenant: 'acme', user: 'root', admin: true };
const CAROL: Caller = { tenant: 'acme', user: 'carol' };
const GINA: Caller = { tenant: 'globex', user: 'gina' };
const GINA_ADMIN: Caller = { tenant: 'globex', user: 'gadmin', admin: true };

let api: TestApi;
/** The task shape of a success body. */
function checkTask(ex: Exchange, t: unknown): asserts t is Record<string, unknown> {
  expect(ex, typeof t === 'object' && t !== null && !Array.isArray(t), 'a task that is not an object');
  const task = t as Record<string, unknown>;
  expect(ex, typeof task.id === 'string' && HEX24.test(task.id), 'a task id that is not 24 hex');
  expect(ex, typeof task.state === 'string' && STATES.includes(task.state), 'a task state not in the enum');
  for (const k of ['appId', 'timeZone', 'userId', 'tenantId']) expect(ex, typeof task[k] === 'string', `a task without a string ${k}`);
  for (const k of ['partial', 'autoReload', 'autoReloadPartial', 'migrated']) expect(ex, typeof task[k] === 'boolean', `a task without a boolean ${k}`);
  for (const k of ['startDateTime', 'endDateTime', 'log']) expect(ex, task[k] === undefined || typeof task[k] === 'string', `a task whose ${k} is not a string`);
  expect(ex, task.recurrence === undefined || (Array.isArray(task.recurrence) && task.recurrence.every((l) => typeof l === 'string')), 'a recurrence that is not an array of strings');
  expect(ex, task.disabledCode === undefined || DISABLED_CODES.includes(task.disabledCode as string), 'a disabledCode not in the enum');
  for (const k of ['nextExecutionTime', 'lastExecutionTime']) {
    expect(ex, task[k] === undefined || (typeof task[k] === 'string' && UTC_SECONDS.test(task[k])), `a ${k} that is not YYYY-MM-DDTHH:MM:SSZ`);
  }
  if (typeof task.nextExecutionTime === 'string') {
    expect(ex, task.state === 'Enabled', 'a task that is not Enabled has a nextExecutionTime');
    expect(ex, Date.parse(task.nextExecutionTime) > api.clock.now() - 1000, 'a nextExecutionTime that is not after now');
  }
  const links = task.links as { self?: { href?: unknown } } | undefined;
  const href = links?.self?.href;
  expect(ex, isAbsoluteUrl(href) && (href as string).endsWith(`${TASKS}/${String(task.id)}`), 'links.self.href is not the absolute URL of the task');
}

function checkTaskAnswer(ex: Exchange, status: 200 | 201): Record<string, unknown> {
  expect(ex, ex.res.statusCode === status, `expected ${status}`);
  const t = jsonOf(ex);
  checkTask(ex, t);
  if (status === 201) expect(ex, ex.res.headers.location === (t.links as { self: { href: string } }).self.href, 'Location is not links.self.href');
  return t;
}

// ---------------------------------------------------------------------------------------------
// Arbitraries: field values

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

const ZONES = ['Europe/Zurich', 'America/Toronto', 'UTC', 'Etc/UTC', 'Asia/Kolkata', 'Australia/Lord_Howe', 'Pacific/Chatham', 'America/St_Johns', 'Europe/London', 'Asia/Kathmandu', 'Etc/GMT+12', 'Etc/GMT-14', 'America/Sao_Paulo', 'Pacific/Apia'];

const timeZoneArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(...ZONES) },
  { weight: 4, arbitrary: fc.constantFrom(...Intl.supportedValuesOf('timeZone')) },
  {
    weight: 2,
    arbitrary: fc.constantFrom('utc', 'europe/zurich', 'Europe/Zurich ', ' ', 'Mars/Olympus', 'EST5EDT', 'Etc/GMT+13', 'GMT', 'Z', '+01:00', 'UTC+1', '../../etc/passwd', 'Europe/../Europe/Zurich', 'Europe/Zurich\u0000', 'Factory', 'US/Pacific-New', 'localtime', 'posixrules', 'Europe/Kyiv', 'Europe/Kiev', 'America/Argentina/ComodRivadavia', '\u00e9'),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
);

const validLocalDateTime = (minYear = 2026, maxYear = 2029): fc.Arbitrary<string> =>
  fc
    .record({ y: fc.integer({ min: minYear, max: maxYear }), mo: fc.integer({ min: 1, max: 12 }), d: fc.integer({ min: 1, max: 28 }), h: fc.integer({ min: 0, max: 23 }), mi: fc.integer({ min: 0, max: 59 }), s: fc.integer({ min: 0, max: 59 }) })
    .map(({ y, mo, d, h, mi, s }) => `${pad(y, 4)}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(s)}`);

const localDateTimeArb: fc.Arbitrary<string | null> = fc.oneof(
  { weight: 8, arbitrary: validLocalDateTime() },
  {
    weight: 2,
    arbitrary: fc
      .record({ y: fc.integer({ min: 0, max: 99999 }), mo: fc.integer({ min: 0, max: 99 }), d: fc.integer({ min: 0, max: 99 }), h: fc.integer({ min: 0, max: 99 }), mi: fc.integer({ min: 0, max: 99 }), s: fc.integer({ min: 0, max: 99 }) })
      .map(({ y, mo, d, h, mi, s }) => `${pad(y, 4)}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(s)}`),
  },
  { weight: 1, arbitrary: fc.tuple(validLocalDateTime(), fc.constantFrom('Z', '+01:00', '-0530', '.000', '.5', '.000000001', ' ', 'T', 'z', '\n')).map(([a, b]) => a + b) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '1969-12-31T23:59:59', '1970-01-01T00:00:00', '9999-12-31T23:59:59', '0000-01-01T00:00:00', '2027-02-29T10:00:00', '2028-02-29T10:00:00',
      '2027-03-28T02:30:00', '2027-10-31T02:30:00', '2027-03-14T02:30:00', '2027-11-07T01:30:00', '2027-01-01', '2027-01-01T10:00', '20270101T100000',
      '+275760-09-13T00:00:00', '2027-01-01T24:00:00', '2027-12-31T23:59:60', '', '2027-01-01t10:00:00', '2027-01-01 10:00:00', '2020-01-01T00:00:00',
      '2026-12-01T12:00:00', '2026-12-01T11:59:59',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 1, arbitrary: fc.constant(null) },
);

// RFC 5545 fragments: plausible rules most of the time, broken ones often.
const intText = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -60, max: 400 }).map(String) },
  { weight: 1, arbitrary: fc.constantFrom('0', '-0', '+1', '01', '1.5', '', ' 1', '1e2', '2147483647', '2147483648', '-2147483649', '99999999999999999999', 'NaN', 'x', '366', '-366', '53', '-53', '60', '61') },
);
const intList = fc.array(intText, { minLength: 1, maxLength: 4 }).map((a) => a.join(','));
const weekday = fc.oneof({ weight: 8, arbitrary: fc.constantFrom('MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU') }, { weight: 1, arbitrary: fc.constantFrom('mo', 'XX', '', 'MON', '1MO') });
const byDayItem = fc.tuple(fc.constantFrom('', '', '', '+', '-'), fc.oneof(fc.constant(''), fc.constant(''), fc.integer({ min: 0, max: 60 }).map(String)), weekday).map(([s, n, d]) => s + n + d);
const dateValue = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .record({ y: fc.integer({ min: 1960, max: 2040 }), mo: fc.integer({ min: 0, max: 13 }), d: fc.integer({ min: 0, max: 32 }), h: fc.integer({ min: 0, max: 25 }), mi: fc.integer({ min: 0, max: 60 }), s: fc.integer({ min: 0, max: 61 }), form: fc.constantFrom('date', 'local', 'utc') })
      .map(({ y, mo, d, h, mi, s, form }) => `${pad(y, 4)}${pad(mo)}${pad(d)}${form === 'date' ? '' : `T${pad(h)}${pad(mi)}${pad(s)}${form === 'utc' ? 'Z' : ''}`}`),
  },
  { weight: 1, arbitrary: fc.constantFrom('20270101T090000Z', '20270101', '19700101T000000Z', '99991231T235959', '20270230', '20270101T090000+0100', 'garbage', '', '20270101T090000Z/PT1H', '20270101T090000Z/20270101T100000Z') },
);
const FREQS = ['SECONDLY', 'MINUTELY', 'HOURLY', 'DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY'];
const freqPart = fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...FREQS) }, { weight: 1, arbitrary: fc.constantFrom('daily', 'FORTNIGHTLY', '', 'DAILY ') }).map((f) => `FREQ=${f}`);
const rulePart: fc.Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: intText.map((v) => `INTERVAL=${v}`) },
  { weight: 2, arbitrary: intText.map((v) => `COUNT=${v}`) },
  { weight: 2, arbitrary: dateValue.map((v) => `UNTIL=${v}`) },
  { weight: 6, arbitrary: fc.tuple(fc.constantFrom('BYSECOND', 'BYMINUTE', 'BYHOUR', 'BYMONTHDAY', 'BYYEARDAY', 'BYWEEKNO', 'BYMONTH', 'BYSETPOS'), intList).map(([k, v]) => `${k}=${v}`) },
  { weight: 3, arbitrary: fc.array(byDayItem, { minLength: 1, maxLength: 4 }).map((a) => `BYDAY=${a.join(',')}`) },
  { weight: 1, arbitrary: weekday.map((d) => `WKST=${d}`) },
  { weight: 1, arbitrary: freqPart },
  { weight: 1, arbitrary: fc.constantFrom('X-FOO=1', 'BYFOO=1', 'FREQ', '=', '', 'RSCALE=GREGORIAN', 'SKIP=OMIT', 'byhour=9', 'COUNT=1;COUNT=2') },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);
const ruleText = fc
  .tuple(fc.option(freqPart, { nil: undefined, freq: 6 }), fc.array(rulePart, { maxLength: 5 }), fc.boolean())
  .map(([f, parts, trailing]) => [...(f === undefined ? [] : [f]), ...parts].join(';') + (trailing ? ';' : ''));
const recurrenceLine: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(fc.constantFrom('RRULE:', 'RRULE:', 'RRULE:', 'EXRULE:', '', 'rrule:', 'RRULE;X-A=1:', 'RRULE :'), ruleText).map(([p, r]) => p + r) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.constantFrom('RDATE', 'EXDATE', 'rdate'),
        fc.constantFrom('', '', '', ';VALUE=DATE', ';VALUE=DATE-TIME', ';VALUE=PERIOD', ';TZID=Europe/Zurich', ';TZID=America/Toronto', ';TZID=Bad/Zone', ';TZID="Europe/Zurich"', ';X-A=1', ';TZID='),
        fc.array(dateValue, { minLength: 1, maxLength: 3 }),
      )
      .map(([n, p, vs]) => `${n}${p}:${vs.join(',')}`),
  },
  { weight: 1, arbitrary: fc.constantFrom('DTSTART:20270101T090000', 'DTEND:20270101T090000', 'DURATION:PT1H', '', '  ', ':', 'RRULE:', 'BEGIN:VEVENT', 'RRULE:FREQ=DAILY\r\nRRULE:FREQ=WEEKLY', 'RRULE:FREQ=SECONDLY;COUNT=2147483647', 'RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30', 'RRULE:FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30', 'RRULE:FREQ=MINUTELY;BYSETPOS=-1;BYYEARDAY=366') },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
);
/** A rule a client would write: every part well-formed and in range (they may still never occur). */
const signed = (min: number, max: number): fc.Arbitrary<string> => fc.tuple(fc.integer({ min, max }), fc.boolean()).map(([n, neg]) => String(neg ? -n : n));
const nums = (a: fc.Arbitrary<string>): fc.Arbitrary<string> => fc.uniqueArray(a, { minLength: 1, maxLength: 3 }).map((x) => x.join(','));
const wellFormedRule: fc.Arbitrary<string> = fc.constantFrom(...FREQS).chain((freq) => {
  const yearly = freq === 'YEARLY';
  const ordinals = yearly || freq === 'MONTHLY';
  return fc
    .tuple(
      fc.constant(freq),
      fc.record(
      {
        INTERVAL: fc.integer({ min: 1, max: 10 }).map(String),
        COUNT: fc.integer({ min: 1, max: 60 }).map(String),
        UNTIL: validLocalDateTime(2027, 2031).map((d) => d.replace(/[-:]/g, '')),
        BYSECOND: nums(fc.integer({ min: 0, max: 59 }).map(String)),
        BYMINUTE: nums(fc.integer({ min: 0, max: 59 }).map(String)),
        BYHOUR: nums(fc.integer({ min: 0, max: 23 }).map(String)),
        BYDAY: nums(fc.tuple(ordinals ? fc.oneof(fc.constant(''), signed(1, 5)) : fc.constant(''), fc.constantFrom('MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU')).map(([n, d]) => n + d)),
        ...(freq !== 'WEEKLY' && { BYMONTHDAY: nums(signed(1, 31)) }),
        ...(yearly && { BYYEARDAY: nums(signed(1, 366)), BYWEEKNO: nums(signed(1, 53)) }),
        BYMONTH: nums(fc.integer({ min: 1, max: 12 }).map(String)),
        BYSETPOS: nums(signed(1, 10)),
        WKST: fc.constantFrom('MO', 'SU'),
      },
      { requiredKeys: [] },
    ),
    fc.constantFrom('RRULE:', 'RRULE:', 'EXRULE:', ''),
  )
  .map(([f, parts, prefix]) => {
    const entries = Object.entries(parts).filter(([k]) => !(k === 'UNTIL' && 'COUNT' in parts));
    return `${prefix}FREQ=${f}${entries.map(([k, v]) => `;${k}=${v}`).join('')}`;
  });
});

const recurrenceArb: fc.Arbitrary<string[] | null> = fc.oneof(
  { weight: 8, arbitrary: fc.array(recurrenceLine, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.array(recurrenceLine, { minLength: 90, maxLength: 110 }) },
);

/** One half of a surrogate pair, alone (valid in a JSON string as an escape, not valid UTF-16). */
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const appIdArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('app-1', 'app-2', '5be59decca62aa00097268a4', 'f3b1c2d4-0a1b-4c5d-8e9f-0123456789ab') },
  { weight: 3, arbitrary: fc.string({ minLength: 1, maxLength: 60 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }) },
  { weight: 2, arbitrary: fc.tuple(fc.string({ maxLength: 5 }), loneSurrogate).map(([a, b]) => `app${a}${b}`) },
  { weight: 1, arbitrary: fc.constantFrom(' ', '\t', 'a\u0000b', 'a\nb', '\u202e', '\ufeffapp', 'x'.repeat(256), 'x'.repeat(257), "'; DROP TABLE tasks; --", '%s%n', '${{7*7}}') },
);

/** Any JSON value a client could put anywhere. */
const anyValue: fc.Arbitrary<Val> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(null, true, false, 0, -0, 1, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, '', ' ', 'true', 'false', 'null', '0', '[]', '{}', '2027-01-01T00:00:00', 'RRULE:FREQ=DAILY', 'Europe/Zurich', [], {}, [null], ['RRULE:FREQ=DAILY'], { appId: 'x' }).map(json) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map(json) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }).map(json) },
  { weight: 1, arbitrary: fc.double().map(json) },
  { weight: 1, arbitrary: fc.array(fc.oneof(fc.string(), fc.integer(), fc.constant(null)), { maxLength: 5 }).map(json) },
  { weight: 1, arbitrary: fc.record({ n: fc.integer({ min: 300, max: 80_000 }), ch: fc.constantFrom('x', 'é', '😀', '\\', '"', ' ') }).map(({ n, ch }): Val => ({ k: 'huge', n, ch })) },
  { weight: 1, arbitrary: fc.record({ depth: fc.integer({ min: 1, max: 15_000 }), open: fc.constantFrom('array' as const, 'object' as const) }).map(({ depth, open }): Val => ({ k: 'deep', depth, open })) },
);

const FIELDS = ['appId', 'timeZone', 'partial', 'autoReload', 'autoReloadPartial', 'recurrence', 'startDateTime', 'endDateTime', 'type', 'state'] as const;
const WEIRD_KEYS = ['__proto__', 'constructor', 'prototype', 'id', 'userId', 'tenantId', 'nextExecutionTime', 'lastExecutionTime', 'links', 'version', 'migrated', 'disabledCode', 'log', 'APPID', 'appid', 'app Id', '', '\u0000', 'hasOwnProperty', 'toString', '$ref', 'appId\u0000'];
const keyArb: fc.Arbitrary<string> = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...FIELDS) }, { weight: 3, arbitrary: fc.constantFrom(...WEIRD_KEYS) }, { weight: 1, arbitrary: fc.string({ maxLength: 10 }) });

// ---------------------------------------------------------------------------------------------
// Arbitraries: bodies

/** The schedule fields: none, a coherent schedule, or anything. */
const scheduleArb: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({}) },
  {
    weight: 5,
    arbitrary: fc.record(
      {
        startDateTime: validLocalDateTime(2025, 2028),
        recurrence: fc.array(fc.oneof({ weight: 4, arbitrary: wellFormedRule }, { weight: 1, arbitrary: recurrenceLine }), { minLength: 1, maxLength: 3 }),
        endDateTime: validLocalDateTime(2027, 2032),
      },
      { requiredKeys: ['startDateTime', 'recurrence'] },
    ),
  },
  { weight: 4, arbitrary: fc.record({ recurrence: recurrenceArb, startDateTime: localDateTimeArb, endDateTime: localDateTimeArb }, { requiredKeys: [] }) },
);

/** A POST body as a client would mostly write it: required fields, a schedule most of the time. */
const validPost: fc.Arbitrary<Record<string, unknown>> = fc
  .tuple(
    fc.record(
      {
        appId: appIdArb,
        timeZone: timeZoneArb,
        partial: fc.boolean(),
        autoReload: fc.boolean(),
        autoReloadPartial: fc.boolean(),
        type: fc.constantFrom('scheduled_reload', 'x', ''),
      },
      { requiredKeys: ['appId', 'timeZone'] },
    ),
    scheduleArb,
  )
  .map(([fields, schedule]) => ({ ...fields, ...schedule }));

const validPut: fc.Arbitrary<Record<string, unknown>> = fc
  .tuple(
    fc.record(
      {
        appId: appIdArb,
        timeZone: timeZoneArb,
        partial: fc.boolean(),
        autoReload: fc.boolean(),
        autoReloadPartial: fc.boolean(),
        state: fc.oneof({ weight: 5, arbitrary: fc.constantFrom('Enabled', 'Disabled', 'Completed') }, { weight: 1, arbitrary: fc.constantFrom('enabled', 'Paused', '') }),
      },
      { requiredKeys: [] },
    ),
    scheduleArb,
  )
  .map(([fields, schedule]) => ({ ...fields, ...schedule }));

const mutations: fc.Arbitrary<Mutation> = mutationArb(keyArb, anyValue);


/** A valid body with 0 to 4 mutations (none a third of the time). */
function mutated(valid: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<{ body: Body; mutations: Mutation[] }> {
  return fc
    .tuple(valid, fc.oneof({ weight: 1, arbitrary: fc.constant<Mutation[]>([]) }, { weight: 2, arbitrary: fc.array(mutations, { minLength: 1, maxLength: 4 }) }))
    .map(([v, mutations]) => ({ body: mutations.reduce(mutate, objectBody(v) as Body), mutations }));
}

// ---------------------------------------------------------------------------------------------
// Fixtures

const aliceTasks: string[] = [];
const globexTasks: string[] = [];
const cursorPool: string[] = [];

async function create(c: Caller, body: Record<string, unknown>): Promise<string> {
  const ex = await sendJson(c, 'POST', TASKS, JSON.stringify(body));
  const t = checkTaskAnswer(ex, 201);
  return t.id as string;
}

const SCHEDULED = { timeZone: 'Europe/Zurich', startDateTime: '2027-01-04T09:00:00', recurrence: ['RRULE:FREQ=DAILY;BYHOUR=9;BYMINUTE=0;BYSECOND=0'] };

before(async () => {
  api = await createTestApi();
  useApi(api);
  for (let i = 0; i < 15; i++) {
    aliceTasks.push(await create(ALICE, { appId: `app-${'abc'[i % 3]}`, partial: i % 2 === 0, ...SCHEDULED }));
  }
  for (let i = 0; i < 3; i++) globexTasks.push(await create(GINA, { appId: 'app-a', ...SCHEDULED }));
  // Cursors the service really issued, to be replayed, swapped and tampered with.
  for (const [c, q] of [[ALICE, 'limit=2'], [ROOT, 'limit=3&appId=app-a'], [ALICE, 'limit=1&partial=true'], [GINA, 'limit=1']] as const) cursorPool.push(...(await issuedCursors(c, `${TASKS}?${q}`, 4)));
  assert.ok(cursorPool.length >= 4, 'fixture: no cursors were issued');
});

after(async () => {
  await api?.close();
});

/** Runs a property and reports its requests and time. */
async function property(t: TestContext, run: () => Promise<void>): Promise<void> {
  const r0 = stats.requests;
  const t0 = performance.now();
  try {
    await run();
  } finally {
    t.diagnostic(`${stats.requests - r0} requests in ${Math.round(performance.now() - t0)} ms (FUZZ_RUNS=${RUNS})`);
  }
}

// ---------------------------------------------------------------------------------------------

describe('fuzz: the API never answers 5xx and always answers the envelope', () => {
  it('1a. random and mutated POST bodies: 201 with the task shape, or a 4xx envelope', async (t) => {
    await property(t, () =>
      fc.assert(
        fc.asyncProperty(mutated(validPost), async ({ body }) => {
          const ex = await sendJson(ALICE, 'POST', TASKS, render(body));
          checkAnswer(ex);
          expect(ex, [201, 400, 413].includes(ex.res.statusCode), 'expected 201, 400 or 413');
          if (ex.res.statusCode === 201) checkTaskAnswer(ex, 201);
        }),
        runs(3),
      ),
    );
  });

  it('1b. random and mutated PUT bodies: 200 with the task shape, or a 4xx envelope', async (t) => {
    await property(t, () =>
      fc.assert(
        fc.asyncProperty(fc.nat(aliceTasks.length - 1), mutated(validPut), async (i, { body }) => {
          const ex = await sendJson(ALICE, 'PUT', `${TASKS}/${aliceTasks[i]}`, render(body));
          checkAnswer(ex);
          expect(ex, [200, 400, 413].includes(ex.res.statusCode), 'expected 200, 400 or 413');
          if (ex.res.statusCode === 200) checkTaskAnswer(ex, 200);
        }),
        runs(3),
      ),
    );
  });

  it('1c. an accepted POST or PUT echoes what was sent and reads back exactly as answered', async (t) => {
    const fields = ['appId', 'timeZone', 'partial', 'autoReload', 'autoReloadPartial', 'recurrence', 'startDateTime', 'endDateTime'];
    await property(t, () =>
      fc.assert(
        fc.asyncProperty(fc.boolean(), fc.nat(aliceTasks.length - 1), validPost, validPut, async (isPost, i, post, put) => {
          const sent: Record<string, unknown> = isPost ? post : put;
          const ex = isPost ? await sendJson(ALICE, 'POST', TASKS, JSON.stringify(sent)) : await sendJson(ALICE, 'PUT', `${TASKS}/${aliceTasks[i]}`, JSON.stringify(sent));
          checkAnswer(ex);
          if (ex.res.statusCode >= 300) return;
          const answered = checkTaskAnswer(ex, isPost ? 201 : 200);
          for (const f of fields) {
            const v = sent[f];
            if (v === undefined || v === null || (v === '' && f.endsWith('DateTime'))) continue;
            expect(ex, JSON.stringify(answered[f]) === JSON.stringify(v), `the answer's ${f} is not the ${f} sent`);
          }
          const read = await sendJson(ALICE, 'GET', `${TASKS}/${String(answered.id)}`);
          checkAnswer(read);
          const back = checkTaskAnswer(read, 200);
          if (JSON.stringify(back) !== JSON.stringify(answered)) {
            fail(read, `GET does not return the task the ${isPost ? 'POST' : 'PUT'} answered:\nanswered: ${clip(JSON.stringify(answered))}\nwrite was:\n${describeExchange(ex)}`);
          }
        }),
        runs(1.5),
      ),
    );
  });

  // -------------------------------------------------------------------------------------------

  type Raw =
    | { readonly kind: 'text'; readonly text: string }
    | { readonly kind: 'truncated'; readonly body: Body; readonly keep: number }
    | { readonly kind: 'bytes'; readonly before: string; readonly bytes: Uint8Array; readonly after: string }
    | { readonly kind: 'large'; readonly n: number; readonly shape: 'string-member' | 'array' | 'garbage' }
    | { readonly kind: 'wrong-type'; readonly contentType: string; readonly body: string }
    | { readonly kind: 'odd-type'; readonly contentType: string; readonly body: string }
    | { readonly kind: 'no-type'; readonly body: string }
    | { readonly kind: 'empty'; readonly contentType: string | null };

  const smallValid = JSON.stringify({ appId: 'raw', timeZone: 'UTC' });
  const WRONG_TYPES = ['text/plain', 'text/html', 'application/xml', 'text/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/octet-stream', 'application/jsonx', 'image/png', 'application/javascript', 'text/json', 'json', 'application', '*/*', 'application/*'];
  const rawArb: fc.Arbitrary<Raw> = fc.oneof(
    { weight: 3, arbitrary: fc.oneof(fc.string({ maxLength: 60 }), fc.string({ unit: 'binary', maxLength: 60 }), fc.constantFrom('{', '}', '{"appId":', 'nul', 'NaN', 'undefined', "{'appId':'a'}", '{"appId":"a",}', '{"a":1}{"b":2}', '\ufeff{}', '{"appId":"a","timeZone":"UTC"} trailing', '[1,]', '"\\ud800"', '{"a":"\\u00"}')).map((text): Raw => ({ kind: 'text', text })) },
    { weight: 3, arbitrary: fc.tuple(mutated(validPost), fc.double({ min: 0, max: 0.999, noNaN: true })).map(([m, f]): Raw => ({ kind: 'truncated', body: m.body, keep: f })) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.constantFrom('{"appId":"', '{"timeZone":"UTC","appId":"', '{"', '', '{"appId":"a","timeZone":"UTC","x":"'), fc.uint8Array({ minLength: 1, maxLength: 12 }).map((b) => b.map((x) => x | 0x80)), fc.constantFrom('","timeZone":"UTC"}', '"}', '":1}', ''))
        .map(([before, bytes, after]): Raw => ({ kind: 'bytes', before, bytes, after })),
    },
    { weight: 2, arbitrary: fc.record({ n: fc.integer({ min: 64 * 1024 + 1, max: 300_000 }), shape: fc.constantFrom('string-member' as const, 'array' as const, 'garbage' as const) }).map((r): Raw => ({ kind: 'large', ...r })) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...WRONG_TYPES), fc.constantFrom(smallValid, 'appId=a&timeZone=UTC', '<task/>', 'x')).map(([contentType, body]): Raw => ({ kind: 'wrong-type', contentType, body })) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          fc.oneof(
            fc.constantFrom('APPLICATION/JSON', 'application/json;', 'application/json ; charset=utf-8', 'application/json; charset=latin1', 'application/json; charset=utf-16', 'application/json; charset="utf-8"', 'application/json; x=y; charset=utf-8', 'application/vnd.api+json', 'application/problem+json', 'application/json, text/plain', ' application/json', 'application/json\t', 'application/ json', ';', ''),
            fc.stringMatching(/^[\x20-\x7e]{0,40}$/),
          ),
          fc.constantFrom(smallValid, '{}', 'x'),
        )
        .map(([contentType, body]): Raw => ({ kind: 'odd-type', contentType, body })),
    },
    { weight: 1, arbitrary: fc.constantFrom(smallValid, '{}', 'x').map((body): Raw => ({ kind: 'no-type', body })) },
    { weight: 1, arbitrary: fc.constantFrom('application/json', 'text/plain', null).map((contentType): Raw => ({ kind: 'empty', contentType })) },
  );

  function rawRequest(r: Raw): { payload?: string | Buffer; contentType?: string } {
    switch (r.kind) {
      case 'text':
        return { payload: r.text, contentType: 'application/json' };
      case 'truncated': {
        const full = render(r.body);
        return { payload: full.slice(0, Math.floor(full.length * r.keep)), contentType: 'application/json' };
      }
      case 'bytes':
        return { payload: Buffer.concat([Buffer.from(r.before), Buffer.from(r.bytes), Buffer.from(r.after)]), contentType: 'application/json' };
      case 'large': {
        const payload =
          r.shape === 'string-member' ? `{"appId":"a","timeZone":"UTC","x":"${'x'.repeat(r.n)}"}` : r.shape === 'array' ? `[${'1,'.repeat(Math.ceil(r.n / 2))}1]` : '{'.repeat(r.n);
        return { payload, contentType: 'application/json' };
      }
      case 'wrong-type':
      case 'odd-type':
        return { payload: r.body, contentType: r.contentType };
      case 'no-type':
        return { payload: r.body };
      case 'empty':
        return { payload: '', ...(r.contentType !== null && { contentType: r.contentType }) };
    }
  }

  it('2. random raw payloads (not JSON, truncated, invalid UTF-8, over 64 KiB, wrong or no content type)', async (t) => {
    await property(t, () =>
      fc.assert(
        fc.asyncProperty(fc.constantFrom('POST', 'PUT', 'DELETE') as fc.Arbitrary<'POST' | 'PUT' | 'DELETE'>, fc.nat(aliceTasks.length - 1), rawArb, async (method, i, raw) => {
          const { payload, contentType } = rawRequest(raw);
          const url = method === 'POST' ? TASKS : method === 'PUT' ? `${TASKS}/${aliceTasks[i]}` : `${TASKS}/ffffffffffffffffffffffff`;
          const headers: Record<string, string> = { ...(await authOf(ALICE)), ...(contentType !== undefined && { 'content-type': contentType }) };
          const ex = await send({ method, url, headers, ...(payload !== undefined && { payload }) });
          checkAnswer(ex);
          const s = ex.res.statusCode;
          if (method === 'DELETE') {
            // No body is read for a DELETE of a task that does not exist… or is it? Either way a 4xx.
            expect(ex, s >= 400, 'expected a 4xx');
            return;
          }
          const success = method === 'POST' ? 201 : 200;
          switch (raw.kind) {
            case 'large':
              expect(ex, s === 413, 'a body over 64 KiB: expected 413');
              checkEnvelope(ex, 'HTTP-413');
              break;
            case 'wrong-type':
            case 'no-type':
              expect(ex, s === 415, 'a body that is not application/json: expected 415');
              checkEnvelope(ex, 'HTTP-415');
              break;
            case 'truncated':
              expect(ex, s === 400 || (s === 413 && Buffer.byteLength(payload ?? '') > 64 * 1024), 'truncated JSON: expected 400');
              break;
            case 'text': {
              let parsed: unknown;
              try {
                // Fastify's parser skips a byte order mark.
                parsed = JSON.parse(raw.text.replace(/^\ufeff/, ''));
              } catch {
                expect(ex, s === 400, 'a body that is not JSON: expected 400');
                break;
              }
              expect(ex, s === 400 || (s === success && typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)), `expected 400 or ${success}`);
              break;
            }
            default:
              expect(ex, s === 400 || s === 413 || s === 415 || s === success, `expected 400, 413, 415 or ${success}`);
          }
          if (s === success) checkTaskAnswer(ex, success);
        }),
        runs(3),
      ),
    );
  });

  // -------------------------------------------------------------------------------------------

  /** How the server reads a query string (as Fastify's fast-querystring does): ordered pairs. */
  const tamper = (c: string, at: number, ch: string): string => {
    const i = at % c.length;
    return c.slice(0, i) + (c[i] === ch ? 'A' : ch) + c.slice(i + 1);
  };
  /** Cursors: issued ones (the pool is filled in before(), so this is built at test time), tampered, made up. */
  let cursorArbCache: fc.Arbitrary<string> | undefined;
  function cursorArb(): fc.Arbitrary<string> {
    cursorArbCache ??= fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...cursorPool) },
      { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...cursorPool), fc.nat(), fc.constantFrom('A', '_', '-', '.', '0', '=')).map(([c, at, ch]) => tamper(c, at, ch)) },
      { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{0,40}(\.[A-Za-z0-9_-]{0,20})?$/) },
      { weight: 1, arbitrary: fc.constantFrom('', '.', 'a.', '.a', 'a.b', '..', 'YWk.AAAAAAAAAAAAAAAA', 'x'.repeat(513), 'YWl4.' + 'A'.repeat(16)) },
      { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
    );
    return cursorArbCache;
  }

  const queryValue = (key: string): fc.Arbitrary<string> => {
    const generic = fc.oneof(fc.string({ maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 10 }), fc.integer({ min: 1, max: 20_000 }).map((n) => 'v'.repeat(n)));
    switch (key) {
      case 'limit':
        return fc.oneof({ weight: 5, arbitrary: fc.integer({ min: -5, max: 150 }).map(String) }, { weight: 2, arbitrary: fc.constantFrom('1e1', '10.0', ' 5', '5 ', '0x10', '', '+3', '1.5', '99999999999999999999', 'NaN', 'Infinity', '-0', '00001', 'true') }, { weight: 1, arbitrary: generic });
      case 'partial':
        return fc.oneof({ weight: 4, arbitrary: fc.constantFrom('true', 'false') }, { weight: 2, arbitrary: fc.constantFrom('TRUE', 'False', '1', '0', 'yes', '', 'null', 'true ') }, { weight: 1, arbitrary: generic });
      case 'next':
      case 'prev':
        return cursorArb();
      case 'appId':
        return fc.oneof({ weight: 3, arbitrary: fc.constantFrom('app-a', 'app-b', 'app-c', 'nope') }, { weight: 2, arbitrary: generic });
      default:
        return generic;
    }
  };

  const queryKey = fc.oneof(
    { weight: 10, arbitrary: fc.constantFrom('limit', 'appId', 'partial', 'next', 'prev') },
    { weight: 2, arbitrary: fc.constantFrom('LIMIT', 'limit[]', 'appId[0]', '__proto__', 'constructor', 'hasOwnProperty', 'toString', 'sort', 'filter', 'page', 'offset', '', 'a b', 'next ', 'appid') },
    { weight: 1, arbitrary: fc.string({ maxLength: 10 }) },
  );
  const queryPart: fc.Arbitrary<QueryPart> = queryKey.chain((key) =>
    fc.record({
      key: fc.constant(key),
      value: fc.option(queryValue(key), { nil: null, freq: 12 }),
      raw: fc.boolean(),
    }),
  );
  const garbage = fc.array(fc.constantFrom(...PERCENT_GARBAGE), { minLength: 1, maxLength: 3 }).map((a) => a.join(''));

  interface QuerySpec {
    readonly caller: 'alice' | 'root' | 'bob' | 'gina';
    readonly parts: readonly QueryPart[];
    readonly garbage: readonly string[];
    readonly separator: '&' | '&&';
  }

  const CALLERS: Record<QuerySpec['caller'], Caller> = { alice: ALICE, root: ROOT, bob: BOB, gina: GINA };

  const queryStringOf = (q: QuerySpec): string => queryString(q.parts, q.garbage, q.separator);

  it('3. random query strings on the list endpoint: 200 with absolute links that keep the filters, or a 4xx envelope', async (t) => {
    const specArb: fc.Arbitrary<QuerySpec> = fc.record({
      caller: fc.constantFrom('alice', 'root', 'bob', 'gina') as fc.Arbitrary<QuerySpec['caller']>,
      parts: fc.array(queryPart, { maxLength: 6 }),
      garbage: fc.array(garbage, { maxLength: 2 }),
      separator: fc.constantFrom('&', '&', '&', '&&') as fc.Arbitrary<'&' | '&&'>,
    });
    await property(t, () =>
      fc.assert(
        fc.asyncProperty(specArb, async (q) => {
          const search = queryStringOf(q);
          const url = search === '' ? TASKS : `${TASKS}?${search}`;
          const ex = await sendJson(CALLERS[q.caller], 'GET', url);
          checkAnswer(ex);
          const s = ex.res.statusCode;
          expect(ex, s === 200 || s === 400, 'expected 200 or 400');
          // The query as it reached the server: inject() (like any WHATWG URL client) percent-encodes
          // a few characters (' becomes %27) before sending, so compare with that, not the raw string.
          const pairs = serverPairs(new URL(url, 'http://localhost').search);
          const keys = pairs.map(([k]) => k);
          if (keys.includes('next') && keys.includes('prev')) expect(ex, s === 400, 'both next and prev: expected 400');
          const limits = pairs.filter(([k]) => k === 'limit').map(([, v]) => v);
          if (limits.length === 1 && /^\d+$/.test(limits[0]!) && (Number(limits[0]) < 1 || Number(limits[0]) > 100)) expect(ex, s === 400, 'limit out of 1..100: expected 400');
          if (s !== 200) return;
          const body = jsonOf(ex) as { data?: unknown; links?: Record<string, { href?: unknown } | undefined> };
          expect(ex, Array.isArray(body.data), 'a list without data');
          for (const task of body.data as unknown[]) checkTask(ex, task);
          const limit = limits.length === 1 ? Number(limits[0]) : 10;
          if (Number.isInteger(limit) && limit >= 1 && limit <= 100) expect(ex, (body.data as unknown[]).length <= limit, 'more items than the limit');
          checkListLinks(ex, body.links, TASKS, pairs);
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
    | { readonly kind: 'other-tenant'; readonly i: number }
    | { readonly kind: 'other-user'; readonly i: number }
    | { readonly kind: 'variant'; readonly i: number; readonly how: IdVariant };

  const PATH_PIECES = ['%2F', '%2f', '..', '.', '%', '%zz', '%00', ';', ',', ':', '@', '!', '$', '&', "'", '(', ')', '*', '+', '=', '~', '%20', '%5C', '%E2%80%AE', '%C0%AF', '%ED%A0%80', '/', '//', '?', '?x=1', '#', '%23', '%3F'];
  const idCaseArb: fc.Arbitrary<IdCase> = fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('random' as const), id: fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 20 })), encode: fc.constant(true) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('random' as const), id: fc.array(fc.oneof(fc.constantFrom(...PATH_PIECES), fc.stringMatching(/^[A-Za-z0-9_-]{1,8}$/)), { maxLength: 5 }).map((a) => a.join('')), encode: fc.constant(false) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('long' as const), n: fc.integer({ min: 25, max: 10_000 }), ch: fc.constantFrom('a', '0', '%41', '-') }) },
    { weight: 3, arbitrary: fc.stringMatching(/^[0-9a-f]{24}$/).filter((id) => !aliceTasks.includes(id) && !globexTasks.includes(id)).map((id): IdCase => ({ kind: 'missing', id })) },
    { weight: 1, arbitrary: fc.nat(2).map((i): IdCase => ({ kind: 'other-tenant', i })) },
    { weight: 1, arbitrary: fc.nat(14).map((i): IdCase => ({ kind: 'other-user', i })) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('variant' as const), i: fc.nat(14), how: fc.constantFrom(...ID_VARIANTS) }) },
  );

  function idPath(c: IdCase): string {
    switch (c.kind) {
      case 'random':
        return c.encode ? encodeURIComponent(c.id) : c.id;
      case 'long':
        return c.ch.repeat(c.n);
      case 'missing':
        return c.id;
      case 'other-tenant':
        return globexTasks[c.i]!;
      case 'other-user':
        return aliceTasks[c.i]!;
      case 'variant':
        return idVariant(aliceTasks[c.i]!, c.how);
    }
  }

  it('4. random path ids on GET/PUT/DELETE: 404 (or 400/403/405 where it applies), never 5xx', async (t) => {
    await property(t, () =>
      fc.assert(
        fc.asyncProperty(fc.constantFrom('GET', 'PUT', 'DELETE') as fc.Arbitrary<'GET' | 'PUT' | 'DELETE'>, idCaseArb, async (method, c) => {
          // Alice's own tasks are only ever addressed by Bob, who may not touch them.
          const itself = c.kind === 'variant' && (c.how === 'encoded' || c.how === 'slash');
          const caller = c.kind === 'other-user' || itself ? BOB : ALICE;
          const url = `${TASKS}/${idPath(c)}`;
          const ex = await sendJson(caller, method, url, method === 'PUT' ? JSON.stringify({ appId: 'fuzz-path' }) : undefined);
          checkAnswer(ex);
          const s = ex.res.statusCode;
          if (reachesCollection(url, TASKS)) {
            // `/api/v1/reload-tasks/` is the list (a trailing slash is ignored).
            expect(ex, method === 'GET' ? s === 200 : s === 405, 'the list: expected 200 for GET, 405 otherwise');
          } else if (c.kind === 'missing' || c.kind === 'other-tenant') {
            expect(ex, s === 404, 'a task id that does not exist for the tenant: expected 404');
            checkEnvelope(ex, 'HTTP-404');
          } else if (c.kind === 'other-user') {
            expect(ex, s === 403, "another user's task: expected 403");
            checkEnvelope(ex, 'HTTP-403');
          } else if (itself) {
            expect(ex, s === 403, "a percent-encoded id, or an id with a trailing slash, of another user's task is that task: expected 403");
          } else {
            expect(ex, [400, 404, 405].includes(s), 'expected 404 (or 400/405)');
          }
        }),
        runs(3),
      ),
    );
  });

  // -------------------------------------------------------------------------------------------

  type Auth =
    | { readonly kind: 'none' }
    | { readonly kind: 'garbage'; readonly value: string }
    | { readonly kind: 'jwt-looking'; readonly scheme: string; readonly parts: readonly string[] }
    | { readonly kind: 'alg-none'; readonly claims: Record<string, unknown> }
    | { readonly kind: 'hs256-public-key' }
    | { readonly kind: 'signed'; readonly header: Record<string, unknown>; readonly claims: ClaimSpec }
    | { readonly kind: 'expired' }
    | { readonly kind: 'valid'; readonly who: 'alice' | 'gina' | 'gadmin' | 'root' | 'bob'; readonly form: 'plain' | 'lower' | 'spaces' | 'tab' | 'basic' | 'no-scheme' | 'suffix' | 'dup-scheme' | 'extra-segment' | 'truncated' };

  interface ClaimSpec {
    readonly tenantId: unknown;
    readonly sub: unknown;
    readonly roles: unknown;
    readonly exp: 'future' | 'past' | 'none' | 'string' | 'huge' | 'float';
    readonly nbf: 'none' | 'past' | 'future';
    readonly extra: Record<string, unknown>;
  }

  const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64url');
  const claimValue = fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom('acme', 'globex', 'alice', 'bob') },
    { weight: 2, arbitrary: fc.constantFrom('', ' ', 'x'.repeat(257), 'a\u0000b', 'a\nb', '\u202e', 42, null, true, ['acme'], { id: 'acme' }, undefined) },
    { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
  );
  const claimArb: fc.Arbitrary<ClaimSpec> = fc.record({
    tenantId: claimValue,
    sub: claimValue,
    roles: fc.constantFrom(undefined, [], ['TenantAdmin'], 'TenantAdmin', 'x TenantAdmin,y', 'tenantadmin', 42, { TenantAdmin: true }, [['TenantAdmin']], null, ''),
    exp: fc.constantFrom('future', 'future', 'past', 'none', 'string', 'huge', 'float') as fc.Arbitrary<ClaimSpec['exp']>,
    nbf: fc.constantFrom('none', 'none', 'past', 'future') as fc.Arbitrary<ClaimSpec['nbf']>,
    extra: fc.dictionary(fc.constantFrom('iss', 'aud', 'iat', 'jti', '__proto__', 'constructor', 'x'), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 }),
  });
  const WHO: Record<string, Caller> = { alice: ALICE, gina: GINA, gadmin: GINA_ADMIN, root: ROOT, bob: BOB };
  const authArb: fc.Arbitrary<Auth> = fc.oneof(
    { weight: 1, arbitrary: fc.constant<Auth>({ kind: 'none' }) },
    {
      weight: 3,
      arbitrary: fc
        .oneof(
          fc.constantFrom('', ' ', 'Bearer', 'Bearer ', 'Bearer  ', 'bearer', 'Basic dXNlcjpwYXNz', 'Bearer a.b.c', 'Bearer ..', 'Bearer a..', 'Bearer null', 'Bearer undefined', 'Negotiate abc', 'Bearer\u00a0a.b.c', 'Bearer eyJ.eyJ.'),
          fc.stringMatching(/^[\x20-\x7e]{0,80}$/),
          fc.integer({ min: 1, max: 20_000 }).map((n) => `Bearer ${'A'.repeat(n)}.${'B'.repeat(n % 50)}.C`),
        )
        .map((value): Auth => ({ kind: 'garbage', value })),
    },
    {
      weight: 3,
      arbitrary: fc
        .tuple(
          fc.constantFrom('Bearer', 'bearer', 'BEARER'),
          fc.array(fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{0,60}$/), fc.jsonValue({ maxDepth: 2 }).map((v) => b64(JSON.stringify(v))), fc.constantFrom(b64('{"alg":"ES256","typ":"JWT"}'), b64('{"alg":"none"}'), b64('{"alg":"HS256"}'), b64('{"alg":"ES256","crit":["exp"]}'), b64('{"alg":"ES256","b64":false,"crit":["b64"]}'), b64('{"alg":"ES256","jku":"http://127.0.0.1:1/jwks"}'), b64('{"alg":"ES256","kid":"../../etc/passwd"}'), b64('{"alg":"RS256"}'), b64('[]'), b64('null'), b64('"x"'))), { minLength: 3, maxLength: 3 }),
        )
        .map(([scheme, parts]): Auth => ({ kind: 'jwt-looking', scheme, parts })),
    },
    { weight: 1, arbitrary: fc.constantFrom<Auth>({ kind: 'alg-none', claims: { tenantId: 'acme', sub: 'alice', exp: 4e9 } }, { kind: 'alg-none', claims: { tenantId: 'acme', sub: 'root', roles: ['TenantAdmin'], exp: 4e9 } }, { kind: 'hs256-public-key' }, { kind: 'expired' }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('signed' as const), header: fc.constantFrom<Record<string, unknown>>({}, { typ: 'JWT' }, { kid: 'x' }, { crit: ['x-unknown'], 'x-unknown': 1 }, { typ: 'at+jwt' }, { jku: 'http://127.0.0.1:1/jwks' }), claims: claimArb }) },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('valid' as const),
        who: fc.constantFrom('alice', 'gina', 'gadmin', 'root', 'bob') as fc.Arbitrary<'alice' | 'gina' | 'gadmin' | 'root' | 'bob'>,
        form: fc.constantFrom('plain', 'plain', 'plain', 'lower', 'spaces', 'tab', 'basic', 'no-scheme', 'suffix', 'dup-scheme', 'extra-segment', 'truncated') as fc.Arbitrary<Extract<Auth, { kind: 'valid' }>['form']>,
      }),
    },
  );

  /** The Authorization header, and whether it certainly carries no acceptable token (so: 401) or certainly does. */
  async function authorization(a: Auth): Promise<{ value: string | undefined; invalid: boolean; valid?: boolean }> {
    const nowS = Math.floor(Date.now() / 1000);
    switch (a.kind) {
      case 'none':
        return { value: undefined, invalid: true };
      case 'garbage':
        return { value: a.value, invalid: true };
      case 'jwt-looking':
        return { value: `${a.scheme} ${a.parts.join('.')}`, invalid: true };
      case 'alg-none':
        return { value: `Bearer ${b64('{"alg":"none","typ":"JWT"}')}.${b64(JSON.stringify(a.claims))}.`, invalid: true };
      case 'hs256-public-key': {
        const pem = loadOrCreateLocalKey(api.dir).publicKey.export({ type: 'spki', format: 'pem' }).toString();
        const input = `${b64('{"alg":"HS256","typ":"JWT"}')}.${b64(JSON.stringify({ tenantId: 'acme', sub: 'root', roles: ['TenantAdmin'], exp: nowS + 600 }))}`;
        const token = `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`;
        nameToken(token, '<HS256 token signed with the public key>');
        return { value: `Bearer ${token}`, invalid: true };
      }
      case 'expired':
        return { value: `Bearer ${await tokenOf(ALICE, -60)}`, invalid: true };
      case 'signed': {
        const c = a.claims;
        const payload: Record<string, unknown> = { ...c.extra };
        if (c.tenantId !== undefined) payload.tenantId = c.tenantId;
        if (c.sub !== undefined) payload.sub = c.sub;
        if (c.roles !== undefined) payload.roles = c.roles;
        const exp = { future: nowS + 600, past: nowS - 600, none: undefined, string: String(nowS + 600), huge: 1e20, float: nowS + 600.5 }[c.exp];
        if (exp !== undefined) payload.exp = exp;
        if (c.nbf !== 'none') payload.nbf = c.nbf === 'past' ? nowS - 600 : nowS + 600;
        // Signed by hand (jose refuses to sign some of these headers), with the service's own key.
        const input = `${b64(JSON.stringify({ ...a.header, alg: 'ES256' }))}.${b64(JSON.stringify(payload))}`;
        const signature = sign('sha256', Buffer.from(input), { key: loadOrCreateLocalKey(api.dir).privateKey, dsaEncoding: 'ieee-p1363' });
        const token = `${input}.${signature.toString('base64url')}`;
        nameToken(token, `<ES256 token ${clip(JSON.stringify({ header: a.header, payload }), 300)}>`);
        // 'huge' (1e20): the service's own key mints at most 365 days, and refuses tokens that outlive that.
        const invalid = c.exp === 'past' || c.exp === 'none' || c.exp === 'string' || c.exp === 'huge' || c.nbf === 'future' || typeof c.tenantId !== 'string' || typeof c.sub !== 'string' || c.tenantId === '' || c.sub === '' || 'crit' in a.header;
        const goodId = (v: unknown): boolean => typeof v === 'string' && v !== '' && v.length <= 256 && !/[\u0000-\u001f\u007f]/.test(v);
        const valid = goodId(c.tenantId) && goodId(c.sub) && ['future', 'float'].includes(c.exp) && c.nbf !== 'future' && !('crit' in a.header) && (!('iat' in c.extra) || typeof c.extra.iat === 'number');
        return { value: `Bearer ${token}`, invalid, valid };
      }
      case 'valid': {
        const token = await tokenOf(WHO[a.who]!);
        switch (a.form) {
          case 'plain':
            return { value: `Bearer ${token}`, invalid: false, valid: true };
          case 'lower':
            return { value: `bearer ${token}`, invalid: false, valid: true };
          case 'spaces':
            return { value: `Bearer   ${token}  `, invalid: false, valid: true };
          case 'tab':
            return { value: `Bearer\t${token}`, invalid: true };
          case 'basic':
            return { value: `Basic ${token}`, invalid: true };
          case 'no-scheme':
            return { value: token, invalid: true };
          case 'suffix':
            return { value: `Bearer ${token}x`, invalid: true };
          case 'dup-scheme':
            return { value: `Bearer Bearer ${token}`, invalid: true };
          case 'extra-segment':
            return { value: `Bearer ${token}.x`, invalid: true };
          case 'truncated':
            return { value: `Bearer ${token.slice(0, -3)}`, invalid: true };
        }
      }
    }
  }

  const traceparentArb = fc.oneof(
    { weight: 2, arbitrary: fc.tuple(fc.stringMatching(/^[0-9a-f]{32}$/), fc.stringMatching(/^[0-9a-f]{16}$/), fc.constantFrom('00', '01')).map(([tr, p, f]) => `00-${tr}-${p}-${f}`) },
    { weight: 1, arbitrary: fc.constantFrom('', '00', 'ff-' + '1'.repeat(32) + '-' + '1'.repeat(16) + '-01', '00-' + '0'.repeat(32) + '-' + '1'.repeat(16) + '-01', '01-' + 'a'.repeat(32) + '-' + 'b'.repeat(16) + '-01-extra', '00-' + 'A'.repeat(32) + '-' + 'B'.repeat(16) + '-01', ' 00-' + 'a'.repeat(32) + '-' + 'b'.repeat(16) + '-01 ', 'x'.repeat(10_000)) },
    { weight: 1, arbitrary: fc.stringMatching(/^[\x20-\x7e]{0,80}$/) },
  );
  const SKIP_HEADERS = new Set(['host', 'authorization', 'content-length', 'transfer-encoding', 'connection', 'expect', 'upgrade', 'traceparent', 'content-type']);
  const headerName = fc.oneof(
    fc.constantFrom('accept', 'accept-encoding', 'accept-language', 'content-encoding', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'forwarded', 'x-request-id', 'tracestate', 'if-none-match', 'if-match', 'range', 'cookie', 'origin', 'user-agent', 'x-http-method-override', 'accept-version', '__proto__', 'constructor'),
    fc.stringMatching(/^[a-z][a-z0-9!#$%&'*+.^_`|~-]{0,20}$/),
  ).filter((h) => !SKIP_HEADERS.has(h));
  const headerValue = fc.oneof(fc.stringMatching(/^[\x20-\x7e]{0,60}$/), fc.constantFrom('gzip', 'br', 'application/xml', '*/*', 'text/html', '1.0.0', '>=9', 'DELETE', 'PUT', 'bytes=0-1', '127.0.0.1, 10.0.0.1', 'for=1.2.3.4;proto=https;host=evil.example', 'x'.repeat(8000)));

  interface HeaderCase {
    readonly endpoint: 'list' | 'get' | 'post' | 'put' | 'delete';
    readonly auth: Auth;
    readonly traceparent: string | null;
    readonly extra: Record<string, string>;
    readonly contentLength: 'right' | 'smaller' | 'larger' | 'zero' | 'huge' | 'garbage';
    readonly contentType: string | null;
  }

  it('5. random headers on every endpoint: never 5xx; a request without an acceptable token is a 401 envelope', async (t) => {
    // A task of Alice's for the GET and PUT of this property (Alice's PUTs change only it).
    const own = await create(ALICE, { appId: 'headers', ...SCHEDULED });
    const caseArb: fc.Arbitrary<HeaderCase> = fc.record({
      endpoint: fc.constantFrom('list', 'get', 'post', 'put', 'delete') as fc.Arbitrary<HeaderCase['endpoint']>,
      auth: authArb,
      traceparent: fc.option(traceparentArb, { nil: null }),
      extra: fc.dictionary(headerName, headerValue, { maxKeys: 4 }),
      contentLength: fc.constantFrom('right', 'right', 'right', 'right', 'smaller', 'larger', 'zero', 'huge', 'garbage') as fc.Arbitrary<HeaderCase['contentLength']>,
      contentType: fc.oneof({ weight: 6, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom('application/json', 'text/plain', 'application/json; charset=utf-8') }),
    });
    await property(t, () =>
      fc.assert(
        fc.asyncProperty(caseArb, async (c) => {
          const { value, invalid, valid } = await authorization(c.auth);
          const headers: Record<string, string> = { ...c.extra };
          if (value !== undefined) headers.authorization = value;
          if (c.traceparent !== null) headers.traceparent = c.traceparent;
          const method = ({ list: 'GET', get: 'GET', post: 'POST', put: 'PUT', delete: 'DELETE' } as const)[c.endpoint];
          const url = c.endpoint === 'list' ? `${TASKS}?limit=2` : c.endpoint === 'post' ? TASKS : c.endpoint === 'delete' ? `${TASKS}/ffffffffffffffffffffffff` : `${TASKS}/${own}`;
          let payload: string | undefined;
          if (c.endpoint === 'post' || c.endpoint === 'put') {
            payload = JSON.stringify({ appId: 'headers', ...SCHEDULED });
            headers['content-type'] = c.contentType ?? 'application/json';
            const n = Buffer.byteLength(payload);
            const cl = { right: String(n), smaller: String(n - 5), larger: String(n + 5), zero: '0', huge: '99999999999', garbage: 'abc' }[c.contentLength];
            headers['content-length'] = cl;
          } else if (c.contentType !== null) {
            headers['content-type'] = c.contentType;
          }
          const ex = await send({ method, url, headers, ...(payload !== undefined && { payload }) });
          checkAnswer(ex);
          const s = ex.res.statusCode;
          if (invalid) expect(ex, s === 401, 'no acceptable token: expected 401');
          if (valid === true) expect(ex, s !== 401, 'a valid token was refused');
          if (s === 401) {
            checkEnvelope(ex, 'HTTP-401');
            expect(ex, ex.res.headers['www-authenticate'] === 'Bearer', 'a 401 without WWW-Authenticate: Bearer');
          }
          if (s >= 400 && c.traceparent !== null) {
            const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/.exec(c.traceparent);
            if (m && !/^0+$/.test(m[1]!) && !/^0+$/.test(m[2]!)) expect(ex, (jsonOf(ex) as { traceId: string }).traceId === m[1], 'the traceId is not the traceparent trace id');
          }
        }),
        runs(4),
      ),
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('fuzz: rejected requests change nothing', () => {
  type Rejected =
    | { readonly k: 'put-invalid'; readonly task: number; readonly base: Record<string, unknown>; readonly poison: readonly [string, Val]; readonly at: number }
    | { readonly k: 'put-fuzz'; readonly task: number; readonly body: Body }
    | { readonly k: 'put-other'; readonly task: number; readonly who: 'bob' | 'gina' | 'gadmin'; readonly body: Record<string, unknown> }
    | { readonly k: 'put-raw'; readonly task: number; readonly what: 'large' | 'text/plain' | 'no-type' | 'truncated' | 'not-json' | 'proto' | 'empty' | 'array' }
    | { readonly k: 'post-invalid'; readonly base: Record<string, unknown>; readonly poison: readonly [string, Val] }
    | { readonly k: 'delete-other'; readonly task: number; readonly who: 'bob' | 'gina' | 'gadmin' }
    | { readonly k: 'bad-token'; readonly task: number; readonly method: 'PUT' | 'DELETE' | 'POST' }
    | { readonly k: 'bad-host'; readonly task: number; readonly method: 'PUT' | 'DELETE' | 'POST'; readonly host: string };

  /** Fields that make any task invalid, whatever the rest of the merged task is. */
  const POISON: ReadonlyArray<readonly [string, Val]> = [
    ['recurrence', json(['RRULE:FREQ=FORTNIGHTLY'])],
    ['recurrence', json(['DTSTART:20270101T090000'])],
    ['recurrence', json(['RRULE:FREQ=DAILY', 'every day'])],
    ['recurrence', json('RRULE:FREQ=DAILY')],
    ['recurrence', json([42])],
    ['recurrence', json(Array.from({ length: 101 }, () => 'RRULE:FREQ=DAILY'))],
    ['timeZone', json('Mars/Olympus')],
    ['timeZone', json('')],
    ['timeZone', json(5)],
    ['timeZone', json(null)],
    ['startDateTime', json('2027-13-45T99:00:00')],
    ['startDateTime', json('2027-01-01T09:00:00Z')],
    ['startDateTime', json('1969-06-01T00:00:00')],
    ['endDateTime', json('not a date')],
    ['endDateTime', json(7)],
    ['appId', json('   ')],
    ['appId', json('a\u0000b')],
    ['appId', json('')],
    ['appId', json(null)],
    ['appId', json(['app'])],
    ['partial', json('true')],
    ['autoReload', json(1)],
    ['state', json('Paused')],
    ['state', json(null)],
    ['recurrence', { k: 'huge', n: 70_000, ch: 'x' }],
    ['__proto__', json({ polluted: true })],
    ['constructor', json({ prototype: { polluted: true } })],
  ];
  const poisonArb = fc.constantFrom(...POISON);
  // A POST ignores what it does not know (state is a PUT field).
  const postPoisonArb = fc.constantFrom(...POISON.filter(([k]) => k !== 'state'));
  /** What a rejected PUT must not half-apply. */
  const tempting = fc.record(
    {
      appId: fc.constantFrom('changed-app', 'app-z'),
      state: fc.constantFrom('Disabled', 'Completed', 'Enabled'),
      partial: fc.boolean(),
      autoReload: fc.boolean(),
      timeZone: fc.constantFrom('Asia/Kolkata', 'UTC'),
      recurrence: fc.constant(['RRULE:FREQ=WEEKLY;BYDAY=MO']),
      startDateTime: fc.constant('2027-02-01T08:00:00'),
      endDateTime: fc.constantFrom('2028-01-01T00:00:00', '2020-01-01T00:00:00', ''),
    },
    { requiredKeys: [] },
  );
  const N = 4;
  const task = fc.nat(N - 1);
  const who = fc.constantFrom('bob', 'gina', 'gadmin') as fc.Arbitrary<'bob' | 'gina' | 'gadmin'>;
  const rejectedArb: fc.Arbitrary<Rejected> = fc.oneof(
    { weight: 6, arbitrary: fc.record({ k: fc.constant('put-invalid' as const), task, base: tempting, poison: poisonArb, at: fc.nat(8) }) },
    { weight: 3, arbitrary: fc.record({ k: fc.constant('put-fuzz' as const), task, body: mutated(validPut).map((m) => m.body) }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('put-other' as const), task, who, body: tempting }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('put-raw' as const), task, what: fc.constantFrom('large' as const, 'text/plain' as const, 'no-type' as const, 'truncated' as const, 'not-json' as const, 'proto' as const, 'empty' as const, 'array' as const) }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('post-invalid' as const), base: validPost, poison: postPoisonArb }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('delete-other' as const), task, who }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('bad-token' as const), task, method: fc.constantFrom('PUT' as const, 'DELETE' as const, 'POST' as const) }) },
    // A Host that cannot make links: refused before the handler, so a valid change is not written.
    {
      weight: 1,
      arbitrary: fc.record({
        k: fc.constant('bad-host' as const),
        task,
        method: fc.constantFrom('PUT' as const, 'DELETE' as const, 'POST' as const),
        host: fc.constantFrom('bad_host', 'a b', 'example.com:99999', 'a.0', '1.2.3.999', 'evil.example/path', 'user@evil.example', '[zz]', '-a.example'),
      }),
    },
  );
  const OTHERS: Record<'bob' | 'gina' | 'gadmin', Caller> = { bob: BOB, gina: GINA, gadmin: GINA_ADMIN };

  const carolTasks: string[] = [];

  function withPoison(base: Record<string, unknown>, poison: readonly [string, Val], at: number): Body {
    const members = objectBody(base).members.filter(([key]) => key !== poison[0]);
    const i = at % (members.length + 1);
    return { k: 'object', members: [...members.slice(0, i), poison, ...members.slice(i)] };
  }

  async function sendRejected(r: Rejected): Promise<{ ex: Exchange; mustReject: boolean }> {
    const url = 'task' in r ? `${TASKS}/${carolTasks[r.task]}` : TASKS;
    switch (r.k) {
      case 'put-invalid':
        return { ex: await sendJson(CAROL, 'PUT', url, render(withPoison(r.base, r.poison, r.at))), mustReject: true };
      case 'put-fuzz':
        return { ex: await sendJson(CAROL, 'PUT', url, render(r.body)), mustReject: false };
      case 'put-other':
        return { ex: await sendJson(OTHERS[r.who], 'PUT', url, JSON.stringify(r.body)), mustReject: true };
      case 'put-raw': {
        const auth = await authOf(CAROL);
        const valid = JSON.stringify({ appId: 'changed-app', state: 'Disabled' });
        const [payload, type] = {
          large: [`{"appId":"changed-app","state":"Disabled","x":"${'x'.repeat(70_000)}"}`, 'application/json'],
          'text/plain': [valid, 'text/plain'],
          'no-type': [valid, undefined],
          truncated: [valid.slice(0, -1), 'application/json'],
          'not-json': ["{appId:'changed-app'}", 'application/json'],
          proto: ['{"appId":"changed-app","__proto__":{"state":"Disabled"}}', 'application/json'],
          empty: ['', 'application/json'],
          array: ['[{"appId":"changed-app"}]', 'application/json'],
        }[r.what] as [string, string | undefined];
        return { ex: await send({ method: 'PUT', url, headers: { ...auth, ...(type !== undefined && { 'content-type': type }) }, payload }), mustReject: true };
      }
      case 'post-invalid':
        return { ex: await sendJson(CAROL, 'POST', url, render(withPoison(r.base, r.poison, 0))), mustReject: true };
      case 'delete-other':
        return { ex: await sendJson(OTHERS[r.who], 'DELETE', url), mustReject: true };
      case 'bad-token': {
        const token = await tokenOf(CAROL, -60);
        const body = r.method === 'DELETE' ? undefined : JSON.stringify({ appId: 'changed-app', timeZone: 'UTC', state: 'Disabled' });
        return { ex: await sendJson(null, r.method, r.method === 'POST' ? TASKS : url, body, { authorization: `Bearer ${token}` }), mustReject: true };
      }
      case 'bad-host': {
        const body = r.method === 'DELETE' ? undefined : JSON.stringify({ appId: 'changed-app', timeZone: 'UTC', state: 'Disabled' });
        const ex = await sendJson(CAROL, r.method, r.method === 'POST' ? TASKS : url, body, { host: r.host });
        expect(ex, ex.res.statusCode === 400 && detailOf(ex).startsWith('the Host header is not a valid host[:port]'), 'an invalid Host: expected the Host 400');
        return { ex, mustReject: true };
      }
    }
  }

  /** Carol's data as the API shows it to her (each task, and her list), and each row's version. */
  async function snapshot(full: boolean): Promise<unknown> {
    const tasks: unknown[] = [];
    if (full) {
      for (const id of carolTasks) {
        const ex = await sendJson(CAROL, 'GET', `${TASKS}/${id}`);
        tasks.push({ status: ex.res.statusCode, body: jsonOf(ex) });
      }
    }
    const list = await sendJson(CAROL, 'GET', `${TASKS}?limit=100`);
    const rows = [];
    for (const id of carolTasks) {
      const row = await api.store.getTask('acme', id);
      rows.push(row && { version: row.version, updatedAt: row.updatedAt, state: row.state, appId: row.appId });
    }
    return { tasks, list: { status: list.res.statusCode, body: jsonOf(list) }, rows };
  }

  it('6. a rejected PUT/POST/DELETE leaves every task exactly as it was', async (t) => {
    const bodies = [
      { appId: 'carol-1', ...SCHEDULED },
      { appId: 'carol-2', timeZone: 'America/Toronto', autoReload: true },
      { appId: 'carol-3', timeZone: 'Asia/Kolkata', startDateTime: '2027-01-01T00:00:00', endDateTime: '2027-06-01T00:00:00', recurrence: ['RRULE:FREQ=HOURLY;INTERVAL=5'], partial: true },
      { appId: 'carol-4', timeZone: 'UTC', startDateTime: '2027-03-01T10:00:00', recurrence: ['RDATE:20270301T100000,20270302T100000', 'FREQ=MONTHLY;BYMONTHDAY=-1'] },
    ];
    for (const b of bodies) carolTasks.push(await create(CAROL, b));
    const disable = await sendJson(CAROL, 'PUT', `${TASKS}/${carolTasks[1]}`, JSON.stringify({ state: 'Disabled' }));
    checkTaskAnswer(disable, 200);

    await property(t, () =>
      fc.assert(
        fc.asyncProperty(fc.array(rejectedArb, { minLength: 1, maxLength: 6 }), async (batch) => {
          let baseline = await snapshot(true);
          let history = '';
          for (const r of batch) {
            const { ex, mustReject } = await sendRejected(r);
            checkAnswer(ex);
            const s = ex.res.statusCode;
            if (mustReject) expect(ex, s >= 400, `a request that must be rejected was answered ${s}`);
            if (s < 400) {
              // An accepted fuzz PUT: its changes are the new baseline.
              baseline = await snapshot(true);
              history += `\n(accepted: ${ex.req.method} ${ex.req.url} ${clip(bodyText(ex.req.payload), 200)})`;
              continue;
            }
            const now = await snapshot(false);
            const was = { ...(baseline as { tasks: unknown }), tasks: [] };
            try {
              assert.deepStrictEqual(now, was);
            } catch (e) {
              fail(ex, `a rejected request changed data${history}\n${(e as Error).message.slice(0, 3000)}`);
            }
          }
          const end = await snapshot(true);
          try {
            assert.deepStrictEqual(end, baseline);
          } catch (e) {
            throw new Error(`the batch's rejected requests changed data (GET of each task):${history}\n${(e as Error).message.slice(0, 3000)}`);
          }
        }),
        runs(0.6),
      ),
    );
    if (stats.slowest.length > 0) t.diagnostic(`slowest requests so far: ${stats.slowest.map((s) => `${Math.round(s.ms)} ms ${s.what}`).join(' | ')}`);
    t.diagnostic(`total requests in this file: ${stats.requests}`);
  });
});
