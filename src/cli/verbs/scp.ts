import { join } from 'node:path';
import { scpFromConfig } from '../../dicom/scp/receiver.ts';
import { artifactStoreFromConfig } from '../../storage/artifacts-from-config.ts';
import type { Verb } from '../verb.ts';
import { stopSignal } from '../stop-signal.ts';

export const verb: Verb = {
  summary: 'run our DICOM node alone (AE DFA_AET on DFA_SCP_HOST:DFA_SCP_PORT): C-ECHO + C-STORE into DFA_DATA_DIR/artifacts/inbox',
  usage: [
    'npx dfa scp                                       # AE DFA on 127.0.0.1:11112, accepts DFA_PACS_AET or anyone if unset',
    'DFA_SCP_HOST=0.0.0.0 DFA_SCP_ALLOWED_PEERS=ORTHANC@10.0.0.5,PACS1@pacs1.example.org npx dfa scp   # off loopback: AEs bound to hosts',
  ],
  async run(_args, ctx) {
    const artifacts = artifactStoreFromConfig(ctx.config);
    const scp = await scpFromConfig(ctx.config, { artifacts }, ctx.log).start();
    const allowed = ctx.config.DFA_SCP_ALLOWED_AETS ?? (ctx.config.DFA_PACS_AET ? [ctx.config.DFA_PACS_AET] : undefined);
    const peers = ctx.config.DFA_SCP_ALLOWED_PEERS ? `; peers: ${ctx.config.DFA_SCP_ALLOWED_PEERS.join(',')}` : '';
    const stopped = stopSignal(); // listening before the line below: a caller may signal as soon as it reads it
    ctx.out(`DICOM SCP ${scp.aet} listening on ${scp.host}:${scp.port}; calling AEs: ${allowed ? allowed.join(',') : 'any'}${peers}; instances → ${join(artifacts.root, 'inbox')}  (Ctrl-C to stop)`);
    await stopped;
    await scp.close();
    ctx.out(`received ${scp.inbox.length} instance(s)`);
    return 0;
  },
};
