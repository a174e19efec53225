import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Volume } from '../../core/volume.ts';
import { LocalArtifactStore } from '../../storage/local-artifacts.ts';
import { forget, loadSavedLabels, loadSavedVolume, saveLabels, saveVolume } from './volume-artifacts.ts';

test('volume and labels survive the round trip through the artifact store (as a resumed process reads them)', async () => {
  const root = await mkdtemp(join(tmpdir(), 'dfa-volart-'));
  try {
    const store = new LocalArtifactStore(root);
    const data = Int16Array.from({ length: 3 * 2 * 2 }, (_, i) => i * 100 - 1024);
    const v: Volume = {
      dims: [3, 2, 2],
      spacing: [0.7, 0.7, 2.5],
      origin: [-100, -120.5, 30],
      direction: [[1, 0, 0], [0, 1, 0], [0, 0, -1]],
      data,
      meta: { studyInstanceUid: '1.2', seriesInstanceUid: '1.2.3', frameOfReferenceUid: '1.2.9', modality: 'CT', patientId: 'P', patientName: 'A^B', slices: [] },
    };
    await saveVolume(store, 'jobs/x/g1/volume', v);
    await saveLabels(store, 'jobs/x/g1/labels', { dims: v.dims, spacing: v.spacing, origin: v.origin, direction: v.direction, data: Uint8Array.from(data, (x) => (x > 0 ? 1 : 0)) });
    forget('jobs/x/g1'); // as in a new process: nothing in memory
    const back = await loadSavedVolume(store, 'jobs/x/g1/volume');
    assert.ok(back.data instanceof Int16Array);
    assert.deepEqual([...back.data], [...data]);
    assert.deepEqual(back.direction, v.direction);
    assert.deepEqual(back.meta, v.meta);
    const l = await loadSavedLabels(store, 'jobs/x/g1/labels');
    assert.deepEqual([...l.data], [...data].map((x) => (x > 0 ? 1 : 0)));
    assert.deepEqual(l.origin, v.origin);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
