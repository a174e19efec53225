/**
 * STOW-RS response → outcomes, for the response shapes Orthanc 1.10 never produces
 * (FailedSOPSequence with FailureReason, WarningReason): PS3.18 10.5.3 examples as input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batches, stowOutcomes, type StowFile } from './stow.ts';

const files: StowFile[] = ['1.2.3.1', '1.2.3.2', '1.2.3.3', '1.2.3.4'].map((uid, i) => ({ path: `/x/${i}.dcm`, sopInstanceUid: uid, size: 100 }));
const ref = (uid: string, extra: Record<string, unknown> = {}) => ({ '00081155': { vr: 'UI', Value: [uid] }, '00081150': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] }, ...extra });

test('stowOutcomes: stored, stored with warning, failed with reason, and not mentioned', () => {
  const response = {
    '00081199': { vr: 'SQ', Value: [ref('1.2.3.1'), ref('1.2.3.2', { '00081196': { vr: 'US', Value: [0xb000] } })] },
    '00081198': { vr: 'SQ', Value: [ref('1.2.3.3', { '00081197': { vr: 'US', Value: [0xa900] } })] },
  };
  const out = stowOutcomes(files, 202, response);
  assert.deepEqual(out, [
    { sopInstanceUid: '1.2.3.1', ok: true, status: 200 },
    { sopInstanceUid: '1.2.3.2', ok: true, status: 202, reason: 'stored with warning 0xB000' },
    { sopInstanceUid: '1.2.3.3', ok: false, status: 202, reason: 'FailureReason 0xA900 (data set does not match SOP class)' },
    { sopInstanceUid: '1.2.3.4', ok: false, status: 202, reason: 'not listed in the STOW-RS response' },
  ]);
});

test('stowOutcomes: 409 with every instance failed, and no response body at all', () => {
  const all = stowOutcomes(files.slice(0, 1), 409, { '00081198': { vr: 'SQ', Value: [ref('1.2.3.1', { '00081197': { vr: 'US', Value: [0x0122] } })] } });
  assert.deepEqual(all, [{ sopInstanceUid: '1.2.3.1', ok: false, status: 409, reason: 'FailureReason 0x0122 (SOP class not supported)' }]);
  assert.equal(stowOutcomes(files, 200, undefined).every((o) => !o.ok), true);
});

test('batches: split by file count and by bytes, a large file alone', () => {
  const sized = [10, 10, 10, 50, 10].map((size, i) => ({ path: String(i), sopInstanceUid: String(i), size }));
  assert.deepEqual(batches(sized, 2, 1000).map((b) => b.map((f) => f.path)), [['0', '1'], ['2', '3'], ['4']]);
  assert.deepEqual(batches(sized, 100, 30).map((b) => b.map((f) => f.path)), [['0', '1', '2'], ['3'], ['4']]);
  assert.deepEqual(batches([], 2, 10), []);
});
