// The route table, top to bottom. Handlers are thin: authorize (wrapper), parse, call the domain, answer.
import type { Domain } from '../domain/index.ts';
import type { HubConfig } from '../config.ts';
import { createAuth, registrationGate, SESSION_COOKIE } from './auth.ts';
import type { Call, Reply, Route } from './core.ts';
import { setupRoutes } from '../web/setup.ts';
import { webRoutes } from '../web/index.ts';
import type { Gateway } from '../gateway/index.ts';
import { internalPublish } from './publish.ts';

const ok = (body: object, status = 200): Reply => ({ status, body: { ok: true, ...body } });

export interface RouteDeps {
  domain: Domain;
  cfg: HubConfig;
  /** The one-time admin set-up token while no admin exists. */
  setup: { token: string | null };
  health: () => Record<string, unknown>;
  gateway: Gateway;
}

export function buildRoutes(deps: RouteDeps): Route[] {
  const { domain, cfg, setup, health, gateway } = deps;
  const { accounts, tasks, offers, assignments } = domain;
  const auth = createAuth(accounts);
  const { agent, buyer, worker, humanWorker, admin, signedIn } = auth;
  const registration = registrationGate(cfg);
  const me = (c: Call) => c.principal!;
  const secure = (c: Call) => c.req.headers['x-forwarded-proto'] === 'https' && cfg.trustProxy;
  const sessionCookie = (c: Call, value: string, maxAge: number) =>
    `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secure(c) ? '; Secure' : ''}`;

  return [
    { method: 'GET', pattern: '/healthz', handler: () => ok(health()) },

    // Registration (SPEC §4.1, §4.3): policy and per-address limit in registrationGate.
    { method: 'POST', pattern: '/api/agents/register', handler: registration(async (c) => ok(accounts.registerAgent(await c.body()), 201)) },
    { method: 'POST', pattern: '/api/buyers/register', handler: registration(async (c) => ok(await accounts.registerBuyer(await c.body()), 201)) },
    { method: 'POST', pattern: '/api/workers/register', handler: registration(async (c) => ok(await accounts.registerWorker(await c.body()), 201)) },

    // Human sign-in.
    {
      method: 'POST', pattern: '/api/auth/login',
      handler: async (c) => {
        const { session, user } = await accounts.login(await c.body());
        const maxAge = Math.floor((Date.parse(session.expiresAt) - Date.now()) / 1000);
        return { status: 200, body: { ok: true, user, csrfToken: session.csrfToken, expiresAt: session.expiresAt }, headers: { 'Set-Cookie': sessionCookie(c, session.token, maxAge) } };
      },
    },
    {
      method: 'POST', pattern: '/api/auth/logout',
      handler: signedIn((c) => {
        accounts.logout(me(c));
        return { status: 200, body: { ok: true }, headers: { 'Set-Cookie': sessionCookie(c, '', 0) } };
      }),
    },
    { method: 'GET', pattern: '/api/auth/me', handler: signedIn((c) => ok({ user: accounts.me(me(c)), csrfToken: me(c).csrfToken ?? null })) },

    // Agents (Bearer hc_agent_ key).
    { method: 'GET', pattern: '/api/agent/v1/me', handler: agent((c) => ok(accounts.agentMe(me(c)))) },
    { method: 'PATCH', pattern: '/api/agent/v1/me', handler: agent(async (c) => ok(accounts.updateAgentMe(me(c), await c.body()))) },
    { method: 'POST', pattern: '/api/agent/v1/key/rotate', handler: agent((c) => ok(accounts.rotateKey(me(c)))) },
    { method: 'GET', pattern: '/api/agent/v1/offers', handler: agent((c) => ok(offers.listOffers(me(c), Object.fromEntries(c.query)))) },
    { method: 'POST', pattern: '/api/agent/v1/offers/:offerId/decision', handler: agent(async (c) => ({ body: offers.decide(me(c), c.params.offerId, await c.body()) })) },
    { method: 'GET', pattern: '/api/agent/v1/assignments', handler: agent((c) => ok(assignments.listForWorker(me(c)))) },
    { method: 'GET', pattern: '/api/agent/v1/assignments/:assignmentId', handler: agent((c) => ok(assignments.view(me(c), c.params.assignmentId))) },
    { method: 'POST', pattern: '/api/agent/v1/assignments/:assignmentId/start', handler: agent((c) => ({ body: assignments.start(me(c), c.params.assignmentId) })) },
    { method: 'POST', pattern: '/api/agent/v1/assignments/:assignmentId/submit', handler: agent(async (c) => ({ body: assignments.submit(me(c), c.params.assignmentId, await c.body()) })) },

    // Workers: human workers with a session, and agents with their key, on the same routes.
    { method: 'GET', pattern: '/api/worker/assignments', handler: worker((c) => ok(assignments.listForWorker(me(c)))) },
    { method: 'GET', pattern: '/api/worker/offers', handler: worker((c) => ok(offers.listOffers(me(c), Object.fromEntries(c.query)))) },
    { method: 'POST', pattern: '/api/worker/offers/:offerId/decision', handler: worker(async (c) => ({ body: offers.decide(me(c), c.params.offerId, await c.body()) })) },
    { method: 'POST', pattern: '/api/worker/assignments/:assignmentId/start', handler: worker((c) => ({ body: assignments.start(me(c), c.params.assignmentId) })) },
    { method: 'POST', pattern: '/api/worker/assignments/:assignmentId/submit', handler: worker(async (c) => ({ body: assignments.submit(me(c), c.params.assignmentId, await c.body()) })) },
    { method: 'PATCH', pattern: '/api/worker/me', handler: humanWorker(async (c) => ok(accounts.updateWorkerMe(me(c), await c.body()))) },

    // Buyers (Bearer hc_buyer_ key or session).
    { method: 'POST', pattern: '/api/buyer/tasks', handler: buyer(async (c) => ok(tasks.createTask(me(c), await c.body()), 201)) },
    { method: 'GET', pattern: '/api/buyer/tasks', handler: buyer((c) => ok(tasks.listTasks(me(c)))) },
    { method: 'GET', pattern: '/api/buyer/tasks/:taskId', handler: buyer((c) => ok(tasks.viewTask(me(c), c.params.taskId))) },
    { method: 'PATCH', pattern: '/api/buyer/tasks/:taskId', handler: buyer(async (c) => ok(tasks.updateTask(me(c), c.params.taskId, await c.body()))) },
    { method: 'POST', pattern: '/api/buyer/tasks/:taskId/publish', handler: buyer((c) => ok(tasks.publishTask(me(c), c.params.taskId))) },
    { method: 'POST', pattern: '/api/buyer/tasks/:taskId/cancel', handler: buyer((c) => ok(tasks.cancelTask(me(c), c.params.taskId))) },
    { method: 'POST', pattern: '/api/buyer/tasks/:taskId/match', handler: buyer(async (c) => ok(tasks.matchTask(me(c), c.params.taskId, await c.body()))) },
    { method: 'POST', pattern: '/api/buyer/assignments/:assignmentId/review', handler: buyer(async (c) => ({ body: assignments.review(me(c), c.params.assignmentId, await c.body()) })) },
    { method: 'POST', pattern: '/api/buyer/key/rotate', handler: buyer((c) => ok(accounts.rotateKey(me(c)))) },

    // Admin.
    { method: 'GET', pattern: '/api/admin/users', handler: admin(() => ok({ users: accounts.listUsers() })) },
    { method: 'POST', pattern: '/api/admin/users', handler: admin(async (c) => ok(await accounts.createUser(await c.body()), 201)) },
    { method: 'POST', pattern: '/api/admin/users/:userId/disable', handler: admin((c) => ok(accounts.disableUser(c.params.userId))) },
    { method: 'POST', pattern: '/api/admin/agents/:agentId/revoke', handler: admin((c) => ok(accounts.revokeAgent(c.params.agentId))) },

    // The seed's hook for an outside app to push a frame to connected agents: loopback (or one allowed address) only.
    { method: 'POST', pattern: '/internal/publish', handler: internalPublish(cfg, accounts, gateway) },

    ...setupRoutes(accounts, setup),
    ...webRoutes(deps),
  ];
}
