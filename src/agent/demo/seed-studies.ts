import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../core/log.ts';
import type { Pacs } from '../../core/ports.ts';
import { writePhantomSeries } from '../../dicom/phantom/index.ts';
import { registerStudy } from '../../fhir/register-study.ts';
import type { FhirClient } from '../../fhir/client.ts';

/**
 * The demo's (and the end-to-end test's) worklist: phantom chest CTs, one MR study and one broken
 * CT series (slices missing from the middle, as when a transfer was cut short), each stored in the
 * PACS and registered in FHIR as a pending ImagingStudy (with its ServiceRequest), like a hospital's
 * DICOM → FHIR bridge would.
 */
export type SeedKind = 'ct' | 'mr' | 'broken';
export interface SeededStudy {
  readonly label: string;
  readonly kind: SeedKind;
  readonly studyInstanceUid: string;
  readonly patientId: string;
  readonly imagingStudy: string;
  readonly instances: number;
  /** How its job should end. */
  readonly expected: 'succeeded' | 'skipped' | 'failed';
  /** Truth lung volumes of the phantom (mL), for comparison. */
  readonly truthMl?: Readonly<Record<string, number>>;
}

export interface SeedOptions {
  readonly pacs: Pacs;
  readonly fhir: FhirClient;
  readonly workDir: string;
  readonly ctStudies?: number; // default 3
  readonly size?: number; // default 256
  readonly slices?: number; // default 100
  readonly withMr?: boolean; // default true
  readonly withBroken?: boolean; // default true
  readonly log: Logger;
}

const POSITIONS = ['HFS', 'FFS', 'HFP'] as const;

export async function seedDemoStudies(o: SeedOptions): Promise<SeededStudy[]> {
  const size = o.size ?? 256;
  const slices = o.slices ?? 100;
  const specs: { label: string; kind: SeedKind; seed: number; patientId: string; expected: SeededStudy['expected'] }[] = [];
  for (let i = 0; i < (o.ctStudies ?? 3); i++) {
    specs.push({ label: `CT chest #${i + 1} (${POSITIONS[i % POSITIONS.length]})`, kind: 'ct', seed: 101 + i, patientId: `DEMO-${String(i + 1).padStart(3, '0')}`, expected: 'succeeded' });
  }
  if (o.withMr ?? true) specs.push({ label: 'MR (no CT model applies)', kind: 'mr', seed: 201, patientId: 'DEMO-MR1', expected: 'skipped' });
  if (o.withBroken ?? true) specs.push({ label: 'CT with missing slices', kind: 'broken', seed: 301, patientId: 'DEMO-BRK', expected: 'failed' });

  const out: SeededStudy[] = [];
  for (const [i, s] of specs.entries()) {
    const dir = join(o.workDir, `study-${i + 1}-${s.kind}`);
    const written = await writePhantomSeries(
      {
        size,
        slices,
        seed: s.seed,
        modality: s.kind === 'mr' ? 'MR' : 'CT',
        patientPosition: s.kind === 'ct' ? POSITIONS[i % POSITIONS.length] : 'HFS',
        patientId: s.patientId,
        patientName: `Demo^${s.kind.toUpperCase()}${i + 1}`,
        accessionNumber: `ACC${String(1000 + i)}`,
        studyDescription: s.kind === 'mr' ? 'MR CHEST (synthetic phantom)' : 'CT CHEST (synthetic phantom)',
      },
      dir,
      false,
    );
    const studyUid = written.phantom.volume.meta.studyInstanceUid;
    const files = [...written.files];
    if (s.kind === 'broken') {
      // Drop 3 slices from the middle: the series loads as far as the volume step, which refuses it.
      const mid = Math.floor(files.length / 2);
      const dropped = files.splice(mid, 3);
      await Promise.all(dropped.map((f) => rm(f)));
    }
    const stored = await o.pacs.store(files);
    const refused = stored.filter((r) => !r.ok);
    if (refused.length) throw new Error(`demo: the PACS refused ${refused.length} instance(s): ${refused[0].reason ?? refused[0].status}`);
    const reg = await registerStudy(o.fhir, o.pacs, studyUid, { serviceRequest: true });
    o.log.debug('seeded', { study: studyUid, kind: s.kind, files: files.length });
    out.push({
      label: s.label,
      kind: s.kind,
      studyInstanceUid: studyUid,
      patientId: s.patientId,
      imagingStudy: reg.imagingStudy,
      instances: files.length,
      expected: s.expected,
      truthMl: s.kind === 'ct' ? written.volumesMl : undefined,
    });
  }
  return out;
}
