import { userInfo } from 'node:os';
import { DfaError } from '../../core/errors.ts';
import { runUntilSettled, submitReview } from '../../agent/review.ts';
import { openAgent } from '../../agent/wiring.ts';
import { AuditStore, type JobRecord } from '../../storage/audit.ts';
import { openDatabase } from '../../storage/db.ts';
import { defineFlags, parseVerbArgs } from '../flags.ts';
import type { Verb } from '../verb.ts';

function waitingLine(j: JobRecord): string {
  const since = j.review?.requestedAt ?? j.updatedAt.toISOString();
  return [`${j.studyInstanceUid}  waiting since ${since}`, `    job ${j.jobKey}`, `    why ${j.reason ?? j.review?.reason ?? 'review required'}`].join('\n');
}

function whoAmI(env: Readonly<Record<string, string | undefined>>): string {
  let user = env.USER ?? env.LOGNAME;
  try {
    user ??= userInfo().username;
  } catch {
    user ??= 'unknown';
  }
  return `cli:${user}`;
}

const FLAGS = defineFlags({
  comment: { type: 'string', value: 'text', help: 'why (required to reject; goes to the audit and the FHIR Task)' },
  reviewer: { type: 'string', value: 'name', help: 'who decides (default: cli:<login name>); FHIR Provenance verifier' },
  workers: { type: 'string', value: 'n', help: 'run the resumed job here with n workers (default DFA_CONCURRENCY; 0 = only record it)' },
  json: { type: 'boolean', help: 'JSON output' },
});

export const verb: Verb = {
  summary: 'contours waiting for a person: list them, approve (they go to the PACS) or reject (nothing is stored)',
  usage: [
    'npx dfa review list',
    'npx dfa review approve <StudyInstanceUID or job key> --comment "checked slice by slice"',
    'npx dfa review reject <StudyInstanceUID or job key> --comment "right lung base leaks into the liver"',
    'npx dfa review approve <job key> --reviewer "Dr A. Physicist" --workers 0   # record only; `dfa serve`/`dfa worker` resume it',
  ],
  flags: FLAGS,
  async run(args, ctx) {
    const { values, positionals } = parseVerbArgs(FLAGS, args, { allowPositionals: true });
    const [action, ref] = positionals;
    if (action === 'list' || action === undefined) {
      const db = await openDatabase(ctx.config);
      try {
        const waiting = await new AuditStore(db.pool).listReviews();
        if (values.json) ctx.out(JSON.stringify(waiting, null, 2));
        else if (waiting.length === 0) ctx.out('no contours waiting for review (goals say "for review" to hold every result; DFA_REVIEW sets the default)');
        else for (const j of waiting) ctx.out(waitingLine(j));
        return 0;
      } finally {
        await db.close();
      }
    }
    if (action !== 'approve' && action !== 'reject') throw new DfaError('CONFIG_INVALID', `review ${action}: use list, approve or reject`);
    if (!ref) throw new DfaError('CONFIG_INVALID', `review ${action} needs a StudyInstanceUID or job key (npx dfa review list)`);
    if (action === 'reject' && !values.comment) throw new DfaError('CONFIG_INVALID', 'a rejection needs --comment saying why (it goes to the FHIR Task)');
    const workers = values.workers === undefined ? ctx.config.DFA_CONCURRENCY : Number(values.workers);
    if (!Number.isInteger(workers) || workers < 0) throw new DfaError('CONFIG_INVALID', `--workers must be a whole number ≥ 0, not '${values.workers}'`);

    const agent = await openAgent(ctx.config, ctx.log, { checkPacs: action === 'approve' && workers > 0 });
    try {
      const decided = await submitReview(agent.db, ref, { decision: action, reviewer: values.reviewer ?? whoAmI(ctx.env), comment: values.comment });
      ctx.out(`${action === 'approve' ? 'approved' : 'rejected'}: job ${decided.jobKey} (study ${decided.studyInstanceUid})`);
      if (workers === 0) {
        ctx.out('queued: a running `dfa serve` or `dfa worker` resumes it');
        return 0;
      }
      const end = await runUntilSettled(agent.db, agent.deps, decided.jobKey, { workers });
      if (values.json) ctx.out(JSON.stringify(end, null, 2));
      else ctx.out(`${end.status}${end.reason ? ` — ${end.reason}` : ''}`);
      return end.status === 'succeeded' || (action === 'reject' && end.status === 'failed') ? 0 : 1;
    } finally {
      await agent.close();
    }
  },
};
