/**
 * Model input from one slice of modality values, exactly as the model card says (and as
 * training/preprocess.py, the single definition, does; parity is tested to 1e-5 against
 * vectors that pipeline wrote):
 *   1. padding (PixelPaddingValue range) and non-finite values -> card.input.padding.fill
 *   2. bilinear resize to the card's size, half-pixel centres, no antialiasing
 *      (torch interpolate(mode='bilinear', align_corners=False))
 *   3. one channel per CT window: c = clip((hu - (L - W/2)) / W, 0, 1)
 *   4. x = (c - mean) / std per channel
 * Output: float32 CHW, ready to be one item of an NCHW batch.
 */
import type { ModelCard } from './card';

export interface SliceValues {
  values: ArrayLike<number>;
  rows: number;
  columns: number;
  /** Modality-value range that is padding (imaging/voi.ts paddingRangeOf), if any. */
  paddingRange?: [number, number];
}

/** Source index pairs and weights for one axis of a half-pixel-centre bilinear resize. */
export function bilinearAxis(inLen: number, outLen: number): { i0: Int32Array; i1: Int32Array; t: Float64Array } {
  const i0 = new Int32Array(outLen);
  const i1 = new Int32Array(outLen);
  const t = new Float64Array(outLen);
  const scale = inLen / outLen;
  for (let d = 0; d < outLen; d++) {
    let src = (d + 0.5) * scale - 0.5;
    if (src < 0) src = 0;
    else if (src > inLen - 1) src = inLen - 1;
    const a = Math.floor(src);
    i0[d] = a;
    i1[d] = Math.min(a + 1, inLen - 1);
    t[d] = src - a;
  }
  return { i0, i1, t };
}

/** Steps 1-2: clean and resize a slice to outRows x outCols (float64 math, float32 result). */
export function resizeSlice(slice: SliceValues, outRows: number, outCols: number, fill: number): Float32Array {
  const { values, rows, columns, paddingRange } = slice;
  const lo = paddingRange ? paddingRange[0] : Infinity;
  const hi = paddingRange ? paddingRange[1] : -Infinity;
  const clean = new Float64Array(rows * columns);
  for (let i = 0; i < clean.length; i++) {
    const v = values[i];
    clean[i] = Number.isFinite(v) && !(v >= lo && v <= hi) ? v : fill;
  }
  const ry = bilinearAxis(rows, outRows);
  const rx = bilinearAxis(columns, outCols);
  const out = new Float32Array(outRows * outCols);
  for (let y = 0; y < outRows; y++) {
    const r0 = ry.i0[y] * columns;
    const r1 = ry.i1[y] * columns;
    const ty = ry.t[y];
    for (let x = 0; x < outCols; x++) {
      const c0 = rx.i0[x];
      const c1 = rx.i1[x];
      const tx = rx.t[x];
      const top = (1 - tx) * clean[r0 + c0] + tx * clean[r0 + c1];
      const bottom = (1 - tx) * clean[r1 + c0] + tx * clean[r1 + c1];
      out[y * outCols + x] = (1 - ty) * top + ty * bottom;
    }
  }
  return out;
}

/** The model input (CHW float32) for one slice. */
export function preprocessSlice(slice: SliceValues, card: ModelCard): Float32Array {
  const [outRows, outCols] = card.input.resampling.size;
  const hu = resizeSlice(slice, outRows, outCols, card.input.padding.fill);
  const plane = outRows * outCols;
  const channels = card.input.channels;
  const out = new Float32Array(channels.length * plane);
  const { mean, std } = card.input.normalization;
  channels.forEach((ch, c) => {
    const low = ch.window.level - ch.window.width / 2;
    const width = ch.window.width;
    const m = mean[c] ?? mean[0];
    const s = std[c] ?? std[0];
    const base = c * plane;
    for (let i = 0; i < plane; i++) {
      let v = (hu[i] - low) / width;
      if (v < 0) v = 0;
      else if (v > 1) v = 1;
      out[base + i] = (v - m) / s;
    }
  });
  return out;
}
