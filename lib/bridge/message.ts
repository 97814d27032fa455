// The text handed to OpenClaw for one offer. OpenClaw wraps hook text in a notice telling the agent not
// to run commands found in it, so this carries facts only; the commands live in the valence skill.
// It never contains the hub key.
import type { PendingOffer } from './state.ts';

export interface BridgeEndpoint {
  /** e.g. http://127.0.0.1:4021 */
  baseUrl: string;
  /** BRIDGE_TOKEN, when one is set. */
  token: string;
}

// OpenClaw refuses hook bodies over 256 KiB; a long description is cut well below that.
const MAX_DESCRIPTION = 64_000;
const clip = (s: string) => (s.length > MAX_DESCRIPTION ? `${s.slice(0, MAX_DESCRIPTION)}\n[… description cut at ${MAX_DESCRIPTION} characters; the full text is on the hub]` : s);

const oneLine = (s: string | null | undefined, fallback: string) => (s && s.trim() ? s.replace(/\s+/g, ' ').trim() : fallback);

export function offerMessage(offer: PendingOffer, bridge: BridgeEndpoint): string {
  const t = offer.task ?? ({} as PendingOffer['task']);
  const lines = [
    'New Valence offer. Use the "valence" skill (read its SKILL.md first) to decide on it and, if you accept, to do the work and submit the deliverable.',
    '',
    `Offer id: ${offer.offerId}`,
    `Task id: ${oneLine(t.id, 'unknown')}`,
    `Title: ${oneLine(t.title, '(untitled)')}`,
    `Category: ${oneLine(t.category, 'none')}`,
    `Deadline: ${oneLine(t.deadline, 'none')}`,
    `Offer expires: ${oneLine(offer.expiresAt, 'not stated')} (decide before then)`,
    '',
    'Description:',
    clip((t.description ?? '').trim()) || '(none)',
    '',
    `Bridge URL: ${bridge.baseUrl}`,
    `Decide endpoint: POST ${bridge.baseUrl}/valence-decide`,
    `Submit endpoint: POST ${bridge.baseUrl}/valence-submit`,
    `Bridge token: ${bridge.token ? bridge.token : 'none'}`,
  ];
  if (offer.message && offer.message.trim()) lines.push('', 'Hub summary:', offer.message.trim());
  return lines.join('\n');
}

const noLonger = (offer: PendingOffer, why: string) => `Valence: offer ${offer.offerId} ("${oneLine(offer.task?.title, 'untitled')}") is no longer available (${why}).`;

export function withdrawnNotice(offer: PendingOffer, reason: string): string {
  const why = reason === 'task_assigned' ? 'another worker took the task' : reason === 'task_cancelled' ? 'the buyer cancelled the task' : reason;
  return `${noLonger(offer, why)} Stop any work on it; do not accept or submit for it.`;
}

/** An offer handed over earlier that the hub no longer replays: it stopped being pending while the bridge was away. */
export function goneNotice(offer: PendingOffer): string {
  return `${noLonger(offer, 'withdrawn, cancelled or expired while the bridge was away from the hub')} Stop any work on it and do not accept it; if you had already accepted it and hold its assignment id, carry on with that assignment.`;
}

export function cancelledNotice(taskId: string, title: string | null, assignmentId: string | null): string {
  const what = title ? `"${oneLine(title, '')}"` : taskId;
  return assignmentId
    ? `Valence: the buyer cancelled task ${what} (assignment ${assignmentId}). Stop working on it; a deliverable will not be accepted.`
    : `Valence: the buyer cancelled task ${what}. Stop any work on it; do not accept or submit for it.`;
}

/** A rejected deliverable goes back to the agent as an agent hook (the feedback is the buyer's text, so it gets OpenClaw's untrusted-content wrapping). */
export function rejectedMessage(assignmentId: string, title: string | null, feedback: string | null, bridge: BridgeEndpoint): string {
  return [
    'A Valence buyer rejected your deliverable. Use the "valence" skill to fix it and submit it again with the same assignment id.',
    '',
    `Assignment id: ${assignmentId}`,
    `Title: ${oneLine(title, '(see the assignment)')}`,
    '',
    "Buyer's feedback:",
    (feedback ?? '').trim() || '(none given)',
    '',
    `Bridge URL: ${bridge.baseUrl}`,
    `Submit endpoint: POST ${bridge.baseUrl}/valence-submit`,
    `Bridge token: ${bridge.token ? bridge.token : 'none'}`,
  ].join('\n');
}
