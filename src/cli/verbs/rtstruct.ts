import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { DfaError } from '../../core/errors.ts';
import type { LabelMap } from '../../core/volume.ts';
import { voxelVolumeMl } from '../../core/volume.ts';
import { readRtstruct, type RtstructProblem } from '../../dicom/rtstruct/read.ts';
import { rtstructToLabelMap } from '../../dicom/rtstruct/to-labelmap.ts';
import { writeRtstruct } from '../../dicom/rtstruct/write.ts';
import { writeSeg } from '../../dicom/seg/write.ts';
import { loadVolumeFromDir } from '../../dicom/volume/index.ts';
import { niftiToVolumeGrid, readNifti } from '../../io/nifti.ts';
import { labelByRoiName, loadManifest, SHIPPED_MODELS_DIR } from '../../ml/manifest.ts';
import { defineFlags, parseVerbArgs } from '../flags.ts';
import type { Verb, VerbContext } from '../verb.ts';

const USAGE =
  'dfa rtstruct read <rtstruct.dcm> [--ct <ct-dir>] [--json] | dfa rtstruct write --ct <ct-dir> (--labels <labelmap.nii.gz> | --mask <ROI>=<mask.nii.gz> ...) --out <rtss.dcm> --source manual|ground-truth|<model> [--seg <seg.dcm>] [--model <manifest.json>]';

const FLAGS = defineFlags({
  ct: { type: 'string', value: 'dir', help: 'the CT series (read: rasterise; write: reference)' },
  labels: { type: 'string', value: 'nii', help: 'write: a label map (values from the model manifest)' },
  mask: { type: 'string', value: 'ROI=nii', multiple: true, help: 'write: one mask per ROI (repeatable)' },
  source: { type: 'string', value: 'manual|ground-truth|model', help: 'write: who made the contours (ROIGenerationAlgorithm)' },
  model: { type: 'string', value: 'manifest.json', help: 'write: the model whose labels are used' },
  out: { type: 'string', value: 'file', help: 'write: the RTSTRUCT' },
  seg: { type: 'string', value: 'file', help: 'write: also a DICOM SEG' },
  json: { type: 'boolean', help: 'JSON output' },
});

export const verb: Verb = {
  summary: 'read an RTSTRUCT: ROIs, contours and problems; with --ct, rasterise onto that CT and report volumes',
  usage: [
    'npx dfa rtstruct read ../shared/testdata/rtstruct/dicompyler_core_example/rtss.dcm',
    'npx dfa rtstruct read ../shared/testdata/ct-chest-cip64/rtstruct_from_gt/*.dcm --ct ../shared/testdata/ct-chest-cip64/dicom',
    'npx dfa rtstruct read ../shared/testdata/rtstruct/pydicom_rtstruct.dcm --json',
    'npx dfa rtstruct write --ct ../shared/testdata/ct-chest-cip64/dicom --mask Lung_L=../shared/testdata/ct-chest-cip64/lung_left_mask.nii.gz --mask Lung_R=../shared/testdata/ct-chest-cip64/lung_right_mask.nii.gz --out /tmp/rtss.dcm --seg /tmp/seg.dcm --source ground-truth',
  ],
  flags: FLAGS,
  async run(args, ctx) {
    const { values, positionals } = parseVerbArgs(FLAGS, args, { allowPositionals: true });
    const [sub, file] = positionals;
    if (sub === 'write' && positionals.length === 1) return write(values, ctx);
    if (sub !== 'read' || !file || positionals.length > 2) throw new DfaError('CONFIG_INVALID', `usage: ${USAGE}`);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(file));
    } catch (e) {
      throw new DfaError('RTSTRUCT_INVALID', `${file}: cannot read (${(e as Error).message})`, { cause: e });
    }
    const rtss = readRtstruct(bytes, file);
    const problems: RtstructProblem[] = [...rtss.problems];
    let volumesMl: Record<string, number> | undefined;
    let ct: { seriesInstanceUid: string; dims: readonly number[] } | undefined;
    if (values.ct) {
      const volume = await loadVolumeFromDir(values.ct);
      ct = { seriesInstanceUid: volume.meta.seriesInstanceUid, dims: volume.dims };
      const masks = rtstructToLabelMap(rtss, volume);
      problems.push(...masks.problems);
      const ml = voxelVolumeMl(volume);
      volumesMl = {};
      for (const [name, m] of masks.labels) {
        let n = 0;
        for (let i = 0; i < m.length; i++) n += m[i];
        volumesMl[name] = Math.round(n * ml * 10) / 10;
      }
    }
    const rois = rtss.rois.map((r) => ({
      number: r.number,
      name: r.name,
      color: r.color,
      contours: r.contours.length,
      points: r.contours.reduce((s, c) => s + c.points.length, 0),
      types: [...new Set(r.contours.map((c) => c.type))],
      ...(volumesMl ? { volumeMl: volumesMl[r.name] } : {}),
    }));
    if (values.json) {
      ctx.out(JSON.stringify({ file, sopInstanceUid: rtss.sopInstanceUid, referencedSeries: rtss.referencedSeriesUids, ct, rois, problems }, null, 2));
    } else {
      ctx.out(`${file}: RTSTRUCT ${rtss.sopInstanceUid}${rtss.label ? ` '${rtss.label}'` : ''}, ${rois.length} ROIs, drawn on series ${rtss.referencedSeriesUids.join(', ') || '(none named)'}`);
      if (ct) ctx.out(`rasterised on CT series ${ct.seriesInstanceUid} (${ct.dims.join('×')})`);
      for (const r of rois) {
        const vol = r.volumeMl === undefined ? '' : `  ${r.volumeMl} mL`;
        ctx.out(`  ${String(r.number).padStart(3)}  ${r.name.padEnd(20)} ${String(r.contours).padStart(5)} contours ${String(r.points).padStart(7)} points  ${r.types.join('/') || '-'}${vol}`);
      }
      ctx.out(problems.length === 0 ? 'no problems' : `${problems.length} problem(s):`);
      for (const p of problems) ctx.out(`  ${p.code}${p.roi ? ` [${p.roi}]` : ''}: ${p.message}`);
    }
    return 0;
  },
};

interface WriteArgs {
  ct?: string;
  labels?: string;
  mask?: string[];
  model?: string;
  out?: string;
  seg?: string;
  source?: string;
}

/**
 * Who made the contours (PS3.3 C.8.8.5 ROI Generation Algorithm): 'manual' → MANUAL; 'ground-truth'
 * (reference masks, machine-assisted and corrected by people) → SEMIAUTOMATIC; a model name → AUTOMATIC.
 */
function generationOf(source: string, modelName: string): NonNullable<Parameters<typeof writeRtstruct>[0]['generation']> {
  if (source === 'manual') return { algorithm: 'MANUAL', description: 'manual contours', byModel: false };
  if (source === 'ground-truth') return { algorithm: 'SEMIAUTOMATIC', description: 'ground-truth reference masks', byModel: false };
  if (source !== modelName) throw new DfaError('CONFIG_INVALID', `--source is manual, ground-truth or the model of --model ('${modelName}'), not '${source}'`);
  return { algorithm: 'AUTOMATIC', description: modelName, byModel: true };
}

/** Masks (NIfTI, on the CT grid) → RTSTRUCT (+ SEG) with names and codes from a model manifest. */
async function write(a: WriteArgs, ctx: VerbContext): Promise<number> {
  if (!a.ct || !a.out || (!a.labels && !a.mask?.length)) throw new DfaError('CONFIG_INVALID', `usage: ${USAGE}`);
  const manifest = await loadManifest(a.model ?? fileURLToPath(new URL('classical-lung/manifest.json', SHIPPED_MODELS_DIR)));
  const volume = await loadVolumeFromDir(a.ct);
  let data: Uint8Array;
  if (a.labels) data = niftiToVolumeGrid(await readNifti(a.labels), volume);
  else {
    data = new Uint8Array(volume.data.length);
    for (const spec of a.mask ?? []) {
      const eq = spec.indexOf('=');
      if (eq <= 0) throw new DfaError('CONFIG_INVALID', `--mask wants <ROI name>=<mask.nii.gz>, got '${spec}'`);
      const label = labelByRoiName(manifest, spec.slice(0, eq));
      const m = niftiToVolumeGrid(await readNifti(spec.slice(eq + 1)), volume);
      for (let i = 0; i < m.length; i++) if (m[i]) data[i] = label.value;
    }
  }
  const labels: LabelMap = { dims: volume.dims, spacing: volume.spacing, origin: volume.origin, direction: volume.direction, data };
  if (!a.source && !a.model) throw new DfaError('CONFIG_INVALID', 'rtstruct write needs --source manual|ground-truth|<model>: who made these contours (recorded as ROIGenerationAlgorithm)');
  const generation = generationOf(a.source ?? manifest.name, manifest.name);
  // UIDs from the content: the same masks from the same source give the same UIDs, different ones never do.
  const uidSalt = createHash('sha256').update(data).update(`\0${generation.algorithm}\0${generation.description}\0${manifest.labels.map((l) => l.roiName).join(',')}`).digest('hex');
  const rt = writeRtstruct({ volume, labels, manifest, generation, uidSalt });
  await writeFile(a.out, rt.part10);
  ctx.out(`RTSTRUCT ${a.out}: series ${rt.seriesInstanceUid}, instance ${rt.sopInstanceUid}; ROIGenerationAlgorithm ${generation.algorithm} (${generation.description})`);
  for (const [name, st] of Object.entries(rt.stats)) ctx.out(`  ${name.padEnd(20)} ${String(st.contours).padStart(5)} contours ${String(st.points).padStart(7)} points`);
  if (a.seg) {
    const seg = writeSeg({ volume, labels, manifest });
    await writeFile(a.seg, seg.part10);
    ctx.out(`SEG ${a.seg}: series ${seg.seriesInstanceUid}, instance ${seg.sopInstanceUid}, frames ${JSON.stringify(seg.framesPerSegment)}`);
  }
  return 0;
}
