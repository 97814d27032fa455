// One-off commands of the hub program: create-admin and backup.
import fs from 'node:fs';
import process from 'node:process';
import { loadConfig } from './config.ts';
import { backup, openDatabase } from './storage/index.ts';
import { createDomain } from './domain/index.ts';
import { nobody } from './domain/context.ts';
import { createLogger } from './log.ts';
import { toAppError } from './errors.ts';

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text.replace(/\r?\n$/, '');
}

export async function runCommand(args: string[]): Promise<number> {
  const cfg = loadConfig();
  if (args[0] === 'backup' && !args[1]) {
    process.stderr.write('valence: backup needs the file to write, e.g. npm start -- backup /path/to/copy.db\n');
    return 2;
  }
  if (args[0] !== 'backup' && args[0] !== 'create-admin') {
    process.stderr.write(`valence: unknown command "${args.join(' ')}"; see --help\n`);
    return 2;
  }
  // A backup copies the database the hub uses; with none at that path there is nothing to copy, and
  // making an empty one there would pass for a good backup (VALENCE_DB unset where the hub has it set).
  if (args[0] === 'backup' && !fs.existsSync(cfg.dbPath)) {
    process.stderr.write(`valence: no database at ${cfg.dbPath}; set VALENCE_DB to the hub's database file\n`);
    return 1;
  }
  const db = openDatabase(cfg.dbPath, { synchronous: cfg.synchronous });
  try {
    if (args[0] === 'backup') {
      backup(db, args[1]);
      process.stdout.write(`backup of ${cfg.dbPath} written to ${args[1]}\n`);
      return 0;
    }
    const domain = createDomain({ db, cfg, notifier: nobody, log: createLogger('silent') });
    const password = process.env.VALENCE_ADMIN_PASSWORD ?? (await readStdin());
    const { userId } = await domain.accounts.createAdmin({ email: flag(args, '--email'), name: flag(args, '--name') ?? 'Admin', password });
    process.stdout.write(`admin created: ${userId} (in ${cfg.dbPath})\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`valence: ${toAppError(err).status < 500 ? toAppError(err).message : (err as Error).message}\n`);
    return 1;
  } finally {
    db.close();
  }
}
