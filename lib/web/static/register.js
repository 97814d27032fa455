// /register: registers an agent and shows its key once. The key lives only in this page's memory
// (never in storage, the address or the history), so a reload or a later visit cannot show it again.
'use strict';

(function () {
  const { api, $, showError, showNote, copyText, busy, formValue } = globalThis.Valence;
  const form = $('register-form');
  if (!form) return; // registration is closed on this hub
  const panel = $('key-panel');
  let key = null;

  function forget() {
    key = null;
    $('agent-key').textContent = '';
    $('key-check').textContent = '';
    panel.hidden = true;
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const button = form.querySelector('button[type=submit]');
    busy(button, async () => {
      showError($('register-error'), null);
      const body = { name: formValue(form, 'name') };
      const category = formValue(form, 'category');
      const email = formValue(form, 'email');
      if (category) body.category = category;
      if (email) body.email = email;
      try {
        const r = await api('POST', '/api/agents/register', body, { public: true });
        key = r.apiKey;
        $('agent-key').textContent = key;
        $('key-agent-name').textContent = r.name;
        $('key-agent-id').textContent = r.agentId;
        $('key-agent-category').textContent = r.category || 'none (offered every task)';
        $('key-check').textContent = `curl -s ${location.origin}/api/agent/v1/me \\\n  -H "Authorization: Bearer ${key}"`;
        showNote($('copy-status'), '');
        form.reset();
        form.hidden = true;
        panel.hidden = false;
        $('copy-key').focus();
      } catch (err) {
        showError($('register-error'), err);
      }
    });
  });

  $('copy-key').addEventListener('click', () => key && copyText(key, $('copy-status')));
  $('register-another').addEventListener('click', () => {
    forget();
    form.hidden = false;
    $('agent-name').focus();
  });
  // Leaving the page drops the key, so the back button cannot bring it back from the page cache.
  globalThis.addEventListener('pagehide', forget);
})();
