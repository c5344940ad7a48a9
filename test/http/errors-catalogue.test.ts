// The error catalogue and its documentation cannot drift apart.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { ERRORS } from '../../src/http/errors.js';

it('every catalogue code is documented in docs/errors.md with its status and title', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  for (const [code, { status, title }] of Object.entries(ERRORS)) {
    const row = doc.split('\n').find((l) => l.startsWith(`| \`${code}\` |`));
    assert.ok(row, `${code} is not in docs/errors.md`);
    assert.ok(row.includes(`| ${status} |`) && row.includes(`| ${title} |`), `docs/errors.md has ${code} with another status or title: ${row}`);
  }
});

it('docs/errors.md lists no code that the catalogue lacks', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const documented = [...doc.matchAll(/^\| `([A-Z]+-\d{3})` \|/gm)].map((m) => m[1]);
  assert.deepEqual(documented.sort(), Object.keys(ERRORS).sort());
});
