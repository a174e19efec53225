import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LabelMap } from '../../core/volume.ts';
import { writePhantomSeries } from '../phantom/index.ts';
import { loadVolumeFromDir } from '../volume/index.ts';
import { writeSeg } from '../seg/write.ts';
import { TEST_LUNG_MANIFEST } from '../../../test/support/rt-manifest.ts';
import { dciodvfy, dice, plastimatchMasks, plastimatchSeriesToNrrd } from '../../../test/support/rt-tools.ts';
import { readRtstruct } from './read.ts';
import { rtstructToLabelMap } from './to-labelmap.ts';
import { writeRtstruct } from './write.ts';

// Phantom series written to disk and loaded back with the product's loader, so the writers see
// exactly what a job sees; plastimatch reads the same files for its own --fixed grid.
for (const opts of [
  { size: 96, slices: 40, patientPosition: 'HFS' as const },
  { size: 96, slices: 40, patientPosition: 'FFS' as const, obliqueDeg: 12 },
]) {
  test(`phantom ${opts.patientPosition}${opts.obliqueDeg ? ` oblique ${opts.obliqueDeg}°` : ''}: RTSTRUCT and SEG dciodvfy clean, round trips exact`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dfa-rt-phantom-'));
    try {
      const written = await writePhantomSeries({ ...opts, seed: 7 }, dir, false);
      const volume = await loadVolumeFromDir(written.dicomDir);
      const truth = written.phantom.truth;
      const data = new Uint8Array(volume.data.length);
      for (let i = 0; i < data.length; i++) data[i] = truth.Lung_L[i] ? 1 : truth.Lung_R[i] ? 2 : 0;
      const labels: LabelMap = { dims: volume.dims, spacing: volume.spacing, origin: volume.origin, direction: volume.direction, data };
      assert.ok(data.includes(1) && data.includes(2), 'phantom has both lungs');

      const rt = writeRtstruct({ volume, labels, manifest: TEST_LUNG_MANIFEST });
      const seg = writeSeg({ volume, labels, manifest: TEST_LUNG_MANIFEST });
      for (const obj of [rt, seg]) {
        const report = await dciodvfy(obj.part10);
        assert.deepEqual(report.errors, [], report.output);
        assert.equal(report.exitCode, 0);
      }

      const ours = rtstructToLabelMap(readRtstruct(rt.part10), volume);
      assert.deepEqual(ours.problems, []);
      const ctNrrd = join(dir, 'ct.nrrd');
      await plastimatchSeriesToNrrd(written.dicomDir, ctNrrd);
      const pm = await plastimatchMasks(rt.part10, ctNrrd);
      for (const [name, value] of [['Lung_L', 1], ['Lung_R', 2]] as const) {
        const want = data.map((v) => (v === value ? 1 : 0));
        assert.equal(dice(ours.labels.get(name)!, want), 1, `our reader, ${name}`);
        const d = dice(pm.get(name)!.data, want);
        assert.equal(d, 1, `plastimatch ${name} Dice ${d}`);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}
