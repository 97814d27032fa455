// One JSON line per request or event. Secrets never reach here: callers pass ids and prefixes only,
// and a key a client put in a path, a frame or an id is cut to its prefix (redactKeys, redactValue).
import process from 'node:process';
import { nowIso } from './clock.ts';

export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** The line of one answered request (an info line): written without a generic JSON.stringify, it is on every request's path. */
  request(method: string, path: string, status: number, ms: number): void;
  /** The line of one answered request frame on an agent socket (offer_decision, submit_deliverable, or a frame refused). */
  frame(type: string, agentId: string, status: number, ms: number): void;
}

// A key is hc_agent_ or hc_buyer_ and 43 base64url characters, here also with any of them
// percent-encoded (as in a path); its display prefix (the first 12 characters, hc_agent_AbC) is
// shorter than 16 after the underscore and stays.
const KEY = /hc(?:_|%5f)(agent|buyer)(?:_|%5f)(?:[a-z0-9_-]|%[0-9a-f]{2}){16,}/gi;
const ONE_KEY = new RegExp(KEY.source, 'i');

/**
 * text with every API key in it cut to its prefix (hc_agent_…). A client can put its key where an id
 * goes (a path like /offers/hc_agent_…/decision), and the path is logged.
 */
export function redactKeys(text: string): string {
  return /hc/i.test(text) ? text.replace(KEY, 'hc_$1_…') : text;
}

/**
 * redactKeys for a value a client chose (a path, a frame type), before it is put in a line: one whose
 * percent-decoded form holds a key however it was encoded (hc_%61gent_…) is logged decoded and cut.
 */
function redactValue(text: string): string {
  if (text.includes('%')) {
    let decoded: string | null = null;
    try {
      decoded = decodeURIComponent(text);
    } catch {
      // not percent-encoding: the text as it is
    }
    if (decoded !== null && ONE_KEY.test(decoded)) return redactKeys(decoded);
  }
  return redactKeys(text);
}

export function createLogger(level: 'info' | 'error' | 'silent', write: (line: string) => void = (l) => process.stdout.write(l)): Logger {
  const emit = (lvl: string, msg: string, fields?: Record<string, unknown>) =>
    write(redactKeys(JSON.stringify({ t: nowIso(), level: lvl, msg, ...fields })) + '\n');
  return {
    // The same line as info('request', { method, path, status, ms }) would write, in a fifth of the time.
    request: level === 'info'
      ? (method, path, status, ms) =>
        write(`{"t":"${nowIso()}","level":"info","msg":"request","method":${JSON.stringify(method)},"path":${JSON.stringify(redactValue(path))},"status":${status},"ms":${ms}}\n`)
      : () => {},
    frame: level === 'info'
      ? (type, agentId, status, ms) =>
        write(`{"t":"${nowIso()}","level":"info","msg":"frame","type":${JSON.stringify(redactValue(type).slice(0, 100))},"agentId":${JSON.stringify(agentId)},"status":${status},"ms":${ms}}\n`)
      : () => {},
    info: level === 'info' ? (msg, fields) => emit('info', msg, fields) : () => {},
    error: level === 'silent' ? () => {} : (msg, fields) => emit('error', msg, fields),
  };
}
