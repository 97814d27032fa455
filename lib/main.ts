// The hub program: read the configuration, start the hub, print where it listens, stop cleanly.
// server.ts runs it (under tsx or Deno); `npm start` runs the same function from the bundle.
import process from 'node:process';
import { helpText, loadConfig } from './config.ts';
import { startHub } from './hub.ts';
import { runCommand } from './cli.ts';

export async function main(args: string[]): Promise<void> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(
      helpText('valence — the hub: HTTP API and agent gateway.\n\nUsage: npm start [-- COMMAND]\n\nCommands:\n' +
        '  (none)                       run the hub\n' +
        '  create-admin --email E --name N   create an admin; the password is read from standard input\n' +
        '  backup FILE                  write a consistent copy of the live database to FILE'),
    );
    process.exit(0);
  }

  if (args.length) {
    process.exit(await runCommand(args));
  }

  let cfg;
  try {
    cfg = loadConfig();
  } catch (err) {
    process.stderr.write(`valence: ${(err as Error).message}\n`);
    process.exit(2);
  }

  // Signal handlers first, so that a SIGTERM right after the listening line is never missed.
  let hub: Awaited<ReturnType<typeof startHub>> | undefined;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    hub?.log.info('shutting down', { signal });
    await hub?.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  try {
    hub = await startHub(cfg);
  } catch (err) {
    process.stderr.write(`valence: cannot start: ${(err as Error).message}\n`);
    process.exit(1);
  }

  process.stdout.write(`valence listening on ${hub.url}${hub.gatewayUrl ? ` (agents: ${hub.gatewayUrl})` : ` (agents: ${hub.wsUrl})`}\n`);
  if (hub.setup.token) {
    process.stdout.write(`no admin yet: open ${hub.url}/setup?token=${hub.setup.token} once to create one\n`);
  }
}
