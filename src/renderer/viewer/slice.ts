/**
 * One value per pixel of any slice, for what measures rather than shows (ellipse ROI statistics):
 * a grey slice's modality values, a colour slice's Rec. 601 luminance, as the report measures a
 * colour ROI (core/report/build.ts, the SR's 'LUMA'). The luminance plane is made when first asked
 * for and kept with its slice, so only slices that are measured pay for it.
 */
import { rgbLuminance } from '../../shared/roi';
import type { SliceData } from '../api/client';

const luminance = new WeakMap<object, Float32Array>();

export function scalarValues(s: SliceData): ArrayLike<number> {
  if (s.samples === 1) return s.values;
  let y = luminance.get(s.rgb);
  if (!y) luminance.set(s.rgb, (y = rgbLuminance(s.rgb, s.rows * s.columns)));
  return y;
}

/** The pixel at column x, row y: its modality value, or its R G B. */
export function pixelAt(s: SliceData, x: number, y: number): number | [number, number, number] {
  const i = y * s.columns + x;
  if (s.samples === 1) return s.values[i];
  return [s.rgb[i * 3], s.rgb[i * 3 + 1], s.rgb[i * 3 + 2]];
}
