/**
 * Anatomical planes and the order readers scroll through a stack of them.
 *
 * ReSight numbers a stack's slices in volume order, ascending along the slice normal (index 0 of an
 * axial CT is its lowest slice, nearest the feet), the order the CLI, the JSON and the ground truth
 * use. Readers scroll the other way: an axial stack head to feet (the wheel down moves toward the
 * feet, as every PACS viewer opens a CT), a coronal one front to back, a sagittal one from the
 * patient's right to their left. The viewer steps through slices in that reading order, and the
 * findings are listed and labelled (F1, F2, ...) in it, so F1 is the finding nearest the head, as a
 * report describes findings from the top down.
 */

export type Anatomical = 'axial' | 'coronal' | 'sagittal' | 'oblique';

/** +1: the reader's next slice is the next index; -1: it is the previous one. */
export type ReadingStep = 1 | -1;

export type Vec3 = [number, number, number];

/** a x b. */
export const cross = (a: readonly number[], b: readonly number[]): Vec3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];

/** The anatomical plane with this normal (LPS): the axis it mostly lies along, or oblique when none dominates (beyond about 35 degrees). */
export function planeOf(normal: readonly number[]): Anatomical {
  const a = normal.map(Math.abs);
  const k = a.indexOf(Math.max(...a));
  if (!(a[k] >= 0.82 * Math.hypot(a[0], a[1], a[2]))) return 'oblique';
  return (['sagittal', 'coronal', 'axial'] as const)[k];
}

/**
 * The reading step of positions that advance along `dir` (LPS): toward the feet (-z) for an axial
 * stack, toward the back (+y) for a coronal one, toward the patient's left (+x) for a sagittal one;
 * index order when the direction is oblique or unknown.
 */
export function readingStep(dir: readonly number[] | undefined): ReadingStep {
  if (!dir || dir.length < 3 || !dir.slice(0, 3).every(Number.isFinite)) return 1;
  const plane = planeOf(dir);
  if (plane === 'axial') return dir[2] > 0 ? -1 : 1;
  if (plane === 'coronal') return dir[1] < 0 ? -1 : 1;
  if (plane === 'sagittal') return dir[0] < 0 ? -1 : 1;
  return 1;
}

/**
 * The reading step of a series' stack (its SeriesGeometry): its indices ascend along the slice normal
 * only when it was sorted by position; a stack ordered by InstanceNumber or by file is read in its
 * own order.
 */
export function stackReadingStep(geometry: { sortedBy: string; normal?: readonly number[]; orientation?: readonly number[]; sliceSpacing?: number } | undefined): ReadingStep {
  // a stack that does not advance along its normal (a bolus-tracking or perfusion series at one
  // level) is read in time order, as it was sorted, whatever its orientation
  if (geometry?.sortedBy !== 'position' || !((geometry.sliceSpacing ?? 0) > 0)) return 1;
  const o = geometry.orientation;
  const normal = geometry.normal ?? (o && o.length >= 6 ? cross(o.slice(0, 3), o.slice(3, 6)) : undefined);
  return readingStep(normal);
}

/**
 * The number a reader knows slice `index` (volume order) of `count` by: 1 is the first in reading
 * order (an axial stack's top slice) and the numbers rise as the reader scrolls down, as OHIF and
 * Weasis number the images of a stack. The viewer, the PDF, the CSV and the CLI's summary use it;
 * the JSON and the CLI contract keep 0-based indices in volume order.
 */
export function sliceNumber(index: number, count: number, step: ReadingStep): number {
  return step === 1 ? index + 1 : count - index;
}

/** The numbers of slices `start`..`end` (volume order), lower first: reading order may run against the indices. */
export function sliceNumbers(start: number, end: number, count: number, step: ReadingStep): [number, number] {
  const [a, b] = [sliceNumber(start, count, step), sliceNumber(end, count, step)];
  return a <= b ? [a, b] : [b, a];
}

/** Slices `start`..`end` (volume order) as "8-21", lower number first, or "28" for one slice. */
export function sliceRangeText(start: number, end: number, count: number, step: ReadingStep, dash = '-'): string {
  const [a, b] = sliceNumbers(start, end, count, step);
  return a === b ? String(a) : `${a}${dash}${b}`;
}
