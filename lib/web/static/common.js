// Shared by every page: the JSON API client, a small DOM builder that only ever makes text nodes,
// formatting, polling, copy buttons and sign-out. Data from the hub never goes through innerHTML.
'use strict';

(function () {
  let csrf = null;

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  /** The X-CSRF-Token for this session, from /api/auth/me (once per page). */
  async function csrfToken() {
    if (!csrf) {
      const me = await api('GET', '/api/auth/me');
      csrf = me.csrfToken;
    }
    return csrf;
  }

  // Fields the person typed into (and has not cleared): their text must not vanish with a redirect.
  const typed = new Set();
  document.addEventListener('input', (ev) => {
    const el = ev.target;
    if (el && (el.tagName === 'TEXTAREA' || (el.tagName === 'INPUT' && !['password', 'hidden', 'checkbox', 'radio'].includes(el.type)))) typed.add(el);
  });
  const unsaved = () => [...typed].some((el) => el.isConnected && el.value.trim() !== '');

  /**
   * The session is gone (signed out in another tab, expired, the account disabled). Straight to the
   * sign-in page, unless the page holds text the person typed: then it stays, says what happened,
   * and offers sign-in in a new tab; once a call succeeds again (signed in there), the notice goes.
   */
  let leaving = false;
  function toLogin() {
    const next = '/login?next=' + encodeURIComponent(location.pathname);
    if (!unsaved()) {
      // Several calls in flight can each find the session gone: one navigation, not one per call
      // (a second one aborts the first).
      if (!leaving) location.assign(next);
      leaving = true;
      return;
    }
    if ($('session-ended')) return;
    const link = h('a', { href: next, target: '_blank', rel: 'noopener' }, 'Sign in again in a new tab');
    const notice = h('div', { id: 'session-ended', class: 'warning', role: 'alert' },
      'Your session has ended (signed out in another tab, or your account changed). What you typed is still on this page: ',
      link, ', then come back here and send it.');
    const main = document.querySelector('main');
    if (main) main.prepend(notice);
  }
  function sessionBack() {
    const notice = $('session-ended');
    if (notice) notice.remove();
  }

  /**
   * Calls the JSON API. Resolves with the body on success; rejects with an ApiError carrying the hub's
   * error.message. opts.public: a call made without a session (sign-in, registration).
   */
  async function api(method, path, body, opts) {
    opts = opts || {};
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (!opts.public && method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = await csrfToken();
    let res;
    try {
      res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin', cache: 'no-store' });
    } catch {
      throw new ApiError(0, 'network', 'Could not reach the hub. Check your connection and try again.');
    }
    let data = null;
    try {
      data = await res.json();
    } catch {
      data = null;
    }
    if (res.ok && data && data.ok !== false) {
      if (!opts.public) sessionBack();
      return data;
    }
    if (res.status === 401 && !opts.public) {
      toLogin();
      throw new ApiError(401, 'unauthorized', 'Your session has ended; sign in again.');
    }
    // A 403 on a change may be this page's CSRF token gone stale (the same person signed in again in
    // another tab: a new session, a new token). Fetch the session's token once more; if it changed,
    // repeat the request once with it.
    if (res.status === 403 && headers['X-CSRF-Token'] && !opts.retried) {
      const sent = headers['X-CSRF-Token'];
      csrf = null;
      let fresh = null;
      try {
        fresh = await csrfToken();
      } catch {
        fresh = null;
      }
      if (fresh && fresh !== sent) return api(method, path, body, { ...opts, retried: true });
    }
    const err = data && data.error;
    throw new ApiError(res.status, (err && err.code) || 'error', (err && err.message) || `The hub answered ${res.status}.`);
  }

  /** h('p', {class: 'x', onclick: fn}, 'text', child…): elements and text nodes only. */
  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c);
    return el;
  }

  const $ = (id) => document.getElementById(id);

  /** Shows an error sentence in an alert element (or hides it with null). */
  function showError(el, err) {
    if (!el) return;
    el.textContent = err ? err.message || String(err) : '';
    el.hidden = !err;
  }

  function showNote(el, text) {
    if (!el) return;
    el.textContent = text || '';
    el.hidden = !text;
  }

  const dateFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  function when(iso) {
    if (!iso) return '—';
    const d = new Date(iso);
    return isNaN(d) ? String(iso) : dateFmt.format(d);
  }

  const dayFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
  function day(iso) {
    const d = new Date(iso);
    return !iso || isNaN(d) ? '—' : dayFmt.format(d);
  }

  const LABELS = {
    DRAFT: 'Draft', OPEN: 'Open', ASSIGNED: 'Assigned', COMPLETED: 'Completed', CANCELLED: 'Cancelled',
    PENDING: 'Pending', ACCEPTED: 'Accepted', DECLINED: 'Declined', EXPIRED: 'Expired', WITHDRAWN: 'Withdrawn',
    IN_PROGRESS: 'In progress', SUBMITTED: 'Submitted', REJECTED: 'Rejected',
  };
  function badge(status) {
    const s = String(status || '');
    return h('span', { class: 'badge badge-' + s.toLowerCase().replace(/[^a-z_]/g, '') }, LABELS[s] || s);
  }
  function setBadge(el, status) {
    const s = String(status || '');
    el.className = 'badge badge-' + s.toLowerCase().replace(/[^a-z_]/g, '');
    el.textContent = LABELS[s] || s;
  }

  /** Runs fn now and then every ms while the page is visible; refresh() runs it again at once. */
  function every(ms, fn) {
    let timer = 0;
    let running = false;
    let again = false;
    async function run() {
      clearTimeout(timer);
      timer = 0;
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        await fn();
      } catch {
        // fn shows its own errors; the next round tries again
      }
      running = false;
      if (again) {
        again = false;
        return run();
      }
      if (!document.hidden) timer = setTimeout(run, ms);
    }
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden && !timer && !running) run();
    });
    run();
    return { refresh: run };
  }

  /** Copies to the clipboard; true when it worked (a plain-HTTP LAN address has no clipboard API). */
  async function copyText(text, statusEl) {
    try {
      await navigator.clipboard.writeText(text);
      showNote(statusEl, 'Copied.');
      return true;
    } catch {
      showNote(statusEl, 'Copying was not allowed here; select the text and copy it by hand.');
      return false;
    }
  }

  /** Disables a button while an action runs, so a double click does not send twice. */
  async function busy(button, fn) {
    if (button) button.disabled = true;
    try {
      return await fn();
    } finally {
      if (button) button.disabled = false;
    }
  }

  /** A destructive button asks for a second click within a few seconds before it acts. */
  function confirmClick(button, confirmLabel, fn) {
    let armed = 0;
    const label = button.textContent;
    button.addEventListener('click', () => {
      if (!armed) {
        button.textContent = confirmLabel;
        armed = setTimeout(() => {
          armed = 0;
          button.textContent = label;
        }, 4000);
        return;
      }
      clearTimeout(armed);
      armed = 0;
      button.textContent = label;
      busy(button, fn);
    });
  }

  function formValue(form, name) {
    const el = form.elements.namedItem(name);
    return el ? String(el.value).trim() : '';
  }

  document.addEventListener('click', (ev) => {
    const btn = ev.target.closest && ev.target.closest('button[data-copy]');
    if (!btn) return;
    const src = $(btn.getAttribute('data-copy'));
    if (!src) return;
    const note = btn.nextElementSibling && btn.nextElementSibling.classList.contains('copy-status') ? btn.nextElementSibling : null;
    copyText(src.textContent, note).then((copied) => {
      const old = btn.textContent;
      btn.textContent = copied ? 'Copied' : 'Not copied: select the text';
      setTimeout(() => (btn.textContent = old), copied ? 1500 : 4000);
    });
  });

  function wireSignOut(out) {
    out.addEventListener('click', () =>
      busy(out, async () => {
        try {
          await api('POST', '/api/auth/logout', {});
        } finally {
          location.assign('/login');
        }
      }));
  }

  /** Each role's portal page (lib/web/layout.ts PORTAL on the server). */
  const PORTAL = { BUYER: '/buyer', WORKER: '/worker', ADMIN: '/admin' };

  /** After signing in without leaving the page: the top bar shows the person, as the server renders it. */
  function showSignedIn(user) {
    const link = document.querySelector('header.top nav a[href="/login"]');
    if (!link || $('sign-out')) return;
    const out = h('button', { type: 'button', class: 'link', id: 'sign-out', name: 'sign-out' }, 'Sign out');
    wireSignOut(out);
    const parts = [];
    if (PORTAL[user.role]) parts.push(h('a', { href: PORTAL[user.role] }, 'Portal'));
    parts.push(h('span', { class: 'who', title: `Signed in as ${String(user.role).toLowerCase()}` }, user.name), out);
    link.replaceWith(...parts);
  }

  document.addEventListener('DOMContentLoaded', () => {
    const out = $('sign-out');
    if (out) wireSignOut(out);
  });

  globalThis.Valence = { api, ApiError, h, $, showError, showNote, when, day, badge, setBadge, every, copyText, busy, confirmClick, formValue, showSignedIn, PORTAL, setCsrf: (t) => (csrf = t), LABELS };
})();
