import { DfaError } from '../../core/errors.ts';
import { startService } from '../../services/service-server.ts';
import { SERVICES } from '../service-table.ts';
import { packageVersion } from '../../io/package-version.ts';
import { defineFlags, parseVerbArgs } from '../flags.ts';
import type { Verb } from '../verb.ts';
import { stopSignal } from '../stop-signal.ts';

const FLAGS = defineFlags({
  port: { type: 'string', value: 'n', help: "port to listen on (default DFA_SERVICE_PORT, else the service's own)" },
  host: { type: 'string', value: 'addr', help: 'interface to bind (default DFA_SERVICE_HOST, 127.0.0.1)' },
});

export const verb: Verb = {
  summary: 'run one service (dicom, fhir, ml, storage) on its own, behind its HTTP API (OpenAPI at /openapi.json), until SIGINT/SIGTERM',
  usage: [
    'DFA_PACS_HOST=pacs DFA_PACS_PORT=104 DFA_PACS_AET=PACS npx dfa service dicom   # dicom_handler on 127.0.0.1:8093 (PACS + our SCP)',
    'DFA_FHIR_URL=https://fhir/r4 DFA_FHIR_AUTH=bearer DFA_FHIR_TOKEN=… npx dfa service fhir   # fhir_handler on 127.0.0.1:8094',
    'DFA_DICOM_URL=http://127.0.0.1:8093 DFA_FHIR_SERVICE_URL=http://127.0.0.1:8094 npx dfa worker   # the agent uses both',
    'npx dfa service ml                                            # ml_processor on 127.0.0.1:8091 (models, segmentation + QC)',
    'npx dfa service storage --port 9092                           # storage_service (the artifact store over HTTP)',
    'DFA_SERVICE_HOST=0.0.0.0 DFA_API_AUTH=token DFA_API_TOKEN=$(openssl rand -hex 24) npx dfa service ml',
    'DFA_ML_URL=http://127.0.0.1:8091,http://127.0.0.1:8095 npx dfa worker   # the agent uses two ml replicas',
  ],
  flags: FLAGS,
  async run(args, ctx) {
    const { values, positionals } = parseVerbArgs(FLAGS, args, { allowPositionals: true });
    const name = positionals[0];
    const entry = name ? SERVICES[name] : undefined;
    if (!name || !entry) {
      const known = Object.keys(SERVICES).join(', ') || 'none';
      throw new DfaError('CONFIG_INVALID', `${name ? `no service '${name}'` : 'name a service'}: dfa service <${known}>`);
    }
    const portText = values.port;
    const port = portText !== undefined ? Number(portText) : (ctx.config.DFA_SERVICE_PORT ?? entry.defaultPort);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new DfaError('CONFIG_INVALID', `--port ${portText ?? ''}: a whole number from 0 to 65535`);
    const host = values.host ?? ctx.config.DFA_SERVICE_HOST;
    const log = ctx.log.child({ svc: name });
    const def = await entry.build(ctx.config, log);
    const running = await startService(def, ctx.config, { host, port, version: await packageVersion(), log, ratePerMinute: undefined });
    const stopped = stopSignal(); // listening before the lines below: a caller may signal as soon as it reads them
    ctx.out(`${def.title.padEnd(16)}${running.url}/  (auth ${ctx.config.DFA_API_AUTH}; OpenAPI ${running.url}/openapi.json, ready ${running.url}/ready)`);
    ctx.out('Ctrl-C to stop');
    const signal = await stopped;
    log.info('service stopping', { signal });
    await running.close();
    return 0;
  },
};
