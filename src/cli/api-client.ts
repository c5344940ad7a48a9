/**
 * The CLI's side of the API: one request with Node's own fetch, retried with back-off when asked
 * (`--retry`), and error answers turned into one readable line.
 */
import type { Connection } from './connection.js';

export interface RetryPolicy {
  /** Retries after the first attempt, 0 to 10. */
  readonly retries: number;
  /** The first back-off in seconds; it doubles with each retry (up to a minute). */
  readonly intervalSeconds: number;
}

export interface Answer {
  readonly status: number;
  /** The body exactly as received (empty for 204). */
  readonly text: string;
  /** The body parsed as JSON; undefined when it is empty or not JSON. */
  readonly body: unknown;
}

/** The server answered with an error status: printed as one line, exit code 1. */
export class ApiFailure extends Error {
  override name = 'ApiFailure';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const ATTEMPT_TIMEOUT_MS = 60_000;
const MAX_BACKOFF_S = 60;
const MAX_RETRY_AFTER_S = 600;
// Errors that mean the request never reached a server, so even a POST may be sent again.
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

export class ApiClient {
  constructor(
    readonly connection: Connection,
    private readonly retry: RetryPolicy,
    /** Where "retrying in …" notes go (stderr). */
    private readonly note: (line: string) => void,
  ) {}

  /** An absolute URL for an API path such as `/api/v1/reload-tasks`. */
  url(path: string, query: Record<string, string | number | boolean | undefined> = {}): string {
    const url = new URL(`${this.connection.server}${path}`);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
    return url.href;
  }

  /**
   * A `links.next.href` to request next. Followed as it is when it points at our server; when it
   * points elsewhere (a PUBLIC_URL the CLI does not reach, a proxy), its query is sent to our
   * server's path instead, as Qlik's monitoring app does, so the token never goes to another origin.
   */
  follow(href: string, path: string): string {
    const link = new URL(href, this.connection.server);
    const own = new URL(this.connection.server);
    if (link.origin === own.origin) return link.href;
    return `${this.url(path)}${link.search}`;
  }

  /**
   * qlik-cli's `--limit`: the total to retrieve, following `links.next` across pages (the server's
   * pages hold up to 100). Without a limit, one page of the server's default size, as qlik-cli does.
   */
  async list(path: string, query: Record<string, string | number | boolean | undefined>, limit: number | undefined): Promise<unknown[]> {
    let url = this.url(path, { ...query, limit: limit === undefined ? undefined : Math.min(limit, 100) });
    const items: unknown[] = [];
    const seen = new Set<string>();
    for (;;) {
      seen.add(url);
      const { body } = await this.call('GET', url);
      if (!isObject(body) || !Array.isArray(body.data)) throw new Error(`unexpected answer to GET ${path}: no "data" list`);
      items.push(...body.data);
      if (limit === undefined || items.length >= limit || body.data.length === 0) break;
      const links = isObject(body.links) ? body.links : {};
      const next = isObject(links.next) && typeof links.next.href === 'string' ? links.next.href : undefined;
      if (next === undefined) break;
      url = this.follow(next, path);
      // A server that sends the same page again would otherwise be asked forever.
      if (seen.has(url)) throw new Error(`the next link repeats a page already read (${url}); stopped after ${items.length} items`);
    }
    return limit === undefined ? items : items.slice(0, limit);
  }

  /** Sends a request; resolves with a 2xx answer, rejects with ApiFailure for any other status. */
  async call(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown): Promise<Answer> {
    const idempotent = method !== 'POST';
    for (let attempt = 0; ; attempt++) {
      const left = this.retry.retries - attempt;
      let response: Response;
      try {
        response = await fetch(url, {
          method,
          headers: {
            authorization: `Bearer ${this.connection.token}`,
            accept: 'application/json',
            'user-agent': 'reload-task-cli',
            ...(body !== undefined && { 'content-type': 'application/json' }),
          },
          ...(body !== undefined && { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
        });
      } catch (e) {
        const { code, text } = networkError(e);
        const why = `cannot reach ${new URL(url).origin}: ${text}`;
        if (left > 0 && (idempotent || NOT_SENT.has(code))) {
          await this.wait(this.backoff(attempt), why, attempt, url);
          continue;
        }
        throw new Error(why);
      }
      const text = await response.text();
      if (response.ok) return { status: response.status, text, body: parseJson(text) };

      const failure = new ApiFailure(response.status, describeError(response.status, response.statusText, text));
      // 429 and 503 say the request was not handled, so any method may be sent again; another 5xx
      // may have been handled, so only requests that are safe to repeat are.
      const retriable = response.status === 429 || response.status === 503 || (response.status >= 500 && idempotent);
      if (left > 0 && retriable) {
        const after = retryAfterSeconds(response.headers.get('retry-after'));
        await this.wait(after ?? this.backoff(attempt), failure.message, attempt, url);
        continue;
      }
      throw failure;
    }
  }

  private backoff(attempt: number): number {
    return Math.min(MAX_BACKOFF_S, this.retry.intervalSeconds * 2 ** attempt);
  }

  private async wait(seconds: number, why: string, attempt: number, url: string): Promise<void> {
    const shown = Number.isInteger(seconds) ? `${seconds}s` : `${seconds.toFixed(1)}s`;
    this.note(`retry ${attempt + 1} of ${this.retry.retries} in ${shown}: ${why} [${new URL(url).pathname}]`);
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  }
}

/**
 * `400 TASKS-003 Invalid schedule.: recurrence[1]: BYDAY value 'XX' is not a weekday (traceId …)`,
 * or the status and the start of the body when the answer is not the API's error envelope (a proxy).
 */
export function describeError(status: number, statusText: string, text: string): string {
  const body = parseJson(text);
  if (isObject(body) && Array.isArray(body.errors) && body.errors.length > 0) {
    const parts = body.errors.map((e: unknown) => {
      if (!isObject(e)) return 'error';
      const head = [e.code, e.title].filter((x): x is string => typeof x === 'string' && x !== '').join(' ');
      return typeof e.detail === 'string' && e.detail !== '' ? `${head}: ${e.detail}` : head;
    });
    const trace = typeof body.traceId === 'string' && body.traceId !== '' ? ` (traceId ${body.traceId})` : '';
    return oneLine(`${status} ${parts.join('; ')}${trace}`);
  }
  const snippet = oneLine(text).slice(0, 200);
  return oneLine(`${status} ${statusText || 'error'}${snippet ? `: ${snippet}` : ''}`);
}

/** Text from a server, made safe for one terminal line: no control characters, no escapes. */
export function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
}

/** Seconds from a Retry-After header (delay-seconds or an HTTP date), bounded; undefined if absent. */
export function retryAfterSeconds(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const text = header.trim();
  const seconds = /^\d+$/.test(text) ? Number(text) : (Date.parse(text) - now) / 1000;
  if (!Number.isFinite(seconds)) return undefined;
  return Math.min(MAX_RETRY_AFTER_S, Math.max(0, Math.ceil(seconds)));
}

function networkError(e: unknown): { code: string; text: string } {
  if (e instanceof Error && e.name === 'TimeoutError') return { code: 'ETIMEDOUT', text: `no answer within ${ATTEMPT_TIMEOUT_MS / 1000}s` };
  // fetch wraps the socket error: `TypeError: fetch failed` with the real one as its cause.
  const cause = e instanceof Error && e.cause instanceof Error ? e.cause : e;
  const code = (cause as { code?: unknown } | undefined)?.code;
  const text = cause instanceof Error ? cause.message : String(cause);
  return { code: typeof code === 'string' ? code : '', text: oneLine(text) };
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
