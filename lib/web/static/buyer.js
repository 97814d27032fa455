// /buyer: the buyer's tasks. The chosen task (#task=<id>) is read again every second, so offers,
// the assignment and the deliverable show up without a reload. Forms on the page are never
// re-created by a refresh, so nothing a person is typing is lost.
'use strict';

(function () {
  const { api, h, $, showError, showNote, when, badge, setBadge, every, busy, confirmClick, copyText, formValue } = globalThis.Valence;

  let tasks = [];
  let tasksJson = '';
  let selected = null;
  let detailJson = '';
  let current = null; // the last task view shown
  let pollFailed = false; // the last read of the task failed (its error is on show)

  function selectedFromHash() {
    const m = /^#task=(.+)$/.exec(location.hash);
    return m ? decodeURIComponent(m[1]) : null;
  }

  // --- the list -----------------------------------------------------------------------------

  async function loadTasks() {
    try {
      const r = await api('GET', '/api/buyer/tasks');
      showError($('tasks-error'), null);
      const json = JSON.stringify(r.tasks);
      if (json === tasksJson) return;
      tasksJson = json;
      tasks = r.tasks;
      renderList();
      if (!selected && !location.hash && tasks.length) choose(tasks[0].id, true);
    } catch (err) {
      showError($('tasks-error'), err);
    }
  }

  function renderList() {
    $('tasks-empty').hidden = tasks.length > 0;
    $('task-list').replaceChildren(
      ...tasks.map((t) =>
        h('li', null,
          h('a', { class: 'task-item', href: '#task=' + encodeURIComponent(t.id), 'aria-current': t.id === selected ? 'true' : null },
            h('span', { class: 'task-item-title' }, t.title),
            h('span', { class: 'task-item-meta' }, badge(t.status), ' ', t.category || 'any category', ' · ', when(t.createdAt))))),
    );
  }

  function choose(id, replace) {
    const hash = '#task=' + encodeURIComponent(id);
    if (replace) history.replaceState(null, '', hash);
    else location.hash = hash;
    select();
  }

  function select() {
    const id = selectedFromHash();
    if (id === selected) return;
    selected = id;
    detailJson = '';
    current = null;
    $('review-feedback').value = '';
    for (const el of ['d-note', 'd-error', 'review-error']) showError($(el), null);
    $('detail').hidden = true;
    $('detail-placeholder').hidden = false;
    $('detail-placeholder').textContent = id ? 'Loading…' : 'Choose a task to see its offers, assignment and deliverable.';
    renderList();
    detail.refresh();
  }

  // --- the chosen task ----------------------------------------------------------------------

  async function loadDetail() {
    if (!selected) return;
    const id = selected;
    let r;
    try {
      r = await api('GET', '/api/buyer/tasks/' + encodeURIComponent(id));
    } catch (err) {
      if (id !== selected) return;
      if (err.status === 404 || !current) {
        // Nothing shown yet (or the task is gone): the message takes the detail's place.
        $('detail').hidden = true;
        $('detail-placeholder').hidden = false;
        $('detail-placeholder').textContent = err.message;
      } else {
        pollFailed = true;
        showError($('d-error'), err);
      }
      return;
    }
    if (id !== selected) return;
    if (pollFailed) showError($('d-error'), null);
    pollFailed = false;
    const json = JSON.stringify(r);
    if (json === detailJson) return;
    detailJson = json;
    current = r;
    renderDetail(r);
    const listed = tasks.find((t) => t.id === r.task.id);
    if (!listed || listed.status !== r.task.status) list.refresh();
  }

  function duration(seconds) {
    if (seconds % 86400 === 0) return `${seconds / 86400} day${seconds === 86400 ? '' : 's'}`;
    if (seconds % 3600 === 0) return `${seconds / 3600} hour${seconds === 3600 ? '' : 's'}`;
    if (seconds % 60 === 0) return `${seconds / 60} minute${seconds === 60 ? '' : 's'}`;
    return `${seconds} seconds`;
  }

  function fact(term, value) {
    return [h('dt', null, term), h('dd', null, value)];
  }

  // Why an offer was withdrawn, in words (a decline's reason is the worker's own text).
  const REASONS = { task_assigned: 'Withdrawn: another worker took the task.', task_cancelled: 'Withdrawn: the task was cancelled.' };

  // The note an action left describes the task as that action made it; once the task is in another
  // state (changed in another tab, or by a worker) the note goes.
  let noteFor = null;
  function actionNote(status, text) {
    noteFor = { taskId: selected, status };
    showNote($('d-note'), text);
  }

  function renderDetail(r) {
    const { task, offers, assignment, deliverable } = r;
    if (noteFor && (noteFor.taskId !== task.id || noteFor.status !== task.status)) {
      noteFor = null;
      showNote($('d-note'), '');
    }
    $('detail-placeholder').hidden = true;
    $('detail').hidden = false;
    $('d-title').textContent = task.title;
    setBadge($('d-status'), task.status);
    $('d-facts').replaceChildren(
      ...fact('Category', task.category || 'any'),
      ...fact('Deadline', task.deadline ? when(task.deadline) : 'none'),
      ...fact('Offer lifetime', duration(task.offerTtlSeconds)),
      ...fact('Created', when(task.createdAt)),
      ...fact('Task id', h('code', null, task.id)),
    );
    $('d-description').textContent = task.description;

    $('act-publish').hidden = task.status !== 'DRAFT';
    $('act-edit').hidden = task.status !== 'DRAFT';
    if (task.status !== 'DRAFT' || task.id !== (edit.dataset.task || task.id)) edit.hidden = true;
    edit.dataset.task = task.id;
    $('act-match').hidden = task.status !== 'OPEN';
    $('act-cancel').hidden = !['DRAFT', 'OPEN', 'ASSIGNED'].includes(task.status);

    // Offers
    $('d-offers-empty').textContent = task.status === 'OPEN' ? 'No offers yet. Press “Match workers” to offer the task.' : 'No offers.';
    $('d-offers-empty').hidden = offers.length > 0;
    $('d-offers').hidden = offers.length === 0;
    $('d-offers').tBodies[0].replaceChildren(
      ...offers.map((o) =>
        h('tr', { 'data-offer': o.id },
          h('td', null, o.workerName),
          h('td', null, badge(o.status)),
          h('td', null, when(o.createdAt)),
          h('td', null, o.decidedAt ? when(o.decidedAt) : when(o.expiresAt)),
          h('td', null, REASONS[o.reason] || o.reason || ''))),
    );

    // Assignment
    const a = $('d-assignment');
    if (!assignment) {
      a.className = 'empty';
      a.replaceChildren(task.status === 'CANCELLED' ? 'The task was cancelled.' : 'Nobody has taken this task yet.');
    } else {
      const offer = offers.find((o) => o.id === assignment.offerId);
      a.className = 'assignment';
      a.replaceChildren(
        'Taken by ', h('strong', null, offer ? offer.workerName : 'a worker'), ' ', badge(assignment.status),
        h('span', { class: 'hint' }, ` since ${when(assignment.createdAt)}; last change ${when(assignment.updatedAt)}`),
      );
    }

    // Deliverable and its history
    const d = $('d-deliverable');
    if (!deliverable) {
      d.replaceChildren(h('p', { class: 'empty' }, assignment ? 'Nothing submitted yet.' : 'Nothing yet.'));
    } else {
      const verdict = assignment && assignment.status === 'ACCEPTED' ? 'accepted' : assignment && assignment.status === 'REJECTED' ? 'rejected — waiting for a new revision' : 'waiting for your review';
      d.replaceChildren(
        h('p', { class: 'deliverable-head' }, h('strong', null, `Revision ${deliverable.revision}`), ` · submitted ${when(deliverable.submittedAt)} · ${verdict}`),
        h('pre', { class: 'deliverable', id: 'd-deliverable-text' }, deliverable.contentText),
        ...(assignment && assignment.status === 'REJECTED' && assignment.feedback ? [h('p', { class: 'feedback' }, h('strong', null, 'Your feedback: '), assignment.feedback)] : []),
      );
    }
    const reviewable = assignment && assignment.status === 'SUBMITTED' && task.status === 'ASSIGNED';
    $('review-form').hidden = !reviewable;
    if (!reviewable) showError($('review-error'), null);

    const earlier = deliverable ? deliverable.history.filter((x) => x.revision !== deliverable.revision).sort((x, y) => y.revision - x.revision) : [];
    $('d-history').replaceChildren(
      ...(earlier.length
        ? [
          h('h3', null, 'Earlier revisions'),
          ...earlier.map((x) =>
            h('details', { class: 'revision' },
              h('summary', null, `Revision ${x.revision} · submitted ${when(x.submittedAt)}`, x.feedback ? ` · rejected: “${x.feedback}”` : ''),
              h('pre', { class: 'deliverable' }, x.contentText))),
        ]
        : []),
    );
  }

  // --- actions ------------------------------------------------------------------------------

  /** An action on the selected task; status: the state the task is in after it, which its note describes. */
  async function act(path, body, status, note) {
    showError($('d-error'), null);
    showNote($('d-note'), '');
    noteFor = null;
    // The focus follows the outcome: the button pressed is often hidden by it (Publish, Cancel).
    try {
      const r = await api('POST', path, body);
      actionNote(status, typeof note === 'function' ? note(r) : note);
      $('d-note').focus();
    } catch (err) {
      showError($('d-error'), err);
      $('d-error').focus();
    }
    detail.refresh();
    list.refresh();
  }

  const taskPath = (suffix) => `/api/buyer/tasks/${encodeURIComponent(selected)}/${suffix}`;

  $('act-publish').addEventListener('click', (ev) =>
    busy(ev.currentTarget, () => act(taskPath('publish'), {}, 'OPEN', 'Published. Press “Match workers” to offer it to workers.')));
  $('act-match').addEventListener('click', (ev) =>
    busy(ev.currentTarget, () =>
      act(taskPath('match'), {}, 'OPEN', (r) => {
        const n = r.offers.length;
        if (!n) return 'No new workers to offer it to: everyone eligible in this category has an offer already, or nobody is registered for it yet.';
        const live = r.offers.filter((o) => o.delivered).length;
        return `Offered to ${n} worker${n === 1 ? '' : 's'}` + (live ? ` (${live} reached at once over a live connection).` : '.') + ' The first to accept gets the task.';
      })));
  confirmClick($('act-cancel'), 'Click again to cancel the task', () =>
    act(taskPath('cancel'), {}, 'CANCELLED', 'Cancelled. Pending offers were withdrawn and the workers told.'));

  const review = $('review-form');
  review.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const decision = ev.submitter && ev.submitter.value === 'reject' ? 'reject' : 'accept';
    const feedback = $('review-feedback').value.trim();
    if (decision === 'reject' && !feedback) {
      showError($('review-error'), new Error('Write what should change before rejecting; the worker gets your feedback.'));
      $('review-feedback').focus();
      return;
    }
    busy(ev.submitter, async () => {
      showError($('review-error'), null);
      try {
        const body = feedback ? { decision, feedback } : { decision };
        await api('POST', `/api/buyer/assignments/${encodeURIComponent(current.assignment.id)}/review`, body);
        $('review-feedback').value = '';
        actionNote(decision === 'accept' ? 'COMPLETED' : 'ASSIGNED', decision === 'accept' ? 'Accepted. The task is completed.' : 'Rejected. The worker has your feedback and may submit a new revision.');
      } catch (err) {
        showError($('review-error'), err);
      }
      detail.refresh();
      list.refresh();
    });
  });

  // --- new task -----------------------------------------------------------------------------

  /**
   * The task fields of a form (new task, or a draft's edit) as the API takes them, or null after
   * showing what to fix. forEdit: empty category and deadline are sent, to clear them.
   */
  function taskFields(f, errorEl, forEdit) {
    const body = { title: formValue(f, 'title'), description: f.elements.namedItem('description').value };
    const category = formValue(f, 'category');
    if (category || forEdit) body.category = category;
    const deadline = formValue(f, 'deadline');
    if (deadline) {
      const d = new Date(deadline);
      if (isNaN(d)) return showError(errorEl, new Error('The deadline is not a date.')), null;
      if (d.getTime() < Date.now()) return showError(errorEl, new Error('The deadline is in the past; choose a later one, or leave it empty.')), null;
      body.deadline = d.toISOString();
    } else if (forEdit) body.deadline = null;
    const minutes = Number(formValue(f, 'offerTtlMinutes') || NaN);
    if (!(minutes >= 1 / 60) || minutes > 7 * 24 * 60) return showError(errorEl, new Error('Give the offer lifetime in minutes (at least 1 second, at most 7 days: 10080 minutes).')), null;
    body.offerTtlSeconds = Math.round(minutes * 60);
    return body;
  }

  /** A task form's submit: its fields checked on the page, then send(body); an error shows under the form. */
  function onTaskSubmit(f, errorEl, forEdit, send) {
    f.addEventListener('submit', (ev) => {
      ev.preventDefault();
      busy(f.querySelector('button[type=submit]'), async () => {
        showError(errorEl, null);
        const body = taskFields(f, errorEl, forEdit);
        if (!body) return;
        try {
          await send(body);
        } catch (err) {
          showError(errorEl, err);
        }
      });
    });
  }

  const form = $('task-form');
  onTaskSubmit(form, $('task-form-error'), false, async (body) => {
    body.publish = form.elements.namedItem('publish').checked;
    const r = await api('POST', '/api/buyer/tasks', body);
    form.reset();
    await list.refresh();
    choose(r.task.id);
    actionNote(r.task.status, r.task.status === 'OPEN' ? 'Published. Press “Match workers” to offer it to workers.' : 'Saved as a draft. Publish it when it is ready.');
  });

  // --- editing a draft ----------------------------------------------------------------------

  const edit = $('edit-form');
  /** datetime-local wants the local time without a zone: YYYY-MM-DDTHH:MM. */
  const localInput = (iso) => {
    const d = new Date(iso);
    const p = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
  };
  $('act-edit').addEventListener('click', () => {
    const t = current.task;
    edit.elements.namedItem('title').value = t.title;
    edit.elements.namedItem('description').value = t.description;
    edit.elements.namedItem('category').value = t.category || '';
    edit.elements.namedItem('offerTtlMinutes').value = String(t.offerTtlSeconds / 60);
    edit.elements.namedItem('deadline').value = t.deadline ? localInput(t.deadline) : '';
    showError($('edit-error'), null);
    edit.hidden = false;
    $('edit-title').focus();
  });
  $('edit-close').addEventListener('click', () => {
    edit.hidden = true;
    $('act-edit').focus();
  });
  onTaskSubmit(edit, $('edit-error'), true, async (body) => {
    await api('PATCH', `/api/buyer/tasks/${encodeURIComponent(selected)}`, body);
    edit.hidden = true;
    actionNote('DRAFT', 'Draft saved. Publish it when it is ready.');
    detail.refresh();
    list.refresh();
  });

  // --- API key ------------------------------------------------------------------------------

  let rotated = null;
  confirmClick($('rotate-key'), 'Click again: the old key stops working', async () => {
    showError($('rotate-error'), null);
    try {
      const r = await api('POST', '/api/buyer/key/rotate', {});
      rotated = r.apiKey;
      $('rotated-key').textContent = rotated;
      showNote($('rotated-copy-status'), '');
      $('rotated-panel').hidden = false;
    } catch (err) {
      showError($('rotate-error'), err);
    }
  });
  $('copy-rotated-key').addEventListener('click', () => rotated && copyText(rotated, $('rotated-copy-status')));
  globalThis.addEventListener('pagehide', () => {
    rotated = null;
    $('rotated-key').textContent = '';
    $('rotated-panel').hidden = true;
  });

  globalThis.addEventListener('hashchange', select);
  selected = selectedFromHash();
  const list = every(4000, loadTasks);
  const detail = every(1000, loadDetail);
})();
