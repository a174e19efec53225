import { DfaError, isDfaError } from '../../core/errors.ts';
import { listDicomFiles, readInstances, volumeFromSeries } from '../../dicom/volume/load-volume.ts';
import { groupSeries, selectImageSeries } from '../../dicom/volume/series.ts';
import { defineFlags, parseVerbArgs } from '../flags.ts';
import type { Verb } from '../verb.ts';

const f3 = (v: readonly number[]) => v.map((x) => (Math.abs(x) < 5e-7 ? 0 : x).toFixed(3)).join(', ');

const FLAGS = defineFlags({
  modality: { type: 'string', value: 'm', multiple: true, help: 'image modality to select (repeatable; default CT)' },
  'allow-tilt': { type: 'boolean', help: 'accept gantry-tilted series' },
  json: { type: 'boolean', help: 'JSON output' },
});

export const verb: Verb = {
  summary: 'list the series in DICOM files/folders, which one would become the volume and why others are skipped',
  usage: [
    'npx dfa inspect ../shared/testdata/ct-chest-cip64/dicom',
    'npx dfa inspect /tmp/phantom/dicom --json',
    'npx dfa inspect --modality MR /tmp/mr/dicom',
  ],
  flags: FLAGS,
  async run(args, ctx) {
    const { values, positionals } = parseVerbArgs(FLAGS, args, { allowPositionals: true });
    if (positionals.length === 0) throw new DfaError('CONFIG_INVALID', 'no files or folders given (usage: dfa inspect <dir|files>)');
    const modalities = (values.modality ?? ['CT']).map((m) => m.toUpperCase());
    const files = await listDicomFiles(positionals);
    const { instances, unreadable } = await readInstances(files, { pixelData: false });
    const groups = groupSeries(instances);
    const selection = selectImageSeries(groups, { modalities });
    let volume: Record<string, unknown> | undefined;
    let volumeError: { code: string; message: string } | undefined;
    if (selection.selected) {
      try {
        const v = await volumeFromSeries(selection.selected, { allowTilt: values['allow-tilt'] });
        volume = {
          seriesInstanceUid: v.meta.seriesInstanceUid,
          dims: v.dims,
          spacing: v.spacing,
          origin: v.origin,
          direction: v.direction,
          dataType: v.data.constructor.name,
          range: (() => {
            let lo = Infinity;
            let hi = -Infinity;
            for (let i = 0; i < v.data.length; i++) {
              const x = v.data[i];
              if (x < lo) lo = x;
              if (x > hi) hi = x;
            }
            return [lo, hi];
          })(),
          patientId: v.meta.patientId,
          studyInstanceUid: v.meta.studyInstanceUid,
          frameOfReferenceUid: v.meta.frameOfReferenceUid,
        };
      } catch (e) {
        if (!isDfaError(e)) throw e;
        volumeError = { code: e.code, message: e.message };
      }
    }
    if (values.json) {
      ctx.out(
        JSON.stringify({
          files: files.length,
          series: groups.map((g) => ({ seriesInstanceUid: g.seriesInstanceUid, modality: g.modality, seriesNumber: g.seriesNumber, seriesDescription: g.seriesDescription, instances: g.instances.length })),
          selected: selection.selected?.seriesInstanceUid,
          skipped: selection.skipped,
          droppedInstances: selection.droppedInstances,
          unreadable,
          volume,
          volumeError,
        }),
      );
    } else {
      ctx.out(`${files.length} files, ${instances.length} DICOM instances, ${groups.length} series`);
      for (const g of groups) {
        const skip = selection.skipped.find((s) => s.seriesInstanceUid === g.seriesInstanceUid);
        const mark = selection.selected?.seriesInstanceUid === g.seriesInstanceUid ? 'SELECTED' : 'skipped ';
        ctx.out(`  ${mark} ${g.modality.padEnd(7)} #${g.seriesNumber ?? '-'} ${g.instances.length} inst  ${g.seriesDescription ?? ''}  ${g.seriesInstanceUid}${skip ? `\n           reason: ${skip.reason}` : ''}`);
      }
      for (const d of selection.droppedInstances) ctx.out(`  dropped from the selected series: ${d.source}: ${d.reason}`);
      for (const u of unreadable) ctx.out(`  unreadable: ${u.reason}`);
      if (volume) {
        ctx.out('volume (LPS mm):');
        ctx.out(`  dims      ${(volume.dims as number[]).join(' × ')}`);
        ctx.out(`  spacing   ${f3(volume.spacing as number[])}`);
        ctx.out(`  origin    ${f3(volume.origin as number[])}`);
        const [r, c, s] = volume.direction as number[][];
        ctx.out(`  rowDir    ${f3(r)}\n  colDir    ${f3(c)}\n  sliceDir  ${f3(s)}`);
        ctx.out(`  values    ${(volume.range as number[]).join(' .. ')} (${String(volume.dataType)})`);
      }
      if (volumeError) ctx.out(`volume: ${volumeError.code}: ${volumeError.message}`);
      if (!selection.selected) ctx.out(`no ${modalities.join('/')} image series selected`);
    }
    return selection.selected && volume ? 0 : 1;
  },
};
