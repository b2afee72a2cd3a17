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

/** The points a measurement is drawn through: a length's or an ellipse box's two, a bidirectional measurement's four. */
export function measurementPoints(m: { kind?: string | undefined; a: [number, number]; b: [number, number]; c?: [number, number] | undefined; d?: [number, number] | undefined }): [number, number][] {
  return m.kind === 'bidirectional' && m.c && m.d ? [m.a, m.b, m.c, m.d] : [m.a, m.b];
}

/** Length from `a` to `b` (image coordinates): mm with PixelSpacing [row, column], else pixels. */
export function lengthOf(a: readonly [number, number], b: readonly [number, number], spacing?: readonly [number, number]): { value: number; unit: 'mm' | 'px' } {
  return spacing
    ? { value: Math.hypot((b[0] - a[0]) * spacing[1], (b[1] - a[1]) * spacing[0]), unit: 'mm' }
    : { value: Math.hypot(b[0] - a[0], b[1] - a[1]), unit: 'px' };
}

/**
 * The short axis of a bidirectional measurement (RECIST's longest diameter and the longest one
 * perpendicular to it): the reviewer's drag p0 -> p1 across the lesion, made perpendicular to the
 * long axis a-b in patient space (pixels scaled by `spacing`, so it is perpendicular in mm on
 * non-square pixels too) and moved along it to cross it where the drag's middle projects (within
 * the long axis). Null when the drag has no extent across the long axis.
 */
export function shortAxisOf(
  a: readonly [number, number],
  b: readonly [number, number],
  p0: readonly [number, number],
  p1: readonly [number, number],
  spacing: readonly [number, number] = [1, 1],
): { c: [number, number]; d: [number, number] } | null {
  const sx = spacing[1];
  const sy = spacing[0];
  const mm = (p: readonly [number, number]) => [p[0] * sx, p[1] * sy] as const;
  const [ax, ay] = mm(a);
  const [bx, by] = mm(b);
  const len = Math.hypot(bx - ax, by - ay);
  if (len < 1e-9) return null;
  const ux = (bx - ax) / len;
  const uy = (by - ay) / len;
  const nx = -uy;
  const ny = ux;
  const [q0x, q0y] = mm(p0);
  const [q1x, q1y] = mm(p1);
  const t = Math.min(len, Math.max(0, ((q0x + q1x) / 2 - ax) * ux + ((q0y + q1y) / 2 - ay) * uy));
  const xx = ax + ux * t;
  const xy = ay + uy * t;
  const s0 = (q0x - xx) * nx + (q0y - xy) * ny;
  const s1 = (q1x - xx) * nx + (q1y - xy) * ny;
  if (Math.abs(s1 - s0) < 1e-9) return null;
  const px = (s: number): [number, number] => [(xx + nx * s) / sx, (xy + ny * s) / sy];
  return { c: px(s0), d: px(s1) };
}

/** A measurement the reviewer drew on a slice (image coordinates, pixel edges). */
export interface DrawnMeasurement {
  /** bidirectional: the long axis a-b and the short axis c-d (shortAxisOf). */
  kind: 'length' | 'ellipse' | 'bidirectional';
  /** Slice index in the series (volume order); on a reformat, the reformat's position. */
  slice: number;
  /** Drawn on a reformat of the stack: one row of every slice ('row': coronal for an axial stack) or one column ('column': sagittal). */
  plane?: 'row' | 'column';
  a: [number, number];
  b: [number, number];
  c?: [number, number];
  d?: [number, number];
  /** Its number as the viewer shows it (M3): kept when earlier ones were deleted. Absent: its place in the list. */
  label?: number;
}

/** Colour pixels (RGB interleaved) as one value each, Rec. 601 luminance: what ROI statistics measure on a colour image (the viewer shows the colour). */
export function rgbLuminance(rgb: ArrayLike<number>, pixels: number): Float32Array {
  const out = new Float32Array(pixels);
  for (let i = 0; i < pixels; i++) out[i] = 0.299 * (rgb[i * 3] as number) + 0.587 * (rgb[i * 3 + 1] as number) + 0.114 * (rgb[i * 3 + 2] as number);
  return out;
}
