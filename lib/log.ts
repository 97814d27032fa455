// One JSON line per request or event. Secrets never reach here: callers pass ids and prefixes only.
import process from 'node:process';

export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function createLogger(level: 'info' | 'error' | 'silent', write: (line: string) => void = (l) => process.stdout.write(l)): Logger {
  const emit = (lvl: string, msg: string, fields?: Record<string, unknown>) =>
    write(JSON.stringify({ t: new Date().toISOString(), level: lvl, msg, ...fields }) + '\n');
  return {
    info: level === 'info' ? (msg, fields) => emit('info', msg, fields) : () => {},
    error: level === 'silent' ? () => {} : (msg, fields) => emit('error', msg, fields),
  };
}
