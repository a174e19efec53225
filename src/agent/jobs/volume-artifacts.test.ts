import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isDfaError } from '../../core/errors.ts';
import type { Volume } from '../../core/volume.ts';
import { LocalArtifactStore } from '../../storage/local-artifacts.ts';
import { decodeLabelRuns, encodeLabelRuns } from '../../core/label-rle.ts';
import { forget, loadSavedLabels, loadSavedVolume, saveLabels, saveVolume } from './volume-artifacts.ts';

function volume(): Volume {
  const data = Int16Array.from({ length: 3 * 2 * 2 }, (_, i) => i * 100 - 1024);
  return {
    dims: [3, 2, 2],
    spacing: [0.7, 0.7, 2.5],
    origin: [-100, -120.5, 30],
    direction: [[1, 0, 0], [0, 1, 0], [0, 0, -1]],
    data,
    meta: { studyInstanceUid: '1.2', seriesInstanceUid: '1.2.3', frameOfReferenceUid: '1.2.9', modality: 'CT', patientId: 'P', patientName: 'A^B', slices: [] },
  };
}

async function withStore(fn: (store: LocalArtifactStore) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'dfa-volart-'));
  try {
    await fn(new LocalArtifactStore(root));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

test('a resumed process gets the volume back by loading its source files again, and the labels from their runs', async () => {
  await withStore(async (store) => {
    const v = volume();
    const files = ['/data/jobs/x/input/a.dcm', '/data/jobs/x/input/b.dcm'];
    await saveVolume(store, 'jobs/x/g1/volume', v, files);
    assert.equal(await store.exists('jobs/x/g1/volume/volume.raw'), false, 'no voxels written');
    const labels = Uint8Array.from(v.data, (x) => (x > 0 ? 1 : 0));
    await saveLabels(store, 'jobs/x/g1/labels', { dims: v.dims, spacing: v.spacing, origin: v.origin, direction: v.direction, data: labels });
    // Same process: from memory, no reload.
    assert.equal(await loadSavedVolume(store, 'jobs/x/g1/volume', () => Promise.reject(new Error('must not reload'))), v);
    forget('jobs/x/g1'); // as in a new process: nothing in memory
    let asked: readonly string[] = [];
    const back = await loadSavedVolume(store, 'jobs/x/g1/volume', async (f) => {
      asked = f;
      return { ...volume(), data: Int16Array.from(v.data) };
    });
    assert.deepEqual(asked, files);
    assert.deepEqual([...back.data], [...v.data]);
    assert.deepEqual(back.meta, v.meta);
    const l = await loadSavedLabels(store, 'jobs/x/g1/labels');
    assert.deepEqual([...l.data], [...labels]);
    assert.deepEqual(l.origin, v.origin);
  });
});

test('source files that no longer give the same volume: a typed error, not a silently different volume', async () => {
  await withStore(async (store) => {
    await saveVolume(store, 'jobs/y/g1/volume', volume(), ['/a.dcm']);
    forget('jobs/y/g1');
    const other = { ...volume(), dims: [3, 2, 1] as const, data: new Int16Array(6) };
    await assert.rejects(loadSavedVolume(store, 'jobs/y/g1/volume', async () => other), (e) => isDfaError(e, 'ARTIFACT_NOT_FOUND') && /no longer give the same volume/.test(e.message));
  });
});

test('volumes and labels saved raw by earlier versions still load', async () => {
  await withStore(async (store) => {
    const v = volume();
    const { data, ...rest } = v;
    await store.put('jobs/z/g1/volume/volume.raw', new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    await store.put('jobs/z/g1/volume/volume.json', new TextEncoder().encode(JSON.stringify({ ...rest, dtype: 'int16' })));
    const labels = Uint8Array.from(data, (x) => (x > 0 ? 2 : 0));
    await store.put('jobs/z/g1/labels/labels.raw', labels);
    await store.put('jobs/z/g1/labels/labels.json', new TextEncoder().encode(JSON.stringify({ dims: v.dims, spacing: v.spacing, origin: v.origin, direction: v.direction, dtype: 'uint8' })));
    const back = await loadSavedVolume(store, 'jobs/z/g1/volume', () => Promise.reject(new Error('raw: no reload')));
    assert.deepEqual([...back.data], [...data]);
    assert.deepEqual([...(await loadSavedLabels(store, 'jobs/z/g1/labels')).data], [...labels]);
  });
});

test('label runs: exact round trip for every alignment and run shape; damage is a typed error', () => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const cases: Uint8Array[] = [new Uint8Array(0), new Uint8Array(1), Uint8Array.of(3), new Uint8Array(1000).fill(2)];
  for (let n = 0; n < 60; n++) {
    const a = new Uint8Array(Math.floor(rnd() * 5000));
    let i = 0;
    while (i < a.length) {
      const len = Math.floor(rnd() ** 3 * 700) + 1; // mostly short runs, some long
      a.fill(rnd() < 0.5 ? 0 : Math.floor(rnd() * 256), i, i + len);
      i += len;
    }
    cases.push(a);
  }
  for (const a of cases) {
    for (const offset of [0, 1, 2, 3]) {
      // Unaligned views too: the 4-voxel fast path must not change the result.
      const buf = new Uint8Array(a.length + offset);
      buf.set(a, offset);
      const view = buf.subarray(offset);
      const rle = encodeLabelRuns(view);
      assert.deepEqual(decodeLabelRuns(rle, a.length, 'test'), a);
    }
  }
  const rle = encodeLabelRuns(new Uint8Array(100).fill(1));
  assert.equal(rle.length, 5, 'one run');
  assert.throws(() => decodeLabelRuns(rle.subarray(0, 4), 100, 'x'), (e) => isDfaError(e, 'ARTIFACT_NOT_FOUND'));
  assert.throws(() => decodeLabelRuns(rle, 99, 'x'), (e) => isDfaError(e, 'ARTIFACT_NOT_FOUND'));
  assert.throws(() => decodeLabelRuns(rle, 101, 'x'), (e) => isDfaError(e, 'ARTIFACT_NOT_FOUND'));
});
