import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDfaError } from '../../src/core/errors.ts';
import type { ArtifactStore, SegmentWithQc, VolumeHost } from '../../src/core/ports.ts';
import { savePreviews } from '../../src/agent/jobs/preview-artifacts.ts';
import { loadSavedVolumeInfo } from '../../src/agent/jobs/volume-artifacts.ts';
import { decodeLabels } from '../../src/core/volume-wire.ts';
import { writePhantomSeries } from '../../src/dicom/phantom/index.ts';
import { loadVolume } from '../../src/dicom/volume/index.ts';

/**
 * The contract every VolumeHost passes (core/ports.ts): where a job's volume is loaded, segmented
 * and previewed. Run from each implementation's test file with its own key space (`tag`) in a
 * store both the host and the test reach. Checked against what the agent would do with the volume
 * itself: the header of the loaded series, the in-process SegmentWithQc's labels, and the preview
 * PNGs rendered here from the same volume and labels, byte for byte.
 */
export interface VolumeHostFixture {
  readonly host: VolumeHost;
  readonly store: ArtifactStore;
  /** SegmentWithQc in this process: the reference outcome. */
  readonly reference: SegmentWithQc;
}

export function volumeHostContract(name: string, tag: string, make: () => Promise<VolumeHostFixture>): void {
  void test(`${name}: open → the series' header, saved; segment → the in-process outcome; previews → the same PNGs under the prefix`, async () => {
    const { host, store, reference } = await make();
    const job = `jobs/${tag}-1`;
    const dir = await store.dir(`${job}/input`);
    const w = await writePhantomSeries({ size: 64, slices: 24, seed: 21 }, dir, false);
    await store.commit(`${job}/input`);
    const keys = (await store.list(`${job}/input`)).filter((k) => k.endsWith('.dcm')).sort();
    assert.equal(keys.length, 24);
    const v = await loadVolume(w.files);

    const info = await host.open(`${job}/volume`, keys);
    assert.deepEqual([info.dims, info.spacing, info.origin, info.direction], [v.dims, v.spacing, v.origin, v.direction]);
    assert.deepEqual(JSON.parse(JSON.stringify(info.meta)), JSON.parse(JSON.stringify(v.meta)));
    assert.ok(!('data' in info), 'the header carries no voxels');
    const saved = await loadSavedVolumeInfo(store, `${job}/volume`);
    assert.deepEqual(saved.dims, v.dims);
    assert.equal(saved.meta.seriesInstanceUid, v.meta.seriesInstanceUid);

    const out = await host.segment(`${job}/volume`, info, 'classical', { labelsKey: `${job}/labels` });
    const want = await reference(v, 'classical');
    assert.ok(Buffer.compare(out.labels.data, want.labels.data) === 0, 'labels differ from in process');
    assert.deepEqual(out.volumesMl, want.volumesMl);
    assert.deepEqual(out.qc, want.qc);
    assert.equal(out.manifest.name, want.manifest.name);

    // Saved where the job keeps them (read from the store's bytes, not this process's memory).
    const savedLabels = decodeLabels(await store.get(`${job}/labels/labels.json`), await store.get(`${job}/labels/labels.rle`), 'saved labels');
    assert.ok(Buffer.compare(savedLabels.data, want.labels.data) === 0, 'the saved label map differs');
    const refs = await host.renderPreviews({ volumeKey: `${job}/volume`, labelsKey: `${job}/labels`, labels: out.manifest.labels, prefix: `${job}/previews` });
    const here = await savePreviews(store, `${job}/here`, v, want.labels, want.manifest.labels);
    assert.deepEqual(refs.map((r) => [r.name, r.width, r.height]), here.map((r) => [r.name, r.width, r.height]));
    assert.ok(refs.some((r) => r.name === 'key-coronal-lung') && refs.length >= 7, refs.map((r) => r.name).join());
    for (const [i, r] of refs.entries()) {
      assert.ok(r.key.startsWith(`${job}/previews/`), r.key);
      const png = await store.get(r.key);
      assert.ok(Buffer.compare(png, await store.get(here[i]!.key)) === 0, `${r.name} differs from the preview rendered here`);
    }
  });

  void test(`${name}: a volume saved by another process is segmented from its DICOM keys; a missing file, volume or model is a typed error`, async () => {
    const { host, store } = await make();
    const job = `jobs/${tag}-2`;
    const dir = await store.dir(`${job}/input`);
    await writePhantomSeries({ size: 64, slices: 16, seed: 22 }, dir, false);
    await store.commit(`${job}/input`);
    const keys = (await store.list(`${job}/input`)).filter((k) => k.endsWith('.dcm')).sort();
    const info = await host.open(`${job}/volume`, keys);
    // The same saved header under a second key, as a job resumed by another agent finds it: loaded again from the keys.
    await store.put(`${job}/again/volume.json`, await store.get(`${job}/volume/volume.json`));
    const out = await host.segment(`${job}/again`, info, 'classical', { labelsKey: `${job}/labels` });
    assert.deepEqual(out.labels.dims, info.dims);

    await assert.rejects(host.open(`${job}/missing`, [`${job}/input/none.dcm`]), (e) => isDfaError(e, 'ARTIFACT_NOT_FOUND'));
    await assert.rejects(host.segment(`${job}/never-opened`, info, 'classical', { labelsKey: `${job}/l1` }), (e) => isDfaError(e, 'ARTIFACT_NOT_FOUND'));
    await assert.rejects(host.segment(`${job}/volume`, info, 'no-such-model@1', { labelsKey: `${job}/l2` }), (e) => isDfaError(e, 'MODEL_NOT_INSTALLED'));
  });
}
