/**
 * Browser code shared by every dashboard page: DOM building (text only ever set as text nodes —
 * names, descriptions and reasons come from DICOM and FHIR senders and are hostile), API calls
 * that add `Authorization: Bearer` from sessionStorage and ask for a token on 401, and the live
 * event stream read with fetch() (EventSource cannot send an Authorization header).
 * Plain ES2020, no build step; kept free of backquotes so it can live in this string.
 */
export const CORE_JS = String.raw`
'use strict';
const dfa = {};
(function () {
  const TOKEN_KEY = 'dfa.apiToken';
  function el(tag, attrs) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = String(v);
      else if (k === 'style') Object.assign(e.style, v); // CSSOM, allowed by the page's CSP (a style attribute is not)
      else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (let i = 2; i < arguments.length; i++) append(e, arguments[i]);
    return e;
  }
  /** replaceChildren that skips null / false (optional parts of a section). */
  function fill(node) {
    const kids = [];
    for (let i = 1; i < arguments.length; i++) if (arguments[i] !== null && arguments[i] !== undefined && arguments[i] !== false) kids.push(arguments[i]);
    node.replaceChildren(...kids);
  }
  function append(parent, kid) {
    if (kid === null || kid === undefined || kid === false) return;
    if (Array.isArray(kid)) { for (const k of kid) append(parent, k); return; }
    parent.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  const token = () => sessionStorage.getItem(TOKEN_KEY);
  let asking = null;
  /** Shows the sign-in dialog; resolves once a token was entered (shared by concurrent 401s). */
  function askToken(why) {
    if (asking) return asking;
    const dlg = document.getElementById('auth');
    document.getElementById('auth-why').textContent = why;
    asking = new Promise((resolve) => {
      const form = document.getElementById('auth-form');
      form.onsubmit = () => {
        const v = document.getElementById('auth-token').value.trim();
        if (v) sessionStorage.setItem(TOKEN_KEY, v);
        asking = null;
        document.getElementById('signout').hidden = !token();
        resolve();
      };
      dlg.showModal();
      document.getElementById('auth-token').focus();
    });
    return asking;
  }
  /** fetch() with the token when one is set; a 401 asks for a token and tries again. */
  async function api(path, opts) {
    opts = opts || {};
    for (let tries = 0; ; tries++) {
      const headers = Object.assign({}, opts.headers || {});
      const t = token();
      if (t) headers.authorization = 'Bearer ' + t;
      const res = await fetch(path, Object.assign({}, opts, { headers: headers }));
      if (res.status === 401 && tries < 5) {
        if (t) sessionStorage.removeItem(TOKEN_KEY);
        await askToken(t ? 'That token was not accepted. Enter another one.' : 'The API asks for a token.');
        continue;
      }
      return res;
    }
  }
  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.message) || ('HTTP ' + status));
      this.status = status;
      this.body = body;
    }
  }
  async function getJson(path) {
    const res = await api(path);
    const body = await res.json().catch(() => null);
    if (!res.ok) throw new ApiError(res.status, body);
    return { res: res, body: body };
  }
  async function postJson(path, data) {
    const res = await api(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(data) });
    const body = await res.json().catch(() => null);
    if (!res.ok) throw new ApiError(res.status, body);
    return body;
  }
  /** An image the API serves (previews), fetched with the token, shown from a blob URL. */
  const blobs = new Map();
  async function imageUrl(path) {
    if (blobs.has(path)) return blobs.get(path);
    const res = await api(path);
    if (!res.ok) throw new ApiError(res.status, null);
    const url = URL.createObjectURL(await res.blob());
    blobs.set(path, url);
    return url;
  }

  // ---- live updates: GET /events read as a stream (WHATWG HTML 9.2 framing) ----
  const listeners = [];
  let lastId = 'latest';
  let ctl = null;
  const setLive = (s) => { document.getElementById('live').textContent = s; document.getElementById('live').dataset.state = s; };
  function onEvent(fn) { listeners.push(fn); }
  function dispatch(frame) {
    let id = null;
    let data = '';
    for (const line of frame.split('\n')) {
      if (line.slice(0, 3) === 'id:') id = line.slice(3).trim();
      else if (line.slice(0, 5) === 'data:') data += line.slice(5).trim();
    }
    if (id) lastId = id;
    if (!data) return;
    let ev;
    try { ev = JSON.parse(data); } catch (e) { return; }
    for (const fn of listeners) fn(ev);
  }
  async function liveLoop(c, onConnect) {
    let delay = 1000;
    while (!c.signal.aborted) {
      try {
        const res = await api('/events?after=' + encodeURIComponent(lastId), { signal: c.signal, headers: { accept: 'text/event-stream' } });
        if (!res.ok || !res.body) throw new Error('HTTP ' + res.status);
        setLive('live');
        delay = 1000;
        onConnect();
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '';
        for (;;) {
          const r = await reader.read();
          if (r.done) break;
          buf += r.value.replace(/\r\n?/g, '\n');
          for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
            dispatch(buf.slice(0, i));
            buf = buf.slice(i + 2);
          }
        }
      } catch (e) {
        if (c.signal.aborted) return;
      }
      setLive('reconnecting…');
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 15000);
    }
  }
  /** Starts (or restarts) the stream; onConnect runs on every (re)connect so nothing missed stays stale. */
  function startLive(onConnect) {
    if (ctl) ctl.abort();
    ctl = new AbortController();
    setLive('connecting…');
    liveLoop(ctl, onConnect || (() => {})).catch(() => setLive('offline'));
  }
  /** Calls fn at most every ms milliseconds however many events arrive. */
  function debounce(fn, ms) {
    let t = null;
    return () => { if (!t) t = setTimeout(() => { t = null; Promise.resolve(fn()).catch(showError); }, ms); };
  }

  // ---- words for people ----
  const STATUS_WORDS = { queued: 'queued', running: 'running', succeeded: 'succeeded', failed: 'failed', skipped: 'skipped', review: 'awaiting review' };
  function badge(status, waiting) {
    return el('span', { class: 'badge s-' + status, 'data-status': status, text: waiting ? 'waiting' : (STATUS_WORDS[status] || status) });
  }
  const STEP_WORDS = { find: 'find study', ensureTask: 'FHIR task', retrieve: 'retrieve images', selectSeries: 'select series', volume: 'build volume', checkPatient: 'check patient', segment: 'contour', writeOutputs: 'write RTSTRUCT/SEG', renderPreviews: 'previews', reviewGate: 'review', store: 'store in PACS', verifyStored: 'verify stored', recordFhir: 'record in FHIR', archive: 'archive', complete: 'complete', finish: 'finish' };
  const STEP_ORDER = Object.keys(STEP_WORDS);
  const stepWord = (s) => (s ? STEP_WORDS[s] || s : '');
  function when(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    return isNaN(d) ? String(iso) : d.toLocaleString();
  }
  function patientCell(who) {
    if (!who) return '';
    return el('span', { class: 'phi' }, who.patientName ? who.patientName + ' · ' : '', who.patient || '?');
  }
  function showError(e) {
    const main = document.getElementById('main');
    const msg = e && e.status === 404 ? 'Not found: ' + e.message : 'Something went wrong: ' + ((e && e.message) || e);
    main.prepend(el('p', { class: 'reason', role: 'alert', text: msg }));
  }
  function init() {
    document.getElementById('signout').hidden = !token();
    document.getElementById('signout').addEventListener('click', () => { sessionStorage.removeItem(TOKEN_KEY); location.reload(); });
  }
  Object.assign(dfa, { el, fill, api, getJson, postJson, imageUrl, onEvent, startLive, debounce, badge, stepWord, STEP_ORDER, when, patientCell, showError, init, ApiError, STATUS_WORDS });
})();
`;
