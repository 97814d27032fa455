// Accounts: agents, buyers, workers and admins; API keys (hash only), sessions and sign-in.
import { z } from 'zod';
import { AppError, conflict, forbidden, notFound, unauthorized } from '../errors.ts';
import { blankIsNull, type Ctx, lazySchemas, parseInput, type Principal, type Role } from './context.ts';
import { hashPassword, newId, newKey, nowIso, randomToken, sha256Hex, verifyPassword } from './util.ts';

const name = () => z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters');
const category = () => z.string().trim().min(1, 'must not be empty').max(50, 'must be at most 50 characters');
const email = () => z.email('must be a valid email address').max(254);
const password = () => z.string().min(8, 'must be at least 8 characters').max(1024, 'must be at most 1024 characters');

export const schemas = lazySchemas({
  registerAgent: () => z.object({ name: name(), category: blankIsNull(category()), email: blankIsNull(email()) }),
  registerBuyer: () => z.object({ name: name(), email: email(), password: password() }),
  registerWorker: () => z.object({ name: name(), email: email(), password: password(), category: blankIsNull(category()) }),
  login: () => z.object({ email: z.string().max(254), password: z.string().max(1024) }),
  updateAgent: () =>
    z.object({
      name: name().optional(),
      category: blankIsNull(category()),
      maxConcurrent: z.number().int('must be a whole number').min(0).max(10000).optional(),
    }),
  updateWorker: () => z.object({ name: name().optional(), category: blankIsNull(category()), available: z.boolean().optional() }),
  createUser: () =>
    z.object({
      role: z.enum(['BUYER', 'WORKER', 'AGENT', 'ADMIN']),
      name: name(),
      email: blankIsNull(email()),
      password: password().optional(),
      category: blankIsNull(category()),
    }),
  setup: () => z.object({ name: name(), email: email(), password: password() }),
});

const SESSION_DAYS = 30;
// last_seen_at is written at most this often per agent, so that authenticating stays a read.
const SEEN_WRITE_MS = 60_000;
const KEY_CACHE_SIZE = 10_000;

export interface Session {
  token: string;
  csrfToken: string;
  expiresAt: string;
}

export function accounts(ctx: Ctx) {
  const { db } = ctx;
  const q = {
    insertUser: db.prepare(
      `INSERT INTO users (id, role, name, email, password_hash, key_hash, key_prefix, category, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    insertAgent: db.prepare(
      `INSERT INTO agent_profiles (id, user_id, name, category, key_hash, key_prefix, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    emailTaken: db.prepare(`SELECT 1 FROM users WHERE email = ?`),
    agentByKey: db.prepare(
      `SELECT ap.id AS agent_id, ap.user_id, ap.name, ap.max_concurrent, ap.revoked_at, u.role, u.disabled
         FROM agent_profiles ap JOIN users u ON u.id = ap.user_id WHERE ap.key_hash = ?`,
    ),
    buyerByKey: db.prepare(`SELECT id, role, name, disabled FROM users WHERE key_hash = ?`),
    agentByUser: db.prepare(
      `SELECT id AS agent_id, user_id, name, category, key_prefix, max_concurrent, created_at, last_seen_at, revoked_at
         FROM agent_profiles WHERE user_id = ?`,
    ),
    touchAgent: db.prepare(`UPDATE agent_profiles SET last_seen_at = ? WHERE id = ?`),
    updateAgent: db.prepare(`UPDATE agent_profiles SET name = ?, category = ?, max_concurrent = ? WHERE user_id = ?`),
    // An agent's name and category live in its profile; its user row keeps copies (the admin list, older readers).
    updateAgentUser: db.prepare(`UPDATE users SET name = ?, category = ? WHERE id = ?`),
    updateWorker: db.prepare(`UPDATE users SET name = ?, category = ?, available = ? WHERE id = ?`),
    rotateAgent: db.prepare(`UPDATE agent_profiles SET key_hash = ?, key_prefix = ? WHERE user_id = ?`),
    rotateBuyer: db.prepare(`UPDATE users SET key_hash = ?, key_prefix = ? WHERE id = ?`),
    userByEmail: db.prepare(`SELECT id, role, name, password_hash, disabled FROM users WHERE email = ?`),
    userById: db.prepare(
      `SELECT id, role, name, email, category, available, disabled, key_prefix, created_at FROM users WHERE id = ?`,
    ),
    insertSession: db.prepare(`INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`),
    session: db.prepare(
      `SELECT s.user_id, s.csrf_token, s.expires_at, u.role, u.name, u.disabled, ap.id AS agent_id
         FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN agent_profiles ap ON ap.user_id = u.id
        WHERE s.token_hash = ?`,
    ),
    deleteSession: db.prepare(`DELETE FROM sessions WHERE token_hash = ?`),
    deleteUserSessions: db.prepare(`DELETE FROM sessions WHERE user_id = ?`),
    deleteExpiredSessions: db.prepare(`DELETE FROM sessions WHERE expires_at <= ?`),
    adminCount: db.prepare(`SELECT COUNT(*) AS n FROM users WHERE role = 'ADMIN' AND disabled = 0`),
    listUsers: db.prepare(
      `SELECT u.id, u.role, u.name, u.email, CASE WHEN ap.id IS NULL THEN u.category ELSE ap.category END AS category, u.disabled, u.created_at, u.key_prefix,
              ap.id AS agent_id, ap.key_prefix AS agent_key_prefix, ap.revoked_at, ap.last_seen_at
         FROM users u LEFT JOIN agent_profiles ap ON ap.user_id = u.id ORDER BY u.created_at, u.id`,
    ),
    disableUser: db.prepare(`UPDATE users SET disabled = 1 WHERE id = ?`),
    revokeAgent: db.prepare(`UPDATE agent_profiles SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`),
    revokeAgentByUser: db.prepare(`UPDATE agent_profiles SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`),
    agentById: db.prepare(`SELECT id, user_id, revoked_at FROM agent_profiles WHERE id = ?`),
  };
  const lastSeenWrite = new Map<string, number>();
  // Valid keys already looked up, by hash. Only valid keys are kept, and every change to keys or
  // accounts (rotation, revocation, disabling, profile edits) empties it, so it is never stale.
  const keyCache = new Map<string, Principal>();

  function ensureEmailFree(addr: string | null | undefined) {
    if (addr && q.emailTaken.get(addr)) throw conflict('email_taken', 'An account with this email already exists.');
  }

  function createAgent(input: z.infer<typeof schemas.registerAgent>) {
    const userId = newId();
    const agentId = newId();
    const k = newKey('agent');
    const at = nowIso();
    db.tx(() => {
      ensureEmailFree(input.email);
      q.insertUser.run(userId, 'AGENT', input.name, input.email ?? null, null, null, null, input.category ?? null, at);
      q.insertAgent.run(agentId, userId, input.name, input.category ?? null, k.hash, k.prefix, at);
    });
    ctx.log.info('agent registered', { agentId, userId, keyPrefix: k.prefix });
    return { agentId, userId, name: input.name, category: input.category ?? null, apiKey: k.key };
  }

  async function createHuman(role: Role, input: { name: string; email?: string | null; password?: string; category?: string | null }) {
    const passwordHash = input.password ? await hashPassword(input.password) : null;
    const userId = newId();
    const k = role === 'BUYER' ? newKey('buyer') : null;
    db.tx(() => {
      ensureEmailFree(input.email);
      q.insertUser.run(userId, role, input.name, input.email ?? null, passwordHash, k?.hash ?? null, k?.prefix ?? null, input.category ?? null, nowIso());
    });
    ctx.log.info('user registered', { userId, role });
    return { userId, apiKey: k?.key };
  }

  /** Resolves an Authorization header value to a principal; every failure is a 401 with its reason. */
  function authenticateBearer(header: string | undefined): Principal {
    if (!header) throw unauthorized('Send your key as "Authorization: Bearer <key>".');
    const sp = header.indexOf(' ');
    if (sp < 0 || header.slice(0, sp).toLowerCase() !== 'bearer') throw unauthorized('Only Bearer authorization is accepted.');
    const key = header.slice(sp + 1).trim();
    const isAgent = key.startsWith('hc_agent_');
    if (!isAgent && !key.startsWith('hc_buyer_')) throw unauthorized('This is not a Valence API key (they start with hc_agent_ or hc_buyer_).');
    const hash = sha256Hex(key);
    let p = keyCache.get(hash);
    if (!p) {
      p = isAgent ? agentPrincipal(hash) : buyerPrincipal(hash);
      if (keyCache.size >= KEY_CACHE_SIZE) keyCache.clear();
      keyCache.set(hash, p);
    }
    if (p.agentId) {
      const now = Date.now();
      if ((lastSeenWrite.get(p.agentId) ?? 0) + SEEN_WRITE_MS < now) {
        lastSeenWrite.set(p.agentId, now);
        // Bookkeeping: a read must neither fail nor wait because another program holds the write
        // lock (the next request a minute later writes it).
        try {
          const agentId = p.agentId;
          db.noWait(() => q.touchAgent.run(new Date(now).toISOString(), agentId));
        } catch (err) {
          ctx.log.info('last seen not recorded', { agentId: p.agentId, error: String((err as Error).message ?? err) });
        }
      }
    }
    return p;
  }

  function agentPrincipal(hash: string): Principal {
    const row = q.agentByKey.get(hash);
    if (!row || row.revoked_at || row.disabled) throw unauthorized('This API key is not valid (unknown, rotated or revoked).');
    return { userId: row.user_id, role: 'AGENT', name: row.name, agentId: row.agent_id, maxConcurrent: row.max_concurrent, via: 'key' };
  }

  function buyerPrincipal(hash: string): Principal {
    const row = q.buyerByKey.get(hash);
    if (!row || row.disabled) throw unauthorized('This API key is not valid (unknown, rotated or revoked).');
    return { userId: row.id, role: row.role, name: row.name, via: 'key' };
  }

  function authenticateSession(token: string): Principal | null {
    const hash = sha256Hex(token);
    const row = q.session.get(hash);
    if (!row || row.disabled || row.expires_at <= nowIso()) return null;
    return { userId: row.user_id, role: row.role, name: row.name, agentId: row.agent_id ?? undefined, via: 'session', csrfToken: row.csrf_token, sessionHash: hash };
  }

  function createSession(userId: string): Session {
    const token = randomToken();
    const csrfToken = randomToken(24);
    const at = new Date();
    const expiresAt = new Date(at.getTime() + SESSION_DAYS * 86400_000).toISOString();
    q.deleteExpiredSessions.run(at.toISOString());
    q.insertSession.run(sha256Hex(token), userId, csrfToken, at.toISOString(), expiresAt);
    return { token, csrfToken, expiresAt };
  }

  function agentView(userId: string) {
    const a = q.agentByUser.get(userId);
    if (!a) throw notFound('not_found', 'No agent profile for this user.');
    return {
      agentId: a.agent_id, userId: a.user_id, name: a.name, category: a.category, keyPrefix: a.key_prefix,
      maxConcurrent: a.max_concurrent, createdAt: a.created_at, lastSeenAt: a.last_seen_at,
    };
  }

  function userView(u: Record<string, unknown>) {
    return {
      id: u.id, role: u.role, name: u.name, email: u.email ?? null, category: u.category ?? null,
      disabled: !!u.disabled, createdAt: u.created_at,
      ...(u.agent_id ? { agentId: u.agent_id, keyPrefix: u.agent_key_prefix, revoked: !!u.revoked_at, lastSeenAt: u.last_seen_at } : {}),
      ...(u.role === 'BUYER' ? { keyPrefix: u.key_prefix } : {}),
    };
  }

  return {
    registerAgent(input: unknown) {
      return createAgent(parseInput(schemas.registerAgent, input));
    },
    async registerBuyer(input: unknown) {
      const v = parseInput(schemas.registerBuyer, input);
      ensureEmailFree(v.email);
      const r = await createHuman('BUYER', v);
      return { userId: r.userId, apiKey: r.apiKey! };
    },
    async registerWorker(input: unknown) {
      const v = parseInput(schemas.registerWorker, input);
      ensureEmailFree(v.email);
      return { userId: (await createHuman('WORKER', v)).userId };
    },

    async login(input: unknown): Promise<{ session: Session; user: { id: string; role: Role; name: string } }> {
      const v = parseInput(schemas.login, input);
      const row = q.userByEmail.get(v.email);
      const ok = await verifyPassword(v.password, row?.password_hash ?? null);
      if (!row || !ok) throw unauthorized('Email or password is wrong.');
      // Said only to someone who knows the password: the account exists but an admin disabled it.
      if (row.disabled) throw forbidden('This account is disabled. Ask an admin of this hub.');
      const session = createSession(row.id);
      ctx.log.info('signed in', { userId: row.id });
      return { session, user: { id: row.id, role: row.role, name: row.name } };
    },
    logout(p: Principal) {
      if (p.sessionHash) q.deleteSession.run(p.sessionHash);
    },
    authenticateBearer,
    authenticateSession,

    me(p: Principal) {
      const u = q.userById.get(p.userId)!;
      return { ...userView(u), ...(p.role === 'AGENT' ? agentView(p.userId) : {}), available: u.role === 'WORKER' ? !!u.available : undefined };
    },
    agentMe: (p: Principal) => agentView(p.userId),
    updateAgentMe(p: Principal, input: unknown) {
      const v = parseInput(schemas.updateAgent, input);
      const cur = q.agentByUser.get(p.userId)!;
      const next = {
        name: v.name ?? cur.name,
        category: v.category === undefined ? cur.category : v.category,
        maxConcurrent: v.maxConcurrent ?? cur.max_concurrent,
      };
      db.tx(() => {
        q.updateAgent.run(next.name, next.category, next.maxConcurrent, p.userId);
        keyCache.clear();
        q.updateAgentUser.run(next.name, next.category, p.userId);
      });
      return agentView(p.userId);
    },
    updateWorkerMe(p: Principal, input: unknown) {
      const v = parseInput(schemas.updateWorker, input);
      const cur = q.userById.get(p.userId)!;
      q.updateWorker.run(v.name ?? cur.name, v.category === undefined ? cur.category : v.category, v.available === undefined ? cur.available : v.available ? 1 : 0, p.userId);
      const u = q.userById.get(p.userId)!;
      return { userId: u.id, name: u.name, category: u.category, available: !!u.available };
    },
    rotateKey(p: Principal) {
      if (p.role === 'AGENT') {
        const k = newKey('agent');
        q.rotateAgent.run(k.hash, k.prefix, p.userId);
        keyCache.clear();
        ctx.notifier.disconnect(p.userId);
        ctx.log.info('agent key rotated', { userId: p.userId, keyPrefix: k.prefix });
        return { agentId: p.agentId, apiKey: k.key, keyPrefix: k.prefix };
      }
      if (p.role === 'BUYER') {
        const k = newKey('buyer');
        q.rotateBuyer.run(k.hash, k.prefix, p.userId);
        keyCache.clear();
        ctx.log.info('buyer key rotated', { userId: p.userId, keyPrefix: k.prefix });
        return { userId: p.userId, apiKey: k.key, keyPrefix: k.prefix };
      }
      throw forbidden('Only agents and buyers have API keys.');
    },

    hasAdmin: () => Number(q.adminCount.get()!.n) > 0,
    async createAdmin(input: unknown) {
      const v = parseInput(schemas.setup, input);
      ensureEmailFree(v.email);
      return createHuman('ADMIN', v);
    },
    listUsers: () => q.listUsers.all().map(userView),
    /** An admin creates an account of any role (how accounts are made when registration is closed). */
    async createUser(input: unknown) {
      const v = parseInput(schemas.createUser, input);
      if (v.role === 'AGENT') return createAgent(v);
      if (v.role !== 'BUYER' && !v.email) throw new AppError(400, 'invalid_body', 'email is required for people.', { issues: [{ path: 'email', message: 'is required' }] });
      if (v.role !== 'BUYER' && !v.password) throw new AppError(400, 'invalid_body', 'password is required for people.', { issues: [{ path: 'password', message: 'is required' }] });
      ensureEmailFree(v.email);
      const r = await createHuman(v.role, v);
      return { userId: r.userId, ...(r.apiKey ? { apiKey: r.apiKey } : {}) };
    },
    disableUser(userId: string) {
      const at = nowIso();
      const changed = db.tx(() => {
        // The hub keeps an admin: disabling the last one would leave nobody to run it until a restart.
        const u = q.userById.get(userId);
        if (u?.role === 'ADMIN' && !u.disabled && Number(q.adminCount.get()!.n) === 1) {
          throw conflict('last_admin', 'This is the only active admin of this hub; create another admin before disabling it.');
        }
        const r = q.disableUser.run(userId);
        keyCache.clear();
        q.revokeAgentByUser.run(at, userId);
        q.deleteUserSessions.run(userId);
        return Number(r.changes);
      });
      if (!changed) throw notFound('user_not_found', 'No user with this id.');
      ctx.notifier.disconnect(userId);
      ctx.log.info('user disabled', { userId });
      return { userId, disabled: true };
    },
    /** The user id behind an agent id, or null. */
    agentUserId(agentId: string): string | null {
      return (q.agentById.get(agentId)?.user_id as string | undefined) ?? null;
    },
    revokeAgent(agentId: string) {
      const a = q.agentById.get(agentId);
      if (!a) throw notFound('agent_not_found', 'No agent with this id.');
      q.revokeAgent.run(nowIso(), agentId);
      keyCache.clear();
      ctx.notifier.disconnect(a.user_id);
      ctx.log.info('agent key revoked', { agentId });
      return { agentId, revoked: true, userId: a.user_id as string };
    },
  };
}

export type Accounts = ReturnType<typeof accounts>;
