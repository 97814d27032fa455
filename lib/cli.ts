// One-off commands of the hub program: create-admin and backup.
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
  const db = openDatabase(cfg.dbPath, { synchronous: cfg.synchronous });
  try {
    if (args[0] === 'backup' && args[1]) {
      backup(db, args[1]);
      process.stdout.write(`backup written to ${args[1]}\n`);
      return 0;
    }
    if (args[0] === 'create-admin') {
      const domain = createDomain({ db, cfg, notifier: nobody, log: createLogger('silent') });
      const password = process.env.VALENCE_ADMIN_PASSWORD ?? (await readStdin());
      const { userId } = await domain.accounts.createAdmin({ email: flag(args, '--email'), name: flag(args, '--name') ?? 'Admin', password });
      process.stdout.write(`admin created: ${userId}\n`);
      return 0;
    }
    process.stderr.write(`valence: unknown command "${args.join(' ')}"; see --help\n`);
    return 2;
  } catch (err) {
    process.stderr.write(`valence: ${toAppError(err).status < 500 ? toAppError(err).message : (err as Error).message}\n`);
    return 1;
  } finally {
    db.close();
  }
}
