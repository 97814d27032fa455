// The route table, top to bottom. Handlers are thin: authorize (wrapper), parse, call the domain, answer.
import type { Domain } from '../domain/index.ts';
import type { HubConfig } from '../config.ts';
import { createAuth, loginGate, registrationGate, SESSION_COOKIE } from './auth.ts';
import { type Call, noBody, type Reply, type Route } from './core.ts';
import { setupRoutes } from '../web/setup.ts';
import { webRoutes } from '../web/index.ts';
import type { Gateway } from '../gateway/index.ts';
import { internalPublish, publishSchema } from './publish.ts';
import { schemas as accountSchemas } from '../domain/accounts.ts';
import { schemas as taskSchemas } from '../domain/tasks.ts';
import { schemas as offerSchemas } from '../domain/offers.ts';
import { schemas as assignmentSchemas } from '../domain/assignments.ts';
import { openApiDocument } from './openapi.ts';
import type { Metrics } from './metrics.ts';
import { isLocalCaller } from './publish.ts';
import { forbidden } from '../errors.ts';

const ok = (body: object, status = 200): Reply => ({ status, body: { ok: true, ...body } });
const DECISION_ERRORS = {
  400: 'offer_expired, task_not_open, offer_not_pending, or invalid_json / invalid_body',
  403: 'forbidden (another worker\'s offer) or not_eligible (revoked, at maxConcurrent)',
  404: 'offer_not_found',
  409: 'task_already_assigned: another worker won the task',
};
const REGISTRATION_ERRORS = { 403: 'registration_closed', 409: 'email_taken', 429: 'rate_limited: too many registrations from this address (Retry-After)' };
/** ?include=taskStatus on the assignment lists (other values are ignored, as before). */
const withTaskStatus = (c: Call) => c.query.get('include') === 'taskStatus';

export interface RouteDeps {
  domain: Domain;
  cfg: HubConfig;
  /** The one-time admin set-up token while no admin exists. */
  setup: { token: string | null };
  health: () => Record<string, unknown>;
  gateway: Gateway;
  metrics: Metrics;
}

export function buildRoutes(deps: RouteDeps): Route[] {
  const { domain, cfg, setup, health, gateway, metrics } = deps;
  const { accounts, tasks, offers, assignments } = domain;
  const auth = createAuth(accounts);
  const { agent, buyer, worker, humanWorker, admin, signedIn } = auth;
  const registration = registrationGate(cfg);
  const loginLimit = loginGate();
  const me = (c: Call) => c.principal!;
  const secure = (c: Call) => c.req.headers['x-forwarded-proto'] === 'https' && cfg.trustProxy;
  const A = accountSchemas, T = taskSchemas, O = offerSchemas, S = assignmentSchemas;
  const sessionCookie = (c: Call, value: string, maxAge: number) =>
    `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secure(c) ? '; Secure' : ''}`;

  const routes: Route[] = [
    { method: 'GET', pattern: '/healthz', handler: () => ok(health()), doc: { summary: 'Liveness and a few numbers', auth: 'none' } },
    {
      method: 'GET', pattern: '/metrics',
      handler: (c) => {
        // Loopback callers (a Prometheus beside the hub) or a signed-in admin.
        if (!isLocalCaller(c, cfg) && auth.resolve(c)?.role !== 'ADMIN') throw forbidden('/metrics is served to loopback callers and admins.');
        return { text: metrics.render(), contentType: 'text/plain; version=0.0.4; charset=utf-8' };
      },
      doc: { summary: 'Prometheus metrics (loopback callers or an admin)', auth: 'local' },
    },
    { method: 'GET', pattern: '/api/openapi.json', handler: () => ({ body: openapi() }), doc: { summary: 'This API description, made from the schemas that validate requests', auth: 'none' } },

    // Registration (SPEC §4.1, §4.3): policy and per-address limit in registrationGate.
    {
      method: 'POST', pattern: '/api/agents/register', handler: registration(async (c) => ok(accounts.registerAgent(await c.body()), 201)),
      doc: { summary: 'Register an agent; the API key is in this answer only', auth: 'none', body: () => A.registerAgent, status: 201, errors: REGISTRATION_ERRORS },
    },
    {
      method: 'POST', pattern: '/api/buyers/register', handler: registration(async (c) => ok(await accounts.registerBuyer(await c.body()), 201)),
      doc: { summary: 'Register a buyer; the hc_buyer_ key is in this answer only', auth: 'none', body: () => A.registerBuyer, status: 201, errors: REGISTRATION_ERRORS },
    },
    {
      method: 'POST', pattern: '/api/workers/register', handler: registration(async (c) => ok(await accounts.registerWorker(await c.body()), 201)),
      doc: { summary: 'Register a human worker', auth: 'none', body: () => A.registerWorker, status: 201, errors: REGISTRATION_ERRORS },
    },

    // Human sign-in.
    {
      method: 'POST', pattern: '/api/auth/login',
      handler: loginLimit(async (c) => {
        const { session, user } = await accounts.login(await c.body());
        const maxAge = Math.floor((Date.parse(session.expiresAt) - Date.now()) / 1000);
        return { status: 200, body: { ok: true, user, csrfToken: session.csrfToken, expiresAt: session.expiresAt }, headers: { 'Set-Cookie': sessionCookie(c, session.token, maxAge) } };
      }),
      doc: { summary: 'Sign in: sets the session cookie, returns csrfToken (10 failures per address in 15 minutes, then 429)', auth: 'none', body: () => A.login, errors: { 401: 'unauthorized: email or password is wrong', 403: 'forbidden: the account is disabled', 429: 'rate_limited: 10 failed sign-ins from this address in 15 minutes' } },
    },
    {
      method: 'POST', pattern: '/api/auth/logout',
      handler: signedIn(noBody((c) => {
        accounts.logout(me(c));
        return { status: 200, body: { ok: true }, headers: { 'Set-Cookie': sessionCookie(c, '', 0) } };
      })),
      doc: { summary: 'Sign out', auth: 'session' },
    },
    {
      method: 'GET', pattern: '/api/auth/me', handler: signedIn((c) => ok({ user: accounts.me(me(c)), csrfToken: me(c).csrfToken ?? null })),
      doc: { summary: 'Who is signed in, and the csrfToken of the session', auth: 'session' },
    },

    // Agents (Bearer hc_agent_ key).
    { method: 'GET', pattern: '/api/agent/v1/me', handler: agent((c) => ok(accounts.agentMe(me(c)))), doc: { summary: 'The agent\'s profile (never the key)', auth: 'agent' } },
    {
      method: 'PATCH', pattern: '/api/agent/v1/me', handler: agent(async (c) => ok(accounts.updateAgentMe(me(c), await c.body()))),
      doc: { summary: 'Change name, category, maxConcurrent', auth: 'agent', body: () => A.updateAgent },
    },
    {
      method: 'POST', pattern: '/api/agent/v1/key/rotate', handler: agent(noBody((c) => ok(accounts.rotateKey(me(c))))),
      doc: { summary: 'A new key, shown once; the old one stops working at once', auth: 'agent' },
    },
    {
      method: 'GET', pattern: '/api/agent/v1/offers', handler: agent((c) => ok(offers.listOffers(me(c), Object.fromEntries(c.query)))),
      doc: { summary: 'The agent\'s offers (?status=PENDING for the open ones)', auth: 'agent', query: () => O.listOffers },
    },
    {
      method: 'POST', pattern: '/api/agent/v1/offers/:offerId/decision', handler: agent(async (c) => ({ body: await offers.queueDecision(me(c), c.params.offerId, await c.body()) })),
      doc: { summary: 'Accept or decline an offer; the first accept wins the task', auth: 'agent', body: () => O.decision, errors: DECISION_ERRORS },
    },
    {
      method: 'GET', pattern: '/api/agent/v1/assignments', handler: agent((c) => ok(assignments.listForWorker(me(c), withTaskStatus(c)))),
      doc: { summary: 'The agent\'s assignments, newest first (?include=taskStatus adds each task\'s status: a cancelled task shows)', auth: 'agent', query: () => S.list },
    },
    {
      method: 'GET', pattern: '/api/agent/v1/assignments/:assignmentId', handler: agent((c) => ok(assignments.view(me(c), c.params.assignmentId, withTaskStatus(c)))),
      doc: { summary: 'One assignment (?include=taskStatus as on the list)', auth: 'agent', query: () => S.list },
    },
    {
      method: 'POST', pattern: '/api/agent/v1/assignments/:assignmentId/start', handler: agent(noBody((c) => ({ body: assignments.start(me(c), c.params.assignmentId) }))),
      doc: { summary: 'ASSIGNED → IN_PROGRESS', auth: 'agent' },
    },
    {
      method: 'POST', pattern: '/api/agent/v1/assignments/:assignmentId/submit', handler: agent(async (c) => ({ body: assignments.submit(me(c), c.params.assignmentId, await c.body()) })),
      doc: { summary: 'Submit (or, after a rejection, resubmit) the deliverable', auth: 'agent', body: assignments.submitSchema },
    },

    // Workers: human workers with a session, and agents with their key, on the same routes.
    {
      method: 'GET', pattern: '/api/worker/assignments', handler: worker((c) => ok(assignments.listForWorker(me(c), withTaskStatus(c)))),
      doc: { summary: 'The worker\'s assignments, newest first (?include=taskStatus adds each task\'s status: a cancelled task shows)', auth: 'worker', query: () => S.list },
    },
    {
      method: 'GET', pattern: '/api/worker/offers', handler: worker((c) => ok(offers.listOffers(me(c), Object.fromEntries(c.query)))),
      doc: { summary: 'The worker\'s offers', auth: 'worker', query: () => O.listOffers },
    },
    {
      method: 'POST', pattern: '/api/worker/offers/:offerId/decision', handler: worker(async (c) => ({ body: await offers.queueDecision(me(c), c.params.offerId, await c.body()) })),
      doc: { summary: 'Accept or decline an offer', auth: 'worker', body: () => O.decision, errors: DECISION_ERRORS },
    },
    {
      method: 'POST', pattern: '/api/worker/assignments/:assignmentId/start', handler: worker(noBody((c) => ({ body: assignments.start(me(c), c.params.assignmentId) }))),
      doc: { summary: 'ASSIGNED → IN_PROGRESS', auth: 'worker' },
    },
    {
      method: 'POST', pattern: '/api/worker/assignments/:assignmentId/submit', handler: worker(async (c) => ({ body: assignments.submit(me(c), c.params.assignmentId, await c.body()) })),
      doc: { summary: 'Submit the deliverable', auth: 'worker', body: assignments.submitSchema },
    },
    {
      method: 'PATCH', pattern: '/api/worker/me', handler: humanWorker(async (c) => ok(accounts.updateWorkerMe(me(c), await c.body()))),
      doc: { summary: 'Change name, category, availability for offers', auth: 'session', body: () => A.updateWorker },
    },

    // Buyers (Bearer hc_buyer_ key or session).
    {
      method: 'POST', pattern: '/api/buyer/tasks', handler: buyer(async (c) => ok(tasks.createTask(me(c), await c.body()), 201)),
      doc: { summary: 'Create a task (DRAFT, or OPEN with publish: true)', auth: 'buyer', body: () => T.createTask, status: 201 },
    },
    { method: 'GET', pattern: '/api/buyer/tasks', handler: buyer((c) => ok(tasks.listTasks(me(c)))), doc: { summary: 'The buyer\'s tasks, newest first', auth: 'buyer' } },
    {
      method: 'GET', pattern: '/api/buyer/tasks/:taskId', handler: buyer((c) => ok(tasks.viewTask(me(c), c.params.taskId))),
      doc: { summary: 'A task with its offers, assignment, deliverable and history', auth: 'buyer' },
    },
    {
      method: 'PATCH', pattern: '/api/buyer/tasks/:taskId', handler: buyer(async (c) => ok(tasks.updateTask(me(c), c.params.taskId, await c.body()))),
      doc: { summary: 'Edit a DRAFT task', auth: 'buyer', body: () => T.updateTask },
    },
    { method: 'POST', pattern: '/api/buyer/tasks/:taskId/publish', handler: buyer(noBody((c) => ok(tasks.publishTask(me(c), c.params.taskId)))), doc: { summary: 'DRAFT → OPEN', auth: 'buyer' } },
    {
      method: 'POST', pattern: '/api/buyer/tasks/:taskId/cancel', handler: buyer(noBody((c) => ok(tasks.cancelTask(me(c), c.params.taskId)))),
      doc: { summary: 'Cancel; pending offers are withdrawn and their holders told', auth: 'buyer' },
    },
    {
      method: 'POST', pattern: '/api/buyer/tasks/:taskId/match', handler: buyer(async (c) => ok(await tasks.matchTask(me(c), c.params.taskId, await c.body()))),
      doc: { summary: 'Offer the task to eligible workers, pushed live to connected agents', auth: 'buyer', body: () => T.match },
    },
    {
      method: 'POST', pattern: '/api/buyer/assignments/:assignmentId/review', handler: buyer(async (c) => ({ body: assignments.review(me(c), c.params.assignmentId, await c.body()) })),
      doc: { summary: 'Accept (task COMPLETED) or reject (with feedback) the deliverable', auth: 'buyer', body: () => S.review },
    },
    { method: 'POST', pattern: '/api/buyer/key/rotate', handler: buyer(noBody((c) => ok(accounts.rotateKey(me(c))))), doc: { summary: 'A new buyer key, shown once', auth: 'buyer' } },

    // Admin.
    { method: 'GET', pattern: '/api/admin/users', handler: admin(() => ok({ users: accounts.listUsers() })), doc: { summary: 'Every user', auth: 'admin' } },
    {
      method: 'POST', pattern: '/api/admin/users', handler: admin(async (c) => ok(await accounts.createUser(await c.body()), 201)),
      doc: { summary: 'Create a user of any role (keys shown once)', auth: 'admin', body: () => A.createUser, status: 201 },
    },
    {
      method: 'POST', pattern: '/api/admin/users/:userId/disable', handler: admin(noBody((c) => ok(accounts.disableUser(c.params.userId)))),
      doc: { summary: 'Disable a user: keys, sessions and sockets stop working', auth: 'admin' },
    },
    {
      method: 'POST', pattern: '/api/admin/agents/:agentId/revoke', handler: admin(noBody((c) => ok(accounts.revokeAgent(c.params.agentId)))),
      doc: { summary: 'Revoke an agent\'s key', auth: 'admin' },
    },

    // The seed's hook for an outside app to push a frame to connected agents: loopback (or one allowed address) only.
    {
      method: 'POST', pattern: '/internal/publish', handler: internalPublish(cfg, accounts, gateway),
      doc: { summary: 'Push a frame to connected agents (loopback callers only)', auth: 'loopback', body: publishSchema },
    },

    ...setupRoutes(accounts, setup),
    ...webRoutes(deps),
  ];
  let openapiDoc: unknown = null;
  const openapi = () => (openapiDoc ??= openApiDocument(routes));
  return routes;
}
