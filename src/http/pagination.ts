/**
 * Page cursors and links. A cursor names a keyset position (a task id, and whether the page runs
 * after or before it) and carries an HMAC, so a cursor we did not issue is refused instead of being
 * read. Links are absolute URLs that repeat every query parameter of the request, because Qlik's
 * clients follow `links.next.href` as it is.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface Cursor {
  /** 'after' pages run forward from the id; 'before' pages end just before it. */
  readonly direction: 'after' | 'before';
  readonly id: string;
  /** Whether the id itself belongs to the page (used after the page it came from was emptied). */
  readonly inclusive: boolean;
  /**
   * For a list sorted by another field first (reloads by status, startTime or endTime): that
   * field's value at the position, after the sort it was made for, e.g. `-endTime:1796400000000`.
   */
  readonly key?: string;
}

const MAC_BYTES = 12;

export class CursorCodec {
  /**
   * @param scope the list the cursors are for: a cursor of one list is not taken by another (its
   *   MAC covers the scope), so a task id cannot be replayed as a bound of the reloads list.
   */
  constructor(
    private readonly secret: Buffer,
    private readonly scope = '',
  ) {}

  encode(c: Cursor): string {
    const key = c.key === undefined ? '' : `\u0001${c.key}`;
    const payload = Buffer.from(`${c.direction === 'after' ? 'a' : 'b'}${c.inclusive ? 'i' : 'x'}${c.id}${key}`).toString('base64url');
    return `${payload}.${this.mac(payload)}`;
  }

  /** The cursor, or undefined when it is not one we issued. */
  decode(text: string): Cursor | undefined {
    const dot = text.indexOf('.');
    if (dot <= 0) return undefined;
    const payload = text.slice(0, dot);
    const mac = Buffer.from(text.slice(dot + 1), 'base64url');
    const expected = Buffer.from(this.mac(payload), 'base64url');
    if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) return undefined;
    const raw = Buffer.from(payload, 'base64url').toString();
    const m = /^([ab])([ix])([^\u0001]+)(?:\u0001(.*))?$/s.exec(raw);
    if (!m) return undefined;
    return { direction: m[1] === 'a' ? 'after' : 'before', inclusive: m[2] === 'i', id: m[3]!, ...(m[4] !== undefined && { key: m[4] }) };
  }

  private mac(payload: string): string {
    const h = createHmac('sha256', this.secret);
    if (this.scope !== '') h.update(`${this.scope}\u0000`);
    return h.update(payload).digest().subarray(0, MAC_BYTES).toString('base64url');
  }
}

/**
 * The request's URL with its `next`/`prev` replaced by one cursor; every other parameter stays
 * byte for byte as the client sent it (re-encoding could change what the server reads from it).
 * `base` is `https://host[:port]`.
 */
export function pageLink(base: string, requestUrl: string, param: 'next' | 'prev', cursor: string): string {
  const q = requestUrl.indexOf('?');
  const path = q < 0 ? requestUrl : requestUrl.slice(0, q);
  const kept = q < 0 ? [] : requestUrl.slice(q + 1).split('&').filter((part) => part !== '' && !/^(next|prev)(=|$)/.test(part));
  return `${base}${path}?${[...kept, `${param}=${encodeURIComponent(cursor)}`].join('&')}`;
}

/** A position in page order: items after (or before) an id, the id itself included or not. */
export type Bound = Cursor;

/** A list read in page order, whatever that order is in the database (ascending ids or descending). */
export interface KeysetSource<T extends { id: string }> {
  /** Up to `limit` items in page order: the first ones after the bound, or the last ones before it. */
  list(bound: Bound | undefined, limit: number): Promise<T[]>;
  /** Whether any item lies beyond the bound. */
  any(bound: Bound): Promise<boolean>;
}

export interface KeysetPage<T> {
  readonly items: T[];
  readonly next?: Cursor;
  readonly prev?: Cursor;
}

/**
 * One keyset page and whether pages exist beyond it either way. A forward page reads limit+1 items
 * to know about a next page and asks the index once whether anything lies before it; a backward
 * page the other way round. When a cursor's page has been emptied by deletes, the links point back
 * at the cursor's own position (inclusive), so nothing is skipped.
 */
export async function keysetPage<T extends { id: string }>(
  source: KeysetSource<T>,
  limit: number,
  cursor: Cursor | undefined,
  /** For a list sorted by another field first: that field's value of an item, as the cursor keeps it. */
  keyOf?: (item: T) => string,
): Promise<KeysetPage<T>> {
  const backward = cursor?.direction === 'before';
  const rows = await source.list(cursor, limit + 1);
  const more = rows.length > limit;
  const items = backward ? rows.slice(more ? 1 : 0) : rows.slice(0, limit);
  const first = items[0];
  const last = items[items.length - 1];
  if (!first || !last) {
    // Empty: offer the way back to whatever lies on the other side of the cursor.
    if (!cursor) return { items };
    const back: Cursor = { direction: backward ? 'after' : 'before', id: cursor.id, inclusive: !cursor.inclusive, ...(cursor.key !== undefined && { key: cursor.key }) };
    return (await source.any(back)) ? { items, [backward ? 'next' : 'prev']: back } : { items };
  }
  const after: Cursor = { direction: 'after', id: last.id, inclusive: false, ...(keyOf && { key: keyOf(last) }) };
  const before: Cursor = { direction: 'before', id: first.id, inclusive: false, ...(keyOf && { key: keyOf(first) }) };
  if (backward) return { items, ...(more && { prev: before }), ...((await source.any(after)) && { next: after }) };
  return { items, ...(more && { next: after }), ...(cursor && (await source.any(before)) && { prev: before }) };
}
