// Starts the real hub program (server.ts) as a child process, on Node or on Deno, whichever runs the tests.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== 'undefined';

/** The command that runs a TypeScript program of this repo on the current runtime. */
export function tsCommand(file: string, args: string[] = []): [string, string[]] {
  return isDeno ? [process.execPath, ['run', '-A', path.join(root, file), ...args]] : [process.execPath, ['--import', 'tsx', path.join(root, file), ...args]];
}

export interface Spawned {
  proc: ChildProcess;
  url: string;
  gatewayUrl: string;
  lines: string[];
  stderr: () => string;
  /** Waits for the next stdout line that matches. */
  waitLine(re: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<{ code: number | null; signal: string | null }>;
}

/** Starts server.ts, or with `command` another program that prints the same lines (the bundle `npm start` runs). */
export async function spawnServer(env: Record<string, string>, args: string[] = [], command?: [string, string[]]): Promise<Spawned> {
  const [cmd, argv] = command ?? tsCommand('server.ts', args);
  const proc = spawn(cmd, argv, { cwd: root, env: { ...process.env, LOG_LEVEL: 'error', PORT: '0', AGENT_WS_PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let err = '';
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  let buf = '';
  proc.stdout!.setEncoding('utf8');
  proc.stdout!.on('data', (s: string) => {
    buf += s;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      lines.push(line);
      for (const w of [...waiters]) if (w.re.test(line)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(line));
    }
  });
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (s: string) => (err += s));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const waitLine = (re: RegExp, timeoutMs = 20_000) => {
    const have = lines.find((l) => re.test(l));
    if (have) return Promise.resolve(have);
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no line ${re} within ${timeoutMs} ms; stdout: ${lines.join('\n')} stderr: ${err}`)), timeoutMs);
      waiters.push({ re, resolve: (l) => (clearTimeout(timer), resolve(l)) });
      void exited.then(() => setTimeout(() => reject(new Error(`server exited before ${re}; stdout: ${lines.join('\n')} stderr: ${err}`)), 50));
    });
  };
  const first = await waitLine(/^valence listening on /);
  const m = /^valence listening on (\S+) \(agents: (\S+)\)$/.exec(first);
  if (!m) throw new Error(`unexpected first line: ${first}`);
  return { proc, url: m[1], gatewayUrl: m[2], lines, stderr: () => err, waitLine, exited };
}

/** Runs the program to completion (for --help and one-off commands). */
export function runProgram(file: string, args: string[], env: Record<string, string> = {}, input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [cmd, argv] = tsCommand(file, args);
  return new Promise((resolve) => {
    const proc = spawn(cmd, argv, { cwd: root, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => (stdout += d));
    proc.stderr.on('data', (d) => (stderr += d));
    proc.on('close', (code) => resolve({ code, stdout, stderr }));
    proc.stdin.end(input ?? '');
  });
}

/**
 * True when a child that was sent SIGTERM exited by itself with code 0. Deno's node:child_process
 * reports a child that handled SIGTERM and exited 0 as killed by the signal, so under Deno that is
 * the best the parent can observe (the 1001 close the tests also check shows the handler ran).
 */
export function exitedCleanly(e: { code: number | null; signal: string | null }): boolean {
  if (e.code === 0 && e.signal === null) return true;
  return isDeno && e.code === null && e.signal === 'SIGTERM';
}
