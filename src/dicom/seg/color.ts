/**
 * sRGB (0–255) → DICOM scaled CIELab (PS3.3 C.10.7.1.1): L* 0..100 → 0..65535, a*, b* −128..127 →
 * 0..65535, D65 white point, as RecommendedDisplayCIELabValue wants.
 */
export function rgbToDicomLab(rgb: readonly [number, number, number]): [number, number, number] {
  const lin = rgb.map((v) => {
    const c = v / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  const x = (0.4124564 * lin[0] + 0.3575761 * lin[1] + 0.1804375 * lin[2]) / 0.95047;
  const y = 0.2126729 * lin[0] + 0.7151522 * lin[1] + 0.072175 * lin[2];
  const z = (0.0193339 * lin[0] + 0.119192 * lin[1] + 0.9503041 * lin[2]) / 1.08883;
  const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116);
  const L = 116 * f(y) - 16;
  const a = 500 * (f(x) - f(y));
  const b = 200 * (f(y) - f(z));
  const clamp = (v: number) => Math.max(0, Math.min(65535, Math.round(v)));
  return [clamp((L * 65535) / 100), clamp(((a + 128) * 65535) / 255), clamp(((b + 128) * 65535) / 255)];
}
