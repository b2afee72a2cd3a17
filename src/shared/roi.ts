/**
 * Elliptical ROI statistics (OHIF's EllipticalROI, Weasis' ellipse): the modality values (HU for
 * CT) of the pixels whose centres lie inside the ellipse drawn in the box from `a` to `b` (image
 * coordinates, pixel edges), with the ellipse's area in mm². How a radiologist reads the density
 * of a lesion: a cyst near water, a solid lesion well above it.
 */

export interface RoiStats {
  /** Pixels inside. */
  n: number;
  mean: number;
  /** Population standard deviation (as OHIF reports it). */
  sd: number;
  min: number;
  max: number;
  /** π · rx · ry in mm² (needs PixelSpacing); pixel units² without it. */
  area: number;
  areaUnit: 'mm2' | 'px2';
}

/** The ellipse drawn in the box from `a` to `b`: its centre and its radii along x and y. */
export function ellipseOf(a: readonly [number, number], b: readonly [number, number]): { cx: number; cy: number; rx: number; ry: number } {
  return { cx: (a[0] + b[0]) / 2, cy: (a[1] + b[1]) / 2, rx: Math.abs(b[0] - a[0]) / 2, ry: Math.abs(b[1] - a[1]) / 2 };
}

export function ellipseStats(
  values: ArrayLike<number>,
  rows: number,
  columns: number,
  a: readonly [number, number],
  b: readonly [number, number],
  spacing?: readonly [number, number],
): RoiStats | null {
  const { cx, cy, rx, ry } = ellipseOf(a, b);
  if (rx <= 0 || ry <= 0) return null;
  const x0 = Math.max(0, Math.floor(cx - rx));
  const x1 = Math.min(columns - 1, Math.ceil(cx + rx));
  const y0 = Math.max(0, Math.floor(cy - ry));
  const y1 = Math.min(rows - 1, Math.ceil(cy + ry));
  let n = 0;
  let sum = 0;
  let sum2 = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let y = y0; y <= y1; y++) {
    const dy = (y + 0.5 - cy) / ry;
    for (let x = x0; x <= x1; x++) {
      const dx = (x + 0.5 - cx) / rx;
      if (dx * dx + dy * dy > 1) continue;
      const v = values[y * columns + x] as number;
      n++;
      sum += v;
      sum2 += v * v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  if (!n) return null;
  const mean = sum / n;
  const area = Math.PI * rx * ry * (spacing ? spacing[0] * spacing[1] : 1);
  return { n, mean, sd: Math.sqrt(Math.max(0, sum2 / n - mean * mean)), min, max, area, areaUnit: spacing ? 'mm2' : 'px2' };
}

/** Length from `a` to `b` (image coordinates): mm with PixelSpacing [row, column], else pixels. */
export function lengthOf(a: readonly [number, number], b: readonly [number, number], spacing?: readonly [number, number]): { value: number; unit: 'mm' | 'px' } {
  return spacing
    ? { value: Math.hypot((b[0] - a[0]) * spacing[1], (b[1] - a[1]) * spacing[0]), unit: 'mm' }
    : { value: Math.hypot(b[0] - a[0], b[1] - a[1]), unit: 'px' };
}

/** A measurement the reviewer drew on a slice (image coordinates, pixel edges). */
export interface DrawnMeasurement {
  kind: 'length' | 'ellipse';
  /** Slice index in the series (axial stack order). */
  slice: number;
  a: [number, number];
  b: [number, number];
}

/** Colour pixels (RGB interleaved) as one value each, Rec. 601 luminance: what ROI statistics measure on a colour image (the viewer shows the colour). */
export function rgbLuminance(rgb: ArrayLike<number>, pixels: number): Float32Array {
  const out = new Float32Array(pixels);
  for (let i = 0; i < pixels; i++) out[i] = 0.299 * (rgb[i * 3] as number) + 0.587 * (rgb[i * 3 + 1] as number) + 0.114 * (rgb[i * 3 + 2] as number);
  return out;
}
