import { startServe } from '../../serve/serve.ts';
import type { Verb } from '../verb.ts';
import { stopSignal } from '../stop-signal.ts';

export const verb: Verb = {
  summary: 'run the agent as a service: REST API + our DICOM SCP + workers (+ a standing goal on pushed studies) until SIGINT/SIGTERM',
  usage: [
    'npx dfa serve                                                  # API on 127.0.0.1:8080, SCP DFA@127.0.0.1:11112, embedded PACS + FHIR',
    'DFA_API_PORT=9000 DFA_CONCURRENCY=2 npx dfa serve',
    'curl -s -XPOST localhost:8080/goals -H content-type:application/json -d \'{"goal":"Analyze all pending CT scans for lung segmentation and store RTSTRUCT in PACS"}\'',
    'DFA_STANDING_GOAL="Analyze all pending CT scans for lung segmentation and store RTSTRUCT in PACS" DFA_STANDING_REGISTER=1 npx dfa serve',
    'storescu -aec DFA 127.0.0.1 11112 +sd study-dir/             # a pushed study becomes a run once quiet (DFA_STANDING_GOAL_QUIET_MS)',
  ],
  async run(_args, ctx) {
    const served = await startServe(ctx.config, ctx.log);
    const stopped = stopSignal(); // listening before the lines below: a caller may signal as soon as it reads them
    for (const l of served.lines) ctx.out(l);
    ctx.out('Ctrl-C to stop');
    const signal = await stopped;
    // Graceful: no new requests or pushes; jobs in progress finish their step; queued jobs stay queued.
    ctx.log.info('serve stopping', { signal });
    await served.close();
    ctx.log.info('serve stopped');
    return 0;
  },
};
