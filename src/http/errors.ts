/**
 * The catalogue of every error the API answers, and the envelope they all share:
 * `{"errors":[{"code","title","detail"}],"traceId"}`. Codes follow Qlik: `TASKS-nnn` for this
 * service's own, `RELOADS-nnn` where reloads.openapi.yaml names one, `HTTP-nnn` for generic statuses. docs/errors.md lists them all (a test checks).
 */
export const ERRORS = {
  'HTTP-400': { status: 400, title: 'Bad request.' },
  'TASKS-002': { status: 400, title: 'Invalid reload task.' },
  'TASKS-003': { status: 400, title: 'Invalid schedule.' },
  'TASKS-004': { status: 400, title: 'Too many reload tasks for the app.' },
  'HTTP-401': { status: 401, title: 'Unauthorized.' },
  'HTTP-403': { status: 403, title: 'Forbidden.' },
  'RELOADS-003': { status: 403, title: 'Forbidden.' },
  'HTTP-404': { status: 404, title: 'Not found.' },
  'HTTP-405': { status: 405, title: 'Method not allowed.' },
  'HTTP-408': { status: 408, title: 'Request timeout.' },
  'HTTP-409': { status: 409, title: 'Conflict.' },
  'HTTP-413': { status: 413, title: 'Payload too large.' },
  'HTTP-415': { status: 415, title: 'Unsupported media type.' },
  'HTTP-429': { status: 429, title: 'API rate limit reached.' },
  'HTTP-431': { status: 431, title: 'Request header fields too large.' },
  'RELOADS-429': { status: 429, title: 'A reload of this app is already pending.' },
  'HTTP-500': { status: 500, title: 'Internal server error.' },
  'HTTP-503': { status: 503, title: 'Service unavailable.' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** An error that becomes an API answer with its catalogue status and title. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly title: string;
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: ErrorCode, detail: string, headers: Record<string, string> = {}) {
    super(detail);
    this.name = 'ApiError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.title = ERRORS[code].title;
    this.headers = headers;
  }
}

export interface ErrorEnvelope {
  errors: Array<{ code: string; title: string; detail: string }>;
  traceId: string;
}

export function envelope(code: ErrorCode, detail: string, traceId: string): ErrorEnvelope {
  return { errors: [{ code, title: ERRORS[code].title, detail }], traceId };
}
