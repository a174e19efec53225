import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PNG } from 'pngjs';
import type { LabelInfo } from '../../core/model.ts';
import { patientToIndex, type LabelMap, type Vec3, type Volume } from '../../core/volume.ts';
import { generateChestPhantom, type PatientPosition } from '../phantom/index.ts';
import { KEY_PREVIEW, renderPreviews } from './render.ts';
import { resamplePlane, type ViewName } from './reslice.ts';

const MARKER: LabelInfo = {
  value: 7,
  roiName: 'Marker',
  color: [255, 0, 255],
  concept: { scheme: 'SCT', code: '0', meaning: 'marker' },
  category: { scheme: 'SCT', code: '0', meaning: 'marker' },
};

/**
 * A phantom with a 20 mm marker cube on the patient's left, anterior and superior (LPS: +x, −y, +z),
 * painted bright in the CT and as label 7.
 */
function phantomWithMarker(pos: PatientPosition, reverseSlices = false): { volume: Volume; labels: LabelMap; marker: Vec3 } {
  const ph = generateChestPhantom({ size: 64, slices: 40, patientPosition: pos, noise: 0 });
  let volume: Volume = ph.volume;
  if (reverseSlices) {
    // The same patient, slices stored in the opposite order (sliceDir flipped, origin at the other end).
    const [nx, ny, nz] = volume.dims;
    const data = new Int16Array(volume.data.length);
    for (let k = 0; k < nz; k++) data.set(volume.data.subarray((nz - 1 - k) * nx * ny, (nz - k) * nx * ny), k * nx * ny);
    const s = volume.direction[2];
    const last = [0, 1, 2].map((a) => volume.origin[a] + (nz - 1) * volume.spacing[2] * s[a]) as unknown as Vec3;
    volume = { ...volume, data, origin: last, direction: [volume.direction[0], volume.direction[1], [-s[0], -s[1], -s[2]]] };
  }
  const marker: Vec3 = [80, -40, 80];
  const labels = new Uint8Array(volume.data.length);
  const [nx, ny, nz] = volume.dims;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const p = [0, 1, 2].map((a) => volume.origin[a] + i * volume.spacing[0] * volume.direction[0][a] + j * volume.spacing[1] * volume.direction[1][a] + k * volume.spacing[2] * volume.direction[2][a]);
        if (Math.abs(p[0] - marker[0]) <= 10 && Math.abs(p[1] - marker[1]) <= 10 && Math.abs(p[2] - marker[2]) <= 10) {
          const idx = i + nx * (j + ny * k);
          labels[idx] = MARKER.value;
          (volume.data as Int16Array)[idx] = 2000;
        }
      }
    }
  }
  assert.ok(labels.some((v) => v !== 0), 'the marker lies inside the scan');
  const [mi, mj, mk] = patientToIndex(volume, marker);
  assert.ok(mi >= 0 && mj >= 0 && mk >= 0, 'marker index sane');
  return { volume, labels: { ...volume, data: labels }, marker };
}

/** Mean column and row (0..1 of width/height) of the marker's pixels in a plane through it. */
function markerPlace(volume: Volume, labels: LabelMap, view: ViewName, at: Vec3): { x: number; y: number } {
  const p = resamplePlane(volume, labels, view, at, 256);
  let n = 0;
  let sx = 0;
  let sy = 0;
  for (let y = 0; y < p.height; y++) {
    for (let x = 0; x < p.width; x++) {
      if (p.labels[y * p.width + x] === MARKER.value) {
        n++;
        sx += x;
        sy += y;
      }
    }
  }
  assert.ok(n > 0, `${view}: marker visible`);
  return { x: sx / n / p.width, y: sy / n / p.height };
}

describe('preview geometry (radiological convention, whatever the patient position)', () => {
  for (const pos of ['HFS', 'FFS', 'HFP', 'FFP'] as const) {
    for (const reverse of [false, true]) {
      test(`${pos}${reverse ? ', slices stored in reverse' : ''}: patient's left on the viewer's right, anterior up in axial, head up`, () => {
        const { volume, labels, marker } = phantomWithMarker(pos, reverse);
        const axial = markerPlace(volume, labels, 'axial', marker);
        assert.ok(axial.x > 0.5, `axial: left marker on the viewer's right (x=${axial.x.toFixed(2)})`);
        assert.ok(axial.y < 0.5, `axial: anterior marker in the upper half (y=${axial.y.toFixed(2)})`);
        const coronal = markerPlace(volume, labels, 'coronal', marker);
        assert.ok(coronal.x > 0.5, `coronal: left marker on the viewer's right (x=${coronal.x.toFixed(2)})`);
        assert.ok(coronal.y < 0.5, `coronal: superior marker in the upper half (y=${coronal.y.toFixed(2)})`);
        const sagittal = markerPlace(volume, labels, 'sagittal', marker);
        assert.ok(sagittal.x < 0.5, `sagittal: anterior marker on the viewer's left (x=${sagittal.x.toFixed(2)})`);
        assert.ok(sagittal.y < 0.5, `sagittal: superior marker in the upper half (y=${sagittal.y.toFixed(2)})`);
      });
    }
  }
});

describe('renderPreviews', () => {
  test('six PNGs (3 views × lung/soft window) that decode, with the structure drawn in its ROI colour where it is', () => {
    const { volume, labels } = phantomWithMarker('FFS');
    const out = renderPreviews(volume, labels, [MARKER], { maxSide: 256 });
    assert.deepEqual(out.map((p) => p.name).sort(), ['axial-lung', 'axial-soft', 'coronal-lung', 'coronal-soft', 'sagittal-lung', 'sagittal-soft']);
    assert.ok(out.some((p) => p.name === KEY_PREVIEW));
    for (const p of out) {
      const img = PNG.sync.read(p.png);
      assert.equal(img.width, p.width);
      assert.equal(img.height, p.height);
      assert.ok(Math.max(p.width, p.height) === 256);
      let magenta = 0;
      let sumX = 0;
      for (let y = 0; y < img.height; y++) {
        for (let x = 0; x < img.width; x++) {
          const o = (y * img.width + x) * 4;
          if (img.data[o] === 255 && img.data[o + 1] === 0 && img.data[o + 2] === 255) {
            magenta++;
            sumX += x;
          }
        }
      }
      assert.ok(magenta > 10, `${p.name}: contour drawn (${magenta} px)`);
      const x = sumX / magenta / img.width;
      if (p.view === 'sagittal') assert.ok(x < 0.5, `${p.name}: anterior on the left`);
      else assert.ok(x > 0.5, `${p.name}: patient's left on the viewer's right`);
    }
  });

  test('the lung and soft-tissue windows give different images', () => {
    const { volume, labels } = phantomWithMarker('HFS');
    const [lung, soft] = ['lung', 'soft'].map((w) => PNG.sync.read(renderPreviews(volume, labels, [MARKER], { views: ['axial'], windows: [w as 'lung'], maxSide: 128 })[0].png));
    assert.notDeepEqual(lung.data, soft.data);
  });

  test('without labels: previews of the CT alone, cut through the middle', () => {
    const { volume } = phantomWithMarker('HFS');
    const out = renderPreviews(volume, undefined, [], { maxSide: 128 });
    assert.equal(out.length, 6);
  });
});
