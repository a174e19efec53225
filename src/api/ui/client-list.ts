/**
 * Browser code for the list pages: `/` (goal form, recent runs, jobs with filters and paging done
 * by the server — GET /jobs?status&q&from&to&limit&offset, total in x-total-count) and
 * `/ui/runs/{id}`. Filters live in the page URL, so a filtered view can be pasted into a message.
 */
export const LIST_JS = String.raw`
(function () {
  const { el, getJson, postJson, badge, stepWord, when, patientCell } = dfa;
  const PAGE = 50;
  const STATUSES = ['review', 'failed', 'running', 'queued', 'succeeded', 'skipped'];

  function jobLink(j) { return el('a', { href: '/ui/jobs/' + encodeURIComponent(j.jobKey), text: (j.who && j.who.description) || 'study ' + j.studyInstanceUid.slice(-12) }); }
  function jobRow(j) {
    const w = j.who || {};
    return el('tr', { 'data-job': j.jobKey },
      el('td', null, patientCell(w)),
      el('td', { text: w.accession || '—' }),
      el('td', { text: w.studyDate || '—' }),
      el('td', null, jobLink(j)),
      el('td', null, badge(j.status, j.waiting)),
      el('td', { text: j.waiting || stepWord(j.step) }));
  }
  function jobTable(jobs, caption) {
    return el('table', { class: 'jobs' },
      el('caption', { text: caption }),
      el('thead', null, el('tr', null, ['Patient', 'Accession', 'Study date', 'Study', 'Status', 'Step'].map((h) => el('th', { scope: 'col', text: h })))),
      el('tbody', null, jobs.length ? jobs.map(jobRow) : el('tr', null, el('td', { colspan: 6, class: 'muted', text: 'No jobs.' }))));
  }
  function runState(r) {
    const s = r.summary || {};
    if (!r.finishedAt) return 'running';
    if (s.error) return 'failed: ' + s.error;
    if (s.dryRun) return 'dry run';
    const parts = [];
    for (const k of ['succeeded', 'failed', 'skipped', 'review']) if (s[k]) parts.push(s[k] + ' ' + (k === 'review' ? 'awaiting review' : k));
    return parts.join(', ') || 'no studies';
  }
  function phiToggle(on, onChange) {
    return el('button', { type: 'button', 'aria-pressed': on ? 'true' : 'false', onclick: () => onChange(!on) }, on ? 'Hide names and MRNs' : 'Show names and MRNs');
  }
  function phiNote(res, wanted) {
    return wanted && res.headers.get('x-dfa-phi') === 'masked' ? el('p', { class: 'hint', role: 'status', text: 'Your sign-in may not see patient names and MRNs; they stay masked.' }) : null;
  }

  /** GET / : runs and jobs. */
  function homePage() {
    const main = document.getElementById('main');
    const params = () => new URLSearchParams(location.search);
    let phi = false;
    /** Forms are built once per URL; live events only refill the tables (typing is never lost). */
    function frame() {
      const p = params();
      const filters = el('form', { class: 'filters', role: 'search', 'aria-label': 'Filter jobs', onsubmit: (ev) => {
        ev.preventDefault();
        const u = new URLSearchParams();
        for (const [k, v] of new FormData(ev.target)) if (String(v).trim()) u.set(k, String(v).trim());
        history.pushState(null, '', u.toString() ? '?' + u : '/');
        render().catch(dfa.showError);
      } },
        el('div', { class: 'field' }, el('label', { for: 'f-status', text: 'Status' }),
          el('select', { id: 'f-status', name: 'status' }, el('option', { value: '', text: 'any' }),
            STATUSES.map((s) => el('option', { value: s, selected: p.get('status') === s, text: dfa.STATUS_WORDS[s] })))),
        el('div', { class: 'field' }, el('label', { for: 'f-from', text: 'From (job date)' }), el('input', { id: 'f-from', name: 'from', type: 'date', value: p.get('from') || '' })),
        el('div', { class: 'field' }, el('label', { for: 'f-to', text: 'To' }), el('input', { id: 'f-to', name: 'to', type: 'date', value: p.get('to') || '' })),
        el('div', { class: 'field' }, el('label', { for: 'f-q', text: 'Patient, accession, description or study UID' }),
          el('input', { id: 'f-q', name: 'q', type: 'search', size: 34, value: p.get('q') || '' })),
        el('button', { type: 'submit', class: 'primary' }, 'Filter'),
        el('a', { href: '/' }, 'Clear'));
      const goal = el('form', { class: 'filters', id: 'goal-form', onsubmit: async (ev) => {
        ev.preventDefault();
        const input = document.getElementById('goal');
        const msg = document.getElementById('goal-msg');
        try {
          const b = await postJson('/goals', { goal: input.value || input.placeholder });
          msg.className = 'msg';
          msg.replaceChildren('Started ', el('a', { href: '/ui/runs/' + encodeURIComponent(b.runId), text: 'run ' + b.runId }));
        } catch (e) { msg.className = 'msg err'; msg.textContent = e.message; }
      } },
        el('div', { class: 'field' }, el('label', { for: 'goal', text: 'New goal' }),
          el('input', { id: 'goal', size: 70, placeholder: 'Analyze all pending CT scans for lung segmentation and store RTSTRUCT in PACS' })),
        el('button', { type: 'submit' }, 'Run goal'), el('span', { id: 'goal-msg', class: 'msg', role: 'status' }));
      main.replaceChildren(
        el('h1', { text: 'Runs and jobs' }), goal,
        el('h2', { text: 'Recent goal runs' }), el('div', { id: 'runs-wrap' }),
        el('h2', { text: 'Jobs' }), filters, el('div', { id: 'phi-wrap' }), el('div', { id: 'jobs-wrap' }));
    }
    async function fill() {
      const p = params();
      const page = Math.max(1, Number(p.get('page')) || 1);
      const q = new URLSearchParams();
      for (const k of ['status', 'q', 'from', 'to']) if (p.get(k)) q.set(k, p.get(k));
      q.set('limit', String(PAGE));
      q.set('offset', String((page - 1) * PAGE));
      if (phi) q.set('phi', '1');
      const [runs, jobs] = await Promise.all([getJson('/runs'), getJson('/jobs?' + q)]);
      const total = Number(jobs.res.headers.get('x-total-count')) || 0;
      const first = total ? (page - 1) * PAGE + 1 : 0;
      const lastRow = Math.min(page * PAGE, total);
      const goto = (n) => { const u = params(); u.set('page', String(n)); history.pushState(null, '', '?' + u); fill().catch(dfa.showError); };
      const pager = el('nav', { class: 'pager', 'aria-label': 'Pages of jobs' },
        el('button', { type: 'button', disabled: page <= 1, onclick: () => goto(page - 1) }, '← Newer'),
        el('span', { id: 'job-count', text: total ? first + '–' + lastRow + ' of ' + total.toLocaleString() + ' jobs' : 'no jobs match' }),
        el('button', { type: 'button', disabled: lastRow >= total, onclick: () => goto(page + 1) }, 'Older →'));
      const runRows = runs.body.slice(0, 8).map((r) => el('tr', { 'data-run': r.runId },
        el('td', { text: when(r.startedAt) }),
        el('td', null, el('a', { href: '/ui/runs/' + encodeURIComponent(r.runId), text: r.goal })),
        el('td', { text: runState(r) })));
      document.getElementById('runs-wrap').replaceChildren(
        el('table', { id: 'runs' }, el('thead', null, el('tr', null, ['Started', 'Goal', 'Outcome'].map((h) => el('th', { scope: 'col', text: h })))),
          el('tbody', null, runRows.length ? runRows : el('tr', null, el('td', { colspan: 3, class: 'muted', text: 'No runs yet.' })))));
      dfa.fill(document.getElementById('phi-wrap'), phiToggle(phi, (v) => { phi = v; fill().catch(dfa.showError); }), phiNote(jobs.res, phi));
      document.getElementById('jobs-wrap').replaceChildren(jobTable(jobs.body, 'Jobs, most recent activity first'), pager);
    }
    async function render() {
      frame();
      await fill();
    }
    window.addEventListener('popstate', () => render().catch(dfa.showError));
    return { render: render, refresh: fill, onEvent: () => true };
  }

  /** /ui/runs/{id}: one goal run and its jobs. */
  function runPage(runId) {
    const main = document.getElementById('main');
    let phi = false;
    let jobKeys = new Set();
    async function render() {
      const { res, body: run } = await getJson('/runs/' + encodeURIComponent(runId) + (phi ? '?phi=1' : ''));
      jobKeys = new Set(run.jobs.map((j) => j.jobKey));
      document.title = 'Run ' + runId + ' — dfa';
      main.replaceChildren(
        el('p', null, el('a', { href: '/', text: '← Runs and jobs' })),
        el('h1', null, 'Goal run'),
        el('dl', { class: 'facts' },
          el('dt', { text: 'Goal' }), el('dd', { text: run.goal }),
          el('dt', { text: 'Started' }), el('dd', { text: when(run.startedAt) }),
          el('dt', { text: 'Finished' }), el('dd', { id: 'run-finished', text: run.finishedAt ? when(run.finishedAt) : 'still running' }),
          el('dt', { text: 'Outcome' }), el('dd', { id: 'run-outcome', text: runState(run) }),
          el('dt', { text: 'Run id' }), el('dd', { class: 'mono', text: run.runId })),
        el('h2', { text: 'Jobs' }),
        el('div', null, phiToggle(phi, (v) => { phi = v; render().catch(dfa.showError); }), phiNote(res, phi)),
        jobTable(run.jobs, run.jobs.length + ' studies'));
    }
    return { render: render, refresh: render, onEvent: (ev) => jobKeys.size === 0 || jobKeys.has(ev.jobKey) };
  }
  dfa.homePage = homePage;
  dfa.runPage = runPage;
})();
`;
