/**
 * The one bilinear resize of ReSight: half-pixel centres, edge-clamped, no antialiasing
 * (torch `interpolate(mode='bilinear', align_corners=False)`), the resampling the model card
 * states. The engine's preprocessing (core/inference/preprocess.ts), its heatmap geometry
 * (core/explain/geometry.ts) and the viewer's CPU heatmap path all use this formula, so the
 * heatmap a report prints and the one the viewer draws come from the same arithmetic.
 *
 * Per axis: src = (dst + 0.5) * in / out - 0.5, clamped to [0, in - 1]; i0 = floor(src),
 * i1 = min(i0 + 1, in - 1), t = src - i0; v = (1 - t) v[i0] + t v[i1].
 */

/** Source index pairs and weights for one axis. */
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

/**
 * Resize a row-major `sh` x `sw` map to `oh` x `ow`: rows first, then columns, in float64
 * (as the preprocessing's separable pass), float32 result.
 */
export function resizeBilinear(src: ArrayLike<number>, sh: number, sw: number, oh: number, ow: number): Float32Array {
  const rx = bilinearAxis(sw, ow);
  const ry = bilinearAxis(sh, oh);
  const horizontal = new Float64Array(sh * ow);
  for (let r = 0; r < sh; r++) {
    for (let x = 0; x < ow; x++) {
      const t = rx.t[x];
      horizontal[r * ow + x] = (1 - t) * src[r * sw + rx.i0[x]] + t * src[r * sw + rx.i1[x]];
    }
  }
  const out = new Float32Array(oh * ow);
  for (let y = 0; y < oh; y++) {
    const t = ry.t[y];
    for (let x = 0; x < ow; x++) out[y * ow + x] = (1 - t) * horizontal[ry.i0[y] * ow + x] + t * horizontal[ry.i1[y] * ow + x];
  }
  return out;
}

/** A layer map at the slice's rows x columns: up to the model input, then to the slice, as the preprocessing went. */
export function mapToSliceSize(map: ArrayLike<number>, h: number, w: number, input: [number, number], rows: number, columns: number): Float32Array {
  return resizeBilinear(resizeBilinear(map, h, w, input[0], input[1]), input[0], input[1], rows, columns);
}
