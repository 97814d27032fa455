// Authentication and authorization as wrappers around handlers: agent(h), buyer(h), worker(h), admin(h).
import { AppError, forbidden, rateLimited, unauthorized } from '../errors.ts';
import type { Accounts } from '../domain/accounts.ts';
import type { Principal, Role } from '../domain/context.ts';
import type { HubConfig } from '../config.ts';
import type { Call, Handler } from './core.ts';

export const SESSION_COOKIE = 'valence_session';

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function createAuth(accounts: Accounts) {
  /** A Bearer header wins over a cookie; a bad Bearer header is a 401 even with a good cookie. */
  function resolve(c: Call): Principal | null {
    if (c.req.headers.authorization !== undefined) return accounts.authenticateBearer(c.req.headers.authorization);
    const token = cookieValue(c.req.headers.cookie, SESSION_COOKIE);
    if (!token) return null;
    const p = accounts.authenticateSession(token);
    if (p && !SAFE_METHODS.has(c.method)) checkForgery(c, p);
    return p;
  }

  // A state-changing request that rides on a cookie must prove it comes from our own pages.
  function checkForgery(c: Call, p: Principal) {
    const origin = c.req.headers.origin;
    if (origin && origin !== 'null') {
      let host = '';
      try {
        host = new URL(origin).host;
      } catch { /* not a URL: mismatch below */ }
      if (host !== c.req.headers.host) throw forbidden('Cross-site request refused.');
    }
    if (c.req.headers['x-csrf-token'] !== p.csrfToken) {
      throw forbidden('Requests signed in with a cookie must send the X-CSRF-Token header from /api/auth/login or /api/auth/me.');
    }
  }

  function requireRole(roles: Role[], notAllowed: () => AppError) {
    return (h: Handler): Handler => (c) => {
      const p = resolve(c);
      if (!p) throw unauthorized('Sign in or send "Authorization: Bearer <key>".');
      if (!roles.includes(p.role)) throw notAllowed();
      c.principal = p;
      return h(c);
    };
  }

  return {
    resolve,
    /** Agent routes take a Bearer agent key only; any other caller is a 401 (the seed's "user is not an agent"). */
    agent: (h: Handler): Handler => (c) => {
      const p = accounts.authenticateBearer(c.req.headers.authorization);
      if (p.role !== 'AGENT') throw unauthorized('This route is for agents; the key is not an agent key.');
      c.principal = p;
      return h(c);
    },
    buyer: requireRole(['BUYER'], () => forbidden('This route is for buyers.')),
    /** Human workers with a session, agents with their key; any other key is a 401 as on the agent routes. */
    worker: (h: Handler): Handler => (c) => {
      const p = resolve(c);
      if (!p) throw unauthorized('Sign in as a worker or send "Authorization: Bearer <agent key>".');
      if (p.via === 'key' && p.role !== 'AGENT') throw unauthorized('This route takes an agent key or a worker\'s session.');
      if (p.role !== 'WORKER' && p.role !== 'AGENT') throw forbidden('This route is for workers and agents.');
      c.principal = p;
      return h(c);
    },
    humanWorker: requireRole(['WORKER'], () => forbidden('This route is for human workers.')),
    admin: requireRole(['ADMIN'], () => forbidden('This route is for admins.')),
    signedIn: requireRole(['BUYER', 'WORKER', 'AGENT', 'ADMIN'], () => forbidden()),
  };
}

export type Auth = ReturnType<typeof createAuth>;

/**
 * A sliding-window counter per client address: take() claims a slot or throws 429 with Retry-After;
 * the returned function gives the slot back.
 */
export function createLimiter(limit: number, windowMs: number) {
  const hits = new Map<string, number[]>();
  return function take(ip: string): () => void {
    const now = Date.now();
    const recent = (hits.get(ip) ?? []).filter((t) => t > now - windowMs);
    hits.set(ip, recent);
    if (recent.length >= limit) throw rateLimited(Math.max(1, Math.ceil((recent[0] + windowMs - now) / 1000)));
    recent.push(now);
    if (hits.size > 10_000) for (const [k, ts] of hits) if (ts[ts.length - 1] <= now - windowMs) hits.delete(k);
    return () => {
      const i = recent.lastIndexOf(now);
      if (i >= 0) recent.splice(i, 1);
    };
  };
}

/** Registration policy: closed → 403; at most `limit` registrations per client address per hour → 429. */
export function registrationGate(cfg: HubConfig) {
  const take = createLimiter(cfg.registerLimit, 3600_000);
  return (h: Handler): Handler => async (c) => {
    if (cfg.registration === 'closed') throw new AppError(403, 'registration_closed', 'Registration is closed on this hub; ask its admin for an account.');
    if (cfg.registerLimit <= 0) return h(c);
    // The slot is taken before the (slow, awaited) registration so that a burst cannot overshoot,
    // and given back when the registration fails.
    const giveBack = take(c.ip);
    try {
      return await h(c);
    } catch (err) {
      giveBack();
      throw err;
    }
  };
}

/** Password guessing: at most 10 failed sign-ins per client address in 15 minutes → 429. */
export function loginGate() {
  const take = createLimiter(10, 15 * 60_000);
  return (h: Handler): Handler => async (c) => {
    const giveBack = take(c.ip);
    try {
      const reply = await h(c);
      giveBack(); // only failures count
      return reply;
    } catch (err) {
      if ((err as AppError).status !== 401) giveBack();
      throw err;
    }
  };
}
