// The pending_offer frame a match sends is made from a template (lib/domain/views.ts
// pendingOfferFrameText); it must be byte for byte what JSON.stringify makes of the frame object.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newId } from '../lib/domain/util.ts';
import { clip, offerMessage, offerMessageParts, pendingOfferFrame, pendingOfferFrameText, taskBrief } from '../lib/domain/views.ts';

const tasks = [
  { title: 'Plain', description: 'Reply with one word.', category: 'fanout', deadline: null },
  { title: 'Quotes "inside" and a \\ backslash', description: 'Line one\nline two\ttab </script> \u2028 \u0000 end', category: null, deadline: '2026-12-01T00:00:00.000Z' },
  { title: 'Ünïcödé 🤖 and a lone surrogate \ud800', description: 'd'.repeat(700), category: 'Übersetzung', deadline: null },
];

test('a match frame from the template is the JSON of the frame object, for titles and descriptions that need escaping', () => {
  const expiresAt = '2026-11-29T20:15:00.000Z';
  for (const t of tasks) {
    const row = { ...t, task_id: newId() };
    const parts = offerMessageParts(t, expiresAt);
    const frameText = pendingOfferFrameText(taskBrief(row), parts, expiresAt);
    for (let i = 0; i < 20; i++) {
      const offerId = newId();
      const message = offerMessage(t, offerId, expiresAt);
      assert.equal(parts[0] + offerId + parts[1], message);
      const text = frameText(offerId);
      assert.equal(text, JSON.stringify(pendingOfferFrame({ id: offerId, message, expires_at: expiresAt }, taskBrief(row))));
      const frame = JSON.parse(text);
      assert.deepEqual(Object.keys(frame), ['type', 'offerId', 'message', 'task', 'expiresAt']);
      assert.equal(frame.offerId, offerId);
      assert.ok(frame.message.includes(`accept offer ${offerId} before ${expiresAt}`));
    }
  }
  // Long descriptions are cut at 600 characters in the message, and whole in the task.
  const long = JSON.parse(pendingOfferFrameText(taskBrief({ ...tasks[2], task_id: 't' }), offerMessageParts(tasks[2], expiresAt), expiresAt)('X'));
  assert.ok(long.message.includes('d'.repeat(600) + '…'));
  assert.equal(long.task.description.length, 700);
  // The cut counts characters, and never splits one: an emoji at the 600th is kept whole.
  const emoji = { ...tasks[0], description: 'a'.repeat(599) + '😀' + 'tail' };
  const [head] = offerMessageParts(emoji, expiresAt);
  assert.ok(head.includes('a'.repeat(599) + '😀…\n'), head);
  assert.doesNotMatch(head, /[\uD800-\uDFFF]/u, 'no half of a surrogate pair');
  assert.deepEqual(['short', 'é'.repeat(600), '😀'.repeat(601)].map((d) => clip(d, 600)), ['short', 'é'.repeat(600), '😀'.repeat(600) + '…']);
});
