import { pacsFromConfig } from '../../dicom/pacs-from-config.ts';
import type { Verb } from '../verb.ts';

export const verb: Verb = {
  summary: 'C-ECHO the configured PACS (or the embedded dev PACS): checks host, port and both AE titles',
  usage: [
    'npx dfa echo',
    'DFA_PACS_HOST=pacs.local DFA_PACS_PORT=104 DFA_PACS_AET=PACS DFA_AET=DFA npx dfa echo',
  ],
  async run(_args, ctx) {
    const pacs = await pacsFromConfig(ctx.config, ctx.log);
    try {
      const t0 = performance.now();
      await pacs.echo();
      const p = pacs.dimse?.peer;
      const who = p ? `${p.calledAet}@${p.host}:${p.port} from AE ${p.callingAet}` : pacs.web?.baseUrl ?? 'PACS';
      ctx.out(`C-ECHO ${who}: Success (${Math.round(performance.now() - t0)} ms)${pacs.embedded ? ' [embedded dev PACS]' : ''}`);
      return 0;
    } finally {
      await pacs.close();
    }
  },
};
