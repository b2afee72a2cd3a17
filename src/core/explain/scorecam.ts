/**
 * Score-CAM (Wang et al. 2020): forward-only. Each channel of the layer, upsampled to the input
 * and scaled to 0..1, masks the input; the class logit of each masked input, softmaxed over the
 * channels, weights the channels. One forward pass per channel (128 for the default model's
 * layer4), batched, cancellable between batches: off by default.
 */
import * as ort from '../inference/ort';
import { ResightError } from '../errors';
import type { LoadedModel } from '../inference/model';
import type { CamMap, LayerTensors } from './cam';
import { resizeMap } from './geometry';

export async function scoreCam(model: LoadedModel, input: Float32Array, t: LayerTensors, classIndex: number, opts: { signal?: AbortSignal | undefined; batchSize: number }): Promise<CamMap> {
  const [h, w] = model.spec.size;
  const c = model.spec.channels.length;
  const plane = h * w;
  const per = c * plane;
  const k = model.card.outputs.classes.length;
  const hw = t.height * t.width;
  const scores = new Float64Array(t.channels).fill(-Infinity);
  const batch = model.fixedBatch ?? Math.max(1, opts.batchSize);
  const buf = new Float32Array(batch * per);
  for (let start = 0; start < t.channels; start += batch) {
    if (opts.signal?.aborted) throw new ResightError('CANCELLED', 'Score-CAM cancelled');
    const n = model.fixedBatch ?? Math.min(batch, t.channels - start);
    const used = Math.min(batch, t.channels - start);
    for (let j = 0; j < used; j++) {
      const ch = start + j;
      const mask = resizeMap(t.a.subarray(ch * hw, (ch + 1) * hw), t.height, t.width, h, w);
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of mask) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      const scale = hi > lo ? 1 / (hi - lo) : 0;
      for (let ci = 0; ci < c; ci++) {
        for (let i = 0; i < plane; i++) buf[j * per + ci * plane + i] = input[ci * plane + i] * (mask[i] - lo) * scale;
      }
    }
    const out = await model.session.run({ [model.card.input.tensor]: new ort.Tensor('float32', buf.subarray(0, n * per), [n, c, h, w]) });
    const logits = out[model.card.outputs.tensor].data as Float32Array;
    for (let j = 0; j < used; j++) scores[start + j] = logits[j * k + classIndex];
  }
  // Softmax over channels (stable).
  const max = Math.max(...scores);
  const e = Float64Array.from(scores, (s) => Math.exp(s - max));
  const sum = e.reduce((a, b) => a + b, 0);
  const signed = new Float32Array(hw);
  const acc = new Float64Array(hw);
  for (let ch = 0; ch < t.channels; ch++) {
    const wk = e[ch] / sum;
    for (let i = 0; i < hw; i++) acc[i] += wk * t.a[ch * hw + i];
  }
  signed.set(acc);
  return { map: Float32Array.from(signed, (v) => (v > 0 ? v : 0)), signed, height: t.height, width: t.width };
}
