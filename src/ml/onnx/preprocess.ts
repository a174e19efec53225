/** Intensity preprocessing as the manifest declares it (the training script uses the same formula). */
import type { Preprocessing } from './manifest.ts';

/** Map one HU value to the model's input scale. */
export function intensityFn(p: Preprocessing): (hu: number) => number {
  switch (p.type) {
    case 'window': {
      const scale = (p.outMax - p.outMin) / (p.max - p.min);
      return (hu) => p.outMin + ((hu < p.min ? p.min : hu > p.max ? p.max : hu) - p.min) * scale;
    }
    case 'zscore': {
      const lo = p.clipMin ?? -Infinity;
      const hi = p.clipMax ?? Infinity;
      return (hu) => ((hu < lo ? lo : hu > hi ? hi : hu) - p.mean) / p.std;
    }
  }
}

/** Normalise in place and return the same array. */
export function normalizeInPlace(data: Float32Array, p: Preprocessing): Float32Array {
  const f = intensityFn(p);
  for (let i = 0; i < data.length; i++) data[i] = f(data[i]);
  return data;
}
