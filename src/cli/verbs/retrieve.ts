import { join } from 'node:path';
import { RETRIEVE_METHODS, type RetrieveMethod } from '../../core/config.ts';
import { DfaError } from '../../core/errors.ts';
import { pacsFromConfig } from '../../dicom/pacs-from-config.ts';
import { defineFlags, parseVerbArgs } from '../flags.ts';
import type { Verb } from '../verb.ts';

const FLAGS = defineFlags({
  study: { type: 'string', value: 'uid', help: 'the study (required)' },
  series: { type: 'string', value: 'uid', help: 'one series only' },
  out: { type: 'string', value: 'dir', help: 'where to write' },
  method: { type: 'string', value: 'list', help: 'c-get,c-move,wado-rs (default DFA_RETRIEVE)' },
  json: { type: 'boolean', help: 'JSON output' },
});

export const verb: Verb = {
  summary: 'retrieve a study or series into a directory by C-GET / C-MOVE / WADO-RS, in DFA_RETRIEVE order with fallback',
  usage: [
    'npx dfa retrieve --study <study uid> --out /tmp/study',
    'npx dfa retrieve --study <study uid> --series <series uid> --method c-move,c-get',
    'DFA_RETRIEVE=wado-rs DFA_DICOMWEB_URL=http://localhost:8042/dicom-web npx dfa retrieve --study <uid> --json',
  ],
  flags: FLAGS,
  async run(args, ctx) {
    const { values: v } = parseVerbArgs(FLAGS, args);
    if (!v.study) throw new DfaError('CONFIG_INVALID', 'dfa retrieve needs --study <StudyInstanceUID>');
    let config = ctx.config;
    if (v.method) {
      const methods = v.method.split(',').map((m) => m.trim());
      const bad = methods.filter((m) => !(RETRIEVE_METHODS as readonly string[]).includes(m));
      if (bad.length) throw new DfaError('CONFIG_INVALID', `--method: unknown ${bad.join(', ')} (use ${RETRIEVE_METHODS.join(', ')})`);
      config = { ...config, DFA_RETRIEVE: methods as RetrieveMethod[] };
    }
    const out = v.out ?? join(config.DFA_DATA_DIR, 'retrieved', v.study);
    const pacs = await pacsFromConfig(config, ctx.log);
    try {
      const r = await pacs.retrieve({ studyInstanceUid: v.study, ...(v.series ? { seriesInstanceUid: v.series } : {}) }, out);
      if (v.json) {
        ctx.out(JSON.stringify({ method: r.method, dir: out, instances: r.instances.length, attempts: r.attempts }, null, 2));
      } else {
        for (const a of r.attempts) ctx.out(`${a.ok ? 'ok    ' : 'failed'} ${a.method.padEnd(7)} ${String(a.ms).padStart(6)} ms${a.reason ? `  ${a.reason}` : ''}`);
        ctx.out(`${r.instances.length} instance(s) in ${out} (by ${r.method})`);
      }
      return 0;
    } finally {
      await pacs.close();
    }
  },
};
