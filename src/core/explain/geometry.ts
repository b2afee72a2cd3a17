/**
 * Heatmap geometry: from a CAM at the layer's resolution to the slice's pixels, through the
 * exact inverse of the model's preprocessing. Preprocessing resizes the rows x columns slice to
 * the model input (bilinear, half-pixel centres, no crop or pad), so the map is upsampled to the
 * model input the same way and then resized back to rows x columns. A layer pixel (x, y) covers
 * slice pixels centred at ((x + 0.5) * columns / w - 0.5, (y + 0.5) * rows / h - 0.5).
 */
import { mapToSliceSize, resizeBilinear } from '../../shared/resample';
import type { CamMap } from './cam';

/** Bilinear resize (half-pixel centres) of a small map. */
export function resizeMap(map: Float32Array, h: number, w: number, outH: number, outW: number): Float32Array {
  return resizeBilinear(map, h, w, outH, outW);
}

/** The map at the slice's rows x columns: via the model input size, as the preprocessing went. */
export function mapToSlice(cam: CamMap, inputSize: [number, number], rows: number, columns: number): Float32Array {
  return mapToSliceSize(cam.map, cam.height, cam.width, inputSize, rows, columns);
}

/** A map's largest value, 0 for a map with none above 0 (its top in model units: what colour bars and scales start from). */
export function mapMax(map: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < map.length; i++) if ((map[i] as number) > max) max = map[i] as number;
  return max;
}

/** Scale to 0..1 by the maximum (all zeros stays zeros). */
export function normalize(map: Float32Array): { values: Float32Array; max: number } {
  const max = mapMax(map);
  return { values: max > 0 ? Float32Array.from(map, (v) => v / max) : new Float32Array(map.length), max };
}

/** Layer-map coordinates (x, y) to slice pixel coordinates. */
export function layerToSlice(x: number, y: number, cam: { height: number; width: number }, rows: number, columns: number): [number, number] {
  return [((x + 0.5) * columns) / cam.width - 0.5, ((y + 0.5) * rows) / cam.height - 0.5];
}

/**
 * Where the map points: the weighted centre of the 4-connected region around its maximum that
 * stays at or above half the maximum, in layer-map coordinates; null for an all-zero map.
 */
export function hotSpot(cam: CamMap): [number, number] | null {
  const { map, width: w, height: h } = cam;
  let peak = -1;
  let max = 0;
  // a non-finite value is no evidence of where: it is passed over (the explainer refuses maps
  // that hold one; this keeps the finding's location a number or null all the same)
  map.forEach((v, i) => {
    if (v > max && Number.isFinite(v)) {
      max = v;
      peak = i;
    }
  });
  if (peak < 0) return null;
  const seen = new Uint8Array(map.length);
  const stack = [peak];
  seen[peak] = 1;
  let sw = 0;
  let sx = 0;
  let sy = 0;
  while (stack.length) {
    const i = stack.pop() as number;
    const x = i % w;
    const y = (i - x) / w;
    sw += map[i];
    sx += map[i] * x;
    sy += map[i] * y;
    for (const [nx, ny] of [[x - 1, y], [x + 1, y], [x, y - 1], [x, y + 1]]) {
      if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
      const j = ny * w + nx;
      if (!seen[j] && map[j] >= max / 2 && Number.isFinite(map[j])) {
        seen[j] = 1;
        stack.push(j);
      }
    }
  }
  const at: [number, number] = [sx / sw, sy / sw];
  return Number.isFinite(at[0]) && Number.isFinite(at[1]) ? at : null;
}

/** Index of the maximum of a map (first one on ties). */
export function argmax(map: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < map.length; i++) if (map[i] > map[best]) best = i;
  return best;
}
