// The bridge's option table (SPEC §7). --help, the docs' configuration table and the redacted start-up
// line are all made from this one list. Secrets come from the environment only: a flag would show
// them to every user of the machine through the process list.
import process from 'node:process';

export interface BridgeConfig {
  wsUrl: string;
  apiKey: string;
  hooksUrl: string;
  hooksToken: string;
  agentId: string;
  host: string;
  port: number;
  token: string;
  stateDir: string;
  logLevel: 'info' | 'error' | 'silent';
}

interface Option {
  key: keyof BridgeConfig;
  env: string;
  flag?: string;
  default: string;
  help: string;
  secret?: boolean;
  parse: (raw: string) => unknown;
}

/** `ws(s)://…` kept as is (`/agent-ws` added when the path is empty); `http(s)://host:port` becomes `ws(s)://host:port/agent-ws`. */
export function hubSocketUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new Error(`VALENCE_WS_URL must be a ws://, wss://, http:// or https:// address, not "${raw}"`);
  }
  if (u.protocol === 'http:') u.protocol = 'ws:';
  else if (u.protocol === 'https:') u.protocol = 'wss:';
  else if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new Error(`VALENCE_WS_URL must be a ws://, wss://, http:// or https:// address, not "${raw}"`);
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/agent-ws';
  u.hash = '';
  return u.toString();
}

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) && h.split('.').every((p) => Number(p) <= 255);
}

function port(name: string) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name} must be a port number from 0 to 65535, not "${raw}"`);
    return n;
  };
}

function httpUrl(name: string) {
  return (raw: string): string => {
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      throw new Error(`${name} must be an http:// or https:// address, not "${raw}"`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`${name} must be an http:// or https:// address, not "${raw}"`);
    if (u.searchParams.has('token')) throw new Error(`${name} must not carry a token in its query string; set OPENCLAW_HOOKS_TOKEN instead`);
    return u.toString();
  };
}

export const OPTIONS: Option[] = [
  {
    key: 'wsUrl', env: 'VALENCE_WS_URL', flag: '--ws-url', default: 'ws://127.0.0.1:4020/agent-ws',
    help: 'The hub\'s agent socket; an http(s)://host:port base is accepted and /agent-ws added.', parse: hubSocketUrl,
  },
  { key: 'apiKey', env: 'VALENCE_API_KEY', default: '', secret: true, help: 'The agent\'s hub key (hc_agent_…), shown once at registration. Required.', parse: (s) => s },
  {
    key: 'hooksUrl', env: 'OPENCLAW_HOOKS_URL', flag: '--hooks-url', default: 'http://127.0.0.1:18789/hooks/agent',
    help: 'OpenClaw\'s agent hook; the wake hook is the same address ending in /wake.', parse: httpUrl('OPENCLAW_HOOKS_URL'),
  },
  { key: 'hooksToken', env: 'OPENCLAW_HOOKS_TOKEN', default: '', secret: true, help: 'OpenClaw\'s hooks.token. Required.', parse: (s) => s },
  {
    key: 'agentId', env: 'OPENCLAW_AGENT_ID', flag: '--agent-id', default: '',
    help: 'OpenClaw agent that gets the offers; unset: OpenClaw\'s default agent.', parse: (s) => s,
  },
  {
    key: 'host', env: 'BRIDGE_HOST', flag: '--host', default: '127.0.0.1',
    help: 'Address of the local API for the agent; loopback only (127.x.x.x, ::1, localhost).',
    parse: (s) => {
      if (!isLoopback(s)) throw new Error(`BRIDGE_HOST must be a loopback address (127.0.0.1, ::1 or localhost), not "${s}": the local API relays decisions with the hub key behind it`);
      // [::1], as written in a URL, is listened on as ::1.
      return s.replace(/^\[(.*)\]$/, '$1');
    },
  },
  { key: 'port', env: 'BRIDGE_PORT', flag: '--port', default: '4021', help: 'Port of the local API; 0 picks a free port.', parse: port('BRIDGE_PORT') },
  {
    key: 'token', env: 'BRIDGE_TOKEN', default: '', secret: true,
    help: 'When set, every local API request needs Authorization: Bearer <BRIDGE_TOKEN> (it is given to the agent in each offer message).',
    parse: (s) => s,
  },
  {
    key: 'stateDir', env: 'BRIDGE_STATE_DIR', flag: '--state-dir', default: './data/bridge',
    help: 'Folder for the record of offers handed to OpenClaw (created if missing).', parse: (s) => s,
  },
  {
    key: 'logLevel', env: 'LOG_LEVEL', flag: '--log-level', default: 'info', help: 'info: a JSON line per event; error: errors only; silent.',
    parse: (s) => {
      const v = s.toLowerCase();
      if (v !== 'info' && v !== 'error' && v !== 'silent') throw new Error(`LOG_LEVEL must be one of info, error, silent, not "${s}"`);
      return v;
    },
  },
];

/** Flags win over the environment. Unknown flags, flags without a value and missing secrets are errors with a clear sentence. */
export function loadBridgeConfig(argv: string[] = [], env: Record<string, string | undefined> = process.env, overrides: Partial<BridgeConfig> = {}): BridgeConfig {
  const fromFlags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const opt = OPTIONS.find((o) => o.flag === name);
    if (!opt) {
      const secret = OPTIONS.find((o) => o.secret && `--${o.env.toLowerCase().replace(/_/g, '-')}` === name);
      if (secret) throw new Error(`${name} is not a flag: set ${secret.env} in the environment (or the systemd environment file) so it stays out of the process list`);
      throw new Error(`unknown argument "${arg}" (see --help)`);
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new Error(`${name} needs a value`);
    fromFlags[opt.env] = value;
  }
  const cfg: Record<string, unknown> = {};
  for (const o of OPTIONS) {
    const raw = fromFlags[o.env] ?? env[o.env];
    cfg[o.key] = o.parse(raw === undefined || raw === '' ? o.default : raw);
  }
  const out = { ...(cfg as unknown as BridgeConfig), ...overrides };
  if (!out.apiKey) throw new Error('VALENCE_API_KEY is not set: give the bridge the agent key from the hub\'s registration page');
  if (!out.apiKey.startsWith('hc_agent_')) throw new Error('VALENCE_API_KEY does not look like an agent key (it starts with hc_agent_)');
  if (!out.hooksToken) throw new Error('OPENCLAW_HOOKS_TOKEN is not set: use the value of hooks.token from the OpenClaw config');
  return out;
}

export function bridgeHelp(): string {
  const rows = OPTIONS.map((o) => {
    const name = o.flag ? `${o.env} (${o.flag})` : o.env;
    return { name, text: `${o.help} (default: ${o.default === '' ? 'unset' : o.default})${o.secret ? ' [secret: environment only]' : ''}` };
  });
  const width = Math.max(...rows.map((r) => r.name.length));
  return [
    'valence-bridge — connects a local OpenClaw agent to a Valence hub.',
    '',
    'Holds one outbound WebSocket to the hub, hands each pending offer to OpenClaw\'s agent hook, and',
    'gives the agent a local API: POST /valence-decide, POST /valence-submit, GET /status.',
    '',
    'Usage: npm run valence-bridge [-- --flag value …]   or   deno run -A bridge.ts [--flag value …]',
    '',
    'Configuration (environment variables, flags in brackets win over them):',
    ...rows.map((r) => `  ${r.name.padEnd(width)}  ${r.text}`),
    '',
    'Set-up guide: docs/bridge.md (the hub\'s /tutorial/openclaw page walks through it too).',
    '',
  ].join('\n');
}

/** The configuration with secrets replaced, for the start-up log line. */
export function redactedBridgeConfig(cfg: BridgeConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const o of OPTIONS) out[o.env] = o.secret ? (cfg[o.key] ? '(set)' : '(unset)') : cfg[o.key];
  return out;
}
