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
 *
 * `preprocessInto` fuses the four steps in one pass over the output (no intermediate images):
 * on a small ResNet the preprocessing would otherwise cost as much as the network itself.
 */
import { bilinearAxis, resizeBilinear } from '../../shared/resample';
import type { ModelCard } from './card';

export interface SliceValues {
  values: ArrayLike<number>;
  rows: number;
  columns: number;
  /** Modality-value range that is padding (imaging/voi.ts paddingRangeOf), if any. */
  paddingRange?: [number, number] | undefined;
}

/** What preprocessing needs from a card, as plain data (it crosses into worker threads). */
export interface PreprocessSpec {
  /** Output [rows, columns]. */
  size: [number, number];
  fill: number;
  /** Per channel: window low edge and width, normalization mean and std. */
  channels: { low: number; width: number; mean: number; std: number }[];
}

export function preprocessSpec(card: ModelCard): PreprocessSpec {
  const { mean, std } = card.input.normalization;
  return {
    size: [card.input.resampling.size[0], card.input.resampling.size[1]],
    fill: card.input.padding.fill,
    // in tensor order: each channel at its index (the card's list may be in any order; mean and std are per tensor channel)
    channels: [...card.input.channels].sort((x, y) => x.index - y.index).map((ch, c) => ({
      low: ch.window.level - ch.window.width / 2,
      width: ch.window.width,
      mean: mean[c] ?? mean[0],
      std: std[c] ?? std[0],
    })),
  };
}

type Channel = PreprocessSpec['channels'][number];

/** Floats of one preprocessed slice (C x H x W). */
export const inputLength = (spec: PreprocessSpec): number => spec.channels.length * spec.size[0] * spec.size[1];

const axisCache = new Map<string, ReturnType<typeof bilinearAxis>>();
function cachedAxis(inLen: number, outLen: number): ReturnType<typeof bilinearAxis> {
  const key = `${inLen}>${outLen}`;
  let ax = axisCache.get(key);
  if (!ax) {
    if (axisCache.size > 32) axisCache.clear();
    axisCache.set(key, (ax = bilinearAxis(inLen, outLen)));
  }
  return ax;
}

/**
 * Steps 1-2: clean and resize a slice to outRows x outCols (float64 math, float32 result).
 * Written separably (rows, then columns) as the card's formula states it; the fused loop in
 * `resampleWindow3` computes the same sums per output pixel, and the tests hold one to the other.
 */
export function resizeSlice(slice: SliceValues, outRows: number, outCols: number, fill: number): Float32Array {
  const { values, rows, columns, paddingRange } = slice;
  const lo = paddingRange ? paddingRange[0] : Infinity;
  const hi = paddingRange ? paddingRange[1] : -Infinity;
  const clean = new Float64Array(rows * columns);
  for (let i = 0; i < clean.length; i++) {
    const v = values[i];
    clean[i] = Number.isFinite(v) && !(v >= lo && v <= hi) ? v : fill;
  }
  return resizeBilinear(clean, rows, columns, outRows, outCols);
}

/** Write the model input (CHW float32) for one slice into `out` at float offset `offset`. */
export function preprocessInto(slice: SliceValues, spec: PreprocessSpec, out: Float32Array, offset: number): void {
  if (spec.channels.length === 3) {
    resampleWindow3(slice, spec, out, offset);
    return;
  }
  // Other channel counts: resize once, then window the plane per channel (not the hot path).
  const [outRows, outCols] = spec.size;
  const plane = outRows * outCols;
  const hu = resizeSlice(slice, outRows, outCols, spec.fill);
  spec.channels.forEach((ch, k) => {
    const base = offset + k * plane;
    for (let i = 0; i < plane; i++) {
      let v = (hu[i] - ch.low) / ch.width;
      v = v < 0 ? 0 : v > 1 ? 1 : v;
      out[base + i] = (v - ch.mean) / ch.std;
    }
  });
}

/** The model input (CHW float32) for one slice. */
export function preprocessSlice(slice: SliceValues, card: ModelCard): Float32Array {
  const spec = preprocessSpec(card);
  const out = new Float32Array(inputLength(spec));
  preprocessInto(slice, spec, out, 0);
  return out;
}

/**
 * Steps 1-4 fused in one flat loop over the output for three channels (three CT windows, the
 * common case). Unrolled and without intermediate images because
 * it runs for every slice of every analysis: a general per-channel loop takes 1.6x as long,
 * about the time of the network itself on a small ResNet.
 */
function resampleWindow3(slice: SliceValues, spec: PreprocessSpec, out: Float32Array, offset: number): void {
  const { values, rows, columns, paddingRange } = slice;
  const [outRows, outCols] = spec.size;
  const plane = outRows * outCols;
  const fill = spec.fill;
  const lo = paddingRange ? paddingRange[0] : Infinity;
  const hi = paddingRange ? paddingRange[1] : -Infinity;
  const [c0s, c1s, c2s] = spec.channels as [Channel, Channel, Channel];
  const l0 = c0s.low, w0 = c0s.width, m0 = c0s.mean, s0 = 1 / c0s.std;
  const l1 = c1s.low, w1 = c1s.width, m1 = c1s.mean, s1 = 1 / c1s.std;
  const l2 = c2s.low, w2 = c2s.width, m2 = c2s.mean, s2 = 1 / c2s.std;
  const ry = cachedAxis(rows, outRows);
  const rx = cachedAxis(columns, outCols);
  const p2 = 2 * plane;
  for (let y = 0; y < outRows; y++) {
    const r0 = ry.i0[y] * columns;
    const r1 = ry.i1[y] * columns;
    const ty = ry.t[y];
    const rowOut = offset + y * outCols;
    for (let x = 0; x < outCols; x++) {
      const cx0 = rx.i0[x];
      const cx1 = rx.i1[x];
      const tx = rx.t[x];
      let a = values[r0 + cx0];
      let b = values[r0 + cx1];
      let c = values[r1 + cx0];
      let d = values[r1 + cx1];
      // NaN fails every comparison, so `!(v > -Inf && v < Inf)` catches it with the infinities.
      if (!(a > -Infinity && a < Infinity) || (a >= lo && a <= hi)) a = fill;
      if (!(b > -Infinity && b < Infinity) || (b >= lo && b <= hi)) b = fill;
      if (!(c > -Infinity && c < Infinity) || (c >= lo && c <= hi)) c = fill;
      if (!(d > -Infinity && d < Infinity) || (d >= lo && d <= hi)) d = fill;
      const hu = Math.fround((1 - ty) * ((1 - tx) * a + tx * b) + ty * ((1 - tx) * c + tx * d));
      let v0 = (hu - l0) / w0;
      let v1 = (hu - l1) / w1;
      let v2 = (hu - l2) / w2;
      v0 = v0 < 0 ? 0 : v0 > 1 ? 1 : v0;
      v1 = v1 < 0 ? 0 : v1 > 1 ? 1 : v1;
      v2 = v2 < 0 ? 0 : v2 > 1 ? 1 : v2;
      const o = rowOut + x;
      out[o] = (v0 - m0) * s0;
      out[o + plane] = (v1 - m1) * s1;
      out[o + p2] = (v2 - m2) * s2;
    }
  }
}
