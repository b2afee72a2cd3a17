/**
 * Class-activation maps from a layer's activations A [C, h, w] and, for the gradient methods,
 * dScore/dA (same shape), for one slice. Every method returns the raw map at the layer's
 * resolution after ReLU (`map`) and before it (`signed`), in model units: no normalization here,
 * so maps are comparable across slices and the viewer can show a colour bar in logit units.
 *
 *  - gradcam   (Selvaraju et al. 2017): w_k = mean_ij dS/dA_k; map = ReLU(sum_k w_k A_k)
 *  - gradcampp (Chattopadhay et al. 2018), with the exponential-score closed form:
 *              a_kij = g^2 / (2 g^2 + sum_ab A_kab * g^3); w_k = sum_ij a_kij ReLU(g_kij)
 *  - hirescam  (Draelos & Carin 2020): map = ReLU(sum_k g_k * A_k), element-wise, no averaging
 *  - layercam  (Jiang et al. 2021): map = ReLU(sum_k ReLU(g_k) * A_k)
 *  - cam       (Zhou et al. 2016), for a layer that feeds global average pooling and a linear
 *              head: map = sum_k W_ck A_k, i.e. h*w * mean_ij(g_k) at that layer, so that
 *              mean(map) + bias_c = the logit
 * Score-CAM (forward-only) lives in scorecam.ts.
 */
import { CAM_METHOD_NAMES } from '../../shared/cam';

/** The methods by name (shared/cam.ts holds the one list the contract and the settings use too). */
export const CAM_METHODS = CAM_METHOD_NAMES;
export type CamMethod = (typeof CAM_METHODS)[number];
export type GradientCamMethod = Exclude<CamMethod, 'scorecam'>;

export interface LayerTensors {
  /** Activations [C * h * w] (one slice). */
  a: Float32Array;
  /** dScore/dA, same layout. */
  g: Float32Array;
  channels: number;
  height: number;
  width: number;
}

export interface CamMap {
  /** After ReLU, at the layer's resolution (h * w, row-major). */
  map: Float32Array;
  /** Before the ReLU (e.g. the CAM whose spatial mean plus the bias is the logit). */
  signed: Float32Array;
  height: number;
  width: number;
}

const relu = (x: Float32Array) => Float32Array.from(x, (v) => (v > 0 ? v : 0));

function weighted(t: LayerTensors, weights: Float64Array): Float32Array {
  const hw = t.height * t.width;
  const acc = new Float64Array(hw);
  for (let k = 0; k < t.channels; k++) {
    const wk = weights[k];
    if (wk === 0) continue;
    const base = k * hw;
    for (let i = 0; i < hw; i++) acc[i] += wk * t.a[base + i];
  }
  return Float32Array.from(acc);
}

function channelMeans(x: Float32Array, channels: number, hw: number): Float64Array {
  const m = new Float64Array(channels);
  for (let k = 0; k < channels; k++) {
    let s = 0;
    for (let i = 0; i < hw; i++) s += x[k * hw + i];
    m[k] = s / hw;
  }
  return m;
}

export function gradientCam(method: GradientCamMethod, t: LayerTensors): CamMap {
  const hw = t.height * t.width;
  let signed: Float32Array;
  switch (method) {
    case 'gradcam':
      signed = weighted(t, channelMeans(t.g, t.channels, hw));
      break;
    case 'cam': {
      const w = channelMeans(t.g, t.channels, hw).map((v) => v * hw);
      signed = weighted(t, w);
      break;
    }
    case 'gradcampp': {
      const w = new Float64Array(t.channels);
      for (let k = 0; k < t.channels; k++) {
        const base = k * hw;
        let sumA = 0;
        for (let i = 0; i < hw; i++) sumA += t.a[base + i];
        let wk = 0;
        for (let i = 0; i < hw; i++) {
          const g = t.g[base + i];
          if (g === 0) continue;
          const g2 = g * g;
          const denom = 2 * g2 + sumA * g2 * g;
          const alpha = denom !== 0 ? g2 / denom : 0;
          wk += alpha * (g > 0 ? g : 0);
        }
        w[k] = wk;
      }
      signed = weighted(t, w);
      break;
    }
    case 'hirescam':
    case 'layercam': {
      const acc = new Float64Array(hw);
      for (let k = 0; k < t.channels; k++) {
        const base = k * hw;
        for (let i = 0; i < hw; i++) {
          const g = t.g[base + i];
          acc[i] += (method === 'layercam' ? (g > 0 ? g : 0) : g) * t.a[base + i];
        }
      }
      signed = Float32Array.from(acc);
      break;
    }
  }
  return { map: relu(signed), signed, height: t.height, width: t.width };
}

/**
 * The map from a Grad-CAM computed in the gradient graph (before its ReLU, h * w): Grad-CAM
 * itself with `scale` 1, CAM with `scale` h * w (CAM's weights are h * w times Grad-CAM's).
 */
export function camFromGradCam(signedGradCam: Float32Array, height: number, width: number, scale = 1): CamMap {
  const signed = scale === 1 ? signedGradCam : Float32Array.from(signedGradCam, (v) => v * scale);
  return { map: relu(signed), signed, height, width };
}
