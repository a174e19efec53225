/**
 * The dashboard's one HTML page (every UI URL serves it; the script reads the path) and its
 * stylesheet. Colours keep WCAG 2.1 AA contrast (≥ 4.5:1 for text); status is said in words, never
 * by colour alone; focus is always visible.
 */
export const SHELL_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>dfa dashboard</title>
<link rel="stylesheet" href="/ui/app.css">
</head><body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <nav aria-label="Main"><a href="/" class="brand">dfa</a> <a href="/">Runs and jobs</a> <a href="/?status=review">Awaiting review</a></nav>
  <span id="live" role="status" aria-live="polite">connecting…</span>
  <button type="button" id="signout" hidden>Forget token</button>
</header>
<main id="main" tabindex="-1"><p>Loading…</p></main>
<dialog id="auth" aria-labelledby="auth-title">
  <form method="dialog" id="auth-form">
    <h2 id="auth-title">Sign in to the API</h2>
    <p id="auth-why">The API asks for a token.</p>
    <label for="auth-token">API token (bearer)</label>
    <input id="auth-token" type="password" autocomplete="off" required>
    <p class="hint">Kept for this browser tab only (sessionStorage).</p>
    <button type="submit">Sign in</button>
  </form>
</dialog>
<script src="/ui/app.js" defer></script>
</body></html>
`;

export const APP_CSS = `
:root{--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--bg:#fff;--soft:#f6f8fa;--link:#0550ae;--ok:#116329;--bad:#a40e26;--warn:#7d4e00;--run:#0550ae}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:var(--fg);background:var(--bg)}
a{color:var(--link)} a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible,summary:focus-visible{outline:3px solid #0969da;outline-offset:2px}
.skip{position:absolute;left:-999px} .skip:focus{left:8px;top:8px;background:#fff;padding:4px 8px;z-index:9}
.top{display:flex;gap:1em;align-items:center;padding:.6em 1.2em;border-bottom:1px solid var(--line);background:var(--soft)}
.top nav{display:flex;gap:1em;align-items:center;flex:1} .brand{font-weight:700;text-decoration:none;color:var(--fg)}
#live{font-size:.85em;color:var(--muted)}
main{padding:1em 1.2em;max-width:1300px}
h1{font-size:1.35em;margin:.2em 0 .6em} h2{font-size:1.1em;margin:1.4em 0 .5em} h3{font-size:.95em;margin:1em 0 .3em}
table{border-collapse:collapse;width:100%} caption{text-align:left;font-weight:600;padding:.3em 0}
th,td{border-bottom:1px solid var(--line);padding:.35em .5em;text-align:left;vertical-align:top}
th{font-size:.85em;color:var(--muted);font-weight:600} tbody tr:hover{background:var(--soft)}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:0 .5em;border-radius:1em;font-size:.85em;font-weight:600;border:1px solid currentColor;white-space:nowrap}
.s-succeeded{color:var(--ok)} .s-failed{color:var(--bad)} .s-review{color:var(--warn)} .s-running,.s-queued{color:var(--run)} .s-skipped{color:var(--muted)}
.filters{display:flex;flex-wrap:wrap;gap:.8em;align-items:flex-end;margin:.4em 0 .8em}
.filters label,.field label{display:block;font-size:.85em;color:var(--muted)}
input,select,textarea,button{font:inherit} input,select,textarea{border:1px solid #8c959f;border-radius:4px;padding:.3em .4em}
button{border:1px solid #8c959f;border-radius:4px;padding:.3em .8em;background:#f6f8fa;color:var(--fg);cursor:pointer}
button.primary{background:#1f6feb;border-color:#1a5fcc;color:#fff} button.danger{background:#cf222e;border-color:#a40e26;color:#fff}
button[disabled]{opacity:.6;cursor:default}
.pager{display:flex;gap:1em;align-items:center;margin:.6em 0}
.muted{color:var(--muted)} .hint{font-size:.85em;color:var(--muted)} code,.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.88em;overflow-wrap:anywhere}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25em 1em;margin:0} dl.facts dt{color:var(--muted)} dl.facts dd{margin:0}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(330px,1fr));gap:1em}
.card{border:1px solid var(--line);border-radius:6px;padding:.8em 1em}
.card h2{margin-top:0}
.reason{border-left:4px solid var(--bad);padding:.4em .8em;background:#fff5f5}
.reason.r-review{border-color:var(--warn);background:#fff8e6}
.review{border:2px solid var(--warn);border-radius:6px;padding:.8em 1em;background:#fffbf0}
.review textarea{width:100%;min-height:4em}
.review .actions{display:flex;gap:.8em;margin-top:.6em}
.previews{display:flex;flex-wrap:wrap;gap:1em} .previews figure{margin:0} .previews img{max-width:100%;width:300px;height:auto;background:#000;display:block}
.previews figcaption{font-size:.85em;color:var(--muted)}
.timeline{list-style:none;padding:0;margin:0} .timeline li{display:grid;grid-template-columns:11em 9em 1fr;gap:.6em;padding:.2em 0;border-bottom:1px dotted var(--line)}
.bar{display:inline-block;height:.7em;background:#54aeff;vertical-align:middle;margin-right:.4em;min-width:2px}
.phi{white-space:nowrap}
details{margin:.5em 0} summary{cursor:pointer;color:var(--link)}
.msg{margin-left:.6em} .msg.err{color:var(--bad)}
dialog{border:1px solid var(--line);border-radius:8px;padding:1.2em;max-width:28em}
dialog input{width:100%;margin:.3em 0}
`;
