import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DfaError } from '../../core/errors.ts';
import { pacsFromConfig } from '../../dicom/pacs-from-config.ts';
import { defineFlags, parseVerbArgs } from '../flags.ts';
import type { Verb } from '../verb.ts';

async function expand(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    const s = await stat(p).catch(() => undefined);
    if (!s) throw new DfaError('CONFIG_INVALID', `no such file or directory: ${p}`);
    if (s.isDirectory()) out.push(...(await expand((await readdir(p)).sort().map((f) => join(p, f)))));
    else if (!p.includes('.tmp-')) out.push(p);
  }
  return out;
}

const FLAGS = defineFlags({
  json: { type: 'boolean', help: 'JSON output' },
});

export const verb: Verb = {
  summary: 'store DICOM Part 10 files (or directories of them) in the PACS by C-STORE or STOW-RS (DFA_STORE)',
  usage: [
    'npx dfa store ../shared/testdata/ct-chest-cip64/dicom',
    'npx dfa store out/rtstruct.dcm out/seg.dcm --json',
    'DFA_STORE=stow-rs DFA_DICOMWEB_URL=http://localhost:8042/dicom-web npx dfa store file.dcm',
  ],
  flags: FLAGS,
  async run(args, ctx) {
    const { values, positionals } = parseVerbArgs(FLAGS, args, { allowPositionals: true });
    const json = values.json;
    const files = await expand(positionals);
    if (files.length === 0) throw new DfaError('CONFIG_INVALID', 'dfa store needs files or directories');
    const pacs = await pacsFromConfig(ctx.config, ctx.log);
    try {
      const out = await pacs.store(files);
      const failed = out.filter((o) => !o.ok);
      if (json) ctx.out(JSON.stringify(out.map((o, i) => ({ file: files[i], ...o })), null, 2));
      else {
        for (const [i, o] of out.entries()) if (!o.ok) ctx.out(`failed ${files[i]}: 0x${o.status.toString(16).padStart(4, '0')} ${o.reason ?? ''}`);
        ctx.out(`${out.length - failed.length} of ${out.length} stored`);
      }
      return failed.length === 0 ? 0 : 1;
    } finally {
      await pacs.close();
    }
  },
};
