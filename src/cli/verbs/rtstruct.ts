import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { DfaError } from '../../core/errors.ts';
import { voxelVolumeMl } from '../../core/volume.ts';
import { readRtstruct, type RtstructProblem } from '../../dicom/rtstruct/read.ts';
import { rtstructToLabelMap } from '../../dicom/rtstruct/to-labelmap.ts';
import { loadVolumeFromDir } from '../../dicom/volume/index.ts';
import type { Verb } from '../verb.ts';

const USAGE = 'dfa rtstruct read <rtstruct.dcm> [--ct <ct-dir>] [--json]';

export const verb: Verb = {
  summary: 'read an RTSTRUCT: ROIs, contours and problems; with --ct, rasterise onto that CT and report volumes',
  usage: [
    'npx dfa rtstruct read ../shared/testdata/rtstruct/dicompyler_core_example/rtss.dcm',
    'npx dfa rtstruct read ../shared/testdata/ct-chest-cip64/rtstruct_from_gt/*.dcm --ct ../shared/testdata/ct-chest-cip64/dicom',
    'npx dfa rtstruct read ../shared/testdata/rtstruct/pydicom_rtstruct.dcm --json',
  ],
  async run(args, ctx) {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: { ct: { type: 'string' }, json: { type: 'boolean', default: false } },
    });
    const [sub, file] = positionals;
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
