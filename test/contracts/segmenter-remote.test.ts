import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSegmenter } from '../../src/agent/segmenters.ts';
import { generateChestPhantom } from '../../src/dicom/phantom/index.ts';
import { segmenterContract } from './segmenter.contract.ts';
import { startMlOverHttp } from '../support/ml-over-http.ts';

/**
 * The Segmenter contract on the shipped classical model in process and through an ml_processor
 * over real HTTP (token auth; volume and labels by key through a store both sides share), and the
 * job's SegmentWithQc giving the same outcome both ways.
 */
const { cfg, log, store, remote, local, close } = await startMlOverHttp({ tmpPrefix: 'dfa-ml-contract-' });
after(close);

segmenterContract('classical, in process', () => createSegmenter('classical', cfg, log), { minDice: 0.95 });
segmenterContract('classical, via ml_processor over HTTP', () => remote.segmenter('classical-lung'), { minDice: 0.95 });

test('SegmentWithQc: the same labels, QC, volumes and manifest in process and through the ml_processor; nothing left in the store', async () => {
  const p = generateChestPhantom({ size: 128, slices: 64, seed: 5 });
  const a = await local.segment(p.volume, 'classical');
  const b = await remote.segment(p.volume, 'classical');
  assert.ok(Buffer.compare(a.labels.data, b.labels.data) === 0, 'labels differ');
  assert.deepEqual(b.labels.dims, a.labels.dims);
  assert.deepEqual(b.qc, a.qc);
  assert.deepEqual(b.volumesMl, a.volumesMl);
  assert.deepEqual(b.manifest, a.manifest);
  assert.deepEqual(await store.list('ml'), [], 'the request volume and labels are removed afterwards');
});
