// One JSON line per event on stdout (errors on stderr). Callers pass facts, never keys or tokens; a hub
// key that arrives where an id goes (an offer id sent to /valence-decide) is cut to its prefix.
import process from 'node:process';
import { redactKeys } from '../log.ts';

export type LogLevel = 'info' | 'error' | 'silent';
export type Logger = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

export function makeLogger(level: LogLevel, sink?: (line: string, level: 'info' | 'warn' | 'error') => void): Logger {
  return (lvl, msg, fields = {}) => {
    if (level === 'silent' || (level === 'error' && lvl !== 'error')) return;
    const line = redactKeys(JSON.stringify({ at: new Date().toISOString(), level: lvl, msg, ...fields }));
    if (sink) sink(line, lvl);
    else if (lvl === 'info') process.stdout.write(line + '\n');
    else process.stderr.write(line + '\n');
  };
}
