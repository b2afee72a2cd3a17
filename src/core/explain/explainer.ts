/**
 * The explain engine: CAMs for one slice on the same execution provider as inference. For
 * each (model, layer, score) it builds the gradient graph once (gradient.ts) and keeps an ORT
 * session of it; one run then gives the score, A and dScore/dA, from which every gradient
 * method is computed (cam.ts). Score-CAM runs the model's own session on masked inputs.
 */
import type { InferenceSession } from 'onnxruntime-node';
import * as ort from '../inference/ort';
import type { ProviderName } from '../../shared/analysis';
import { ResightError } from '../errors';
import type { LoadedModel } from '../inference/model';
import type { SliceValues } from '../inference/preprocess';
import { inputLength, preprocessInto } from '../inference/preprocess';
import { createSession } from '../inference/providers';
import type { CamMap, CamMethod, LayerTensors } from './cam';
import { camFromGradCam, gradientCam } from './cam';
import type { GradientGraph } from './gradient';
import { buildActivationGraph, buildGradientGraph, SEED_INPUT } from './gradient';
import { mapToSlice, normalize } from './geometry';
import { scoreCam } from './scorecam';

export type ScoreKind = 'logit' | 'probability';

export interface ExplainOptions {
  method?: CamMethod;
  /** An entry of the card's cam.layers (default: cam.defaultLayer). */
  layer?: string;
  /** Class name or index (default: the class with the highest score). */
  class?: string | number;
  /** What is differentiated: the logit (default, as in the Grad-CAM paper) or the probability. */
  score?: ScoreKind;
  signal?: AbortSignal;
  /** Score-CAM: masked inputs per session.run. */
  batchSize?: number;
}

export interface Explanation {
  method: CamMethod;
  layer: string;
  class: string;
  classIndex: number;
  score: ScoreKind;
  /** The explained score's value (logit or probability) for the class. */
  scoreValue: number;
  logits: number[];
  /** The raw map at the layer's resolution (after ReLU) and before the ReLU. */
  cam: CamMap;
  camShape: [number, number];
  inputShape: [number, number, number, number];
  /** The exact model input (C x H x W). */
  input: Float32Array;
  provider: ProviderName;
  ms: number;
}

interface GraphSession {
  /** Null for the forward-only graph (activations, no gradients). */
  graph: GradientGraph | null;
  scoreTensor: string;
  session: InferenceSession;
}

export class Explainer {
  private readonly graphs = new Map<string, Promise<GraphSession>>();

  /** The gradient graph session for (model, layer, score), built once. */
  private graphFor(model: LoadedModel, layer: string, score: ScoreKind, forwardOnly: boolean): Promise<GraphSession> {
    const key = `${model.identity.sha256}\n${model.provider.used}\n${layer}\n${score}\n${forwardOnly}`;
    let p = this.graphs.get(key);
    if (!p) {
      p = (async () => {
        const card = model.card;
        const scoreTensor = score === 'probability' ? card.outputs.probabilities : card.outputs.tensor;
        if (!scoreTensor) throw new ResightError('USAGE', `${card.name} has no probabilities output to explain`);
        const [h, w] = model.spec.size;
        // Shapes are inferred at the batch size the graph will run with (a fixed one, or 1).
        const batch = model.fixedBatch ?? 1;
        const graph = forwardOnly ? null : buildGradientGraph(model.onnxBytes, { inputName: card.input.tensor, inputShape: [batch, model.spec.channels.length, h, w], scoreTensor, layers: [layer] }, model.cardPath);
        // A map is a per-channel weighting of h x w activations: a layer of another rank (the
        // logits, a flattened feature vector) has no map and would come out empty.
        const shape = graph?.layerShapes[layer];
        if (shape && shape.length !== 4) throw new ResightError('EXPLAIN_UNSUPPORTED', `layer '${layer}' has shape [${shape.join(', ')}]: CAM methods need an NCHW (rank-4) activation`, { path: model.cardPath });
        const bytes = graph ? graph.bytes : buildActivationGraph(model.onnxBytes, [layer], model.cardPath);
        const { session } = await createSession(bytes, { force: model.provider.used, threads: model.provider.threads });
        return { graph, scoreTensor, session };
      })();
      this.graphs.set(key, p);
      p.catch(() => this.graphs.delete(key));
    }
    return p;
  }

  /** Explain one slice of modality values (preprocessed here exactly as for inference). */
  explainSlice(model: LoadedModel, slice: SliceValues, opts: ExplainOptions = {}): Promise<Explanation> {
    const input = new Float32Array(inputLength(model.spec));
    preprocessInto(slice, model.spec, input, 0);
    return this.explainInput(model, input, opts);
  }

  /** Explain one preprocessed model input (C x H x W). */
  async explainInput(model: LoadedModel, input: Float32Array, opts: ExplainOptions = {}): Promise<Explanation> {
    const t0 = performance.now();
    const card = model.card;
    const method = opts.method ?? 'gradcam';
    const layer = opts.layer ?? card.cam.defaultLayer;
    if (!card.cam.layers.includes(layer)) throw new ResightError('USAGE', `layer '${layer}' is not one of ${card.name}'s CAM layers (${card.cam.layers.join(', ')})`);
    const score = opts.score ?? 'logit';
    const classes = card.outputs.classes;
    const [h, w] = model.spec.size;
    const c = model.spec.channels.length;
    const dims: [number, number, number, number] = [1, c, h, w];
    // A graph with a fixed batch size N accepts only N slices: the slice is repeated to fill the
    // batch and row 0 is read. Inference treats batch rows independently (BatchNormalization in
    // inference form, per-sample convolutions), so row 0 is exactly the slice's own result, and
    // the seed below is one-hot in row 0 only, so dScore/dA is row 0's score's exact gradient
    // (the other rows' gradients are zero and never read).
    const batch = model.fixedBatch ?? 1;
    const per = c * h * w;
    const batchInput = batch === 1 ? input : new Float32Array(batch * per);
    if (batch > 1) for (let j = 0; j < batch; j++) batchInput.set(input.subarray(0, per), j * per);
    const runDims: [number, number, number, number] = [batch, c, h, w];
    // Score-CAM needs no gradients: it falls back to the forward-only graph when the model has
    // an operator without a gradient rule between the layer and the output.
    let gs: GraphSession;
    try {
      gs = await this.graphFor(model, layer, score, false);
    } catch (err) {
      if (method !== 'scorecam' || (err as ResightError).code !== 'EXPLAIN_UNSUPPORTED') throw err;
      gs = await this.graphFor(model, layer, score, true);
    }
    const { graph, session, scoreTensor } = gs;
    const feed = (seed: Float32Array) => ({
      [card.input.tensor]: new ort.Tensor('float32', batchInput, runDims),
      ...(graph ? { [SEED_INPUT]: new ort.Tensor('float32', seed, [batch, classes.length]) } : {}),
    });
    // Non-finite scores would make every class the "top" one (indexOf(NaN) is -1) and every map
    // zero: a broken model must say so, not explain nothing.
    const finite = (values: ArrayLike<number>, what: string) => {
      for (let i = 0; i < values.length; i++) {
        if (!Number.isFinite(values[i])) throw new ResightError('INFERENCE_FAILED', `the model's ${what} is not finite (${Array.from(values).slice(0, 8).join(', ')}): nothing to explain`, { path: model.cardPath });
      }
    };

    // The class: asked for, or the highest-scoring one (needs the scores first).
    let classIndex = typeof opts.class === 'number' ? opts.class : typeof opts.class === 'string' ? classes.indexOf(opts.class) : -1;
    if (opts.class !== undefined && (classIndex < 0 || classIndex >= classes.length)) throw new ResightError('USAGE', `unknown class '${opts.class}' (the model has ${classes.join(', ')})`);
    const seed = new Float32Array(batch * classes.length);
    if (classIndex < 0) {
      // The scores alone: the model's own (forward-only) session is the cheaper run.
      const first = await model.session.run({ [card.input.tensor]: new ort.Tensor('float32', batchInput, runDims) }, [scoreTensor]);
      const s = (first[scoreTensor].data as Float32Array).subarray(0, classes.length);
      finite(s, `output '${scoreTensor}'`);
      classIndex = s.indexOf(Math.max(...s));
    }
    seed[classIndex] = 1;
    // Grad-CAM and CAM come out of the graph itself, so the run hands back h*w values instead of
    // A and dA (C*h*w each; on a GPU provider that copy is most of the cost); the other methods
    // need A and dA.
    const inGraph = graph && (method === 'gradcam' || method === 'cam') ? graph.gradcam[layer] : undefined;
    const out = inGraph ? await session.run(feed(seed), [...new Set([card.outputs.tensor, scoreTensor, inGraph])]) : await session.run(feed(seed));
    const logits = Array.from((out[card.outputs.tensor].data as Float32Array).subarray(0, classes.length));
    finite(logits, `output '${card.outputs.tensor}'`);
    const scoreValue = (out[scoreTensor].data as Float32Array)[classIndex];
    finite([scoreValue], `output '${scoreTensor}'`);
    let cam: CamMap;
    let lh: number;
    let lw: number;
    if (inGraph && graph) {
      [, , lh, lw] = graph.layerShapes[layer];
      cam = camFromGradCam((out[inGraph].data as Float32Array).subarray(0, lh * lw), lh, lw, method === 'cam' ? lh * lw : 1);
    } else {
      const aT = out[layer];
      // The gradient graph refuses such a layer; the forward-only one (Score-CAM) learns its
      // rank only now. A map needs an NCHW activation: anything else would give an empty map.
      if (aT.dims.length !== 4) throw new ResightError('EXPLAIN_UNSUPPORTED', `layer '${layer}' has shape [${aT.dims.join(', ')}]: CAM methods need an NCHW (rank-4) activation`, { path: model.cardPath });
      let channels: number;
      [, channels, lh, lw] = aT.dims as number[];
      // Row 0 of the batch (see above).
      const size = channels * lh * lw;
      const a = (aT.data as Float32Array).subarray(0, size);
      const tensors: LayerTensors = { a, g: graph ? (out[graph.gradients[layer]].data as Float32Array).subarray(0, size) : new Float32Array(size), channels, height: lh, width: lw };
      cam =
        method === 'scorecam'
          ? await scoreCam(model, input, tensors, classIndex, { signal: opts.signal, batchSize: opts.batchSize ?? 16 })
          : gradientCam(method, tensors);
    }
    finite(cam.signed, `class-activation map at '${layer}'`);
    return {
      method,
      layer,
      class: classes[classIndex],
      classIndex,
      score,
      scoreValue,
      logits,
      cam,
      camShape: [lh, lw],
      inputShape: dims,
      input,
      provider: model.provider.used,
      ms: performance.now() - t0,
    };
  }

  /** The explanation's map at the slice's pixels, normalized 0..1 (and the max in model units). */
  static heatmap(e: Explanation, rows: number, columns: number): { values: Float32Array; max: number } {
    const [h, w] = [e.inputShape[2], e.inputShape[3]];
    return normalize(mapToSlice(e.cam, [h, w], rows, columns));
  }

  async release(): Promise<void> {
    const all = [...this.graphs.values()];
    this.graphs.clear();
    await Promise.all(all.map((p) => p.then((g) => g.session.release(), () => undefined)));
  }
}
