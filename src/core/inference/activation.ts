/**
 * A classifier's probabilities from its logits, by the model card's activation: a sigmoid per
 * class (multi-label) or a softmax per row (one class per slice). Inference uses it when the graph
 * has no probabilities output of its own; the localization benchmark uses it on masked inputs.
 */
export type Activation = 'sigmoid' | 'softmax';

/** Probabilities [m x k] (row-major) from logits [m x k]. */
export function activate(logits: ArrayLike<number>, m: number, k: number, activation: Activation): Float64Array {
  const p = new Float64Array(m * k);
  for (let j = 0; j < m; j++) {
    if (activation === 'sigmoid') {
      for (let i = 0; i < k; i++) p[j * k + i] = 1 / (1 + Math.exp(-(logits[j * k + i] as number)));
    } else {
      let max = -Infinity;
      for (let i = 0; i < k; i++) max = Math.max(max, logits[j * k + i] as number);
      let sum = 0;
      for (let i = 0; i < k; i++) sum += p[j * k + i] = Math.exp((logits[j * k + i] as number) - max);
      for (let i = 0; i < k; i++) p[j * k + i] /= sum;
    }
  }
  return p;
}
