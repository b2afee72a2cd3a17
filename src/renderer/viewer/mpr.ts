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
import { cross, planeOf, type Anatomical, type Vec3 } from '../../shared/planes';

/** What is on screen: the stack as acquired, or one of its two reformats. */
export type Plane = 'stack' | 'row' | 'column';

export interface Reformat {
  slice: SliceData;
  /** Square pixels (mm): the stack's spacing along the reformat's in-plane axis (columns for 'row', rows for 'column'). */
  pixelSpacing: [number, number];
  /** Row and column direction cosines of the reformatted image (LPS). */
  orientation: number[];
  /** How many positions the plane can scroll through. */
  count: number;
}

const dot = (a: readonly number[], b: readonly number[]) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];

/** The anatomical plane of each view of a stack with these direction cosines (row, column). */
export function planesOf(iop: readonly number[]): Record<Plane, Anatomical> {
  const row = iop.slice(0, 3);
  const col = iop.slice(3, 6);
  // a row reformat holds the row direction and the normal, so its own normal is the column direction
  return { stack: planeOf(cross(row, col)), row: planeOf(col), column: planeOf(row) };
}

/** Screen right and down (LPS) of each plane as radiologists read it. */
const READING: Record<Anatomical, { right: Vec3; down: Vec3 }> = {
  axial: { right: [1, 0, 0], down: [0, 1, 0] },
  coronal: { right: [1, 0, 0], down: [0, 0, -1] },
  sagittal: { right: [0, 1, 0], down: [0, 0, -1] },
  // no convention: the normal's head-most end at the top, as a coronal
  oblique: { right: [1, 0, 0], down: [0, 0, -1] },
};

/**
 * The reformat at `index` (a row of the stack's slices for 'row', a column for 'column'), or null
 * until every slice is loaded. `slices[k]` is slice k in volume order (ascending along the normal,
 * row x column); `sliceSpacing` and `pixelSpacing` ([row, column] mm) come from the series geometry.
 */
export function reformat(plane: Exclude<Plane, 'stack'>, slices: (SliceData | undefined)[], index: number, pixelSpacing: [number, number], sliceSpacing: number, iop: number[]): Reformat | null {
  const n = slices.length;
  if (!n || slices.some((s) => !s)) return null;
  const stack = slices as SliceData[];
  const { rows, columns } = stack[0];
  const rowDir = iop.slice(0, 3);
  const colDir = iop.slice(3, 6);
  const normal = cross(rowDir, colDir);
  // the in-plane axis: along a row (columns of it) for 'row', down a column for 'column'
  const along = plane === 'row' ? rowDir : colDir;
  const width = plane === 'row' ? columns : rows;
  const count = plane === 'row' ? rows : columns;
  const i = Math.min(count - 1, Math.max(0, index));
  const ps = plane === 'row' ? pixelSpacing[1] : pixelSpacing[0];
  // samples along the normal, resampled to the in-plane spacing so pixels are square
  const depth = Math.max(2, Math.round(((n - 1) * sliceSpacing) / ps) + 1);
  // which axis goes across: the one nearer the reading convention's right; signs by it too
  const reading = READING[planeOf(cross(along, normal))];
  const across = Math.abs(dot(along, reading.right)) >= Math.abs(dot(normal, reading.right)) ? 'along' : 'normal';
  const [rightVec, downVec] = across === 'along' ? [along, normal] : [normal, along];
  const flipX = dot(rightVec, reading.right) < 0;
  const flipY = dot(downVec, reading.down) < 0;
  const [outW, outH] = across === 'along' ? [width, depth] : [depth, width];

  // colour when the series is (a blank stand-in for a slice that failed is grey, and black in it)
  const colour = stack.some((s) => s.samples === 3);
  const bytes = colour && stack.every((s) => s.samples === 1 || s.rgb instanceof Uint8Array);
  const samples = colour ? 3 : 1;
  const out = bytes ? new Uint8Array(outW * outH * 3) : new Float32Array(outW * outH * samples);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const sx = flipX ? outW - 1 - x : x;
      const sy = flipY ? outH - 1 - y : y;
      // p: position along the in-plane axis; k: sample along the normal
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
  // (+ 0: no negative zeros in the cosines)
  const sign = (v: readonly number[], flip: boolean) => v.map((x) => (flip ? -x : x) + 0);
  const slice: SliceData = colour ? { rows: outH, columns: outW, samples: 3, rgb: out } : { rows: outH, columns: outW, samples: 1, values: out as Float32Array };
  return { slice, pixelSpacing: [ps, ps], orientation: [...sign(rightVec, flipX), ...sign(downVec, flipY)], count };
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
