/**
 * Axis-aligned multiplanar reformats (coronal, sagittal) from the loaded axial slices, on the
 * CPU: one row (coronal) or column (sagittal) of every slice, resampled linearly along the slice
 * normal to square pixels, head at the top. Orientation cosines for the new image follow, so the
 * viewport's orientation letters stay right.
 *
 * A colour series is reformatted in colour: each channel is resampled as a grey value is (8-bit
 * colour stays bytes), so a coronal of an ultrasound sweep or of key images shows their colours,
 * not their luminance.
 */
import type { SliceData } from '../api/client';

export type Plane = 'axial' | 'coronal' | 'sagittal';

export interface Reformat {
  slice: SliceData;
  /** Square pixels (mm): the axial spacing along the reformat's horizontal axis (columns for coronal, rows for sagittal). */
  pixelSpacing: [number, number];
  /** Row and column direction cosines of the reformatted image (LPS). */
  orientation: number[];
  /** How many positions the plane can scroll through. */
  count: number;
}

const cross = (a: number[], b: number[]) => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];

/**
 * The reformat at `index` (a row of the axial slices for coronal, a column for sagittal), or null
 * until every slice is loaded. `slices[k]` is axial slice k in volume order (ascending along the
 * normal); `sliceSpacing` and `pixelSpacing` ([row, column] mm) come from the series geometry.
 */
export function reformat(plane: Exclude<Plane, 'axial'>, slices: (SliceData | undefined)[], index: number, pixelSpacing: [number, number], sliceSpacing: number, iop: number[]): Reformat | null {
  const n = slices.length;
  if (!n || slices.some((s) => !s)) return null;
  const stack = slices as SliceData[];
  const { rows, columns } = stack[0];
  const width = plane === 'coronal' ? columns : rows;
  const count = plane === 'coronal' ? rows : columns;
  const i = Math.min(count - 1, Math.max(0, index));
  // the horizontal axis runs along the axial columns (coronal: spacing between columns) or rows
  // (sagittal: spacing between rows); the vertical is resampled to the same, so pixels are square
  const ps = plane === 'coronal' ? pixelSpacing[1] : pixelSpacing[0];
  const outRows = Math.max(2, Math.round(((n - 1) * sliceSpacing) / ps) + 1);
  // colour when the series is (a blank stand-in for a slice that failed is grey, and black in it)
  const colour = stack.some((s) => s.samples === 3);
  const bytes = colour && stack.every((s) => s.samples === 1 || s.rgb instanceof Uint8Array);
  const samples = colour ? 3 : 1;
  const out = bytes ? new Uint8Array(outRows * width * 3) : new Float32Array(outRows * width * samples);
  for (let y = 0; y < outRows; y++) {
    // top row = the last slice (furthest along the normal: head-wards for a usual axial series)
    const t = ((outRows - 1 - y) * (n - 1)) / (outRows - 1);
    const k0 = Math.floor(t);
    const k1 = Math.min(k0 + 1, n - 1);
    const f = t - k0;
    const a = stack[k0];
    const b = stack[k1];
    if (a.samples === 1 && b.samples === 1 && !colour) {
      // grey: the hot path (a cine through a large series reformats every frame)
      for (let x = 0; x < width; x++) {
        const src = plane === 'coronal' ? i * columns + x : x * columns + i;
        out[y * width + x] = a.values[src] * (1 - f) + b.values[src] * f;
      }
      continue;
    }
    for (let x = 0; x < width; x++) {
      const src = plane === 'coronal' ? i * columns + x : x * columns + i;
      for (let c = 0; c < 3; c++) {
        // a grey slice (only a failed slice's blank here) gives its value to every channel
        const va = a.samples === 1 ? a.values[src] : a.rgb[src * 3 + c];
        const vb = b.samples === 1 ? b.values[src] : b.rgb[src * 3 + c];
        const v = va * (1 - f) + vb * f;
        // bytes are rounded and kept in range (a typed array store would truncate and wrap)
        out[(y * width + x) * 3 + c] = bytes ? Math.min(255, Math.max(0, Math.round(v))) : v;
      }
    }
  }
  const row = iop.slice(0, 3);
  const col = iop.slice(3, 6);
  const normal = cross(row, col);
  const down = normal.map((v) => -v);
  const slice: SliceData = colour ? { rows: outRows, columns: width, samples: 3, rgb: out } : { rows: outRows, columns: width, samples: 1, values: out as Float32Array };
  return { slice, pixelSpacing: [ps, ps], orientation: [...(plane === 'coronal' ? row : col), ...down], count };
}
