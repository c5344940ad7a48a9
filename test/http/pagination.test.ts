// Page cursors: what is encoded comes back, keys included, and nothing we did not sign is read.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CursorCodec, type Cursor } from '../../src/http/pagination.js';

const codec = new CursorCodec(Buffer.from('0123456789abcdef0123456789abcdef'), 'reloads');

describe('CursorCodec', () => {
  it('round-trips direction, id, inclusive and a sort key, and a cursor without a key has none', () => {
    const cursors: Cursor[] = [
      { direction: 'after', id: '01a23179de0000000028637d', inclusive: false },
      { direction: 'before', id: '01a23179de0000000028637d', inclusive: true, key: '-endTime:-1' },
      { direction: 'after', id: 'x', inclusive: false, key: 'status:EXCEEDED_LIMIT' },
      { direction: 'after', id: 'x', inclusive: false, key: '' },
    ];
    for (const c of cursors) assert.deepEqual(codec.decode(codec.encode(c)), c);
    assert.equal('key' in codec.decode(codec.encode(cursors[0]!))!, false);
  });

  it('refuses a cursor that was altered, signed for another list, or not one at all', () => {
    const text = codec.encode({ direction: 'after', id: 'abc', inclusive: false, key: 'startTime:5' });
    const [payload, mac] = text.split('.') as [string, string];
    const other = Buffer.from(Buffer.from(payload, 'base64url').toString().replace('startTime:5', 'startTime:6')).toString('base64url');
    assert.equal(codec.decode(`${other}.${mac}`), undefined);
    assert.equal(new CursorCodec(Buffer.from('0123456789abcdef0123456789abcdef'), 'tasks').decode(text), undefined);
    for (const bad of ['', '.', 'abc', `${payload}.`, `.${mac}`]) assert.equal(codec.decode(bad), undefined, bad);
  });
});
