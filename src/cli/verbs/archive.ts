import { DfaError } from '../../core/errors.ts';
import { maskId } from '../../core/redact.ts';
import { agentArtifactStore } from '../../agent/artifacts-from-config.ts';
import { ResultsArchive, retentionCutoff } from '../../storage/archive.ts';
import type { ArchiveEntry } from '../../storage/archive-record.ts';
import { openDatabase } from '../../storage/db.ts';
import { defineFlags, parseVerbArgs } from '../flags.ts';
import type { Verb } from '../verb.ts';

function line(e: ArchiveEntry, showPhi: boolean): string {
  const r = e.record;
  const patient = e.patientId ? (showPhi ? e.patientId : maskId(e.patientId)) : '-';
  const outs = [r.outputs.rtstruct && `RTSTRUCT ${r.outputs.rtstruct.sopInstanceUid}`, r.outputs.seg && `SEG ${r.outputs.seg.sopInstanceUid}`].filter(Boolean).join(', ');
  return [
    `${e.archivedAt}  study ${e.studyInstanceUid}  patient ${patient}`,
    `    job ${e.jobKey}  model ${r.model.name} ${r.model.version}${r.reviewer ? `  reviewed by ${r.reviewer}` : ''}`,
    `    out ${outs || '-'}; ${r.outputs.previews.length} preview(s); FHIR ${r.fhir.join(', ') || '-'}`,
    `    at ${e.prefix}/`,
  ].join('\n');
}

const FLAGS = defineFlags({
  study: { type: 'string', value: 'uid', help: 'list: one StudyInstanceUID' },
  patient: { type: 'string', value: 'id', help: 'list: one PatientID (MRN)' },
  from: { type: 'string', value: 'date', help: 'list: archived on or after (YYYY-MM-DD or ISO time)' },
  to: { type: 'string', value: 'date', help: 'list: archived on or before (a YYYY-MM-DD includes the whole day)' },
  limit: { type: 'string', value: 'n', help: 'list: at most n entries (default 100)' },
  'show-phi': { type: 'boolean', help: 'list: full patient IDs (default: masked, ***01)' },
  'older-than-days': { type: 'string', value: 'n', help: 'prune: instead of DFA_ARCHIVE_RETENTION_DAYS' },
  'dry-run': { type: 'boolean', help: 'prune: say what would go, delete nothing' },
  json: { type: 'boolean', help: 'JSON output' },
});

/**
 * `dfa archive list|prune`: the results archive (src/storage/archive.ts). A separate verb rather than
 * flags on `dfa jobs`: the archive outlives the job rows' meaning (retention, other stores) and
 * prune deletes, which a listing verb should not.
 */
export const verb: Verb = {
  summary: 'the results archive: list archived job results by study, patient or date; prune entries past retention',
  usage: [
    'npx dfa archive list --study 1.2.826.0.1.3680043.8.498.1',
    'npx dfa archive list --patient MRN-001 --show-phi --json',
    'npx dfa archive list --from 2026-01-01 --to 2026-01-31',
    'DFA_ARCHIVE_RETENTION_DAYS=365 npx dfa archive prune        # delete entries older than a year (objects and rows)',
    'npx dfa archive prune --older-than-days 30 --dry-run',
  ],
  flags: FLAGS,
  async run(args, ctx) {
    const { values, positionals } = parseVerbArgs(FLAGS, args, { allowPositionals: true });
    const [action] = positionals;
    if (action !== 'list' && action !== 'prune') throw new DfaError('CONFIG_INVALID', "dfa archive: say 'list' or 'prune'");
    const db = await openDatabase(ctx.config);
    try {
      const archive = new ResultsArchive(agentArtifactStore(ctx.config), db.pool);
      if (action === 'list') {
        const limit = values.limit === undefined ? 100 : Number(values.limit);
        if (!Number.isInteger(limit) || limit < 1) throw new DfaError('CONFIG_INVALID', '--limit must be a whole number ≥ 1');
        const found = await archive.query({ study: values.study, patient: values.patient, from: values.from, to: values.to, limit });
        const shown = values['show-phi'] ? found : found.map((e) => ({ ...e, ...(e.patientId ? { patientId: maskId(e.patientId) } : {}), record: { ...e.record, ...(e.record.patientId ? { patientId: maskId(e.record.patientId) } : {}) } }));
        if (values.json) ctx.out(JSON.stringify({ entries: shown }, null, 2));
        else {
          for (const e of found) ctx.out(line(e, values['show-phi']));
          ctx.out(`${found.length} archived result(s)`);
        }
        return 0;
      }
      const days = values['older-than-days'] === undefined ? ctx.config.DFA_ARCHIVE_RETENTION_DAYS : Number(values['older-than-days']);
      if (days !== undefined && (!Number.isInteger(days) || days < 1)) throw new DfaError('CONFIG_INVALID', '--older-than-days must be a whole number ≥ 1');
      const cutoff = retentionCutoff(days);
      if (!cutoff) {
        ctx.out('no retention set (DFA_ARCHIVE_RETENTION_DAYS unset, no --older-than-days): the archive is kept forever; nothing pruned');
        return 0;
      }
      const gone = values['dry-run'] ? (await archive.query({ to: new Date(cutoff.getTime() - 1).toISOString(), limit: 1000 })) : await archive.prune(cutoff);
      const verbWord = values['dry-run'] ? 'would delete' : 'deleted';
      if (values.json) ctx.out(JSON.stringify({ cutoff: cutoff.toISOString(), dryRun: values['dry-run'], entries: gone.map((e) => ({ studyInstanceUid: e.studyInstanceUid, jobKey: e.jobKey, archivedAt: e.archivedAt, prefix: e.prefix })) }, null, 2));
      else ctx.out(`${verbWord} ${gone.length} archive entr${gone.length === 1 ? 'y' : 'ies'} archived before ${cutoff.toISOString()}`);
      return 0;
    } finally {
      await db.close();
    }
  },
};
