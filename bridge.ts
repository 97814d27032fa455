// valence-bridge: connects a local OpenClaw agent to a Valence hub (SPEC §7).
// Reads the configuration, starts the bridge, stops cleanly on SIGTERM/SIGINT.
import process from 'node:process';
import { bridgeHelp, loadBridgeConfig, redactedBridgeConfig } from './lib/bridge/config.ts';
import { startBridge } from './lib/bridge/bridge.ts';
import { makeLogger } from './lib/bridge/log.ts';

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  process.stdout.write(bridgeHelp());
  process.exit(0);
}

let cfg;
try {
  cfg = loadBridgeConfig(argv, process.env);
} catch (err) {
  process.stderr.write(`valence-bridge: ${(err as Error).message}\n`);
  process.exit(2);
}

const log = makeLogger(cfg.logLevel);
let bridge;
try {
  bridge = await startBridge(cfg, { log });
} catch (err) {
  process.stderr.write(`valence-bridge: could not start: ${(err as Error).message}\n`);
  process.exit(1);
}
log('info', `valence-bridge listening on ${bridge.url} (hub: ${cfg.wsUrl}; OpenClaw: ${cfg.hooksUrl})`, { config: redactedBridgeConfig(cfg) });

let stopping = false;
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    log('info', 'stopping', { signal: sig });
    const force = setTimeout(() => process.exit(1), 5_000);
    force.unref();
    void bridge.close().then(() => {
      log('info', 'stopped');
      process.exit(0);
    });
  });
}
