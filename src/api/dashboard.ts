import type { FastifyInstance } from 'fastify';
import { registerUi } from './ui/routes.ts';

/**
 * GET / — one small page over the REST API: recent goal runs, each run's jobs (status, step,
 * reason), refreshed live from the /events stream. No build step, no dependencies; every value is
 * set as textContent (reasons can carry DICOM text from the sender).
 */
const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>dfa — runs</title>
<style>
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.2em} table{border-collapse:collapse;width:100%;margin-bottom:1em}
td,th{border-bottom:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
.run{background:#f4f6f8;cursor:pointer} .succeeded{color:#1a7f37} .failed{color:#c62828} .skipped{color:#777} .running,.queued{color:#0b5cad}
#live{font-size:.9em;color:#777} code{font-size:.9em}
</style></head><body>
<h1>dfa — goal runs <span id="live">connecting…</span></h1>
<form id="goal"><input id="g" size="80" placeholder="Analyze all pending CT scans for lung segmentation and store RTSTRUCT in PACS"> <button>Run goal</button> <span id="msg"></span></form>
<table><thead><tr><th>started</th><th>goal / study</th><th>status</th><th>step</th><th>reason</th></tr></thead><tbody id="runs"></tbody></table>
<p><a href="/openapi.json">OpenAPI</a> · <a href="/ready">readiness</a></p>
<script>
const el = (tag, text, cls) => { const e = document.createElement(tag); if (text != null) e.textContent = String(text); if (cls) e.className = cls; return e; };
const row = (cells, cls) => { const tr = el('tr', null, cls); for (const c of cells) tr.append(c instanceof Node ? c : el('td', c)); return tr; };
async function refresh() {
  const runs = await (await fetch('runs')).json();
  const body = document.getElementById('runs');
  const rows = [];
  for (const r of runs.slice(0, 20)) {
    const s = r.summary || {};
    const state = r.finishedAt ? (s.error ? 'failed: ' + s.error : s.dryRun ? 'dry run' : (s.succeeded ?? 0) + ' succeeded, ' + (s.failed ?? 0) + ' failed, ' + (s.skipped ?? 0) + ' skipped') : 'running';
    rows.push(row([new Date(r.startedAt).toLocaleString(), r.goal, state, '', r.runId], 'run'));
    const detail = await (await fetch('runs/' + encodeURIComponent(r.runId))).json();
    for (const j of detail.jobs || []) {
      const st = el('td', j.waiting ? 'waiting' : j.status, j.status);
      rows.push(row(['', el('td', j.studyInstanceUid), st, j.step ?? '', j.waiting ?? j.reason ?? '']));
    }
  }
  body.replaceChildren(...rows);
}
let pending = null;
const soon = () => { if (!pending) pending = setTimeout(() => { pending = null; refresh().catch(console.error); }, 300); };
const es = new EventSource('events');
es.onopen = () => { document.getElementById('live').textContent = '(live)'; };
es.onerror = () => { document.getElementById('live').textContent = '(reconnecting…)'; };
es.addEventListener('job', soon);
document.getElementById('goal').onsubmit = async (ev) => {
  ev.preventDefault();
  const goal = document.getElementById('g').value || document.getElementById('g').placeholder;
  const res = await fetch('goals', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ goal }) });
  const b = await res.json();
  document.getElementById('msg').textContent = res.ok ? 'run ' + b.runId : (b.message || res.statusText);
  soon();
};
refresh().catch(console.error);
</script></body></html>
`;

export function dashboardHtml(): string {
  return PAGE;
}

/** Adds the dashboard to the API: GET / and the /ui pages (src/api/ui/routes.ts); PAGE above is the old one-page view. */
export function registerDashboard(app: FastifyInstance): void {
  registerUi(app);
}
