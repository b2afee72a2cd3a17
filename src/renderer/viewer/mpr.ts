/**
 * Multiplanar reformats of the loaded stack, on the CPU: one row ('row') or one column ('column')
 * of every slice, resampled linearly along the slice normal to square pixels.
 *
 * Which anatomical plane a view is follows from the acquisition, not from the button: the stack of
 * an axial CT is axial and its row reformat coronal, but the stack of a sagittal MR is sagittal and
 * its row reformat axial. A reformat is laid out as radiologists read that plane (axial: anterior
 * up, the patient's right on screen left; coronal: head up, right on the left; sagittal: head up,
 * anterior on the left), whichever of its two axes (the slices' own, the normal) that puts across.
 * Orientation cosines for the new image follow, so the viewport's letters stay right.
 *
 * A colour series is reformatted in colour: each channel is resampled as a grey value is (8-bit
 * colour stays bytes), so a coronal of an ultrasound sweep or of key images shows their colours,
 * not their luminance.
 */
import type { SliceData } from '../api/client';
import { cross, planeOf, type Anatomical } from '../../shared/planes';
import { reformatLayout } from '../../shared/reformat';

/** What is on screen: the stack as acquired, or one of its two reformats. */
export type Plane = 'stack' | 'row' | 'column';

export interface Reformat {
  slice: SliceData;
  /** [row, column] mm: the stack's spacing along the in-plane axis, the slices' span over the samples along the normal (square up to rounding). */
  pixelSpacing: [number, number];
  /** Row and column direction cosines of the reformatted image (LPS). */
  orientation: number[];
  /** How many positions the plane can scroll through. */
  count: number;
}

/** The anatomical plane of each view of a stack with these direction cosines (row, column). */
export function planesOf(iop: readonly number[]): Record<Plane, Anatomical> {
  const row = iop.slice(0, 3);
  const col = iop.slice(3, 6);
  // a row reformat holds the row direction and the normal, so its own normal is the column direction
  return { stack: planeOf(cross(row, col)), row: planeOf(col), column: planeOf(row) };
}

/**
 * The reformat at `index` (a row of the stack's slices for 'row', a column for 'column'), or null
 * until every slice is loaded. `slices[k]` is slice k in volume order (ascending along the normal,
 * row x column); `sliceSpacing` and `pixelSpacing` ([row, column] mm) come from the series geometry.
 * The layout (which axis goes across, the flips, the square pixels) is shared/reformat.ts', which
 * the report measures by.
 */
export function reformat(plane: Exclude<Plane, 'stack'>, slices: (SliceData | undefined)[], index: number, pixelSpacing: [number, number], sliceSpacing: number, iop: number[]): Reformat | null {
  const n = slices.length;
  if (!n || slices.some((s) => !s)) return null;
  const stack = slices as SliceData[];
  const { rows, columns } = stack[0];
  const layout = reformatLayout(plane, rows, columns, n, pixelSpacing, sliceSpacing, iop);
  const { outW, outH, count, flipX, flipY, across, depth } = layout;
  const i = Math.min(count - 1, Math.max(0, index));

  // colour when the series is (a blank stand-in for a slice that failed is grey, and black in it)
  const colour = stack.some((s) => s.samples === 3);
  const bytes = colour && stack.every((s) => s.samples === 1 || s.rgb instanceof Uint8Array);
  const samples = colour ? 3 : 1;
  const out = bytes ? new Uint8Array(outW * outH * 3) : new Float32Array(outW * outH * samples);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      // p: position along the in-plane axis; t: fractional slice along the normal (reformatSample,
      // inlined: an object per pixel would slow a cine through the reformat)
      const sx = flipX ? outW - 1 - x : x;
      const sy = flipY ? outH - 1 - y : y;
      const [p, k] = across === 'along' ? [sx, sy] : [sy, sx];
      const t = (k * (n - 1)) / (depth - 1);
      const k0 = Math.floor(t);
      const k1 = Math.min(k0 + 1, n - 1);
      const f = t - k0;
      const a = stack[k0];
      const b = stack[k1];
      const src = plane === 'row' ? i * columns + p : p * columns + i;
      const o = y * outW + x;
      if (!colour) {
        // grey: the hot path (a cine through a large series reformats every frame)
        out[o] = (a as Extract<SliceData, { samples: 1 }>).values[src] * (1 - f) + (b as Extract<SliceData, { samples: 1 }>).values[src] * f;
        continue;
      }
      for (let c = 0; c < 3; c++) {
        // a grey slice (only a failed slice's blank here) gives its value to every channel
        const va = a.samples === 1 ? a.values[src] : a.rgb[src * 3 + c];
        const vb = b.samples === 1 ? b.values[src] : b.rgb[src * 3 + c];
        const v = va * (1 - f) + vb * f;
        // bytes are rounded and kept in range (a typed array store would truncate and wrap)
        out[o * 3 + c] = bytes ? Math.min(255, Math.max(0, Math.round(v))) : v;
      }
    }
  }
  const slice: SliceData = colour ? { rows: outH, columns: outW, samples: 3, rgb: out } : { rows: outH, columns: outW, samples: 1, values: out as Float32Array };
  return { slice, pixelSpacing: layout.pixelSpacing, orientation: layout.orientation, count };
}

/**
 * Where a coronal or sagittal reformat opens, in the axial slice's pixels (x, y): through the
 * finding on screen when the view is as it opened (fitted, not panned: its centre is only the
 * image's middle, which a reviewer on a finding did not choose), else through the centre of the
 * view (where the reviewer was looking), else null (the middle of the volume).
 */
export function reformatPoint(viewCentre: readonly [number, number] | null, finding: readonly [number, number] | null | undefined, untouched: boolean): [number, number] | null {
  if (finding && (untouched || !viewCentre)) return [finding[0], finding[1]];
  return viewCentre ? [viewCentre[0], viewCentre[1]] : null;
}
