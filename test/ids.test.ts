// Ids (lib/domain/util.ts newId): opaque, URL-safe, unguessable, and sorted by the time they were made.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newId } from '../lib/domain/util.ts';

test('ids are 24 URL-safe characters, all distinct, with 96 bits that differ between ids made together', () => {
  const ids = Array.from({ length: 20_000 }, newId);
  for (const id of ids.slice(0, 100)) assert.match(id, /^[A-Za-z0-9][A-Za-z0-9_-]{23}$/, 'URL-safe, and never starting with "-" (command-line tools would take it for an option)');
  assert.equal(new Set(ids).size, ids.length);
  // Ids of one millisecond share the time prefix; their random tails must all differ.
  assert.equal(new Set(ids.map((id) => id.slice(8))).size, ids.length);
  assert.notEqual(ids[0].slice(8), ids[1].slice(8));
});

test('an id made in a later millisecond sorts after an earlier one, in plain byte order', () => {
  const first = newId();
  const start = Date.now();
  while (Date.now() === start) {} // the next millisecond on the clock, not a sleep
  const later = newId();
  assert.ok(first < later, `${first} should sort before ${later}`);
  assert.ok(Buffer.compare(Buffer.from(first), Buffer.from(later)) < 0);
  // The first 8 characters are the time in ms, in the alphabet - 0-9 A-Z _ a-z (byte order); the
  // first of them one place up, so that no id starts with "-".
  const alphabet = '-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz';
  const ms = [...later.slice(0, 8)].reduce((t, c, i) => t * 64 + alphabet.indexOf(c) - (i === 0 ? 1 : 0), 0);
  // An id made before that rule (first character "-") sorts before every id made now.
  assert.ok(('-' + later.slice(1)) < first);
  assert.ok(ms > start && ms <= Date.now(), `time part ${ms} should be just after ${start}`);
});
