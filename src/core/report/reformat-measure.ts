/**
 * Measurements drawn on a coronal or sagittal reformat, measured again from the series' own
 * geometry: no slice of the series holds such a measurement, so the report places its points in
 * patient coordinates (mm, LPS) through the same reformat layout the viewer draws
 * (shared/reformat.ts), and gives its lengths as distances between those points.
 */
import { ResightError } from '../errors';
import type { AssembledSeries } from '../dicom/series';
import type { Vec3 } from '../../shared/planes';
import { sliceNumber } from '../../shared/planes';
import { reformatBlocked, reformatLayout, reformatReadingStep, reformatSample, reformatToStack, type ReformatBlock, type ReformatLayout, type ReformatPlane } from '../../shared/reformat';

const BLOCKED_WHY: Record<ReformatBlock, string> = {
  slices: 'it has fewer than two slices',
  orientation: 'its images have no orientation',
  'pixel-spacing': 'its images have no PixelSpacing',
  spacing: 'its slices are not evenly spaced positions',
};

/**
 * The layout of the series' reformat, or a VALIDATION error saying why it has none: a reformat
 * needs two or more evenly spaced slices sorted by position, their orientation and PixelSpacing
 * (the viewer offers one under the same conditions).
 */
export function seriesReformat(series: AssembledSeries, plane: ReformatPlane, what: string): ReformatLayout {
  const g = series.geometry;
  const iop = g.orientation;
  const ps = series.pixelSpacing;
  // the viewer's rule, and every slice's position (the points are placed between two of them)
  const blocked = reformatBlocked({ slices: series.ordered.length, orientation: iop, pixelSpacing: ps, pixelSpacingSource: series.pixelSpacingSource, sortedBy: g.sortedBy, uniform: g.uniform, sliceSpacing: g.sliceSpacing ?? 0 }) ?? (series.ordered.some((s) => !s.position) ? 'spacing' : null);
  if (blocked || !iop || !ps) throw new ResightError('VALIDATION', `${what} is drawn on a reformat, but this series cannot be reformatted: ${BLOCKED_WHY[blocked ?? 'orientation']}`);
  return reformatLayout(plane, series.rows, series.columns, series.ordered.length, ps, g.sliceSpacing as number, iop);
}

/**
 * Where a point of the reformat at `index` lies in the patient (mm, LPS): between the two slices
 * its fractional slice falls between, at its row and column there (ImagePositionPatient is the
 * centre of the first pixel).
 */
export function reformatPatientPoint(series: AssembledSeries, l: ReformatLayout, index: number, point: readonly [number, number]): Vec3 {
  const { column, row, slice } = reformatToStack(l, index, point);
  return stackPatientPoint(series, column, row, slice);
}

function stackPatientPoint(series: AssembledSeries, column: number, row: number, slice: number): Vec3 {
  const n = series.ordered.length;
  const k0 = Math.min(n - 2, Math.max(0, Math.floor(slice)));
  const f = slice - k0;
  const p0 = series.ordered[k0].position as Vec3;
  const p1 = series.ordered[k0 + 1].position as Vec3;
  const iop = series.geometry.orientation as number[];
  const [rowMm, colMm] = series.pixelSpacing as [number, number];
  return [0, 1, 2].map((c) => p0[c] + (p1[c] - p0[c]) * f + iop[c] * column * colMm + iop[3 + c] * row * rowMm) as Vec3;
}

/** The distance between two points, mm. */
export function distanceMm(p: Vec3, q: Vec3): number {
  return Math.hypot(q[0] - p[0], q[1] - p[1], q[2] - p[2]);
}

/** The number a reader knows position `index` of the reformat by (from 1 in its reading order), and how many there are. */
export function reformatPositionNumber(series: AssembledSeries, l: ReformatLayout, index: number): number {
  return sliceNumber(index, l.count, reformatReadingStep(l.plane, series.geometry.orientation));
}

/**
 * The reformat's values in the box from `a` to `b` (image coordinates), resampled as the viewer
 * resamples them (linearly between slices), zero elsewhere: what an ellipse ROI drawn there
 * measures. `line(k)` gives the reformat's line of slice k (row `index` of it for a 'row'
 * reformat, column `index` for a 'column' one, `width` values), asked only for the slices the box
 * reaches, each once.
 */
export async function reformatValuesInBox(l: ReformatLayout, a: readonly [number, number], b: readonly [number, number], line: (k: number) => Promise<ArrayLike<number>>): Promise<Float32Array> {
  const out = new Float32Array(l.outW * l.outH);
  const x0 = Math.max(0, Math.floor(Math.min(a[0], b[0])));
  const x1 = Math.min(l.outW - 1, Math.ceil(Math.max(a[0], b[0])));
  const y0 = Math.max(0, Math.floor(Math.min(a[1], b[1])));
  const y1 = Math.min(l.outH - 1, Math.ceil(Math.max(a[1], b[1])));
  const lines = new Map<number, ArrayLike<number>>();
  const at = async (k: number) => {
    let v = lines.get(k);
    if (!v) lines.set(k, (v = await line(k)));
    return v;
  };
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const { p, t } = reformatSample(l, x, y);
      const k0 = Math.floor(t);
      const k1 = Math.min(k0 + 1, l.slices - 1);
      const f = t - k0;
      out[y * l.outW + x] = ((await at(k0))[p] as number) * (1 - f) + ((await at(k1))[p] as number) * f;
    }
  }
  return out;
}

/** The reformat's line (row `index` for 'row', column `index` for 'column') of a slice's values (rows x columns, one value per pixel). */
export function reformatLine(l: ReformatLayout, index: number, values: ArrayLike<number>, columns: number): Float32Array {
  const out = new Float32Array(l.width);
  for (let p = 0; p < l.width; p++) out[p] = values[l.plane === 'row' ? index * columns + p : p * columns + index] as number;
  return out;
}
