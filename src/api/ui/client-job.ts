/**
 * Browser code for `/ui/jobs/{key}`: who the study is (MRN and name masked until revealed, for
 * callers allowed to see them), where the job stands, why it failed in words for people (raw codes
 * and file paths only inside a <details> fold), previews (fetched with the token, shown as blobs),
 * QC checks with their limits, volumes, coverage, model, fallback, a per-step timeline, and for a
 * job awaiting review the Approve / Reject form (POST /jobs/{key}/review). Live: the page refreshes
 * its sections from the event stream; the review form is kept while the job still waits.
 */
export const JOB_JS = String.raw`
(function () {
  const { el, getJson, postJson, imageUrl, badge, stepWord, when, STEP_ORDER } = dfa;

  // DfaError codes (src/core/errors.ts) said for people; the raw text stays in the fold.
  const WORDS = {
    DICOM_MISSING_SLICES: 'The scan has slices missing, so it cannot be contoured safely.',
    DICOM_INCONSISTENT_SERIES: 'The images of the series do not fit together (sizes, orientations or frames differ).',
    DICOM_BAD_GEOMETRY: 'The image geometry in the DICOM headers is not usable.',
    DICOM_NOT_CT: 'The series is not a CT.',
    DICOM_NO_IMAGE_SERIES: 'The study has no image series to contour.',
    DICOM_NO_PIXEL_DATA: 'The images carry no pixel data.',
    DICOM_PARSE_FAILED: 'An image file could not be read (damaged or not DICOM).',
    DICOM_UNSUPPORTED_TRANSFER_SYNTAX: 'The images are compressed in a way this system cannot decode.',
    DICOM_ASSOCIATION_REJECTED: 'The PACS refused the connection.',
    DICOM_AE_NOT_ALLOWED: 'The PACS does not know this system (AE title not configured there).',
    DICOM_TIMEOUT: 'The PACS did not answer in time.',
    DICOM_CONNECTION_FAILED: 'The PACS could not be reached.',
    DICOM_OPERATION_FAILED: 'The PACS reported a failure.',
    DICOMWEB_HTTP_ERROR: 'The PACS web service (DICOMweb) reported an error.',
    RETRIEVE_FAILED: 'The images could not be fetched from the PACS by any configured method.',
    STORE_FAILED: 'The contours could not be stored in the PACS.',
    RTSTRUCT_INVALID: 'The contour object (RTSTRUCT) did not pass validation.',
    FHIR_HTTP_ERROR: 'The FHIR server reported an error.',
    FHIR_CONFLICT: 'Someone else changed the study record in FHIR at the same time.',
    FHIR_AUTH_FAILED: 'The FHIR server did not accept our credentials.',
    FHIR_TIMEOUT: 'The FHIR server did not answer in time.',
    FHIR_UNAVAILABLE: 'The FHIR server could not be reached.',
    FHIR_PATIENT_MISMATCH: 'The patient in the images does not match the patient in FHIR.',
    MODEL_INVALID: 'The contouring model is not usable.',
    MODEL_NOT_INSTALLED: 'The contouring model the goal asks for is not installed.',
    SEGMENTATION_FAILED: 'Contouring failed.',
    DATABASE_ERROR: 'The job database reported an error.',
    SERVICE_UNREACHABLE: 'A service this job needs could not be reached.',
    INTERNAL: 'An internal error stopped the job.',
  };
  const PATH = /(?:[A-Za-z]:)?(?:[\\/][\w.@%+~-]+){2,}[\\/]?/g;
  /** A file path said as its file name only ('…/IM0005.dcm'); the full path stays in the fold. */
  const baseName = (p) => '…/' + p.replace(/[\/]+$/, '').split(/[\/]/).pop();
  /** { headline, detail, raw }: a sentence for people; file paths dropped from what shows unfolded. */
  function forPeople(raw) {
    if (!raw) return null;
    const m = /^([A-Z][A-Z0-9_]+): ([\s\S]*)$/.exec(raw);
    const code = m ? m[1] : null;
    const text = (m ? m[2] : raw).replace(PATH, baseName).replace(/\s*\(retries used up\)\s*$/, '');
    const headline = code && WORDS[code] ? WORDS[code] : text.charAt(0).toUpperCase() + text.slice(1);
    return { headline: headline, detail: code && WORDS[code] ? text : null, raw: raw, code: code };
  }
  function reasonBlock(reason, cls) {
    const r = forPeople(reason);
    if (!r) return null;
    return el('div', { class: 'reason ' + (cls || ''), id: 'job-reason' },
      el('p', { text: r.headline }),
      r.detail ? el('p', { class: 'hint', text: r.detail }) : null,
      el('details', null, el('summary', { text: 'Technical details' }),
        r.code ? el('p', null, 'Code: ', el('code', { text: r.code })) : null,
        el('pre', { class: 'mono', text: r.raw })));
  }
  const ml = (v) => (Math.round(v * 10) / 10).toFixed(1) + ' mL';
  const lastOf = (events, kind) => { for (let i = events.length - 1; i >= 0; i--) if (events[i].kind === kind) return events[i]; return null; };
  const facts = (pairs) => el('dl', { class: 'facts' }, pairs.filter((p) => p).map((p) => [el('dt', { text: p[0] }), el('dd', null, p[1])]));

  function jobPage(jobKey) {
    const main = document.getElementById('main');
    let phi = false;
    let reviewSig = null;
    let previewSig = null;
    main.replaceChildren(
      el('p', { id: 'crumbs' }, el('a', { href: '/', text: '← Runs and jobs' })),
      el('div', { id: 'job-head' }), el('div', { id: 'job-review' }),
      el('section', { 'aria-labelledby': 'h-previews' }, el('h2', { id: 'h-previews', text: 'Previews' }), el('div', { id: 'job-previews', class: 'previews' })),
      el('div', { class: 'cards' },
        el('section', { class: 'card', 'aria-labelledby': 'h-results' }, el('h2', { id: 'h-results', text: 'Results' }), el('div', { id: 'job-results' })),
        el('section', { class: 'card', 'aria-labelledby': 'h-timeline' }, el('h2', { id: 'h-timeline', text: 'Timeline' }), el('div', { id: 'job-timeline' }))),
      el('section', { 'aria-labelledby': 'h-qc' }, el('h2', { id: 'h-qc', text: 'Quality checks' }), el('div', { id: 'job-qc' })),
      el('details', { id: 'job-events' }, el('summary', { text: 'All events' }), el('div', { id: 'job-events-list' })));
    const set = (id, ...kids) => document.getElementById(id).replaceChildren(...kids.flat().filter((k) => k));

    async function render() {
      const { res, body } = await getJson('/jobs/' + encodeURIComponent(jobKey) + (phi ? '?phi=1' : ''));
      const j = body.job;
      const ev = body.events || [];
      const w = j.who || {};
      document.title = (w.description || 'Job') + ' — ' + (dfa.STATUS_WORDS[j.status] || j.status) + ' — dfa';
      set('crumbs', el('a', { href: '/', text: '← Runs and jobs' }), ' · ', el('a', { href: '/ui/runs/' + encodeURIComponent(j.runId), text: 'its goal run' }));
      const masked = phi && res.headers.get('x-dfa-phi') === 'masked';
      const reveal = el('button', { type: 'button', id: 'reveal', 'aria-pressed': phi ? 'true' : 'false', onclick: () => { phi = !phi; render().catch(dfa.showError); } }, phi ? 'Hide' : 'Show name and MRN');
      const viewer = j.viewerUrl && /^https?:\/\//i.test(j.viewerUrl) ? el('a', { href: j.viewerUrl, target: '_blank', rel: 'noopener', id: 'viewer-link', text: 'Open in the image viewer' }) : null;
      set('job-head',
        el('h1', null, (w.description || 'Study') + ' ', badge(j.status, j.waiting)),
        facts([
          ['Patient', el('span', null, el('span', { id: 'patient', class: 'phi', text: (w.patientName ? w.patientName + ' · ' : '') + 'MRN ' + (w.patient || '?') }), ' ', reveal,
            masked ? el('span', { class: 'hint', role: 'status', text: ' Your sign-in may not see names and MRNs.' }) : null)],
          ['Accession', w.accession || '—'],
          ['Study date', w.studyDate || '—'],
          ['Description', w.description || '—'],
          ['Series', (w.series || []).map((s) => s.modality + (s.description ? ' “' + s.description + '”' : '') + (s.slices !== undefined ? ', ' + s.slices + ' slices' : '')).join('; ') || '—'],
          ['Status', el('span', { id: 'job-status', 'data-status': j.status, text: (dfa.STATUS_WORDS[j.status] || j.status) + (j.step ? ' — at step: ' + stepWord(j.step) : '') })],
          j.waiting ? ['Waiting', j.waiting] : null,
          ['Study UID', el('code', { text: j.studyInstanceUid })],
          viewer ? ['Viewer', viewer] : null,
        ]),
        j.status === 'review' ? null : reasonBlock(j.reason, j.status === 'skipped' ? 'r-review' : ''));
      renderReview(j);
      renderPreviews(j);
      renderResults(j, ev);
      renderTimeline(j, ev);
      set('job-events-list', el('table', null,
        el('thead', null, el('tr', null, ['Time', 'Step', 'Kind', 'Message'].map((h) => el('th', { scope: 'col', text: h })))),
        el('tbody', null, ev.map((e) => el('tr', null, el('td', { text: when(e.at) }), el('td', { text: stepWord(e.step) }), el('td', { text: e.kind }), el('td', { class: 'mono', text: e.message || '' }))))));
    }

    function renderReview(j) {
      const r = j.review;
      const sig = j.status + '|' + JSON.stringify(r);
      if (sig === reviewSig) return;
      reviewSig = sig;
      if (j.status === 'review' && !(r && r.decision)) {
        const msg = el('p', { id: 'review-msg', role: 'status', class: 'msg' });
        const comment = el('textarea', { id: 'review-comment', maxlength: 2000, 'aria-describedby': 'review-hint' });
        const decide = async (decision) => {
          if (decision === 'reject' && !comment.value.trim()) { msg.className = 'msg err'; msg.textContent = 'Say why you reject the contours (the comment is required).'; comment.focus(); return; }
          for (const b of document.querySelectorAll('#job-review button')) b.disabled = true;
          try {
            const out = await postJson('/jobs/' + encodeURIComponent(jobKey) + '/review', { decision: decision, comment: comment.value.trim() || undefined });
            msg.className = 'msg';
            msg.textContent = (decision === 'approve' ? 'Approved' : 'Rejected') + '; the job is ' + out.status + ' and continues — this page updates by itself.';
          } catch (e) {
            msg.className = 'msg err';
            msg.textContent = 'Not recorded: ' + e.message;
            for (const b of document.querySelectorAll('#job-review button')) b.disabled = false;
          }
        };
        set('job-review', el('section', { class: 'review', 'aria-labelledby': 'h-review' },
          el('h2', { id: 'h-review', text: 'Awaiting your review' }),
          el('p', { id: 'review-why', text: (r && r.reason) || j.reason || 'The contours wait for a person to look at them.' }),
          el('p', { class: 'hint', text: 'Look at the previews below. Approve stores the contours in the PACS and records them in FHIR; reject ends the job and nothing is stored.' }),
          el('label', { for: 'review-comment', text: 'Comment' }),
          el('p', { id: 'review-hint', class: 'hint', text: 'Optional when approving; required when rejecting.' }),
          comment,
          el('div', { class: 'actions' },
            el('button', { type: 'button', class: 'primary', id: 'approve', onclick: () => decide('approve') }, 'Approve contours'),
            el('button', { type: 'button', class: 'danger', id: 'reject', onclick: () => decide('reject') }, 'Reject')),
          msg));
      } else if (r && r.decision) {
        set('job-review', el('section', { class: 'card', id: 'review-decision', 'aria-labelledby': 'h-review' },
          el('h2', { id: 'h-review', text: 'Review' }),
          facts([
            ['Why reviewed', r.reason || '—'],
            ['Decision', r.decision === 'approve' ? 'approved' : 'rejected'],
            ['By', r.reviewer || '—'],
            ['When', when(r.decidedAt)],
            r.comment ? ['Comment', el('span', { id: 'review-comment-shown', text: r.comment })] : null,
          ])));
      } else set('job-review');
    }

    function renderPreviews(j) {
      const list = j.previews || [];
      const sig = list.map((p) => p.url).join('|');
      if (sig === previewSig) return;
      previewSig = sig;
      if (!list.length) { set('job-previews', el('p', { class: 'muted', text: 'No previews (the job made no contours yet).' })); return; }
      set('job-previews', list.map((p) => {
        const img = el('img', { alt: 'Contour preview: ' + p.name.replace(/[-_]/g, ' '), width: p.width, height: p.height, 'data-preview': p.name });
        imageUrl(p.url).then((u) => { img.src = u; }).catch((e) => { img.alt = 'Preview could not be loaded: ' + e.message; });
        return el('figure', null, img, el('figcaption', { text: p.name.replace(/[-_]/g, ' ') }));
      }));
    }

    // A written RTSTRUCT reaches the PACS only after the review gate: say where it is, not just its UID.
    function rtstructCell(j) {
      const rt = j.outputs && j.outputs.rtstruct;
      if (j.review && j.review.decision === 'reject') return el('span', { id: 'rtstruct-state', text: 'not stored — the contours were rejected' });
      if (!rt) return '—';
      const where = j.status === 'succeeded' ? 'stored in the PACS' : j.status === 'review' ? 'written, waiting for review (not in the PACS)' : 'written, not stored yet';
      return el('span', { id: 'rtstruct-state' }, el('code', { text: rt.sopInstanceUid }), ' — ' + where);
    }

    function renderResults(j, ev) {
      const qc = lastOf(ev, 'qc');
      const cov = (qc && qc.data && qc.data.coverage) || {};
      const fb = ev.filter((e) => e.kind === 'fallback');
      const vols = j.volumesMl || {};
      set('job-results',
        facts([
          ['Model', j.model ? j.model.name + ' ' + j.model.version : '—'],
          ['Fallback used', j.fallbackUsed === null ? '—' : j.fallbackUsed ? 'yes' : 'no'],
          fb.length ? ['Why', fb.map((e) => e.message).join('; ')] : null,
          ['RTSTRUCT', rtstructCell(j)],
        ]),
        Object.keys(vols).length ? el('table', { id: 'volumes' },
          el('caption', { text: 'Volumes and coverage' }),
          el('thead', null, el('tr', null, el('th', { scope: 'col', text: 'Structure' }), el('th', { scope: 'col', text: 'Volume' }), el('th', { scope: 'col', text: 'Coverage' }))),
          el('tbody', null, Object.keys(vols).map((k) => el('tr', null, el('td', { text: k }), el('td', { class: 'num', text: ml(vols[k]) }),
            el('td', { text: cov[k] === 'partial' ? 'partial — cut by the scan\u2019s end' : cov[k] || '—' }))))) : null);
      const checks = (qc && qc.data && qc.data.checks) || [];
      set('job-qc', checks.length ? el('table', { id: 'qc' },
        el('caption', { text: (qc.data.limits && qc.data.limits.basis) || 'QC checks' }),
        el('thead', null, el('tr', null, ['Check', 'Result', 'Value', 'Limit'].map((h) => el('th', { scope: 'col', text: h })))),
        el('tbody', null, checks.map((c) => el('tr', null, el('td', { text: c.name }),
          el('td', null, el('span', { class: 'badge ' + (c.ok ? 's-succeeded' : 's-failed'), text: c.ok ? 'pass' : 'fail' })),
          el('td', { class: 'num', text: typeof c.value === 'number' ? String(Math.round(c.value * 100) / 100) : c.value }),
          el('td', { text: c.expected })))))
        : el('p', { class: 'muted', text: 'No QC yet.' }));
    }

    function renderTimeline(j, ev) {
      const t = j.timingsMs || {};
      const steps = Object.keys(t).sort((a, b) => STEP_ORDER.indexOf(a) - STEP_ORDER.indexOf(b));
      const max = Math.max(1, ...steps.map((s) => t[s]));
      const at = {};
      for (const e of ev) if (e.kind === 'step' && e.step) at[e.step] = e.at;
      // Where a failed job stopped: the step row of that name, or of the same word (a rejection names
      // 'review', the step that parked the job is 'reviewGate'), else a row of its own.
      const failedAt = j.status === 'failed' && j.step ? steps.find((s) => s === j.step || stepWord(s) === stepWord(j.step)) : undefined;
      if (j.status === 'failed' && j.step && !failedAt) steps.push(j.step);
      // An event repeated by the worker and by the runner (same kind and message) is shown once.
      const keyEvents = [];
      for (const e of ev) {
        if (!['queued', 'started', 'resumed', 'retry', 'waiting', 'waited', 'fallback', 'review', 'approved', 'rejected', 'review-decided', 'succeeded', 'failed', 'skipped'].includes(e.kind)) continue;
        if (keyEvents.some((k) => k.kind === e.kind && (k.message || '') === (e.message || '') && ['succeeded', 'failed', 'skipped', 'rejected', 'approved'].includes(e.kind))) continue;
        const last = keyEvents[keyEvents.length - 1];
        if (last && last.kind === e.kind && (last.message || '') === (e.message || '')) continue;
        keyEvents.push(e);
      }
      set('job-timeline',
        steps.length ? el('ol', { class: 'timeline', id: 'steps' }, steps.map((s) => el('li', null,
          el('span', { text: stepWord(s) }),
          s in t ? el('span', { class: 'num' }, el('span', { class: 'bar', style: { width: Math.round((t[s] / max) * 80) + 'px' }, 'aria-hidden': 'true' }), (t[s] / 1000).toFixed(2) + ' s', s === failedAt ? el('span', { class: 'badge s-failed', text: 'failed here' }) : null)
            : el('span', { class: 'badge s-failed', text: 'failed here' }),
          el('span', { class: 'muted', text: at[s] ? 'done ' + when(at[s]) : '' })))) : el('p', { class: 'muted', text: 'No step finished yet.' }),
        keyEvents.length ? el('h3', { text: 'Events' }) : null,
        keyEvents.length ? el('ol', { class: 'timeline', 'aria-label': 'Key events' }, keyEvents.map((e) => el('li', null,
          el('span', { text: e.at ? new Date(e.at).toLocaleTimeString() : '' }), el('span', { text: e.kind }), el('span', { text: e.kind === 'failed' ? (forPeople(e.message) || {}).headline || '' : (e.message || '').replace(PATH, baseName) })))) : null);
    }
    return { render: render, refresh: render, onEvent: (e) => e.jobKey === jobKey };
  }
  dfa.jobPage = jobPage;
})();
`;
