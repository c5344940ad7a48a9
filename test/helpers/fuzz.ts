/**
 * What the property-based HTTP tests (test/http/fuzz*.test.ts) share: run counts from FUZZ_RUNS /
 * FUZZ_SEED / FUZZ_SHRINK, requests through app.inject() with tokens named (never printed) in
 * failure reports, the checks every answer must pass (never a 5xx, every error the envelope), and
 * JSON bodies written as member lists so that duplicates, `__proto__`, huge and deep values and
 * invalid JSON can be sent. Each test file runs in its own process and calls useApi() once.
 */
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { ERRORS } from '../../src/http/errors.js';
import type { TestApi } from './api.js';
import { TEST_STORE } from './store.js';

// ---------------------------------------------------------------------------------------------
// Run counts

export const RUNS = envInt('FUZZ_RUNS', 100);
// A number, or unset / 'random' for fast-check's own pick (scripts/run-tests.mjs sets one per commit).
const SEED = /^-?\d+$/.test(process.env.FUZZ_SEED ?? '') ? Number(process.env.FUZZ_SEED) : undefined;
const SHRINK = process.env.FUZZ_SHRINK !== '0';

export function envInt(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v.trim() === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name}: '${v}' is not a positive integer`);
  return n;
}

/** fast-check parameters: `factor` × FUZZ_RUNS runs. */
export function runs<T>(factor: number): fc.Parameters<T> {
  return {
    numRuns: Math.max(1, Math.round(RUNS * factor)),
    includeErrorInReport: true,
    ...(SEED !== undefined && { seed: SEED }),
    ...(!SHRINK && { endOnFailure: true }),
  };
}


// ---------------------------------------------------------------------------------------------
// Requests, and what a failure prints

export interface Req {
  readonly method: NonNullable<InjectOptions['method']>;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly payload?: string | Buffer;
}

export interface Exchange {
  readonly req: Req;
  readonly res: LightMyRequestResponse;
  readonly ms: number;
}

export interface Caller {
  readonly tenant: string;
  readonly user: string;
  readonly admin?: boolean;
}


let api: TestApi | undefined;
/** The API the requests go to (the test file's, made in its before()). */
export function useApi(a: TestApi): void {
  api = a;
}
function theApi(): TestApi {
  if (!api) throw new Error('useApi() first');
  return api;
}

/** Every token the fuzz files signed, so that failure reports can name it instead of printing it. */
const tokenNames = new Map<string, string>();
export const stats = { requests: 0, statuses: new Map<number, number>(), slowest: [] as Array<{ ms: number; what: string }> };

/** Names a token signed by hand, so that failure reports print the name instead of the token. */
export function nameToken(token: string, name: string): void {
  tokenNames.set(token, name);
}

export async function tokenOf(c: Caller, expiresInSeconds?: number): Promise<string> {
  const t = await theApi().token(c.tenant, c.user, { admin: c.admin === true, ...(expiresInSeconds !== undefined && { expiresInSeconds }) });
  tokenNames.set(t, `<token ${c.tenant}/${c.user}${c.admin ? ' admin' : ''}${expiresInSeconds !== undefined ? ` exp ${expiresInSeconds}s` : ''}>`);
  return t;
}

export async function authOf(c: Caller | null): Promise<Record<string, string>> {
  return c === null ? {} : { authorization: `Bearer ${await tokenOf(c)}` };
}

export async function send(req: Req): Promise<Exchange> {
  const options: InjectOptions = { method: req.method, url: req.url, headers: req.headers };
  if (req.payload !== undefined) options.payload = req.payload;
  const t0 = performance.now();
  const res = await theApi().app.inject(options);
  const ms = performance.now() - t0;
  stats.requests++;
  stats.statuses.set(res.statusCode, (stats.statuses.get(res.statusCode) ?? 0) + 1);
  if (ms > 250) {
    stats.slowest.push({ ms, what: `${req.method} ${clip(req.url, 120)} body ${clip(bodyText(req.payload), 300)} -> ${res.statusCode}` });
    stats.slowest.sort((a, b) => b.ms - a.ms).splice(5);
  }
  return { req, res, ms };
}

/** A JSON request as `caller` (content type application/json when there is a body). */
export async function sendJson(caller: Caller | null, method: Req['method'], url: string, body?: string, headers: Record<string, string> = {}): Promise<Exchange> {
  const h: Record<string, string> = { ...(await authOf(caller)), ...(body !== undefined && { 'content-type': 'application/json' }), ...headers };
  return send({ method, url, headers: h, ...(body !== undefined && { payload: body }) });
}

/** Tokens the fuzz files signed by name; anything else shaped like a JWT (a truncated token, say) by its length. */
export function redact(s: string): string {
  let out = s;
  for (const [t, name] of tokenNames) if (out.includes(t)) out = out.split(t).join(name);
  return out.replace(/[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]*/g, (jwt) => `<JWT-like, ${jwt.length} chars>`);
}

export function clip(s: string, n = 1500): string {
  return s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s;
}

export function bodyText(p: string | Buffer | undefined): string {
  if (p === undefined) return '(none)';
  if (typeof p === 'string') return JSON.stringify(p);
  const utf8 = p.toString('utf8');
  return Buffer.from(utf8, 'utf8').equals(p) ? `<Buffer> ${JSON.stringify(utf8)}` : `<Buffer, not UTF-8> hex ${p.toString('hex')}`;
}

export function describeExchange(ex: Exchange): string {
  const headers = Object.fromEntries(Object.entries(ex.req.headers).map(([k, v]) => [k, redact(v)]));
  const resHeaders = ex.res.headers;
  return [
    `request (store: ${TEST_STORE}):`,
    `  ${ex.req.method} ${clip(redact(ex.req.url), 600)}`,
    `  headers: ${clip(JSON.stringify(headers), 1200)}`,
    `  body (${ex.req.payload === undefined ? 0 : Buffer.byteLength(ex.req.payload)} bytes): ${clip(redact(bodyText(ex.req.payload)))}`,
    'response:',
    `  ${ex.res.statusCode} content-type: ${String(resHeaders['content-type'])}${resHeaders.location ? ` location: ${String(resHeaders.location)}` : ''}${resHeaders['www-authenticate'] ? ` www-authenticate: ${String(resHeaders['www-authenticate'])}` : ''}${resHeaders.allow ? ` allow: ${String(resHeaders.allow)}` : ''}`,
    `  body: ${clip(ex.res.body)}`,
  ].join('\n');
}

export function fail(ex: Exchange, why: string): never {
  throw new Error(`${why}\n${describeExchange(ex)}`);
}

export function expect(ex: Exchange, ok: boolean, why: string): void {
  if (!ok) fail(ex, why);
}

export function jsonOf(ex: Exchange): unknown {
  try {
    return JSON.parse(ex.res.body) as unknown;
  } catch {
    return fail(ex, 'the body is not JSON');
  }
}

// ---------------------------------------------------------------------------------------------
// Checks shared by the properties

/** Never a 5xx; every 4xx is the envelope; every success is JSON (204 aside). */
export function checkAnswer(ex: Exchange): void {
  const s = ex.res.statusCode;
  expect(ex, s < 500, `a ${s} answer`);
  if (s >= 400) checkEnvelope(ex);
  else if (s !== 204 && ex.req.method !== 'HEAD') {
    expect(ex, String(ex.res.headers['content-type']).startsWith('application/json'), 'a success that is not application/json');
  }
  if (s === 204) expect(ex, ex.res.body === '', 'a 204 with a body');
}

/** The error envelope, with a catalogue code that matches the status and a non-empty detail. */
export function checkEnvelope(ex: Exchange, code?: string): void {
  expect(ex, String(ex.res.headers['content-type']).startsWith('application/json'), 'an error that is not application/json');
  if (ex.req.method === 'HEAD') return;
  const body = jsonOf(ex) as { errors?: unknown; traceId?: unknown };
  expect(ex, typeof body === 'object' && body !== null && !Array.isArray(body), 'an error body that is not an object');
  expect(ex, Object.keys(body).sort().join() === 'errors,traceId', 'not the error envelope {"errors":[…],"traceId"}');
  expect(ex, Array.isArray(body.errors) && body.errors.length === 1, 'the envelope does not have exactly one error');
  const e = (body.errors as Array<Record<string, unknown>>)[0]!;
  expect(ex, Object.keys(e).sort().join() === 'code,detail,title', 'the error is not {code, title, detail}');
  expect(ex, typeof e.code === 'string' && e.code in ERRORS, `the error code ${String(e.code)} is not in the catalogue`);
  const entry = ERRORS[e.code as keyof typeof ERRORS];
  expect(ex, entry.status === ex.res.statusCode, `the error code ${String(e.code)} is not a ${ex.res.statusCode}`);
  expect(ex, e.title === entry.title, 'the error title is not the catalogue title');
  expect(ex, typeof e.detail === 'string' && e.detail.trim() !== '', 'the error has no detail');
  expect(ex, typeof body.traceId === 'string' && /^[0-9a-f]{32}$/.test(body.traceId), 'the envelope has no 32-hex traceId');
  if (code !== undefined) expect(ex, e.code === code, `expected error code ${code}`);
}

export function detailOf(ex: Exchange): string {
  return ((jsonOf(ex) as { errors: Array<{ detail: string }> }).errors[0]!).detail;
}

export function isAbsoluteUrl(href: unknown): boolean {
  if (typeof href !== 'string' || !/^https?:\/\/[^/?#\s]+\//.test(href)) return false;
  try {
    new URL(href);
    return true;
  } catch {
    return false;
  }
}
// ---------------------------------------------------------------------------------------------
// JSON bodies as a list of members. Values are small descriptors, so counterexamples stay readable.

export type Val =
  | { readonly k: 'json'; readonly v: unknown }
  | { readonly k: 'huge'; readonly n: number; readonly ch: string }
  | { readonly k: 'deep'; readonly depth: number; readonly open: 'array' | 'object' }
  | { readonly k: 'raw'; readonly text: string }
  | { readonly k: 'body'; readonly body: Body };

export type ObjectBody = { readonly k: 'object'; readonly members: ReadonlyArray<readonly [string, Val]> };
export type Body = ObjectBody | { readonly k: 'value'; readonly v: Val };

export const json = (v: unknown): Val => ({ k: 'json', v });

export function renderVal(v: Val): string {
  switch (v.k) {
    case 'json':
      return JSON.stringify(v.v) ?? 'null';
    case 'huge':
      return JSON.stringify(v.ch.repeat(v.n));
    case 'deep':
      return v.open === 'array' ? '['.repeat(v.depth) + ']'.repeat(v.depth) : '{"a":'.repeat(v.depth) + '1' + '}'.repeat(v.depth);
    case 'raw':
      return v.text;
    case 'body':
      return render(v.body);
  }
}

export function render(b: Body): string {
  return b.k === 'object' ? `{${b.members.map(([key, v]) => `${JSON.stringify(key)}:${renderVal(v)}`).join(',')}}` : renderVal(b.v);
}

export function objectBody(o: Record<string, unknown>): ObjectBody {
  return { k: 'object', members: Object.entries(o).filter(([, v]) => v !== undefined).map(([key, v]) => [key, json(v)] as const) };
}

// ---------------------------------------------------------------------------------------------
// Mutations of a valid body: drop, set or duplicate a member, replace or wrap the whole body.

export type Mutation =
  | { readonly op: 'drop'; readonly key: string }
  | { readonly op: 'set'; readonly key: string; readonly v: Val }
  | { readonly op: 'dup'; readonly key: string; readonly v: Val }
  | { readonly op: 'top'; readonly v: Val }
  | { readonly op: 'wrap' };

/** One mutation, with member keys from `keyArb` and values from `valueArb`. */
export function mutationArb(keyArb: fc.Arbitrary<string>, valueArb: fc.Arbitrary<Val>): fc.Arbitrary<Mutation> {
  return fc.oneof(
    { weight: 3, arbitrary: keyArb.map((key): Mutation => ({ op: 'drop', key })) },
    { weight: 8, arbitrary: fc.tuple(keyArb, valueArb).map(([key, v]): Mutation => ({ op: 'set', key, v })) },
    { weight: 1, arbitrary: fc.tuple(keyArb, valueArb).map(([key, v]): Mutation => ({ op: 'dup', key, v })) },
    { weight: 1, arbitrary: valueArb.map((v): Mutation => ({ op: 'top', v })) },
    { weight: 1, arbitrary: fc.constant<Mutation>({ op: 'wrap' }) },
  );
}

export function mutate(body: Body, m: Mutation): Body {
  if (m.op === 'top') return { k: 'value', v: m.v };
  if (m.op === 'wrap') return { k: 'value', v: { k: 'raw', text: `[${render(body)}]` } };
  if (body.k !== 'object') return body;
  switch (m.op) {
    case 'drop':
      return { k: 'object', members: body.members.filter(([key]) => key !== m.key) };
    case 'set':
      return body.members.some(([key]) => key === m.key)
        ? { k: 'object', members: body.members.map(([key, v]) => (key === m.key ? ([key, m.v] as const) : ([key, v] as const))) }
        : { k: 'object', members: [...body.members, [m.key, m.v] as const] };
    case 'dup':
      return { k: 'object', members: [...body.members, [m.key, m.v] as const] };
  }
}

/**
 * How a real id is bent into a path segment that must not find it (or must be refused); except
 * 'slash' and 'encoded', which address the id itself (a trailing slash is ignored, and a
 * percent-encoded id is decoded).
 */
export type IdVariant = 'upper' | 'prefix' | 'suffix' | 'space' | 'slash' | 'encoded' | 'nul' | 'dot';
export const ID_VARIANTS: readonly IdVariant[] = ['upper', 'prefix', 'suffix', 'space', 'slash', 'encoded', 'nul', 'dot'];

/**
 * Whether `url` reaches the collection at `base` itself: its path, resolved as the request sends it
 * (dot segments, no query or fragment), is `base` or `base/` (the router ignores a trailing slash),
 * e.g. `${base}/?/occurrences`, `${base}/#` or `${base}/.`.
 */
export function reachesCollection(url: string, base: string): boolean {
  const path = new URL(url, 'http://localhost').pathname;
  return path === base || path === `${base}/`;
}

/** The path segment of `id` bent as `how` says. */
export function idVariant(id: string, how: IdVariant): string {
  switch (how) {
    case 'upper':
      return id.toUpperCase();
    case 'prefix':
      return `0${id}`;
    case 'suffix':
      return `${id}0`;
    case 'space':
      return `${id}%20`;
    case 'slash':
      return `${id}/`;
    case 'encoded':
      return [...id].map((ch) => `%${ch.charCodeAt(0).toString(16)}`).join('');
    case 'nul':
      return `${id}%00`;
    case 'dot':
      return `${id}.json`;
  }
}

/** The cursors the service issues (next and prev links) while following up to `pages` pages of a list from `url`. */
export async function issuedCursors(caller: Caller, url: string, pages: number): Promise<string[]> {
  const cursors: string[] = [];
  let next: string | undefined = url;
  for (let page = 0; next !== undefined && page < pages; page++) {
    const ex = await sendJson(caller, 'GET', next);
    expect(ex, ex.res.statusCode === 200, 'fixture: listing failed');
    const links = (jsonOf(ex) as { links: Record<string, { href: string } | undefined> }).links;
    for (const rel of ['next', 'prev']) {
      const href = links[rel]?.href;
      const cursor = href === undefined ? null : new URL(href).searchParams.get(rel);
      if (cursor) cursors.push(cursor);
    }
    next = links.next === undefined ? undefined : new URL(links.next.href).pathname + new URL(links.next.href).search;
  }
  return cursors;
}

// ---------------------------------------------------------------------------------------------
// Query strings: as a client would encode them, or raw with '%'-garbage mixed in; and as the server reads them.

export function serverPairs(search: string): Array<[string, string]> {
  const decode = (s: string): string => {
    const plus = s.replace(/\+/g, ' ');
    try {
      return decodeURIComponent(plus);
    } catch {
      return plus;
    }
  };
  return search
    .replace(/^\?/, '')
    .split('&')
    .filter((p) => p !== '')
    .map((p) => {
      const eq = p.indexOf('=');
      return eq < 0 ? [decode(p), ''] : [decode(p.slice(0, eq)), decode(p.slice(eq + 1))];
    });
}

export const withoutCursors = (pairs: Array<[string, string]>): Array<[string, string]> => pairs.filter(([k]) => k !== 'next' && k !== 'prev');

export const PERCENT_GARBAGE = ['%', '%z', '%ZZ', '%E0%A4%A', '%00', '%1F', '%7F', '%ff', '%FF%FE', '+', '%2B', '%26', '%3D', '=', ';', '%C0%AF', '%ED%A0%80', '%ED%B0%80', '%F0%9F%98%80', '%25', '%%', '%u0041', '..', '%2F'];

export interface QueryPart {
  readonly key: string;
  readonly value: string | null;
  readonly raw: boolean;
}

/** encodeURIComponent, also for strings with a lone surrogate (written as U+FFFD, as a client's UTF-8 encoder would). */
export const pct = (s: string): string => encodeURIComponent(s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'));

/** Encodes like a client (encodeURIComponent), or raw: printable ASCII kept, '%'-garbage mixed in. */
export function queryString(parts: readonly QueryPart[], garbage: readonly string[], separator: string): string {
  const rawText = (s: string): string => s.replace(/[^\x21-\x7e]|[#&=]/gu, (c) => pct(c));
  const pieces = parts.map((p, i) => {
    const g = garbage[i % Math.max(1, garbage.length)] ?? '';
    const k = p.raw ? rawText(p.key) + (i % 2 === 0 ? g : '') : pct(p.key);
    if (p.value === null) return k;
    const v = p.raw ? rawText(p.value) + (i % 2 === 1 ? g : '') : pct(p.value);
    return `${k}=${v}`;
  });
  return pieces.join(separator);
}

/**
 * A list answer's links: only self, next and prev, each an absolute URL of the list endpoint `path`
 * carrying the request's parameters as the server reads them (`pairs`), next and prev one cursor each.
 */
export function checkListLinks(ex: Exchange, links: Record<string, { href?: unknown } | undefined> | undefined, path: string, pairs: Array<[string, string]>): void {
  expect(ex, isAbsoluteUrl(links?.self?.href), 'links.self.href is not an absolute URL');
  const wanted = withoutCursors(pairs);
  for (const rel of Object.keys(links ?? {})) {
    expect(ex, ['self', 'next', 'prev'].includes(rel), `an unknown link ${rel}`);
    const href = links?.[rel]?.href;
    expect(ex, isAbsoluteUrl(href), `links.${rel}.href is not an absolute URL`);
    const link = new URL(href as string);
    expect(ex, link.pathname === path, `links.${rel}.href is not the list endpoint`);
    const got = withoutCursors(serverPairs(link.search));
    expect(ex, JSON.stringify(got) === JSON.stringify(wanted), `links.${rel}.href does not carry the request's parameters as the server reads them: ${JSON.stringify(got)} instead of ${JSON.stringify(wanted)}`);
    if (rel !== 'self') expect(ex, serverPairs(link.search).filter(([k]) => k === 'next' || k === 'prev').length === 1, `links.${rel}.href does not carry exactly one cursor`);
  }
}
