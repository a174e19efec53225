import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isDfaError } from '../../core/errors.ts';
import { dcmjs } from '../parse/dcmjs.ts';
import { encodeDSList, formatDS } from './common.ts';
import { encodePart10Fast, EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN } from './encode.ts';

const run = promisify(execFile);

const META = { MediaStorageSOPClassUID: '1.2.840.10008.5.1.4.1.1.481.3', MediaStorageSOPInstanceUID: '1.2.3.4.5', ImplementationClassUID: '1.2.3' };
const DATASET = {
  SOPClassUID: '1.2.840.10008.5.1.4.1.1.481.3',
  SOPInstanceUID: '1.2.3.4.5', // odd length: NUL-padded
  PatientName: { Alphabetic: 'Müller^Ånna' }, // UTF-8, PN as an object
  PatientID: '',
  StructureSetLabel: 'ABC', // odd: space-padded
  ROIDisplayColor: [255, 0, 7],
  Rows: 3,
  DimensionIndexSequence: [{ DimensionIndexPointer: 0x0062000b, FunctionalGroupPointer: 0x0062000a }],
  ROIContourSequence: [
    { ReferencedROINumber: 1, ContourSequence: [{ ContourData: ['1.5', '-2.25', '3'], NumberOfContourPoints: 1 }] },
    { ReferencedROINumber: 2 },
  ],
  RecommendedDisplayCIELabValue: [1, 65535, 300],
  BitsAllocated: 8,
  PixelData: [new Uint8Array([1, 2, 3]).buffer],
};

for (const ts of [IMPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_LITTLE_ENDIAN]) {
  test(`encoder (${ts}): dcmjs and dcmdump read back every value`, async () => {
    const bytes = encodePart10Fast({ ...META, FileMetaInformationVersion: new Uint8Array([0, 1]) }, { SpecificCharacterSet: 'ISO_IR 192', ...DATASET }, ts);
    const { DicomMessage, DicomMetaDictionary } = dcmjs().data;
    const parsed = DicomMessage.readFile(bytes.buffer.slice(0) as ArrayBuffer);
    const meta = DicomMetaDictionary.naturalizeDataset(parsed.meta) as Record<string, any>;
    assert.equal(meta.TransferSyntaxUID, ts);
    const ds = DicomMetaDictionary.naturalizeDataset(parsed.dict) as Record<string, any>;
    assert.equal(ds.SOPInstanceUID, '1.2.3.4.5');
    assert.equal(ds.PatientName[0].Alphabetic, 'Müller^Ånna');
    assert.equal(ds.StructureSetLabel, 'ABC');
    assert.deepEqual(ds.ROIDisplayColor.map(Number), [255, 0, 7]);
    assert.equal(ds.Rows, 3);
    assert.deepEqual(ds.RecommendedDisplayCIELabValue, [1, 65535, 300]);
    assert.equal(ds.ROIContourSequence.length, 2);
    assert.deepEqual(ds.ROIContourSequence[0].ContourSequence[0].ContourData.map(Number), [1.5, -2.25, 3]);
    assert.equal(ds.ROIContourSequence[1].ReferencedROINumber, 2);
    assert.deepEqual([...new Uint8Array(ds.PixelData[0] as ArrayBuffer)].slice(0, 3), [1, 2, 3]);

    const dir = await mkdtemp(join(tmpdir(), 'dfa-encode-'));
    try {
      const f = join(dir, 'x.dcm');
      await writeFile(f, bytes);
      const { stdout, stderr } = await run('dcmdump', ['+U8', f]);
      assert.equal(stderr, '');
      assert.match(stdout, /\(0020,9165\) AT \(0062,000b\)/);
      assert.match(stdout, /\(0010,0010\) PN \[Müller\^Ånna\]/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

test('encoder refuses what it cannot write: unknown keywords, long short-length values in explicit VR', () => {
  assert.throws(() => encodePart10Fast(META, { NoSuchKeyword: 1 }, IMPLICIT_VR_LITTLE_ENDIAN), (e) => isDfaError(e, 'INTERNAL'));
  const longDs = Array.from({ length: 10000 }, () => '123.456789');
  assert.throws(() => encodePart10Fast(META, { ContourData: longDs }, EXPLICIT_VR_LITTLE_ENDIAN), (e) => isDfaError(e) && /too long/.test(e.message));
  // Implicit VR has 4-byte lengths: the same value is fine there.
  assert.ok(encodePart10Fast(META, { ContourData: longDs }, IMPLICIT_VR_LITTLE_ENDIAN).length > 100000);
});

test('encodeDSList writes exactly the bytes of the formatDS values joined by backslashes', () => {
  const edge = [0, -0, 1, -1, 0.5, -0.5, 1e-6, -1e-6, 4e-7, -4e-7, 5e-7, 1.0000005, 123.4567895, -249.6, 99999999.999999, -99999999.999999, 1e8, -1e8, 123456789.5, 1e12, -3.0000001, 0.1 + 0.2, 2.675];
  const rnd: number[] = [];
  let seed = 12345;
  const next = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (let i = 0; i < 20000; i++) {
    const scale = 10 ** Math.floor(next() * 10 - 2); // 0.01 … 1e7
    rnd.push((next() - 0.5) * 2 * scale);
    rnd.push(Math.round((next() - 0.5) * 1e6) / 2); // half-pixel grid values, as contours have
  }
  for (const values of [edge, rnd, [], [42]]) {
    const want = values.map(formatDS).join('\\');
    assert.equal(Buffer.from(encodeDSList(values)).toString('latin1'), want);
  }
  // And the encoder takes such bytes as the element's value: same file as the list of strings.
  const pts = new Float64Array([1.25, -2.5, 3, 4.000001, -0.000001, 6]);
  const a = encodePart10Fast(META, { ContourData: encodeDSList(pts) }, IMPLICIT_VR_LITTLE_ENDIAN);
  const b = encodePart10Fast(META, { ContourData: Array.from(pts, formatDS) }, IMPLICIT_VR_LITTLE_ENDIAN);
  assert.deepEqual(Buffer.from(a), Buffer.from(b));
});
