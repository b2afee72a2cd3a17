/**
 * A loaded model: its card (sha256 already checked by card.ts), an ORT session on the chosen
 * provider, and the card checked against the graph itself (tensor names, ranks, channel count,
 * input size, class count). A card that does not describe its graph refuses the model: scoring
 * with a misread input layout would give confident nonsense.
 */
import * as path from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
import type { ModelIdentity, ProviderReport } from '../../shared/analysis';
import { ResightError } from '../errors';
import type { Model } from '../explain/onnx';
import { onnx } from '../explain/onnx';
import { inferShapes } from '../explain/shapes';
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

/** Decode the ONNX file; a file that is not an ONNX model is refused naming it. */
export function decodeOnnx(bytes: Uint8Array, onnxPath: string): Model {
  const file = path.basename(onnxPath);
  let model: Model;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new ResightError('MODEL_INVALID', `${file} is not an ONNX model (${(err as Error).message})`, { path: onnxPath });
  }
  // Protobuf decoding is lenient: arbitrary bytes can decode to a message with no graph.
  if (!model.graph || !model.graph.node?.length) throw new ResightError('MODEL_INVALID', `${file} is not an ONNX model (no graph in it)`, { path: onnxPath });
  return model;
}

const elemTypeName = (t: number | null | undefined) => (t === null || t === undefined ? 'untyped' : (onnx.TensorProto.DataType[t] ?? `type ${t}`).toLowerCase());

/** The rank the graph declares for a tensor (value_info, inputs, outputs), if it declares one. */
function declaredRank(g: onnx.IGraphProto, name: string): number | undefined {
  for (const list of [g.valueInfo, g.output, g.input]) {
    const shape = list?.find((v) => v.name === name)?.type?.tensorType?.shape;
    if (shape?.dim) return shape.dim.length;
  }
  return undefined;
}

/**
 * What the card promises about the graph that the session's metadata cannot show: one float32
 * image input, a logits tensor that is not already a probability, and CAM layers that exist and
 * are NCHW. Checked on the decoded ONNX before a session is created, so a model that would fail
 * at its first run (or give wrong numbers) is refused at load with the reason.
 */
export function checkOnnx(card: ModelCard, model: Model, where: string): void {
  const bad = (msg: string): never => {
    throw new ResightError('MODEL_INVALID', `the card does not match the ONNX graph: ${msg}`, { path: where });
  };
  const g = model.graph as onnx.GraphProto;
  // IR < 4 lists initializers among the graph inputs too; those are weights, not feeds.
  const inits = new Set(g.initializer.map((t) => t.name));
  const feeds = g.input.filter((i) => !inits.has(i.name));
  const inTensor = card.input.tensor;
  const input = feeds.find((i) => i.name === inTensor);
  if (!input) bad(`no input tensor '${inTensor}' (the graph has ${feeds.map((i) => i.name).join(', ') || 'no inputs'})`);
  if (feeds.length !== 1) bad(`the graph has ${feeds.length} inputs (${feeds.map((i) => i.name).join(', ')}); ReSight feeds one image tensor, '${inTensor}', and nothing else`);
  const elem = input?.type?.tensorType?.elemType;
  if (elem !== onnx.TensorProto.DataType.FLOAT) bad(`input '${inTensor}' is ${elemTypeName(elem)}; ReSight feeds float32 (export the model with a float32 input)`);

  // Grad-CAM differentiates the logit, and the probabilities are computed here from it: an
  // output that already went through a Sigmoid/Softmax would get a second one and be explained
  // as if it were a logit. (Identity nodes in between change nothing.)
  const producer = new Map<string, onnx.NodeProto>();
  // Decoded messages are class instances with every repeated field present.
  for (const node of g.node as onnx.NodeProto[]) for (const o of node.output) if (o) producer.set(o, node);
  // through Identity nodes, each once (a malformed graph may loop)
  const throughIdentity = (tensor: string | undefined): onnx.NodeProto | undefined => {
    const seen = new Set<onnx.NodeProto>();
    let n = tensor ? producer.get(tensor) : undefined;
    while (n?.opType === 'Identity' && n.input[0] && !seen.has(n)) {
      seen.add(n);
      n = producer.get(n.input[0]);
    }
    return n;
  };
  const node = throughIdentity(card.outputs.tensor);
  if (node && (node.opType === 'Sigmoid' || node.opType === 'Softmax')) {
    bad(`outputs.tensor '${card.outputs.tensor}' is produced by a ${node.opType} node, so it is already a probability; export the logits (the pre-activation tensor${node.input[0] ? `, '${node.input[0]}' here` : ''}) as outputs.tensor and name this one in outputs.probabilities: the card's activation is applied to outputs.tensor, and Grad-CAM is defined on the logit`);
  }

  // The probabilities the graph outputs are used as they are: where the node that makes them says
  // which activation it is, it must be the card's (a softmax card on a sigmoid graph would report
  // sigmoid scores under the softmax's thresholds, summing to more than 1).
  const probs = card.outputs.probabilities;
  const pnode = throughIdentity(probs);
  const want = card.outputs.activation === 'softmax' ? 'Softmax' : 'Sigmoid';
  if (probs && pnode && (pnode.opType === 'Sigmoid' || pnode.opType === 'Softmax') && pnode.opType !== want) {
    bad(`outputs.probabilities '${probs}' is produced by a ${pnode.opType} node, but the card's activation is ${card.outputs.activation}: make them agree (the probabilities are read from the graph as they are)`);
  }

  // CAM layers: tensors of the graph, and NCHW where their shape can be known here.
  let inferred: Map<string, number[]> | undefined;
  try {
    inferred = inferShapes(model, inTensor, [1, card.input.shape[1], card.input.shape[2], card.input.shape[3]]);
  } catch {
    inferred = undefined; // an operator the static inference does not know: fall back to declared shapes
  }
  for (const layer of card.cam.layers) {
    if (!producer.has(layer) && layer !== inTensor) bad(`cam.layers names '${layer}', which is not a tensor of the graph`);
    const rank = inferred?.get(layer)?.length ?? declaredRank(g, layer);
    if (rank !== undefined && rank !== 4) bad(`cam layer '${layer}' has rank ${rank}; CAM layers must be NCHW activations (rank 4)`);
  }
}

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
  checkOnnx(loaded.card, decodeOnnx(loaded.onnxBytes, loaded.onnxPath), loaded.onnxPath);
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
