/**
 * Thick slabs of the axial stack (Weasis' and Horos' MIP / MinIP / mean, OHIF's slab thickness):
 * the slices around the one on screen combined pixel by pixel. A radiologist hunting lung nodules
 * reads a 10 mm maximum-intensity slab because a vessel becomes a branching line in it while a
 * nodule stays a ball, which is the very confusion a single slice leaves to the AI.
 *
 * Only grey slices of one size combine; a colour slice in the range makes no slab (its channels
 * are display values, not densities).
 */
import type { SliceData } from '../api/client';

export type SlabMode = 'mip' | 'minip' | 'mean';
export const SLAB_MODES: readonly SlabMode[] = ['mip', 'minip', 'mean'];
/** The thicknesses offered (mm). */
export const SLAB_MM: readonly number[] = [5, 10, 15, 20, 30];

export interface Slab {
  mode: SlabMode;
  /** Thickness asked for (mm); the slab takes the odd number of slices nearest it, centred on the slice on screen. */
  mm: number;
}

/**
 * The slices a slab of `mm` around slice `index` covers: 2k + 1 slices centred on it, k the whole
 * number nearest (mm / spacing - 1) / 2, cut at the ends of the series (so near an end it is thinner).
 */
export function slabRange(index: number, count: number, mm: number, spacing: number): [number, number] {
  const k = spacing > 0 && Number.isFinite(mm) ? Math.max(0, Math.round((mm / spacing - 1) / 2)) : 0;
  return [Math.max(0, index - k), Math.min(count - 1, index + k)];
}

/** A thickness the toolbar offers: the slices it takes on this series and how thick that really is. */
export interface SlabChoice {
  mm: number;
  slices: number;
  thicknessMm: number;
}

/**
 * The thicknesses worth offering on a series with this slice spacing: each of SLAB_MM as the
 * slices it would take, without those that take one slice (no slab) and without repeats (on 5 mm
 * slices 10 and 15 mm are both 3 slices: only the first is listed).
 */
export function slabChoices(spacing: number): SlabChoice[] {
  const out: SlabChoice[] = [];
  for (const mm of SLAB_MM) {
    const slices = slabSlices(mm, spacing);
    if (slices > 1 && !out.some((c) => c.slices === slices)) out.push({ mm, slices, thicknessMm: slices * spacing });
  }
  return out;
}

/** How many slices a slab of `mm` takes away from the series' ends (2k + 1, as slabRange takes them). */
export function slabSlices(mm: number, spacing: number): number {
  const [a, b] = slabRange(1000, 2001, mm, spacing);
  return b - a + 1;
}

export interface SlabImage {
  slice: SliceData;
  /** The slices combined (those loaded in the range). */
  used: number[];
}

/**
 * The slab of slices from..to (inclusive), from those loaded (`at(i)` undefined: not loaded or
 * failed, left out). Null when none is loaded, or one is colour or of another size than the first.
 */
export function slabImage(at: (i: number) => SliceData | undefined, from: number, to: number, mode: SlabMode): SlabImage | null {
  const parts: { i: number; s: Extract<SliceData, { samples: 1 }> }[] = [];
  for (let i = from; i <= to; i++) {
    const s = at(i);
    if (!s) continue;
    if (s.samples !== 1) return null;
    parts.push({ i, s });
  }
  if (!parts.length) return null;
  const { rows, columns } = parts[0].s;
  if (parts.some(({ s }) => s.rows !== rows || s.columns !== columns)) return null;
  const n = rows * columns;
  const out = Float32Array.from(parts[0].s.values);
  for (let k = 1; k < parts.length; k++) {
    const v = parts[k].s.values;
    if (mode === 'mip') for (let j = 0; j < n; j++) out[j] = Math.max(out[j], v[j]);
    else if (mode === 'minip') for (let j = 0; j < n; j++) out[j] = Math.min(out[j], v[j]);
    else for (let j = 0; j < n; j++) out[j] += v[j];
  }
  if (mode === 'mean') for (let j = 0; j < n; j++) out[j] /= parts.length;
  return { slice: { rows, columns, samples: 1, values: out }, used: parts.map((p) => p.i) };
}
