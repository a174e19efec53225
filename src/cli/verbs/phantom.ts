import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DfaError } from '../../core/errors.ts';
import { writePhantomSeries } from '../../dicom/phantom/write-series.ts';
import type { PatientPosition, PhantomModality, PhantomPathology, PhantomTrap } from '../../dicom/phantom/options.ts';
import { PHANTOM_SCENARIOS, phantomScenario } from '../../dicom/phantom/scenarios.ts';
import { defineFlags, parseVerbArgs } from '../flags.ts';
import type { Verb } from '../verb.ts';

function number(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new DfaError('CONFIG_INVALID', `--${name} must be a number, not '${v}'`);
  return n;
}

/** The given options only, so a scenario's own values are not overwritten by undefined. */
function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

const FLAGS = defineFlags({
  out: { type: 'string', value: 'dir', help: 'where to write the series (must be empty, or --force)' },
  force: { type: 'boolean', help: 'empty --out first' },
  scenario: { type: 'string', value: 'name', help: 'a named trap / pathology / coverage phantom (list: --scenario list)' },
  traps: { type: 'string', value: 'a,b', help: 'bowel-gas, gastric-bubble, free-air' },
  pathology: { type: 'string', value: 'a,b', help: 'consolidation, tumour, ggo, bullae, effusion' },
  'center-z': { type: 'string', value: 'mm', help: 'move the scan along the body (negative: towards the abdomen)' },
  size: { type: 'string', value: 'px', help: '' },
  slices: { type: 'string', value: 'n', help: '' },
  spacing: { type: 'string', value: 'mm', help: '' },
  thickness: { type: 'string', value: 'mm', help: '' },
  position: { type: 'string', value: 'HFS|FFS|...', help: '' },
  oblique: { type: 'string', value: 'deg', help: '' },
  'anterior-junction': { type: 'boolean', help: 'lungs touching at the front' },
  seed: { type: 'string', value: 'n', help: '' },
  noise: { type: 'string', value: 'HU', help: '' },
  modality: { type: 'string', value: 'CT|MR', help: '' },
  'patient-id': { type: 'string', value: 'id', help: '' },
  'patient-name': { type: 'string', value: 'PN', help: '' },
  'study-uid': { type: 'string', value: 'uid', help: '' },
  accession: { type: 'string', value: 'acc', help: '' },
  'no-truth': { type: 'boolean', help: 'no ground-truth masks' },
  json: { type: 'boolean', help: 'JSON output' },
});

export const verb: Verb = {
  summary: 'write a synthetic chest CT (or MR) series with ground-truth masks',
  usage: [
    'npx dfa phantom --out /tmp/phantom',
    'npx dfa phantom --out /tmp/p512 --size 512 --slices 300 --spacing 0.8 --thickness 1.25 --position HFS --patient-id P1 --seed 1',
    'npx dfa phantom --out /tmp/ffs --position FFS --anterior-junction --oblique 10',
    'npx dfa phantom --out /tmp/mr --modality MR --size 128 --slices 40   # an MR series the CT workflow must skip',
    'npx dfa phantom --out /tmp/abd --scenario abdomen-lung-bases   # a named trap / pathology / coverage phantom (--scenario list)',
    'npx dfa phantom --out /tmp/c --pathology consolidation,effusion --traps gastric-bubble --center-z -20',
  ],
  flags: FLAGS,
  async run(args, ctx) {
    const { values } = parseVerbArgs(FLAGS, args);
    if (values.scenario === 'list') {
      for (const sc of PHANTOM_SCENARIOS) ctx.out(`${sc.name.padEnd(20)} ${sc.kind.padEnd(10)} ${sc.description}`);
      return 0;
    }
    const scenario = values.scenario === undefined ? undefined : phantomScenario(values.scenario);
    if (values.scenario !== undefined && !scenario) throw new DfaError('CONFIG_INVALID', `unknown --scenario '${values.scenario}' (use --scenario list)`);
    const list = <T extends string>(v: string | undefined) => (v === undefined ? undefined : (v.split(',').map((x) => x.trim()).filter(Boolean) as T[]));
    if (!values.out) throw new DfaError('CONFIG_INVALID', 'missing --out <dir> (usage: dfa phantom --out <dir>)');
    // Old slices left in the folder would be read as part of the new series by `segment`: refuse, or empty it with --force.
    const existing = await readdir(values.out).catch(() => [] as string[]);
    if (existing.length > 0) {
      if (!values.force) throw new DfaError('CONFIG_INVALID', `--out ${values.out} is not empty (${existing.length} entries); choose an empty folder or add --force to empty it first`);
      for (const e of existing) await rm(join(values.out, e), { recursive: true, force: true });
    }
    const position = (values.position ?? 'HFS').toUpperCase();
    const modality = (values.modality ?? 'CT').toUpperCase();
    const t0 = Date.now();
    const w = await writePhantomSeries(
      {
        ...scenario?.options,
        ...defined({
          traps: list<PhantomTrap>(values.traps),
          pathology: list<PhantomPathology>(values.pathology),
          centreZ: number('center-z', values['center-z']),
          size: number('size', values.size),
          slices: number('slices', values.slices),
          pixelSpacing: number('spacing', values.spacing),
          sliceSpacing: number('thickness', values.thickness),
          patientPosition: position as PatientPosition,
          obliqueDeg: number('oblique', values.oblique),
          anteriorJunction: values['anterior-junction'],
          seed: number('seed', values.seed),
          noise: number('noise', values.noise),
          modality: modality as PhantomModality,
          patientId: values['patient-id'],
          patientName: values['patient-name'],
          studyInstanceUid: values['study-uid'],
          accessionNumber: values.accession,
        }),
      },
      values.out,
      !values['no-truth'],
    );
    const v = w.phantom.volume;
    if (values.json) {
      ctx.out(JSON.stringify({ dicomDir: w.dicomDir, files: w.files.length, truthDir: w.truthDir, studyInstanceUid: v.meta.studyInstanceUid, seriesInstanceUid: v.meta.seriesInstanceUid, volumesMl: w.volumesMl }));
      return 0;
    }
    ctx.out(`wrote ${w.files.length} ${w.phantom.options.modality} slices to ${w.dicomDir} in ${Date.now() - t0} ms`);
    ctx.out(`  patient ${v.meta.patientId}  study ${v.meta.studyInstanceUid}`);
    ctx.out(`  series  ${v.meta.seriesInstanceUid}`);
    ctx.out(`  grid    ${v.dims.join('×')} voxels, spacing ${v.spacing.map((s) => s.toFixed(3)).join(' × ')} mm, ${w.phantom.options.patientPosition}`);
    if (!values['no-truth']) ctx.out(`  truth   ${w.truthDir}/<Structure>.nii.gz and ${values.out}/phantom.json`);
    ctx.out(`  volumes ${Object.entries(w.volumesMl).map(([k, ml]) => `${k} ${ml} mL`).join(', ')}`);
    return 0;
  },
};
