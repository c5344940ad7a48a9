/**
 * The `filter` parameter of `GET /api/v1/reloads`: the subset of SCIM filters (RFC 7644 §3.4.2.2)
 * that Qlik's Reloads API documents: the attributes `status`, `partial` and `type`, the operator
 * `eq`, combined with `and`, `or`, `not` and parentheses, e.g.
 * `(status eq "FAILED" or status eq "EXCEEDED_LIMIT") and partial eq "false" and type eq "chronos"`.
 *
 * The three attributes have few values (7 statuses × 2 × 6 types), so a filter is evaluated here,
 * once, over every combination, and the stores receive the set of combinations it admits: one SQL
 * shape for any filter, no SQL built from the client's text, and a filter that admits nothing costs
 * no query. Attribute names and operators are case-insensitive (RFC 7644); values are compared
 * exactly.
 */
import { RELOAD_STATUSES, type ReloadStatus } from './reload.js';

/** Reload types of Qlik's Reloads API (reloads.openapi.yaml); this service writes the first three. */
export const RELOAD_TYPES = ['chronos', 'external', 'data-refresh', 'hub', 'automations', 'choreographer'] as const;

type Attribute = 'status' | 'partial' | 'type';
type Node =
  | { readonly kind: 'eq'; readonly attribute: Attribute; readonly value: string }
  | { readonly kind: 'and' | 'or'; readonly left: Node; readonly right: Node }
  | { readonly kind: 'not'; readonly operand: Node };

/** One combination of the filterable attributes (its key writes partial as 0 or 1, as the stores do). */
export interface Combination {
  readonly status: ReloadStatus;
  readonly partial: boolean;
  readonly type: string;
}

/** What a filter admits: the combinations, with the single status and partial when there is one. */
export interface FilterSelection {
  /** `status|0-or-1|type` keys of the admitted combinations; every one of them when the filter admits all. */
  readonly keys: readonly string[];
  readonly all: boolean;
  /** The one status all admitted combinations share, if they do (lets the stores seek by status). */
  readonly status: ReloadStatus | undefined;
  readonly partial: boolean | undefined;
}

export class FilterError extends Error {}

export function combinationKey(c: Combination): string {
  return `${c.status}|${c.partial ? 1 : 0}|${c.type}`;
}

const COMBINATIONS: readonly Combination[] = RELOAD_STATUSES.flatMap((status) => [false, true].flatMap((partial) => RELOAD_TYPES.map((type) => ({ status, partial, type }))));
const MAX_TERMS = 64;

/** Parses and evaluates a filter; throws FilterError with a message that says what and where. */
export function selectByFilter(text: string): FilterSelection {
  const node = new Parser(text).parse();
  const admitted = COMBINATIONS.filter((c) => evaluate(node, c));
  const statuses = new Set(admitted.map((c) => c.status));
  const partials = new Set(admitted.map((c) => c.partial));
  return {
    keys: admitted.map(combinationKey),
    all: admitted.length === COMBINATIONS.length,
    status: statuses.size === 1 ? [...statuses][0] : undefined,
    partial: partials.size === 1 ? [...partials][0] : undefined,
  };
}

function evaluate(node: Node, c: Combination): boolean {
  switch (node.kind) {
    case 'eq':
      return node.attribute === 'partial' ? String(c.partial) === node.value : c[node.attribute] === node.value;
    case 'and':
      return evaluate(node.left, c) && evaluate(node.right, c);
    case 'or':
      return evaluate(node.left, c) || evaluate(node.right, c);
    case 'not':
      return !evaluate(node.operand, c);
  }
}

type Token = { readonly kind: 'word' | 'string' | '(' | ')'; readonly text: string; readonly at: number };

class Parser {
  private readonly tokens: Token[];
  private i = 0;
  private terms = 0;

  constructor(text: string) {
    this.tokens = tokenize(text);
  }

  parse(): Node {
    if (this.tokens.length === 0) throw new FilterError('filter: is empty');
    const node = this.or();
    const rest = this.tokens[this.i];
    if (rest) throw new FilterError(`filter: unexpected '${rest.text}' at position ${rest.at + 1}`);
    return node;
  }

  private or(): Node {
    let left = this.and();
    while (this.keyword('or')) left = { kind: 'or', left, right: this.and() };
    return left;
  }

  private and(): Node {
    let left = this.factor();
    while (this.keyword('and')) left = { kind: 'and', left, right: this.factor() };
    return left;
  }

  private factor(): Node {
    if (this.keyword('not')) {
      this.expect('(', "'(' after not");
      const operand = this.or();
      this.expect(')', "')'");
      return { kind: 'not', operand };
    }
    if (this.peek()?.kind === '(') {
      this.i++;
      const inner = this.or();
      this.expect(')', "')'");
      return inner;
    }
    return this.comparison();
  }

  private comparison(): Node {
    const attr = this.next('an attribute (status, partial or type)');
    if (attr.kind !== 'word') throw new FilterError(`filter: expected an attribute (status, partial or type) at position ${attr.at + 1}, found '${attr.text}'`);
    const attribute = attr.text.toLowerCase();
    if (attribute !== 'status' && attribute !== 'partial' && attribute !== 'type') {
      throw new FilterError(`filter: attribute '${clip(attr.text)}' is not supported (status, partial and type are)`);
    }
    const op = this.next(`an operator after ${attribute}`);
    if (op.kind !== 'word' || op.text.toLowerCase() !== 'eq') {
      throw new FilterError(`filter: operator '${clip(op.text)}' after ${attribute} is not supported (eq is)`);
    }
    const v = this.next(`a value after ${attribute} eq`);
    // partial takes "true"/"false" (Qlik's example quotes it) or a bare true/false.
    const bare = v.kind === 'word' && (v.text === 'true' || v.text === 'false');
    if (v.kind !== 'string' && !bare) throw new FilterError(`filter: expected a quoted value after ${attribute} eq at position ${v.at + 1}, found '${clip(v.text)}'`);
    const value = v.text;
    if (attribute === 'status' && !(RELOAD_STATUSES as readonly string[]).includes(value)) {
      throw new FilterError(`filter: status value '${clip(value)}' is not a reload status (${RELOAD_STATUSES.join(', ')})`);
    }
    if (attribute === 'partial' && value !== 'true' && value !== 'false') throw new FilterError(`filter: partial value '${clip(value)}' is not true or false`);
    if (attribute === 'type' && !(RELOAD_TYPES as readonly string[]).includes(value)) {
      throw new FilterError(`filter: type value '${clip(value)}' is not a reload type (${RELOAD_TYPES.join(', ')})`);
    }
    if (++this.terms > MAX_TERMS) throw new FilterError(`filter: more than ${MAX_TERMS} comparisons`);
    return { kind: 'eq', attribute, value };
  }

  private keyword(word: string): boolean {
    const t = this.peek();
    if (t?.kind === 'word' && t.text.toLowerCase() === word) {
      this.i++;
      return true;
    }
    return false;
  }

  private expect(kind: '(' | ')', what: string): void {
    const t = this.next(what);
    if (t.kind !== kind) throw new FilterError(`filter: expected ${what} at position ${t.at + 1}, found '${clip(t.text)}'`);
  }

  private peek(): Token | undefined {
    return this.tokens[this.i];
  }

  private next(what: string): Token {
    const t = this.tokens[this.i++];
    if (!t) throw new FilterError(`filter: ends where ${what} was expected`);
    return t;
  }
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === '(' || ch === ')') {
      tokens.push({ kind: ch, text: ch, at: i++ });
    } else if (ch === '"') {
      // A JSON string, as SCIM's grammar says: escapes included.
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (j >= text.length) throw new FilterError(`filter: the string at position ${i + 1} is not closed`);
      let value: string;
      try {
        value = JSON.parse(text.slice(i, j + 1)) as string;
      } catch {
        throw new FilterError(`filter: the string at position ${i + 1} is not a valid JSON string`);
      }
      tokens.push({ kind: 'string', text: value, at: i });
      i = j + 1;
    } else {
      let j = i;
      while (j < text.length && !/[\s()"]/.test(text[j]!)) j++;
      tokens.push({ kind: 'word', text: text.slice(i, j), at: i });
      i = j;
    }
  }
  return tokens;
}

function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}
