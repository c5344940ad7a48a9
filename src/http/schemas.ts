/**
 * JSON Schemas of the Reload Tasks API, as in ../shared/spec/reload-tasks.openapi.yaml. The same
 * objects validate requests (Ajv), serialise responses (fast-json-stringify) and generate the
 * served OpenAPI document, so the three cannot drift apart.
 */

/**
 * A string free of control characters. No stored id can hold one (task.ts refuses them, tokens'
 * ids are checked), and PostgreSQL cannot even take U+0000 as a parameter, so a query or body value
 * with one is a 400 here rather than an empty answer on SQLite and a database error on PostgreSQL.
 */
export const plainText = { pattern: '^[^\\u0000-\\u001f\\u007f]*$', 'x-reason': 'must not contain control characters' } as const;

const localDateTime = {
  type: ['string', 'null'],
  maxLength: 64,
} as const;

const taskFields = {
  appId: { type: 'string', minLength: 1, maxLength: 256, description: 'The ID of the app.' },
  partial: { type: 'boolean', description: 'The task is partial reload or not' },
  timeZone: {
    type: 'string',
    minLength: 1,
    maxLength: 100,
    description: 'The time zone in which the time is specified. (Formatted as an IANA Time Zone Database name, e.g. Europe/Zurich.)',
  },
  autoReload: { type: 'boolean', description: 'A flag that indicates whether a reload is triggered when data of the app is changed' },
  autoReloadPartial: { type: 'boolean', description: 'A flag that indicates whether it is a partial reload or not for the auto reload' },
  recurrence: {
    type: ['array', 'null'],
    maxItems: 100,
    items: { type: 'string', maxLength: 2048 },
    description: 'List of RECUR lines for a recurring event, as specified in RFC5545 (RRULE, EXRULE, RDATE, EXDATE). DTSTART and DTEND lines are not allowed.',
  },
  startDateTime: {
    ...localDateTime,
    description: 'The local time (without offset, in timeZone) from which the task recurs, e.g. 2027-01-01T11:18:00. Not before 1970-01-01T00:00:00Z nor after 9999-12-31T23:59:59Z. Empty with an empty recurrence: no schedule.',
  },
  endDateTime: { ...localDateTime, description: 'The local time (without offset, in timeZone) at which the task stops recurring, inclusive.' },
} as const;

export const createTaskBody = {
  $id: 'TaskCreate',
  type: 'object',
  required: ['appId', 'timeZone'],
  properties: {
    ...taskFields,
    type: { type: 'string', maxLength: 64, description: '(deprecated) Accepted and ignored.', deprecated: true },
  },
} as const;

export const updateTaskBody = {
  $id: 'TaskUpdate',
  type: 'object',
  properties: {
    ...taskFields,
    state: { type: 'string', enum: ['Enabled', 'Disabled', 'Completed'], description: 'Toggle for enabling and disabling the reload task' },
  },
} as const;

const href = { type: 'object', required: ['href'], properties: { href: { type: 'string' } } } as const;

export const taskResponse = {
  $id: 'Task',
  type: 'object',
  required: ['appId', 'timeZone', 'id', 'links', 'state', 'userId', 'tenantId'],
  properties: {
    appId: { type: 'string' },
    partial: { type: 'boolean' },
    timeZone: { type: 'string' },
    autoReload: { type: 'boolean' },
    recurrence: { type: 'array', items: { type: 'string' } },
    endDateTime: { type: 'string' },
    startDateTime: { type: 'string' },
    autoReloadPartial: { type: 'boolean' },
    id: { type: 'string', description: 'The ID of the task.' },
    log: { type: 'string', description: '(deprecated) The reason why the task was disabled.' },
    links: { type: 'object', required: ['self'], properties: { self: href } },
    state: { type: 'string', enum: ['Enabled', 'Disabled', 'Completed'] },
    userId: { type: 'string', description: 'The ID of the user who owns the task.' },
    spaceId: { type: 'string' },
    migrated: { type: 'boolean' },
    tenantId: { type: 'string', description: 'The ID of the tenant who owns the task.' },
    fortressId: { type: 'string' },
    disabledCode: { type: 'string', enum: ['MANUALLY', 'CONSECUTIVE-FAILURES', 'OWNER-DELETED', 'OWNER-DISABLED'] },
    lastExecutionTime: { type: 'string', format: 'date-time', description: 'The last time the task executed (UTC).' },
    nextExecutionTime: { type: 'string', format: 'date-time', description: 'The next time the task will execute (UTC).' },
  },
} as const;

export const taskListResponse = {
  type: 'object',
  required: ['data', 'links'],
  properties: {
    data: { type: 'array', items: taskResponse },
    links: { type: 'object', required: ['self'], properties: { self: href, next: href, prev: href } },
  },
} as const;

export const listQuery = {
  type: 'object',
  properties: {
    appId: { type: 'string', maxLength: 256, ...plainText, description: 'The case sensitive string used to search for a task by app ID.' },
    limit: { type: 'integer', minimum: 1, maximum: 100, default: 10, description: 'The maximum number of resources to return for a request.' },
    next: { type: 'string', maxLength: 512, description: 'The cursor to the next page of resources. Provide either the next or prev cursor, but not both.' },
    prev: { type: 'string', maxLength: 512, description: 'The cursor to the previous page of resources. Provide either the next or prev cursor, but not both.' },
    partial: { type: 'boolean', description: 'The boolean value used to search for a task is partial or not' },
  },
} as const;

export const taskIdParams = {
  type: 'object',
  required: ['taskId'],
  properties: { taskId: { type: 'string', description: 'The unique identifier of the task.' } },
} as const;

export const errorResponse = {
  type: 'object',
  required: ['errors', 'traceId'],
  properties: {
    errors: {
      type: 'array',
      items: {
        type: 'object',
        required: ['code', 'title'],
        properties: { code: { type: 'string' }, title: { type: 'string' }, detail: { type: 'string' } },
      },
    },
    traceId: { type: 'string' },
  },
} as const;
