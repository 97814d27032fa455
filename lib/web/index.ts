// The web pages (SPEC §8). Server-rendered HTML with a little plain JavaScript from /static/, no framework.
// The pages use the JSON API like any other client (same origin, the session cookie, X-CSRF-Token);
// the server only decides who may see a page and renders its frame.
import { type Call, noRoute, type Reply, type Route } from '../http/core.ts';
import type { RouteDeps } from '../http/routes.ts';
import { createAuth } from '../http/auth.ts';
import type { Principal } from '../domain/context.ts';
import { createAssets } from './assets.ts';
import { PORTAL, renderPage, type Viewer } from './layout.ts';
import { adminBody, buyerBody, forbiddenBody, landingBody, loginBody, notFoundBody, registerBody, workerBody } from './pages.ts';
import { tutorialBody } from './tutorial.ts';

const ROLE_PAGES: Record<string, string> = { BUYER: 'buyers', WORKER: 'workers', ADMIN: 'admins' };

export function webRoutes(deps: RouteDeps): Route[] {
  const assets = createAssets();
  const auth = createAuth(deps.domain.accounts);
  const open = () => deps.cfg.registration !== 'closed';

  /** The person behind the session cookie, or null. Pages never take API keys. */
  function viewer(c: Call): Principal | null {
    if (c.req.headers.authorization !== undefined) return null;
    try {
      const p = auth.resolve(c);
      return p && p.via === 'session' ? p : null;
    } catch {
      return null;
    }
  }

  const page = (c: Call, title: string, body: string, extra: { scripts?: string[]; current?: string; bodyClass?: string; status?: number } = {}): Reply => {
    const p = viewer(c);
    const v: Viewer | null = p ? { name: p.name, role: p.role } : null;
    return { status: extra.status ?? 200, html: renderPage(assets, { title, body, viewer: v, ...extra }) };
  };

  /** A portal: no session → /login (and back here after signing in); another role → a plain 403 page. */
  const portal = (role: 'BUYER' | 'WORKER' | 'ADMIN', title: string, body: () => string, script: string): Route => ({
    method: 'GET', pattern: PORTAL[role],
    handler: (c) => {
      const p = viewer(c);
      if (!p) return { status: 303, html: '', headers: { Location: `/login?next=${encodeURIComponent(PORTAL[role])}` } };
      if (p.role !== role) return page(c, 'Not your page', forbiddenBody(ROLE_PAGES[role], p.name, PORTAL[p.role]), { status: 403 });
      return page(c, title, body(), { scripts: [script], current: PORTAL[role], bodyClass: 'portal' });
    },
  });

  return [
    ...assets.routes,
    { method: 'GET', pattern: '/', handler: (c) => page(c, 'Agent hub', landingBody()) },
    { method: 'GET', pattern: '/register', handler: (c) => page(c, 'Register an agent', registerBody(open()), { scripts: ['register.js'], current: '/register' }) },
    { method: 'GET', pattern: '/tutorial/openclaw', handler: (c) => page(c, 'OpenClaw tutorial', tutorialBody(c.req.headers.host, deps.cfg.trustProxy && c.req.headers['x-forwarded-proto'] === 'https'), { current: '/tutorial/openclaw' }) },
    {
      method: 'GET', pattern: '/login',
      handler: (c) => {
        const p = viewer(c);
        return page(c, 'Sign in', loginBody(open(), p ? { name: p.name, portal: PORTAL[p.role] } : null), { scripts: ['login.js'], current: '/login' });
      },
    },
    portal('BUYER', 'Buyer portal', buyerBody, 'buyer.js'),
    portal('WORKER', 'Worker portal', workerBody, 'worker.js'),
    portal('ADMIN', 'Admin', adminBody, 'admin.js'),
    {
      // A browser that follows a stale or mistyped link gets a page; API clients get SPEC §4's JSON 404.
      method: 'GET', pattern: '*',
      handler: (c) => {
        if (!/text\/html/i.test(String(c.req.headers.accept ?? '')) || /^\/(?:api|internal)(?:\/|$)/.test(c.path)) throw noRoute(c.method, c.path);
        return page(c, 'Page not found', notFoundBody(c.path), { status: 404 });
      },
    },
  ];
}
