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
}

const MAC_BYTES = 12;

export class CursorCodec {
  constructor(private readonly secret: Buffer) {}

  encode(c: Cursor): string {
    const payload = Buffer.from(`${c.direction === 'after' ? 'a' : 'b'}${c.inclusive ? 'i' : 'x'}${c.id}`).toString('base64url');
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
    const m = /^([ab])([ix])(.+)$/.exec(raw);
    if (!m) return undefined;
    return { direction: m[1] === 'a' ? 'after' : 'before', inclusive: m[2] === 'i', id: m[3]! };
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.secret).update(payload).digest().subarray(0, MAC_BYTES).toString('base64url');
  }
}

/**
 * The request's URL with its `next`/`prev` replaced by one cursor; every other parameter stays as
 * the client sent it. `base` is `https://host[:port]`.
 */
export function pageLink(base: string, requestUrl: string, param: 'next' | 'prev', cursor: string): string {
  const url = new URL(requestUrl, 'http://placeholder');
  url.searchParams.delete('next');
  url.searchParams.delete('prev');
  url.searchParams.set(param, cursor);
  return `${base}${url.pathname}${url.search}`;
}
