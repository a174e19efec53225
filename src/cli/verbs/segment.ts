import { writeFile } from 'node:fs/promises';
import { DfaError } from '../../core/errors.ts';
import type { SeriesSelection } from '../../dicom/volume/series.ts';
import { loadVolumeWithReport, listDicomFiles } from '../../dicom/volume/load-volume.ts';
import { encodeNifti } from '../../io/nifti.ts';
import { qcFailures } from '../../ml/qc.ts';
import { segmentWithQc } from '../../ml/segment.ts';
import { compareWithTruth } from '../../ml/truth.ts';
import { loadTruth } from '../truth.ts';
import { createSegmenter } from '../../agent/segmenters.ts';
import { defineFlags, parseVerbArgs } from '../flags.ts';
import type { Verb } from '../verb.ts';

const FLAGS = defineFlags({
  segmenter: { type: 'string', value: 'name', multiple: true, help: 'classical, onnx or a model name (repeatable: fallbacks)' },
  series: { type: 'string', value: 'uid', help: 'segment this SeriesInstanceUID (default: the ORIGINAL CT series with most slices)' },
  truth: { type: 'string', value: 'file', multiple: true, help: 'compare with a reference: mask.nii[.gz] (split by side), ROI=mask.nii[.gz] or RTSTRUCT (repeatable)' },
  nifti: { type: 'string', value: 'file', help: 'also write the label map as NIfTI' },
  json: { type: 'boolean', help: 'JSON output' },
});

export const verb: Verb = {
  summary: 'segment the lungs of a local CT series (QC, fallback), print volumes by ROI; optional NIfTI labels',
  usage: [
    'npx dfa segment ../shared/testdata/ct-chest-cip64/dicom',
    'npx dfa segment ./ct --segmenter onnx --segmenter classical --json',
    'npx dfa segment ./ct --nifti /tmp/lungs.nii.gz',
    'npx dfa segment ./study --series 1.2.840.113619.2.55.3.1234   (one series of a folder holding several)',
    'npx dfa segment ../shared/testdata/ct-chest-cip64/dicom --truth ../shared/testdata/ct-chest-cip64/lung_mask.nii.gz',
    'npx dfa segment ./ct --truth Lung_L=left.nii.gz --truth Lung_R=right.nii.gz',
    'npx dfa segment ./ct --truth ./ct/rtss.dcm   (RTSTRUCT, rasterised on the CT grid)',
  ],
  flags: FLAGS,
  async run(args, ctx) {
    const { values, positionals } = parseVerbArgs(FLAGS, args, { allowPositionals: true });
    if (positionals.length === 0) throw new DfaError('CONFIG_INVALID', 'no DICOM files or folders given (usage: dfa segment <dir|files>)');
    const names = values.segmenter ?? [ctx.config.DFA_SEGMENTER, ...(ctx.config.DFA_FALLBACK_SEGMENTER ? [ctx.config.DFA_FALLBACK_SEGMENTER] : [])];
    const segmenters = await Promise.all(names.map((n) => createSegmenter(n, ctx.config, ctx.log)));
    try {
      const t0 = performance.now();
      const { volume, selection } = await loadVolumeWithReport(await listDicomFiles(positionals), { seriesInstanceUid: values.series });
      const loadMs = performance.now() - t0;
      const others = otherCandidates(selection);
      if (others.length > 0 && !values.series) process.stderr.write(`${severalSeriesWarning(volume.meta.seriesInstanceUid, volume.dims[2], others)}\n`);
      const truth = values.truth?.length ? await loadTruth(values.truth, volume) : undefined;
      const r = await segmentWithQc(volume, segmenters, ctx.log);
      const segmentMs = performance.now() - t0 - loadMs;
      const vsTruth = truth ? compareWithTruth(r.labels, r.manifest, truth.masks) : undefined;
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
            otherSeries: others.map((o) => ({ seriesInstanceUid: o.seriesInstanceUid, slices: o.slices, seriesDescription: o.seriesDescription })),
            truth: vsTruth && truth ? { sources: values.truth, notes: truth.notes, structures: vsTruth.structures, notCompared: vsTruth.notCompared } : undefined,
          }),
        );
      } else {
        ctx.out(`series ${volume.meta.seriesInstanceUid} (${volume.dims.join('×')}), model ${r.manifest.name} ${r.manifest.version}${r.fallbackReason ? ` (fallback: ${r.fallbackReason})` : ''}`);
        for (const [roi, ml] of Object.entries(r.volumesMl)) ctx.out(`  ${roi.padEnd(10)} ${round(ml)} mL`);
        if (vsTruth && truth) {
          ctx.out('  against the reference:');
          for (const n of truth.notes) ctx.out(`    ${n}`);
          for (const c of vsTruth.structures) {
            const d = round(c.differenceMl);
            ctx.out(`    ${c.roi.padEnd(10)} Dice ${c.dice.toFixed(3)}  volume ${round(c.volumeMl)} vs ${round(c.truthVolumeMl)} mL (${d > 0 ? '+' : ''}${d} mL)`);
          }
          if (vsTruth.notCompared.length) ctx.out(`    not compared (no structure of that name on both sides): ${vsTruth.notCompared.join(', ')}`);
        }
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

/** The other image series the folder holds, which could have been segmented instead. */
function otherCandidates(selection: SeriesSelection) {
  return selection.skipped.filter((s) => s.candidate);
}

function severalSeriesWarning(chosen: string, slices: number, others: ReturnType<typeof otherCandidates>): string {
  const list = others.map((o) => `${o.seriesInstanceUid} (${o.slices ?? o.instanceCount} slices${o.seriesDescription ? `, '${o.seriesDescription}'` : ''})`).join(', ');
  return `dfa segment: warning: the input holds ${others.length + 1} image series; using ${chosen} (${slices} slices). Others: ${list}. Pick one with --series <SeriesInstanceUID>`;
}
