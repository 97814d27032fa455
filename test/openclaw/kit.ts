// Plumbing shared by the bridge tests: a bridge started in-process with short timings, a hub that can
// be restarted on the same ports and database, a TCP relay that can black-hole the link, and polling
// with a deadline.
import net from 'node:net';
import fs from 'node:fs';
import process from 'node:process';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { startHub } from '../../lib/hub.ts';
import { startBridge, type Bridge, type BridgeOptions } from '../../lib/bridge/bridge.ts';
import type { BridgeConfig } from '../../lib/bridge/config.ts';
import { makeLogger } from '../../lib/bridge/log.ts';
import { startTestHub, tempDir, type TestHub } from '../helpers.ts';

export const FAST: BridgeOptions = {
  link: { minBackoffMs: 50, maxBackoffMs: 400, pingEveryMs: 5_000, pongTimeoutMs: 5_000, connectTimeoutMs: 2_000, requestTimeoutMs: 5_000 },
  handover: { minBackoffMs: 50, maxBackoffMs: 400, authPauseMs: 60_000 },
};

/** Polls `fn` until it returns a truthy value, or fails with `what` after `ms`. */
export async function waitFor<T>(fn: () => T | Promise<T>, what: string, ms = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface LogLine {
  level: string;
  msg: string;
  [k: string]: unknown;
}

export async function startTestBridge(cfg: Partial<BridgeConfig> & Pick<BridgeConfig, 'wsUrl' | 'apiKey' | 'hooksUrl' | 'hooksToken'>, opts: BridgeOptions = {}) {
  const lines: LogLine[] = [];
  const raw: string[] = [];
  const scratch = tempDir('valence-bridge-');
  const full: BridgeConfig = {
    agentId: '',
    host: '127.0.0.1',
    port: 0,
    token: '',
    stateDir: path.join(scratch, 'state'),
    logLevel: 'info',
    ...cfg,
  };
  const bridge = await startBridge(full, {
    ...FAST,
    ...opts,
    link: { ...FAST.link, ...opts.link },
    handover: { ...FAST.handover, ...opts.handover },
    // The bridge's own logger, its lines kept instead of printed.
    log: makeLogger('info', (text) => {
      raw.push(text);
      lines.push(JSON.parse(text));
    }),
  });
  const close = bridge.close;
  bridge.close = async () => {
    await close();
    fs.rmSync(scratch, { recursive: true, force: true });
  };
  return Object.assign(bridge as Bridge, { cfg: full, lines, raw, api: (method: string, route: string, init: { body?: unknown; raw?: string; headers?: Record<string, string> } = {}) => call(bridge.url, method, route, init) });
}

export async function call(base: string, method: string, route: string, init: { body?: unknown; raw?: string; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...(init.headers ?? {}) };
  let body: string | undefined;
  if (init.raw !== undefined) body = init.raw;
  else if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers['Content-Type'] ??= 'application/json';
  }
  const res = await fetch(base + route, { method, headers, body });
  const text = await res.text();
  let parsed: any;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/** A request with a Host header of our choosing (fetch does not let one set it). */
export function rawRequest(base: string, method: string, route: string, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method, path: route, headers }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => {
        let body: any;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** A hub that can be stopped and started again on the same ports and database, like a service restart. */
export class RestartableHub {
  hub!: TestHub;
  dir = '';
  dbPath = '';
  port = 0;
  wsPort = 0;

  async start() {
    if (!this.hub) {
      this.hub = await startTestHub();
      this.dir = this.hub.dir;
      this.dbPath = path.join(this.dir, 'valence.db');
      this.port = Number(new URL(this.hub.url).port);
      this.wsPort = Number(new URL(this.hub.gatewayUrl!).port);
      this.running = true;
      return this;
    }
    const hub = await startHub({ dbPath: this.dbPath, host: '127.0.0.1', port: this.port, agentWsPort: this.wsPort, logLevel: 'silent' });
    const dir = this.dir;
    this.hub = Object.assign(hub, {
      dir,
      api: this.hub.api, // same address, so the same client
      stop: async () => {
        await hub.close();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    });
    this.running = true;
    return this;
  }

  running = false;

  /** Stops the hub and keeps its database. */
  async halt() {
    this.running = false;
    await this.hub.close();
  }

  get gatewayUrl() {
    return `ws://127.0.0.1:${this.wsPort}/agent-ws`;
  }

  async stop() {
    if (this.running) await this.hub.stop();
    else fs.rmSync(this.dir, { recursive: true, force: true });
    this.running = false;
  }
}

/** A TCP relay between the bridge and the hub; freeze() swallows traffic both ways without closing, as a dead network does. */
export class Relay {
  server: net.Server;
  port = 0;
  frozen = false;
  sockets = new Set<net.Socket>();
  accepted = 0;

  constructor(private targetPort: number) {
    this.server = net.createServer((client) => {
      this.accepted++;
      const upstream = net.connect(this.targetPort, '127.0.0.1');
      this.sockets.add(client).add(upstream);
      const pipe = (from: net.Socket, to: net.Socket) =>
        from.on('data', (d) => {
          if (!this.frozen) to.write(d);
        });
      pipe(client, upstream);
      pipe(upstream, client);
      const end = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('close', end).on('error', end);
      upstream.on('close', end).on('error', end);
    });
  }

  async start() {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop() {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

export interface BridgeProcess {
  url: string;
  child: ChildProcess;
  lines: LogLine[];
  stderr: () => string;
  exited: Promise<number | null>;
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

/** Runs the real program (`node --import tsx bridge.ts`, as `npm run valence-bridge` does) and waits for its listening line. */
export async function spawnBridge(env: Record<string, string>, args: string[] = [], runtime: 'node' | 'deno' = 'node'): Promise<BridgeProcess> {
  const root = path.resolve(import.meta.dirname, '..', '..');
  const [cmd, pre] = runtime === 'deno' ? [path.join(root, 'node_modules', '.bin', 'deno'), ['run', '-A']] : [process.versions.deno ? 'node' : process.execPath, ['--import', 'tsx']];
  const child = spawn(cmd, [...pre, 'bridge.ts', ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', BRIDGE_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  let err = '';
  let buf = '';
  let url = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        const parsed = JSON.parse(line);
        lines.push(parsed);
        const m = /listening on (http:\/\/\S+)/.exec(parsed.msg ?? '');
        if (m) url = m[1];
      } catch {
        lines.push({ level: 'raw', msg: line });
      }
    }
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    for (const line of d.toString().split('\n').filter(Boolean)) {
      try {
        lines.push(JSON.parse(line));
      } catch {
        // not a log line
      }
    }
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let done = false;
  void exited.then(() => (done = true));
  await waitFor(() => url || done, 'the bridge to listen', 20_000);
  if (!url) throw new Error(`the bridge exited before listening:\n${err}`);
  return {
    url,
    child,
    lines,
    stderr: () => err,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (!done) child.kill(signal);
      return exited;
    },
  };
}
