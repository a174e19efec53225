/**
 * Sizes a file or a peer claims are checked against the bytes actually there (issue 10 §1): a
 * Number of Frames far beyond the pixel data is refused before anything is sized by it, and
 * deflated data sets inflate to a bounded size (no deflate bombs), in the SCP's header scan and
 * in the Part 10 reader.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateRawSync } from 'node:zlib';
import { isDfaError } from '../../core/errors.ts';
import { encodeIdentifier, part10Header, scanAttributes } from '../dimse/dataset.ts';
import { TS } from '../dimse/uids.ts';
import { framesOf } from '../volume/frames.ts';
import { decodeFrames, frameCount } from './pixels.ts';
import { parseDicom } from './read-part10.ts';

const CT = '1.2.840.10008.5.1.4.1.1.2';

/** A CT header (explicit VR LE) plus native Pixel Data of `pixelBytes` bytes. */
function ctFile(numberOfFrames: number, pixelBytes: number, ts: string = TS.EXPLICIT_LE): Buffer {
  const header = encodeIdentifier({
    SOPClassUID: CT, SOPInstanceUID: '1.2.3.4', StudyInstanceUID: '1.2.3', SeriesInstanceUID: '1.2.3.1', Modality: 'CT',
    Rows: 512, Columns: 512, BitsAllocated: 16, BitsStored: 12, HighBit: 11, PixelRepresentation: 0, SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2', NumberOfFrames: String(numberOfFrames),
  }, TS.EXPLICIT_LE);
  const px = Buffer.alloc(12);
  px.writeUInt16LE(0x7fe0, 0);
  px.writeUInt16LE(0x0010, 2);
  px.write('OW', 4, 'ascii');
  px.writeUInt32LE(pixelBytes, 8);
  const dataset = Buffer.concat([header, px, Buffer.alloc(pixelBytes)]);
  return Buffer.concat([part10Header(CT, '1.2.3.4', ts), ts === TS.DEFLATED_LE ? deflateRawSync(dataset) : dataset]);
}

test('a Number of Frames beyond the pixel data present is refused before it sizes an array', async () => {
  const ok = parseDicom(ctFile(2, 2 * 512 * 512 * 2), 'two-frames.dcm');
  assert.equal(frameCount(ok), 2);
  assert.equal(framesOf(ok).length, 2);
  assert.equal((await decodeFrames(ok)).frames.length, 2);
  const bomb = parseDicom(ctFile(1_000_000_000, 512 * 512 * 2), 'billion-frames.dcm');
  const refused = (e: unknown) => isDfaError(e, 'DICOM_PARSE_FAILED') && /Number of Frames 1000000000 does not fit/.test((e as Error).message);
  assert.throws(() => framesOf(bomb), refused);
  await assert.rejects(decodeFrames(bomb), refused);
});

test('deflated data sets inflate to a bounded size: a deflate bomb is refused by the header scan and by the Part 10 reader', () => {
  const big = ctFile(40, 40 * 512 * 512 * 2, TS.DEFLATED_LE); // ~20 MiB of zeros, deflated to ~20 KiB
  const dataset = big.subarray(part10Header(CT, '1.2.3.4', TS.DEFLATED_LE).length);
  assert.ok(dataset.length < 100_000, String(dataset.length));
  const wanted = new Set(['0020000D']);
  assert.deepEqual(scanAttributes(dataset, TS.DEFLATED_LE, wanted), { '0020000D': '1.2.3' });
  assert.throws(() => scanAttributes(dataset, TS.DEFLATED_LE, wanted, 0x7fe00000, 1 << 20), (e) => isDfaError(e, 'DICOM_PARSE_FAILED') && /within 1 MiB/.test((e as Error).message));
  assert.equal(parseDicom(big, 'deflated.dcm').dataset.StudyInstanceUID, '1.2.3');
  assert.throws(() => parseDicom(big, 'bomb.dcm', { maxInflatedBytes: 1 << 20 }), (e) => isDfaError(e, 'DICOM_PARSE_FAILED') && /inflates to more than 1 MiB/.test((e as Error).message));
});
