// Wires the hub together: storage, domain, HTTP routes, the WebSocket gateway, the expiry sweep.
// server.ts (the program) and the tests both start the hub through startHub().
import http from 'node:http';
import process from 'node:process';
import type { AddressInfo } from 'node:net';
import { type HubConfig, loadConfig } from './config.ts';
import { openDatabase, type Database } from './storage/index.ts';
import { createDomain, type Domain } from './domain/index.ts';
import { type Ctx, nobody } from './domain/context.ts';
import { createLogger, type Logger } from './log.ts';
import { buildRoutes } from './http/routes.ts';
import { createRequestHandler } from './http/server.ts';
import { answerProtocolErrors } from './http/core.ts';
import { randomToken } from './domain/util.ts';
import { toAppError } from './errors.ts';
import { createGateway, type Gateway } from './gateway/index.ts';
import { createMetrics } from './http/metrics.ts';

export interface Hub {
  cfg: HubConfig;
  db: Database;
  domain: Domain;
  gateway: Gateway;
  log: Logger;
  /** http://host:port of the main listener. */
  url: string;
  /** ws://host:port/agent-ws on the main listener. */
  wsUrl: string;
  /** ws://host:port/agent-ws on the AGENT_WS_PORT listener, or null when it is off. */
  gatewayUrl: string | null;
  /** The one-time admin set-up token while no admin exists. */
  setup: { token: string | null };
  close(): Promise<void>;
}

function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

// The request log costs a write(2) per line; under load one write per event-loop turn is enough.
// Error lines go out at once, with everything before them, so that a crash right after one keeps it.
function batchedStdout() {
  let lines: string[] = [];
  const flush = () => {
    if (!lines.length) return;
    const text = lines.join('');
    lines = [];
    process.stdout.write(text);
  };
  return {
    flush,
    write(line: string) {
      if (!lines.length) setImmediate(flush);
      lines.push(line);
      if (line.includes('"level":"error"')) flush();
    },
  };
}

const urlHost = (host: string) => (host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host);

/** Timings that tests shorten; the defaults are SPEC §6's. */
export interface HubInternals {
  authTimeoutMs?: number;
  pingMs?: number;
}

export async function startHub(overrides: Partial<HubConfig> = {}, env?: Record<string, string | undefined>, internals: HubInternals = {}): Promise<Hub> {
  const cfg = loadConfig(env, overrides);
  const out = batchedStdout();
  const log = createLogger(cfg.logLevel, out.write);
  const db = openDatabase(cfg.dbPath, { synchronous: cfg.synchronous, group: true });
  const ctx: Ctx = { db, cfg, notifier: nobody, log };
  const domain = createDomain(ctx);
  // Offers a match had pushed before the hub stopped, not yet written into match_offers (domain/batches.ts).
  const recovered = domain.batches.trySettle();
  if (recovered) log.info('offers of an interrupted match written', { batches: recovered });
  const setup = { token: domain.accounts.hasAdmin() ? null : randomToken(24) };
  const started = Date.now();
  const gateway = createGateway(ctx, domain, internals);
  ctx.notifier = gateway.notifier;

  const health = () => ({ status: 'ok', uptimeSeconds: Math.round((Date.now() - started) / 1000), connectedAgents: gateway.connectedCount() });
  const metrics = createMetrics(db, () => ({ agents: gateway.connectedCount(), sockets: gateway.socketCount() }));
  const handler = createRequestHandler(buildRoutes({ domain, cfg, setup, health, gateway, metrics }), cfg, log, db.durable, metrics.record);
  const server = http.createServer(handler);
  server.on('upgrade', gateway.handleUpgrade);
  answerProtocolErrors(server, log.info);

  // The second listener serves only the agent gateway (the seed's ws://host:4020/agent-ws).
  let wsServer: http.Server | null = null;
  const port = await listen(server, cfg.port, cfg.host);
  let wsPort: number | null = null;
  try {
    if (cfg.agentWsPort !== 'off') {
      wsServer = http.createServer((req, res) => {
        res.writeHead(404, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ ok: false, error: { code: 'not_found', message: 'This port serves only the WebSocket gateway at /agent-ws.' } }));
      });
      wsServer.on('upgrade', gateway.handleUpgrade);
      answerProtocolErrors(wsServer, log.info);
      wsPort = await listen(wsServer, cfg.agentWsPort, cfg.host);
    }
  } catch (err) {
    server.close();
    db.close();
    throw err;
  }

  const sweep = setInterval(() => {
    try {
      const n = domain.offers.sweepExpired();
      if (n) log.info('offers expired', { count: n });
      const old = domain.outbox.prune();
      if (old) log.info('frames kept for agents dropped after 30 days', { count: old });
    } catch (err) {
      if (toAppError(err).code === 'database_busy') log.info('expiry sweep skipped: another program holds the write lock');
      else log.error('expiry sweep failed', { error: String(err) });
    }
  }, cfg.sweepSeconds * 1000);
  sweep.unref();

  let closing: Promise<void> | null = null;
  const host = urlHost(cfg.host);
  return {
    cfg, db, domain, gateway, log, setup,
    url: `http://${host}:${port}`,
    wsUrl: `ws://${host}:${port}/agent-ws`,
    gatewayUrl: wsPort === null ? null : `ws://${host}:${wsPort}/agent-ws`,
    close() {
      // Stop accepting, let in-flight requests finish, close sockets with 1001, then the database.
      closing ??= (async () => {
        clearInterval(sweep);
        const closed = [server, wsServer].filter((s): s is http.Server => !!s).map((s) => new Promise<void>((r) => s.close(() => r())));
        closed.push(gateway.close());
        // A keep-alive connection whose request was in flight becomes idle once it is answered; close
        // it then, instead of waiting for its keep-alive timeout (about 5 s) to end the process.
        const idle = () => {
          for (const s of [server, wsServer]) s?.closeIdleConnections?.();
        };
        idle();
        const sweeper = setInterval(idle, 50);
        await Promise.race([Promise.all(closed), new Promise((r) => setTimeout(r, 10_000).unref())]);
        clearInterval(sweeper);
        for (const s of [server, wsServer]) s?.closeAllConnections?.();
        db.close();
        out.flush();
      })();
      return closing;
    },
  };
}
