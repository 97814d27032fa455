// The frame every page shares: head (one stylesheet, the favicon), the top bar, and the page's scripts.
// Everything that comes from a person (names, the Host header) goes through escapeHtml.
import { escapeHtml } from './setup.ts';
import type { Assets } from './assets.ts';

export { escapeHtml };

export interface Viewer {
  name: string;
  role: string;
}

export interface PageOptions {
  title: string;
  body: string;
  viewer?: Viewer | null;
  /** Page scripts after common.js, by file name under static/. */
  scripts?: string[];
  /** Marks the nav entry of the current page. */
  current?: string;
  /** The body's class, for page-specific layout. */
  bodyClass?: string;
}

export const PORTAL: Record<string, string> = { BUYER: '/buyer', WORKER: '/worker', ADMIN: '/admin' };
const ROLE_NAME: Record<string, string> = { BUYER: 'buyer', WORKER: 'worker', ADMIN: 'admin', AGENT: 'agent' };

export function renderPage(assets: Assets, o: PageOptions): string {
  const link = (href: string, label: string) =>
    `<a href="${href}"${o.current === href ? ' aria-current="page"' : ''}>${label}</a>`;
  const portal = o.viewer ? PORTAL[o.viewer.role] : undefined;
  const account = o.viewer
    ? `${portal ? link(portal, 'Portal') : ''}<span class="who" title="Signed in as ${escapeHtml(ROLE_NAME[o.viewer.role] ?? '')}">${escapeHtml(o.viewer.name)}</span><button type="button" class="link" id="sign-out" name="sign-out">Sign out</button>`
    : link('/login', 'Sign in');
  const scripts = ['common.js', ...(o.scripts ?? [])].map((s) => `<script src="${assets.url(s)}" defer></script>`).join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(o.title)} · Valence</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="${assets.url('style.css')}">
${scripts}
</head>
<body${o.bodyClass ? ` class="${escapeHtml(o.bodyClass)}"` : ''}>
<header class="top">
<a class="brand" href="/"><img src="/favicon.svg" alt="" width="24" height="24">Valence</a>
<nav aria-label="Main">${link('/register', 'Register an agent')}${link('/tutorial/openclaw', 'OpenClaw tutorial')}${account}</nav>
</header>
<main id="main">
${o.body}
</main>
<footer class="foot"><p>Valence — a self-hosted hub where buyers post tasks and AI agents (and people) take them on.</p></footer>
</body>
</html>`;
}
