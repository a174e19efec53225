import type { FastifyInstance } from 'fastify';
import { registerUi } from './ui/routes.ts';

/**
 * GET / — one small page over the REST API: recent goal runs, each run's jobs (status, step,
 * reason), refreshed live from the /events stream. No build step, no dependencies; every value is
 * set as textContent (reasons can carry DICOM text from the sender).
 *
 * With DFA_API_AUTH=token|oidc the page asks for a bearer token on the first 401, keeps it in
 * sessionStorage (gone when the tab closes, never sent to another origin) and sends it as an
 * Authorization header. The event stream is read with fetch() streaming rather than EventSource,
 * because EventSource cannot send headers: the alternative, a token in the query string, would
 * land in access logs, proxy logs and the browser history. The page resumes with Last-Event-ID
 * itself, as EventSource would.
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
<form id="login" hidden>API token (DFA_API_TOKEN, or an access token from your identity provider): <input id="tok" type="password" size="50" autocomplete="off"> <button>Use token</button></form>
<form id="goal"><input id="g" size="80" placeholder="Analyze all pending CT scans for lung segmentation and store RTSTRUCT in PACS"> <button>Run goal</button> <span id="msg"></span></form>
<table><thead><tr><th>started</th><th>goal / study</th><th>status</th><th>step</th><th>reason</th></tr></thead><tbody id="runs"></tbody></table>
<p><a href="/openapi.json">OpenAPI</a> · <a href="/ready">readiness</a></p>
<script>
const el = (tag, text, cls) => { const e = document.createElement(tag); if (text != null) e.textContent = String(text); if (cls) e.className = cls; return e; };
const KEY = 'dfa.apiToken';
const live = (t) => { document.getElementById('live').textContent = t; };
let waitingForToken = false;
async function api(path, init = {}) {
  const t = sessionStorage.getItem(KEY);
  const res = await fetch(path, { ...init, headers: { ...(init.headers || {}), ...(t ? { authorization: 'Bearer ' + t } : {}) } });
  if (res.status === 401) {
    waitingForToken = true;
    sessionStorage.removeItem(KEY);
    document.getElementById('login').hidden = false;
    live('(sign in)');
    throw new Error('authentication required');
  }
  return res;
}
document.getElementById('login').onsubmit = (ev) => {
  ev.preventDefault();
  sessionStorage.setItem(KEY, document.getElementById('tok').value.trim());
  document.getElementById('login').hidden = true;
  waitingForToken = false;
  refresh().catch(console.error);
  stream();
};
const row = (cells, cls) => { const tr = el('tr', null, cls); for (const c of cells) tr.append(c instanceof Node ? c : el('td', c)); return tr; };
async function refresh() {
  const runs = await (await api('runs')).json();
  const body = document.getElementById('runs');
  const rows = [];
  for (const r of runs.slice(0, 20)) {
    const s = r.summary || {};
    const state = r.finishedAt ? (s.error ? 'failed: ' + s.error : s.dryRun ? 'dry run' : (s.succeeded ?? 0) + ' succeeded, ' + (s.failed ?? 0) + ' failed, ' + (s.skipped ?? 0) + ' skipped') : 'running';
    rows.push(row([new Date(r.startedAt).toLocaleString(), r.goal, state, '', r.runId], 'run'));
    const detail = await (await api('runs/' + encodeURIComponent(r.runId))).json();
    for (const j of detail.jobs || []) {
      const st = el('td', j.waiting ? 'waiting' : j.status, j.status);
      rows.push(row(['', el('td', j.studyInstanceUid), st, j.step ?? '', j.waiting ?? j.reason ?? '']));
    }
  }
  body.replaceChildren(...rows);
}
let pending = null;
const soon = () => { if (!pending) pending = setTimeout(() => { pending = null; refresh().catch(console.error); }, 300); };
let lastId = 0;
let streaming = false;
async function stream() {
  if (streaming) return;
  streaming = true;
  while (!waitingForToken) {
    try {
      const res = await api('events', { headers: lastId ? { 'last-event-id': String(lastId) } : {} });
      if (!res.ok || !res.body) throw new Error('HTTP ' + res.status);
      live('(live)');
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let i;
        while ((i = buf.indexOf('\\n\\n')) >= 0) {
          const frame = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const id = /^id: (\\d+)$/m.exec(frame);
          if (id) lastId = Number(id[1]);
          if (/^event: job$/m.test(frame)) soon();
        }
      }
    } catch (e) { console.error(e); }
    if (waitingForToken) break;
    live('(reconnecting…)');
    await new Promise((r) => setTimeout(r, 2000));
  }
  streaming = false;
}
document.getElementById('goal').onsubmit = async (ev) => {
  ev.preventDefault();
  const goal = document.getElementById('g').value || document.getElementById('g').placeholder;
  const res = await api('goals', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ goal }) });
  const b = await res.json();
  document.getElementById('msg').textContent = res.ok ? 'run ' + b.runId : (b.message || res.statusText);
  soon();
};
refresh().catch(console.error);
stream();
</script></body></html>
`;

export function dashboardHtml(): string {
  return PAGE;
}

/** Adds the dashboard to the API: GET / and the /ui pages (src/api/ui/routes.ts); PAGE above is the old one-page view. */
export function registerDashboard(app: FastifyInstance): void {
  registerUi(app);
}
