// Installs and runs the real OpenClaw gateway for the end-to-end test. OpenClaw is not a dependency of
// the project: it goes into a cache folder outside the repository (with the Node 24 it needs), once,
// and is reused by later runs.
//   cache: $VALENCE_OPENCLAW_CACHE, else ${XDG_CACHE_HOME:-$HOME/.cache}/valence/openclaw-<version>
//     node24/node_modules/.bin/node                  Node 24 from the npm registry (package "node")
//     oc/node_modules/openclaw/openclaw.mjs          the gateway
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';

export const OPENCLAW_VERSION = '2026.9.6';
export const NODE_MAJOR = '24';

export function cacheDir(): string {
  if (process.env.VALENCE_OPENCLAW_CACHE) return process.env.VALENCE_OPENCLAW_CACHE;
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'valence', `openclaw-${OPENCLAW_VERSION}`);
}

export interface OpenClawInstall {
  dir: string;
  node: string;
  entry: string;
}

function paths(dir: string): OpenClawInstall {
  return { dir, node: path.join(dir, 'node24', 'node_modules', '.bin', 'node'), entry: path.join(dir, 'oc', 'node_modules', 'openclaw', 'openclaw.mjs') };
}

function usable(p: OpenClawInstall): boolean {
  if (!fs.existsSync(p.node) || !fs.existsSync(p.entry)) return false;
  const v = spawnSync(p.node, ['--version'], { encoding: 'utf8' });
  if (v.status !== 0 || !v.stdout.startsWith(`v${NODE_MAJOR}.`)) return false;
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(path.dirname(p.entry), 'package.json'), 'utf8'));
    return pkg.version === OPENCLAW_VERSION;
  } catch {
    return false;
  }
}

function npmInstall(cwd: string, spec: string, env: NodeJS.ProcessEnv, log: (s: string) => void) {
  fs.mkdirSync(cwd, { recursive: true });
  fs.writeFileSync(path.join(cwd, 'package.json'), JSON.stringify({ name: `valence-cache-${path.basename(cwd)}`, private: true }) + '\n');
  log(`npm install ${spec} in ${cwd}`);
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', spec], { cwd, env, encoding: 'utf8', timeout: 15 * 60_000 });
  if (r.status !== 0) throw new Error(`npm install ${spec} failed (exit ${r.status}):\n${(r.stderr || '').slice(-3000)}`);
}

/** Returns the cached install, installing it first when missing (about 650 MB, a minute or two). */
export function ensureOpenClaw(log: (s: string) => void = (s) => process.stderr.write(`[openclaw-harness] ${s}\n`)): OpenClawInstall {
  const dir = cacheDir();
  const ready = paths(dir);
  if (usable(ready)) return ready;
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  // Build next to the final place, then rename: a half-finished install never looks complete.
  const tmp = `${dir}.partial-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  const t = paths(tmp);
  npmInstall(path.join(tmp, 'node24'), `node@${NODE_MAJOR}`, process.env, log);
  if (!fs.existsSync(t.node)) throw new Error(`node@${NODE_MAJOR} did not install a binary at ${t.node}`);
  // OpenClaw's install scripts refuse an older Node, so npm runs under the Node 24 just installed.
  const env = { ...process.env, PATH: `${path.dirname(t.node)}${path.delimiter}${process.env.PATH ?? ''}` };
  npmInstall(path.join(tmp, 'oc'), `openclaw@${OPENCLAW_VERSION}`, env, log);
  if (!usable(t)) throw new Error(`openclaw@${OPENCLAW_VERSION} did not install correctly in ${tmp}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(tmp, dir);
  log(`installed openclaw ${OPENCLAW_VERSION} in ${dir}`);
  return ready;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface GatewayOptions {
  hooksToken: string;
  /** OpenAI-compatible base, e.g. http://127.0.0.1:PORT/v1 */
  modelBaseUrl: string;
  modelId: string;
  /** Folders OpenClaw scans for skills (skills.load.extraDirs). */
  skillDirs: string[];
}

export interface Gateway {
  port: number;
  hooksUrl: string;
  dir: string;
  logFile: string;
  output: () => string;
  stop: () => Promise<void>;
}

/** Starts `openclaw gateway run` on loopback with hooks enabled and the scripted model as its only model. */
export async function startGateway(install: OpenClawInstall, opts: GatewayOptions): Promise<Gateway> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'valence-openclaw-'));
  const home = path.join(dir, 'home');
  const state = path.join(dir, 'state');
  const workspace = path.join(dir, 'workspace');
  for (const d of [home, state, workspace]) fs.mkdirSync(d, { recursive: true });
  const port = await freePort();
  const logFile = path.join(dir, 'gateway.log');
  const config = {
    gateway: { mode: 'local', bind: 'loopback', port },
    hooks: { enabled: true, token: opts.hooksToken, path: '/hooks' },
    logging: { file: logFile },
    models: {
      providers: {
        scripted: {
          baseUrl: opts.modelBaseUrl,
          api: 'openai-completions',
          apiKey: 'scripted-model-key',
          models: [{ id: opts.modelId, name: opts.modelId }],
        },
      },
    },
    agents: { defaults: { model: { primary: `scripted/${opts.modelId}` }, workspace } },
    skills: { load: { extraDirs: opts.skillDirs } },
  };
  const configPath = path.join(dir, 'openclaw.json');
  fs.writeFileSync(configPath, JSON.stringify(config, null, 2));
  let output = '';
  const child: ChildProcess = spawn(install.node, [install.entry, 'gateway', 'run'], {
    cwd: workspace,
    detached: true, // its own process group, so stop() ends its helpers too
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: `${path.dirname(install.node)}${path.delimiter}${process.env.PATH ?? ''}`,
      HOME: home,
      LANG: 'C.UTF-8',
      SHELL: '/bin/bash',
      OPENCLAW_STATE_DIR: state,
      OPENCLAW_CONFIG_PATH: configPath,
      OPENCLAW_DISABLE_BONJOUR: '1',
      OPENCLAW_NO_AUTO_UPDATE: '1',
      OPENCLAW_SKIP_CHANNELS: '1',
      NO_COLOR: '1',
    },
  });
  const collect = (d: Buffer) => {
    output += d.toString().replace(/\x1b\[[0-9;]*m/g, '');
    if (output.length > 2_000_000) output = output.slice(-1_000_000);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));

  const stop = async () => {
    if (exited !== undefined) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      return;
    }
    const t = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, 10_000);
    await gone;
    clearTimeout(t);
  };
  const stopAndClean = async () => {
    await stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 120_000;
  while (!/\[gateway\] ready/.test(output)) {
    if (exited !== undefined) throw new Error(`the OpenClaw gateway exited (${exited}) before it was ready:\n${output.slice(-4000)}`);
    if (Date.now() > deadline) {
      await stopAndClean();
      throw new Error(`the OpenClaw gateway was not ready within 120 s:\n${output.slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { port, hooksUrl: `http://127.0.0.1:${port}/hooks/agent`, dir, logFile, output: () => output, stop: stopAndClean };
}
