/**
 * A loaded model: its card (sha256 already checked by card.ts), an ORT session on the chosen
 * provider, and the card checked against the graph itself (tensor names, ranks, channel count,
 * input size, class count). A card that does not describe its graph refuses the model: scoring
 * with a misread input layout would give confident nonsense.
 */
import type { InferenceSession } from 'onnxruntime-node';
import type { ModelIdentity, ProviderReport } from '../../shared/analysis';
import { ResightError } from '../errors';
import type { ModelCard } from './card';
import { loadModelCard } from './card';
import type { PreprocessSpec } from './preprocess';
import { preprocessSpec } from './preprocess';
import type { SessionOptions } from './providers';
import { createSession } from './providers';

export interface LoadedModel {
  card: ModelCard;
  cardPath: string;
  /** The verified ONNX bytes (the explain engine derives its gradient graph from them). */
  onnxBytes: Uint8Array;
  identity: ModelIdentity;
  session: InferenceSession;
  provider: ProviderReport;
  spec: PreprocessSpec;
  /** Fixed batch size of the graph's input, or null when the batch dimension is dynamic. */
  fixedBatch: number | null;
  /** The graph output that holds probabilities, when the model has one. */
  probabilitiesOutput: string | null;
  loadMs: number;
}

type Dim = number | string;

function shapeOf(meta: readonly InferenceSession.ValueMetadata[], name: string): Dim[] | undefined {
  const m = meta.find((v) => v.name === name);
  return m && m.isTensor ? [...m.shape] : undefined;
}

const fmt = (s: readonly Dim[]) => `[${s.join(', ')}]`;

/** Compare the card to the graph; returns the fixed batch size (or null). */
export function checkGraph(card: ModelCard, session: InferenceSession, where: string): { fixedBatch: number | null; probabilitiesOutput: string | null } {
  const bad = (msg: string): never => {
    throw new ResightError('MODEL_INVALID', `the card does not match the ONNX graph: ${msg}`, { path: where });
  };
  const inTensor = card.input.tensor;
  if (!session.inputNames.includes(inTensor)) bad(`no input tensor '${inTensor}' (the graph has ${session.inputNames.join(', ')})`);
  const inShape = shapeOf(session.inputMetadata, inTensor);
  const want = card.input.shape;
  if (inShape) {
    if (inShape.length !== 4) bad(`input '${inTensor}' has rank ${inShape.length} ${fmt(inShape)}, the card says ${fmt(want)}`);
    for (let d = 1; d < 4; d++) {
      if (typeof inShape[d] === 'number' && inShape[d] !== want[d]) bad(`input '${inTensor}' has shape ${fmt(inShape)}, the card says ${fmt(want)}`);
    }
  }
  const [h, w] = card.input.resampling.size;
  if (want[2] !== h || want[3] !== w) bad(`input.shape ${fmt(want)} and input.resampling.size [${h}, ${w}] disagree`);
  const outTensor = card.outputs.tensor;
  if (!session.outputNames.includes(outTensor)) bad(`no output tensor '${outTensor}' (the graph has ${session.outputNames.join(', ')})`);
  const outShape = shapeOf(session.outputMetadata, outTensor);
  const classes = card.outputs.classes.length;
  if (outShape) {
    const last = outShape[outShape.length - 1];
    if (outShape.length !== 2 || (typeof last === 'number' && last !== classes)) bad(`output '${outTensor}' has shape ${fmt(outShape)}, the card lists ${classes} classes`);
  }
  const probs = card.outputs.probabilities;
  const probabilitiesOutput = probs && session.outputNames.includes(probs) ? probs : null;
  const n = inShape?.[0];
  return { fixedBatch: typeof n === 'number' && n > 0 ? n : null, probabilitiesOutput };
}

/** Load a model card, verify its ONNX file, create its session, check the graph. */
export async function loadModel(cardPath: string, opts: SessionOptions = {}): Promise<LoadedModel> {
  const t0 = performance.now();
  const loaded = loadModelCard(cardPath);
  const { session, report } = await createSession(loaded.onnxBytes, { modelPath: loaded.onnxPath, ...opts });
  try {
    const { fixedBatch, probabilitiesOutput } = checkGraph(loaded.card, session, loaded.onnxPath);
    return {
      card: loaded.card,
      cardPath,
      onnxBytes: loaded.onnxBytes,
      identity: { name: loaded.card.name, version: loaded.card.version, sha256: loaded.card.onnx.sha256 },
      session,
      provider: report,
      spec: preprocessSpec(loaded.card),
      fixedBatch,
      probabilitiesOutput,
      loadMs: performance.now() - t0,
    };
  } catch (err) {
    await session.release();
    throw err;
  }
}
