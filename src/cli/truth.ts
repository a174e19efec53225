import { readFile, stat } from 'node:fs/promises';
import { DfaError, isDfaError } from '../core/errors.ts';
import type { Volume } from '../core/volume.ts';
import { readRtstruct, rtstructToLabelMap } from '../dicom/rtstruct/index.ts';
import { listDicomFiles } from '../dicom/volume/load-volume.ts';
import { niftiToVolumeGrid, readNifti } from '../io/nifti.ts';
import { lungsFromMask } from '../ml/truth.ts';

/**
 * `dfa segment --truth …`: reference masks on the CT grid, keyed by ROI name.
 * - `mask.nii[.gz]`: lungs; two label values are taken as the two sides, one (or many) is split
 *   by side (patient left = +x in LPS, from the NIfTI affine via niftiToVolumeGrid).
 * - `Lung_L=left.nii.gz`: the whole non-zero mask is that structure (repeat for each).
 * - an RTSTRUCT file (or a folder holding one): its ROIs, rasterised on the CT grid.
 */
export interface Truth {
  readonly masks: Map<string, Uint8Array>;
  /** How the reference was read, for people ("RTSTRUCT x.dcm, 2 ROIs", "…split at x = …"). */
  readonly notes: string[];
}

const isNifti = (p: string) => /\.nii(\.gz)?$/i.test(p);

export async function loadTruth(specs: readonly string[], volume: Volume): Promise<Truth> {
  const masks = new Map<string, Uint8Array>();
  const notes: string[] = [];
  const add = (name: string, m: Uint8Array) => {
    if (masks.has(name)) throw new DfaError('CONFIG_INVALID', `--truth gives structure ${name} twice`);
    masks.set(name, m);
  };
  for (const spec of specs) {
    const named = /^([A-Za-z][\w .-]*)=(.+)$/.exec(spec);
    const path = named ? named[2] : spec;
    if (isNifti(path)) {
      const grid = niftiToVolumeGrid(await readNifti(path), volume);
      if (named) {
        add(named[1], Uint8Array.from(grid, (v) => (v !== 0 ? 1 : 0)));
        notes.push(`${named[1]} ← ${path}`);
      } else {
        const { masks: lungs, how } = lungsFromMask(grid, volume);
        for (const [n, m] of lungs) add(n, m);
        notes.push(`${path}: ${how}`);
      }
      continue;
    }
    if (named) throw new DfaError('CONFIG_INVALID', `--truth ${spec}: NAME=file is for NIfTI masks (.nii, .nii.gz); give an RTSTRUCT without a name`);
    const file = await rtstructFile(path);
    const rtss = readRtstruct(new Uint8Array(await readFile(file)), file);
    const r = rtstructToLabelMap(rtss, volume);
    for (const [n, m] of r.labels) add(n, m);
    notes.push(`RTSTRUCT ${file}: ${[...r.labels.keys()].join(', ') || 'no ROIs'}`);
    for (const p of r.problems) notes.push(`  ${p.code}: ${p.message}`);
  }
  return { masks, notes };
}

/** A file as given, or the one RT Structure Set in a folder. */
async function rtstructFile(path: string): Promise<string> {
  if (!(await stat(path)).isDirectory()) return path;
  const found: string[] = [];
  for (const f of await listDicomFiles([path])) {
    try {
      readRtstruct(new Uint8Array(await readFile(f)), f);
      found.push(f);
    } catch (e) {
      if (!isDfaError(e)) throw e;
    }
  }
  if (found.length !== 1) {
    throw new DfaError('FILE_NOT_FOUND', `--truth ${path}: ${found.length ? `${found.length} RT Structure Sets in the folder (${found.join(', ')}); name one` : 'no RT Structure Set in the folder'}`);
  }
  return found[0];
}
