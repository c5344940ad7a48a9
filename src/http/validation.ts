/**
 * Request validation with Ajv, and Ajv's errors turned into the API's `detail` lines
 * ("partial: must be a boolean", "limit: must be an integer from 1 to 100").
 *
 * Bodies are validated without type coercion (the string "true" is not a boolean: a wrong type is a
 * 400, as the API promises), query strings with it (every query value arrives as a string).
 */
import { Ajv, type ErrorObject, type Options } from 'ajv';
import type { FastifySchemaValidationError } from 'fastify/types/schema.js';

const common: Options = { allErrors: false, verbose: true, strict: false, useDefaults: true, removeAdditional: false };
const bodyAjv = new Ajv({ ...common, coerceTypes: false });
const queryAjv = new Ajv({ ...common, coerceTypes: 'array' });

export function validatorCompiler({ schema, httpPart }: { schema: object; httpPart?: string }) {
  return (httpPart === 'body' ? bodyAjv : queryAjv).compile(schema);
}

/** The first validation error as `field: reason`. */
export function describeValidation(errors: ReadonlyArray<FastifySchemaValidationError | ErrorObject>, part: string | undefined): string {
  const e = errors[0] as ErrorObject | undefined;
  if (!e) return 'the request is not valid';
  const path = fieldPath(e.instancePath);
  const params = e.params as Record<string, unknown>;
  if (e.keyword === 'required') return `${join(path, String(params.missingProperty))}: is required`;
  const where = path || (part === 'body' ? 'body' : part ?? 'request');
  // A key of an object that is refused for itself (propertyNames): name it, shortened.
  if (e.propertyName !== undefined) {
    const name = e.propertyName.length > 40 ? `${e.propertyName.slice(0, 40)}…` : e.propertyName;
    return `${where}: the name '${name}' ${reasonOf(e)}`;
  }
  return `${where}: ${reasonOf(e)}`;
}

function reasonOf(e: ErrorObject): string {
  const params = e.params as Record<string, unknown>;
  const schema = (e.parentSchema ?? {}) as Record<string, unknown>;
  switch (e.keyword) {
    case 'type': {
      const types = String(params.type).split(',').filter((t) => t !== 'null');
      const named = types.map((t) => (t === 'integer' || t === 'array' || t === 'object' ? `an ${t}` : `a ${t}`)).join(' or ');
      return `must be ${named}`;
    }
    case 'minimum':
    case 'maximum':
      if (typeof schema.minimum === 'number' && typeof schema.maximum === 'number') {
        return `must be ${schema.type === 'integer' ? 'an integer' : 'a number'} from ${schema.minimum} to ${schema.maximum}`;
      }
      return `must be ${e.keyword === 'minimum' ? 'at least' : 'at most'} ${String(params.limit)}`;
    case 'minLength':
      return params.limit === 1 ? 'must not be empty' : `must be at least ${String(params.limit)} characters`;
    case 'maxLength':
      return `must be at most ${String(params.limit)} characters`;
    case 'maxItems':
      return `must have at most ${String(params.limit)} items`;
    case 'maxProperties':
      return `must have at most ${String(params.limit)} properties`;
    case 'pattern':
      return typeof schema['x-reason'] === 'string' ? schema['x-reason'] : `must match ${String(params.pattern)}`;
    case 'enum':
      return `must be one of ${(params.allowedValues as unknown[]).join(', ')}`;
    default:
      return e.message ?? 'is not valid';
  }
}

/** `/recurrence/1` → `recurrence[1]`. */
function fieldPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : join(acc, p)), '');
}

function join(a: string, b: string): string {
  return a === '' ? b : `${a}.${b}`;
}
