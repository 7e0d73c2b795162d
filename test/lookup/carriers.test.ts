// Carrier files from users: whatever the JSON holds, a mistake is one clear
// VpslineError naming the entry, never a TypeError.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isVpslineError } from '../../src/errors.js';
import { parseTable } from '../../src/lookup/carriers.js';

test('a document or an entry that is not an object is named', () => {
  const fails = (text: string, message: RegExp): void =>
    assert.throws(
      () => parseTable(text, 'mine.json'),
      (err) => isVpslineError(err) && message.test(err.message),
    );
  fails('null', /mine\.json needs a "carriers" list/);
  fails('[1, 2]', /mine\.json needs a "carriers" list/);
  fails('{"carriers": [null]}', /mine\.json: carriers\[0\] needs an "id"/);
  fails('{"carriers": ["cn2"]}', /mine\.json: carriers\[0\] needs an "id"/);
});

test('a name or family that is not a string falls back as if absent', () => {
  const [c] = parseTable(
    JSON.stringify({ carriers: [{ id: 'lab', name: 5, family: null, prefixes: ['198.51.100.0/24'] }] }),
    'mine.json',
  );
  assert.equal(c?.name, 'lab');
  assert.equal(c?.family, 'other');
});
