// /admin: every user, creating accounts of any role, disabling a user, revoking an agent's key.
'use strict';

(function () {
  const { api, h, $, showError, showNote, when, day, busy, confirmClick, copyText, formValue } = globalThis.Valence;
  const ROLES = { BUYER: 'Buyer', WORKER: 'Worker', AGENT: 'Agent', ADMIN: 'Admin' };
  let me = null;

  function state(u) {
    if (u.disabled) return 'disabled';
    if (u.role === 'AGENT' && u.revoked) return 'key revoked';
    return 'active';
  }

  function actions(u) {
    const cell = h('td', { class: 'row-actions' });
    if (u.role === 'AGENT' && u.agentId && !u.revoked && !u.disabled) {
      const b = h('button', { type: 'button', name: 'revoke', class: 'secondary small' }, 'Revoke key');
      confirmClick(b, 'Click again to revoke', () => run(`/api/admin/agents/${encodeURIComponent(u.agentId)}/revoke`, `The key of ${u.name} is revoked; its connections were closed.`));
      cell.append(b);
    }
    if (!u.disabled && (!me || u.id !== me.id)) {
      const b = h('button', { type: 'button', name: 'disable', class: 'danger small' }, 'Disable');
      confirmClick(b, 'Click again to disable', () => run(`/api/admin/users/${encodeURIComponent(u.id)}/disable`, `${u.name} is disabled and signed out everywhere.`));
      cell.append(' ', b);
    }
    return cell;
  }

  async function run(path, note) {
    showError($('users-error'), null);
    try {
      await api('POST', path, {});
      showNote($('users-note'), note);
    } catch (err) {
      showError($('users-error'), err);
    }
    await load();
  }

  async function load() {
    try {
      const r = await api('GET', '/api/admin/users');
      showError($('users-error'), null);
      $('users').tBodies[0].replaceChildren(
        ...r.users.map((u) =>
          h('tr', { 'data-user': u.id, class: u.disabled ? 'muted' : null },
            h('td', null, u.name, me && u.id === me.id ? h('span', { class: 'hint' }, ' (you)') : null),
            h('td', null, ROLES[u.role] || u.role),
            h('td', null, u.email || '—'),
            h('td', null, u.category || '—'),
            h('td', null, u.keyPrefix ? h('code', null, u.keyPrefix + '…') : '—'),
            h('td', null, state(u)),
            h('td', { title: when(u.createdAt) }, day(u.createdAt)),
            actions(u))),
      );
    } catch (err) {
      showError($('users-error'), err);
    }
  }

  const form = $('create-user');
  let createdKey = null;
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(form.querySelector('button[type=submit]'), async () => {
      showError($('create-error'), null);
      const role = formValue(form, 'role');
      const body = { role, name: formValue(form, 'name') };
      for (const f of ['email', 'category']) if (formValue(form, f)) body[f] = formValue(form, f);
      const password = form.elements.namedItem('password').value;
      if (password) body.password = password;
      try {
        const r = await api('POST', '/api/admin/users', body);
        createdKey = r.apiKey || null;
        $('created-text').textContent = `${ROLES[role]} ${body.name} created.` + (role === 'AGENT' ? ' Give the agent its key:' : role === 'BUYER' && createdKey ? (password ? ' The buyer\'s API key:' : ' Without a password they cannot sign in to the portal; they use this API key:') : '');
        $('created-key').textContent = createdKey || '';
        $('created-key-block').hidden = !createdKey;
        $('created-panel').hidden = false;
        form.reset();
        await load();
      } catch (err) {
        showError($('create-error'), err);
      }
    });
  });
  $('copy-created-key').addEventListener('click', () => createdKey && copyText(createdKey, null));
  globalThis.addEventListener('pagehide', () => {
    createdKey = null;
    $('created-key').textContent = '';
  });
  $('refresh-users').addEventListener('click', (ev) => busy(ev.currentTarget, load));

  api('GET', '/api/auth/me').then((r) => {
    me = r.user;
    globalThis.Valence.setCsrf(r.csrfToken);
  }, (err) => showError($('users-error'), err)).finally(load);
})();
