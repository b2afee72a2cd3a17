/**
 * The geometry of a coronal or sagittal reformat of a stack, shared by the viewer (which draws it,
 * viewer/mpr.ts) and the report (which measures on it again from the files): the two must agree on
 * where a reformat pixel lies in the stack, or a measurement drawn on one would be reported
 * somewhere else.
 *
 * A reformat is one row ('row') or one column ('column') of every slice of a position-sorted stack
 * with uniform spacing, resampled linearly along the slice normal to square pixels, and laid out
 * as radiologists read its plane (axial: anterior up, the patient's right on screen left; coronal:
 * head up, right on the left; sagittal: head up, anterior on the left), whichever of its two axes
 * (the slices' own, the normal) that puts across.
 */
import { cross, planeOf, readingStep, type Anatomical, type ReadingStep, type Vec3 } from './planes';

/** A stack's two reformats: one row of every slice, or one column. */
export type ReformatPlane = 'row' | 'column';

export interface ReformatLayout {
  plane: ReformatPlane;
  /** Positions the plane scrolls through (the stack's rows for 'row', its columns for 'column'). */
  count: number;
  /** Slices of the stack. */
  slices: number;
  /** Samples along the normal (square pixels). */
  depth: number;
  /** Width of the in-plane axis (the stack's columns for 'row', its rows for 'column'). */
  width: number;
  /** The image's columns and rows. */
  outW: number;
  outH: number;
  /** Which axis runs across the screen: the slices' own ('along') or the normal. */
  across: 'along' | 'normal';
  flipX: boolean;
  flipY: boolean;
  /**
   * The image's [row, column] pixel spacing, mm: the stack's spacing along the in-plane axis, and
   * the slices' span over the samples along the normal (square up to the rounding of `depth`; this
   * is exact, so a length measured on the reformat is the distance in the patient).
   */
  pixelSpacing: [number, number];
  /** Row and column direction cosines of the reformatted image (LPS). */
  orientation: number[];
  /** The plane this is, as radiologists name it. */
  anatomical: Anatomical;
}

const dot = (a: readonly number[], b: readonly number[]) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];

/** Screen right and down (LPS) of each plane as radiologists read it. */
const READING: Record<Anatomical, { right: Vec3; down: Vec3 }> = {
  axial: { right: [1, 0, 0], down: [0, 1, 0] },
  coronal: { right: [1, 0, 0], down: [0, 0, -1] },
  sagittal: { right: [0, 1, 0], down: [0, 0, -1] },
  // no convention: the normal's head-most end at the top, as a coronal
  oblique: { right: [1, 0, 0], down: [0, 0, -1] },
};

/**
 * The layout of a stack's reformat. `pixelSpacing` is the stack's [row, column] mm, `sliceSpacing`
 * the distance between its slices along the normal, `iop` its ImageOrientationPatient.
 */
export function reformatLayout(plane: ReformatPlane, rows: number, columns: number, slices: number, pixelSpacing: readonly [number, number], sliceSpacing: number, iop: readonly number[]): ReformatLayout {
  const rowDir = iop.slice(0, 3);
  const colDir = iop.slice(3, 6);
  const normal = cross(rowDir, colDir);
  // the in-plane axis: along a row (columns of it) for 'row', down a column for 'column'
  const along = plane === 'row' ? rowDir : colDir;
  const width = plane === 'row' ? columns : rows;
  const count = plane === 'row' ? rows : columns;
  const ps = plane === 'row' ? pixelSpacing[1] : pixelSpacing[0];
  // samples along the normal, resampled to the in-plane spacing so pixels are square
  const depth = Math.max(2, Math.round(((slices - 1) * sliceSpacing) / ps) + 1);
  // which axis goes across: the one nearer the reading convention's right; signs by it too
  const anatomical = planeOf(cross(along, normal));
  const reading = READING[anatomical];
  const across = Math.abs(dot(along, reading.right)) >= Math.abs(dot(normal, reading.right)) ? 'along' : 'normal';
  const [rightVec, downVec] = across === 'along' ? [along, normal] : [normal, along];
  const flipX = dot(rightVec, reading.right) < 0;
  const flipY = dot(downVec, reading.down) < 0;
  const [outW, outH] = across === 'along' ? [width, depth] : [depth, width];
  // (+ 0: no negative zeros in the cosines)
  const sign = (v: readonly number[], flip: boolean) => v.map((x) => (flip ? -x : x) + 0);
  const step = ((slices - 1) * sliceSpacing) / (depth - 1);
  const spacing: [number, number] = across === 'along' ? [step, ps] : [ps, step];
  return { plane, count, slices, depth, width, outW, outH, across, flipX, flipY, pixelSpacing: spacing, orientation: [...sign(rightVec, flipX), ...sign(downVec, flipY)], anatomical };
}

/**
 * Where pixel (x, y) of the reformat (0-based pixel centres) takes its value from: position `p`
 * along the in-plane axis (a column of the stack for 'row', a row for 'column') and the fractional
 * slice `t` (volume order), between slices floor(t) and floor(t) + 1.
 */
export function reformatSample(l: ReformatLayout, x: number, y: number): { p: number; t: number } {
  const sx = l.flipX ? l.outW - 1 - x : x;
  const sy = l.flipY ? l.outH - 1 - y : y;
  const [p, k] = l.across === 'along' ? [sx, sy] : [sy, sx];
  return { p, t: (k * (l.slices - 1)) / (l.depth - 1) };
}

/**
 * Where a point of the reformat at `index` lies in the stack: its column and row (0-based pixel
 * centres, fractional) and its fractional slice (volume order). `point` is in image coordinates
 * with pixel edges, as measurements are drawn ((0, 0) is the top-left corner of the top-left pixel).
 */
export function reformatToStack(l: ReformatLayout, index: number, point: readonly [number, number]): { column: number; row: number; slice: number } {
  const { p, t } = reformatSample(l, point[0] - 0.5, point[1] - 0.5);
  return l.plane === 'row' ? { column: p, row: index, slice: t } : { column: index, row: p, slice: t };
}

/** What a stack must have for a reformat (the viewer's series summary or the engine's series give it). */
export interface ReformatSource {
  slices: number;
  orientation?: readonly number[] | undefined;
  pixelSpacing?: readonly [number, number] | undefined;
  pixelSpacingSource?: string | undefined;
  sortedBy: string;
  uniform: boolean;
  sliceSpacing: number;
}

/** Why a stack has no reformat, or null: two or more evenly spaced slices sorted by position, their orientation and PixelSpacing (no other calibration is patient geometry). */
export type ReformatBlock = 'slices' | 'orientation' | 'pixel-spacing' | 'spacing';

/** The one rule the viewer offers a reformat by and the report measures on one by. */
export function reformatBlocked(s: ReformatSource): ReformatBlock | null {
  if (s.slices < 2) return 'slices';
  if (!s.orientation || s.orientation.length < 6) return 'orientation';
  if (!s.pixelSpacing || (s.pixelSpacingSource ?? 'pixel') !== 'pixel') return 'pixel-spacing';
  if (s.sortedBy !== 'position' || !s.uniform || !(s.sliceSpacing > 0)) return 'spacing';
  return null;
}

/** The reading step of a reformat's positions (shared/planes.ts): a coronal front to back, a sagittal right to left. */
export function reformatReadingStep(plane: ReformatPlane, iop: readonly number[] | undefined): ReadingStep {
  // a row reformat's positions advance down the columns, a column reformat's along the rows
  return readingStep(iop && iop.length >= 6 ? (plane === 'row' ? iop.slice(3, 6) : iop.slice(0, 3)) : undefined);
}
