import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { DfaError } from '../../core/errors.ts';
import { loadVolume, listDicomFiles } from '../../dicom/volume/load-volume.ts';
import { encodeNifti } from '../../ml/io/nifti.ts';
import { qcFailures } from '../../ml/qc.ts';
import { segmentWithQc } from '../../ml/segment.ts';
import { createSegmenter } from '../../agent/segmenters.ts';
import type { Verb } from '../verb.ts';

export const verb: Verb = {
  summary: 'segment the lungs of a local CT series (QC, fallback), print volumes by ROI; optional NIfTI labels',
  usage: [
    'npx dfa segment ../shared/testdata/ct-chest-cip64/dicom',
    'npx dfa segment ./ct --segmenter onnx --segmenter classical --json',
    'npx dfa segment ./ct --nifti /tmp/lungs.nii.gz',
  ],
  flags: [
    '--segmenter <name> classical, onnx or a model name (repeatable: fallbacks)',
    '--nifti <file>     also write the label map as NIfTI',
    '--json             JSON output',
  ],
  async run(args, ctx) {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        segmenter: { type: 'string', multiple: true },
        nifti: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
    if (positionals.length === 0) throw new DfaError('CONFIG_INVALID', 'no DICOM files or folders given (usage: dfa segment <dir|files>)');
    const names = values.segmenter ?? [ctx.config.DFA_SEGMENTER, ...(ctx.config.DFA_FALLBACK_SEGMENTER ? [ctx.config.DFA_FALLBACK_SEGMENTER] : [])];
    const segmenters = await Promise.all(names.map((n) => createSegmenter(n, ctx.config, ctx.log)));
    try {
      const t0 = performance.now();
      const volume = await loadVolume(await listDicomFiles(positionals));
      const loadMs = performance.now() - t0;
      const r = await segmentWithQc(volume, segmenters, ctx.log);
      const segmentMs = performance.now() - t0 - loadMs;
      if (values.nifti) await writeFile(values.nifti, encodeNifti(r.labels, r.labels.data, { gzip: values.nifti.endsWith('.gz'), description: `${r.manifest.name} ${r.manifest.version}` }));
      const round = (x: number) => Math.round(x * 10) / 10;
      if (values.json) {
        ctx.out(
          JSON.stringify({
            seriesInstanceUid: volume.meta.seriesInstanceUid,
            dims: volume.dims,
            segmenter: r.segmenter,
            model: { name: r.manifest.name, version: r.manifest.version },
            volumesMl: Object.fromEntries(Object.entries(r.volumesMl).map(([k, v]) => [k, round(v)])),
            qc: r.qc,
            reviewRequired: r.reviewRequired,
            fallbackReason: r.fallbackReason,
            attempts: r.attempts.map((a) => ({ model: a.model, version: a.version, ok: a.ok, ms: Math.round(a.ms), error: a.error })),
            timingsMs: { load: Math.round(loadMs), segment: Math.round(segmentMs) },
            nifti: values.nifti,
          }),
        );
      } else {
        ctx.out(`series ${volume.meta.seriesInstanceUid} (${volume.dims.join('×')}), model ${r.manifest.name} ${r.manifest.version}${r.fallbackReason ? ` (fallback: ${r.fallbackReason})` : ''}`);
        for (const [roi, ml] of Object.entries(r.volumesMl)) ctx.out(`  ${roi.padEnd(10)} ${round(ml)} mL`);
        ctx.out(r.qc.ok ? '  QC passed' : `  QC FAILED, review required: ${qcFailures(r.qc).join('; ')}`);
        ctx.out(`  load ${Math.round(loadMs)} ms, segment ${Math.round(segmentMs)} ms${values.nifti ? `, labels → ${values.nifti}` : ''}`);
      }
      return r.reviewRequired ? 1 : 0;
    } finally {
      for (const s of segmenters) {
        const release = (s as { release?: () => Promise<void> }).release;
        if (release) await release.call(s);
      }
    }
  },
};
