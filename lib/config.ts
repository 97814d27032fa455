// The hub's option table. --help, the README's configuration table and the redacted start-up dump
// are all made from this one list.
import process from 'node:process';

export type Synchronous = 'NORMAL' | 'FULL';

export interface HubConfig {
  host: string;
  port: number;
  agentWsPort: number | 'off';
  dbPath: string;
  registration: 'open' | 'closed';
  registerLimit: number;
  trustProxy: boolean;
  synchronous: Synchronous;
  bodyLimit: number;
  maxDeliverable: number;
  sweepSeconds: number;
  publishToken: string;
  publishHost: string;
  logLevel: 'info' | 'error' | 'silent';
}

interface Option<K extends keyof HubConfig> {
  key: K;
  env: string;
  default: string;
  help: string;
  secret?: boolean;
  parse: (raw: string) => HubConfig[K];
}

function int(name: string, min: number, max: number) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be a whole number from ${min} to ${max}, not "${raw}"`);
    return n;
  };
}

function oneOf<T extends string>(name: string, values: readonly T[], upper = false) {
  return (raw: string): T => {
    const v = (upper ? raw.toUpperCase() : raw.toLowerCase()) as T;
    if (!values.includes(v)) throw new Error(`${name} must be one of ${values.join(', ')}, not "${raw}"`);
    return v;
  };
}

function bool(name: string) {
  return (raw: string): boolean => {
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off|)$/i.test(raw)) return false;
    throw new Error(`${name} must be 1 or 0, not "${raw}"`);
  };
}

// deno-lint-ignore no-explicit-any
export const OPTIONS: Option<any>[] = [
  { key: 'host', env: 'HOST', default: '127.0.0.1', help: 'Address to listen on; 0.0.0.0 to serve a LAN.', parse: (s: string) => s },
  { key: 'port', env: 'PORT', default: '3000', help: 'HTTP port for the API (and /agent-ws); 0 picks a free port.', parse: int('PORT', 0, 65535) },
  {
    key: 'agentWsPort', env: 'AGENT_WS_PORT', default: '4020',
    help: 'Second listener serving only /agent-ws (the seed\'s ws://host:4020/agent-ws); 0 picks a free port, off disables it.',
    parse: (s: string) => (s.toLowerCase() === 'off' ? 'off' : int('AGENT_WS_PORT', 0, 65535)(s)),
  },
  { key: 'dbPath', env: 'VALENCE_DB', default: './data/valence.db', help: 'SQLite database file (created with its folder on first start).', parse: (s: string) => s },
  {
    key: 'registration', env: 'VALENCE_REGISTRATION', default: 'open',
    help: 'open: anyone may register agents, buyers and workers; closed: only an admin creates accounts.',
    parse: oneOf('VALENCE_REGISTRATION', ['open', 'closed'] as const),
  },
  {
    key: 'registerLimit', env: 'VALENCE_REGISTER_LIMIT', default: '60',
    help: 'Registrations per client address per hour (429 with Retry-After past it); 0 = no limit.',
    parse: int('VALENCE_REGISTER_LIMIT', 0, 1_000_000),
  },
  {
    key: 'trustProxy', env: 'TRUST_PROXY', default: '0',
    help: '1 behind a reverse proxy: the client address is the last one in X-Forwarded-For.',
    parse: bool('TRUST_PROXY'),
  },
  {
    key: 'synchronous', env: 'VALENCE_SYNCHRONOUS', default: 'NORMAL',
    help: 'SQLite synchronous mode. NORMAL: survives a crash of the hub, a power cut may lose the last moments. FULL: every acknowledged write survives a power cut.',
    parse: oneOf('VALENCE_SYNCHRONOUS', ['NORMAL', 'FULL'] as const, true),
  },
  { key: 'bodyLimit', env: 'VALENCE_BODY_LIMIT', default: '1048576', help: 'Largest request body in bytes (413 past it).', parse: int('VALENCE_BODY_LIMIT', 1024, 64 * 1024 * 1024) },
  {
    key: 'maxDeliverable', env: 'VALENCE_MAX_DELIVERABLE', default: '200000',
    help: 'Longest deliverable contentText in characters.', parse: int('VALENCE_MAX_DELIVERABLE', 1, 10_000_000),
  },
  { key: 'sweepSeconds', env: 'VALENCE_SWEEP_SECONDS', default: '5', help: 'How often pending offers past their expiry are marked EXPIRED.', parse: int('VALENCE_SWEEP_SECONDS', 1, 3600) },
  {
    key: 'publishToken', env: 'VALENCE_PUBLISH_TOKEN', default: '', secret: true,
    help: 'Bearer token required by POST /internal/publish when set (it listens on loopback only either way).',
    parse: (s: string) => s,
  },
  {
    key: 'publishHost', env: 'VALENCE_PUBLISH_ALLOW', default: '',
    help: 'A private address (besides loopback) allowed to call POST /internal/publish.', parse: (s: string) => s,
  },
  { key: 'logLevel', env: 'LOG_LEVEL', default: 'info', help: 'info: a JSON line per request and event; error: errors only; silent.', parse: oneOf('LOG_LEVEL', ['info', 'error', 'silent'] as const) },
];

/** Reads the configuration from an environment (process.env by default) plus overrides. Throws with a clear sentence on a bad value. */
export function loadConfig(env: Record<string, string | undefined> = process.env, overrides: Partial<HubConfig> = {}): HubConfig {
  const cfg: Record<string, unknown> = {};
  for (const o of OPTIONS) {
    const raw = env[o.env];
    cfg[o.key] = o.parse(raw === undefined || raw === '' ? o.default : raw);
  }
  return { ...(cfg as unknown as HubConfig), ...overrides };
}

export function helpText(program: string, options = OPTIONS): string {
  const width = Math.max(...options.map((o) => o.env.length));
  const lines = options.map((o) => `  ${o.env.padEnd(width)}  ${o.help} (default: ${o.default === '' ? 'unset' : o.default})`);
  return `${program}\n\nConfiguration (environment variables):\n${lines.join('\n')}\n`;
}

/** The configuration with secrets replaced, for logs. */
export function redacted(cfg: HubConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const o of OPTIONS) out[o.env] = o.secret ? (cfg[o.key as keyof HubConfig] ? '(set)' : '(unset)') : cfg[o.key as keyof HubConfig];
  return out;
}
