import { DfaError } from '../../core/errors.ts';
import { startWorkers } from '../../agent/jobs/worker.ts';
import { openAgent } from '../../agent/wiring.ts';
import { redactUrl } from '../../storage/db.ts';
import { defineFlags, parseVerbArgs } from '../flags.ts';
import type { Verb } from '../verb.ts';
import { livenessFromConfig } from '../../agent/jobs/liveness.ts';
import { stopSignal } from '../stop-signal.ts';

const FLAGS = defineFlags({
  concurrency: { type: 'string', value: 'n', help: 'jobs at once (default DFA_CONCURRENCY)' },
});

export const verb: Verb = {
  summary: 'run jobs from the shared queue until stopped (SIGINT/SIGTERM); several machines share DFA_DATABASE_URL',
  usage: [
    'DFA_DATABASE_URL=postgres://dfa:secret@db.example.org/dfa npx dfa worker',
    'DFA_DATABASE_URL=postgres://dfa:secret@db.example.org/dfa DFA_CONCURRENCY=2 npx dfa worker',
    'npx dfa worker --concurrency 2      # embedded database: only this process may use it',
  ],
  flags: FLAGS,
  async run(args, ctx) {
    const { values } = parseVerbArgs(FLAGS, args);
    const concurrency = values.concurrency === undefined ? ctx.config.DFA_CONCURRENCY : Number(values.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new DfaError('CONFIG_INVALID', `--concurrency must be a whole number ≥ 1, not '${values.concurrency}'`);
    const agent = await openAgent(ctx.config, ctx.log, { checkPacs: true });
    let workers;
    try {
      workers = await startWorkers(agent.db, agent.deps, { concurrency, liveness: livenessFromConfig(ctx.config) });
    } catch (e) {
      await agent.close();
      throw e;
    }
    const where = agent.db.embedded ? `embedded database in ${ctx.config.DFA_DATA_DIR}` : redactUrl(agent.db.url);
    // Listen before saying we started: whoever waits for that line may signal us at once.
    const stopped = stopSignal();
    ctx.log.info('worker started', { concurrency, database: where, pid: process.pid });
    const signal = await stopped;
    // Graceful: jobs in progress finish their step; pg-boss hands back what is unfinished.
    ctx.log.info('worker stopping', { signal });
    await workers.stop();
    await agent.close();
    return 0;
  },
};
