/**
 * The gradient graph: the model's own ONNX graph plus, built here in TypeScript, the reverse-
 * mode derivative of a class score with respect to chosen activation tensors (the CAM layers).
 * One run of it on any ORT provider yields the score, the activations A and dScore/dA for every
 * requested layer, and each layer's Grad-CAM computed in the graph: Grad-CAM at the cost of about
 * one forward and one partial backward pass, with no autograd framework at run time.
 *
 * The score is seeded through an extra graph input, `resight_seed` (the score's shape, usually
 * [N, classes]): the gradient
 * of sum(seed * score) is computed, so a one-hot row per slice picks each slice's class and one
 * graph serves every class. Each operator's vector-Jacobian product (VJP) is emitted as
 * ordinary ONNX operators; see `vjp` below. Only the nodes between the layers and the score are
 * differentiated; an operator there without a rule is refused with its name.
 */
import { ResightError } from '../errors';
import type { Model } from './onnx';
import { attrFloat, attrInt, attrInts, decodeModel, encodeModel, floatsOf, floatTensor, floatValueInfo, int64Tensor, intsOf, makeNode, onnx, opsetOf } from './onnx';
import type { Shape } from './shapes';
import { inferShapes, windowParams } from './shapes';

export const SEED_INPUT = 'resight_seed';
export const gradName = (layer: string): string => `resight_grad_${layer}`;
export const gradcamName = (layer: string): string => `resight_gradcam_${layer}`;

export interface GradientGraphOptions {
  inputName: string;
  /** Model input shape with batch 1, e.g. [1, 3, 256, 256]. */
  inputShape: Shape;
  /** The tensor whose (seeded) sum is differentiated: the logits (default) or probabilities. */
  scoreTensor: string;
  /** Activation tensors to differentiate with respect to. */
  layers: string[];
  /**
   * How a stride-1 Conv's input gradient is emitted (see `vjp` for Conv): 'auto' (default) as a
   * Conv with the flipped, transposed kernel where the weights are an initializer, which ORT runs
   * with its fast (NCHWc) convolution kernels; 'convtranspose' always as ConvTranspose. Both are
   * the same linear map; strided convolutions always use ConvTranspose.
   */
  convGradient?: 'auto' | 'convtranspose';
}

export interface GradientGraph {
  bytes: Uint8Array;
  scoreTensor: string;
  /** Per layer: the activation output name (the layer itself) and its gradient output. */
  gradients: Record<string, string>;
  /**
   * Per layer: Grad-CAM before its ReLU, [N, h, w] = sum_k mean_ij(dA_k) A_k, computed in the
   * graph on the session's provider, so a Grad-CAM fetches h*w values instead of A and dA.
   */
  gradcam: Record<string, string>;
  layerShapes: Record<string, Shape>;
  /** Operators that were differentiated (for diagnostics). */
  opsDifferentiated: string[];
}

/** Operators with a VJP rule. */
export const DIFFERENTIABLE_OPS = ['Add', 'Sub', 'Mul', 'BatchNormalization', 'Conv', 'Dropout', 'Flatten', 'Gemm', 'GlobalAveragePool', 'Identity', 'MatMul', 'MaxPool', 'ReduceMean', 'Relu', 'Reshape', 'Sigmoid', 'Softmax'] as const;

class Builder {
  readonly nodes: onnx.NodeProto[] = [];
  readonly inits: onnx.TensorProto[] = [];
  private n = 0;
  constructor(readonly opset: number) {}

  name(hint: string): string {
    return `resight_g${this.n++}_${hint}`;
  }

  op(opType: string, inputs: string[], attrs: Record<string, number | number[] | string | onnx.TensorProto> = {}, floatAttrs: string[] = []): string {
    const out = this.name(opType);
    this.nodes.push(makeNode(opType, inputs, [out], `${out}_node`, attrs, floatAttrs));
    return out;
  }

  constF(values: number[] | Float32Array, dims: number[]): string {
    const name = this.name('const');
    this.inits.push(floatTensor(name, dims, values));
    return name;
  }

  constI(values: number[], dims: number[] = [values.length]): string {
    const name = this.name('ints');
    this.inits.push(int64Tensor(name, dims, values));
    return name;
  }

  /** ReduceSum or ReduceMean over `axes`, in the form this opset wants (axes an input from opset 13 / 18). */
  reduce(op: 'ReduceSum' | 'ReduceMean', x: string, axes: number[], keepdims = 1): string {
    const axesAsInput = this.opset >= (op === 'ReduceSum' ? 13 : 18);
    return axesAsInput ? this.op(op, [x, this.constI(axes)], { keepdims }) : this.op(op, [x], { axes, keepdims });
  }

  unsqueeze(x: string, axes: number[]): string {
    return this.opset >= 13 ? this.op('Unsqueeze', [x, this.constI(axes)]) : this.op('Unsqueeze', [x], { axes });
  }
}

/**
 * The kernel of a stride-1 Conv's adjoint: W [M, C/g, k...] becomes W' [C, M/g, k...] with
 * W'[g*C/g + c, o, a...] = W[g*M/g + o, c, (k-1-a)...]: per group, in and out channels swapped
 * and every spatial axis reversed.
 */
export function flippedKernel(w: Float32Array, dims: Shape, group: number): Float32Array {
  const [m, cg, ...k] = dims;
  const mg = m / group;
  const area = k.reduce((a, d) => a * d, 1);
  const out = new Float32Array(w.length);
  for (let g = 0; g < group; g++) {
    for (let o = 0; o < mg; o++) {
      for (let c = 0; c < cg; c++) {
        const src = ((g * mg + o) * cg + c) * area;
        const dst = ((g * cg + c) * mg + o) * area;
        // Reversing every spatial axis of a row-major block is reversing the block.
        for (let a = 0; a < area; a++) out[dst + a] = w[src + area - 1 - a];
      }
    }
  }
  return out;
}

const sameShape = (a: Shape, b: Shape) => a.length === b.length && a.every((d, i) => d === b[i]);

export function buildGradientGraph(modelBytes: Uint8Array, opts: GradientGraphOptions, where?: string): GradientGraph {
  const model: Model = decodeModel(modelBytes, where);
  const g = model.graph as onnx.GraphProto;
  // Decoded messages are class instances with every repeated field present.
  const nodes = g.node as onnx.NodeProto[];
  const opset = opsetOf(model);
  const shapes = inferShapes(model, opts.inputName, opts.inputShape);
  const inits = new Map((g.initializer ?? []).map((t) => [t.name ?? '', t]));
  const b = new Builder(opset);
  const fail = (msg: string): never => {
    throw new ResightError('EXPLAIN_UNSUPPORTED', msg, where ? { path: where } : {});
  };
  const shapeOf = (t: string): Shape => shapes.get(t) ?? fail(`cannot infer the shape of tensor '${t}'`);

  const producer = new Map<string, onnx.NodeProto>();
  for (const node of nodes) for (const o of node.output) producer.set(o, node);
  /**
   * The constant tensor `name` holds: an initializer, or a Constant node's value, also behind
   * Identity nodes (PyTorch's exporter aliases equal BatchNorm parameters to one initializer
   * through Identity when it keeps BatchNorm, e.g. a freshly initialised network exported with
   * training=PRESERVE).
   */
  const constantOf = (name: string | undefined, depth = 0): onnx.ITensorProto | undefined => {
    if (name === undefined || depth > 64) return undefined;
    const init = inits.get(name);
    if (init) return init;
    const p = producer.get(name);
    if (p?.opType === 'Identity') return constantOf(p.input[0], depth + 1);
    if (p?.opType === 'Constant') return (p.attribute ?? []).find((a) => a.name === 'value')?.t ?? undefined;
    return undefined;
  };
  for (const layer of opts.layers) if (!producer.has(layer) && layer !== opts.inputName) fail(`no tensor '${layer}' in the model (cam.layers must name activation tensors)`);

  // Tensors downstream of a layer: only these carry gradients.
  const reach = new Set(opts.layers);
  for (const node of nodes) if (node.input.some((i) => reach.has(i))) for (const o of node.output) if (o) reach.add(o);
  if (!reach.has(opts.scoreTensor)) fail(`the score tensor '${opts.scoreTensor}' does not depend on ${opts.layers.join(', ')}`);

  // Which nodes lie between the layers and the score (the only ones differentiated).
  const needed = new Set([opts.scoreTensor]);
  const onPath: onnx.NodeProto[] = [];
  for (let k = nodes.length - 1; k >= 0; k--) {
    const node = nodes[k];
    if (!node.output.some((o) => needed.has(o))) continue;
    // Only a node that reads a layer or something downstream of one passes a gradient on: the
    // node that produces a layer (its ReLU, say) is not differentiated.
    if (!node.input.some((i) => reach.has(i))) continue;
    onPath.push(node);
    for (const i of node.input) if (reach.has(i)) needed.add(i);
  }
  const unsupported = [...new Set(onPath.filter((n) => !(DIFFERENTIABLE_OPS as readonly string[]).includes(n.opType)).map((n) => `${n.opType} (${n.name || n.output[0]})`))];
  if (unsupported.length) fail(`cannot differentiate through ${unsupported.join(', ')}: Grad-CAM-family methods need every operator between the layer and the output to have a gradient rule (forward-only methods still work)`);

  const grads = new Map<string, string[]>([[opts.scoreTensor, [SEED_INPUT]]]);
  const add = (t: string, gname: string) => {
    const list = grads.get(t) ?? [];
    list.push(gname);
    grads.set(t, list);
  };
  const total = (t: string): string | undefined => {
    const list = grads.get(t);
    if (!list?.length) return undefined;
    const sum = list.length === 1 ? list[0] : b.op('Sum', list);
    grads.set(t, [sum]);
    return sum;
  };
  /** dY reduced to an input's shape where the op broadcast it. */
  const unbroadcast = (dY: string, y: Shape, x: string): string => {
    const xs = shapeOf(x);
    if (sameShape(xs, y)) return dY;
    const lead = y.length - xs.length;
    const axes = y.map((d, i) => i).filter((i) => i < lead || (xs[i - lead] === 1 && y[i] !== 1));
    const reduced = axes.length ? b.reduce('ReduceSum', dY, axes) : dY;
    return b.op('Reshape', [reduced, b.op('Shape', [x])]);
  };
  const ops = new Set<string>();

  for (const node of onPath) {
    const y = node.output[0];
    const dY = total(y);
    if (!dY) continue;
    ops.add(node.opType);
    const ins = node.input;
    const wants = (i: number) => ins[i] !== undefined && ins[i] !== '' && reach.has(ins[i]) && !inits.has(ins[i]);
    const ys = shapeOf(y);
    switch (node.opType) {
      case 'Identity':
      case 'Dropout':
        if (wants(0)) add(ins[0], dY);
        break;
      case 'Relu': {
        const mask = b.op('Cast', [b.op('Greater', [y, b.constF([0], [])])], { to: onnx.TensorProto.DataType.FLOAT });
        add(ins[0], b.op('Mul', [dY, mask]));
        break;
      }
      case 'Sigmoid':
        add(ins[0], b.op('Mul', [dY, b.op('Mul', [y, b.op('Sub', [b.constF([1], []), y])])]));
        break;
      case 'Softmax': {
        const axis = attrInt(node, 'axis', opset >= 13 ? -1 : 1);
        const dot = b.reduce('ReduceSum', b.op('Mul', [dY, y]), [axis < 0 ? axis + ys.length : axis]);
        add(ins[0], b.op('Mul', [y, b.op('Sub', [dY, dot])]));
        break;
      }
      case 'Add':
        if (wants(0)) add(ins[0], unbroadcast(dY, ys, ins[0]));
        if (wants(1)) add(ins[1], unbroadcast(dY, ys, ins[1]));
        break;
      case 'Sub':
        if (wants(0)) add(ins[0], unbroadcast(dY, ys, ins[0]));
        if (wants(1)) add(ins[1], unbroadcast(b.op('Neg', [dY]), ys, ins[1]));
        break;
      case 'Mul':
        if (wants(0)) add(ins[0], unbroadcast(b.op('Mul', [dY, ins[1]]), ys, ins[0]));
        if (wants(1)) add(ins[1], unbroadcast(b.op('Mul', [dY, ins[0]]), ys, ins[1]));
        break;
      case 'BatchNormalization': {
        // Inference form: y = (x - mean) / sqrt(var + eps) * scale + bias, per channel.
        const [scale, variance] = [ins[1], ins[4]].map((n) => constantOf(n));
        if (!scale || !variance) fail(`BatchNormalization ${node.name}: scale and variance must be constants (initializers, Constant nodes or Identity aliases of them)`);
        const eps = attrFloat(node, 'epsilon', 1e-5);
        const s = floatsOf(scale as onnx.ITensorProto);
        const v = floatsOf(variance as onnx.ITensorProto);
        const k = Float32Array.from(s, (sc, c) => sc / Math.sqrt(v[c] + eps));
        const dims = [1, k.length, ...ys.slice(2).map(() => 1)];
        add(ins[0], b.op('Mul', [dY, b.constF(k, dims)]));
        break;
      }
      case 'Conv': {
        // dX = ConvTranspose(dY, W): same weights, group, strides, dilations and explicit pads,
        // with output_padding making the result exactly X's size (never auto_pad).
        const xs = shapeOf(ins[0]);
        const ws = shapeOf(ins[1]);
        const p = windowParams(node, xs, ws);
        const n = xs.length - 2;
        const outPad = xs.slice(2).map((h, i) => h - ((ys[2 + i] - 1) * p.strides[i] + p.dilations[i] * (p.kernel[i] - 1) + 1 - p.pads[i] - p.pads[i + n]));
        if (outPad.some((o, i) => o < 0 || o >= Math.max(p.strides[i], p.dilations[i]))) fail(`Conv ${node.name}: no ConvTranspose reproduces its input size (output_padding ${outPad.join(',')})`);
        const group = attrInt(node, 'group', 1);
        const weights = inits.get(ins[1]);
        // Stride 1 (every conv of a dilated stage): the same map is a Conv of dY with the kernel
        // flipped in space and transposed per group, pads d*(k-1) - pad. ORT runs Conv with its
        // NCHWc kernels and ConvTranspose with a slower col2im path, and on a dilated layer4 this
        // backward pass is most of a Grad-CAM's cost.
        const flipPads = p.pads.map((pad, i) => p.dilations[i % n] * (p.kernel[i % n] - 1) - pad);
        if ((opts.convGradient ?? 'auto') === 'auto' && weights && p.strides.every((s) => s === 1) && flipPads.every((q) => q >= 0)) {
          add(ins[0], b.op('Conv', [dY, b.constF(flippedKernel(floatsOf(weights), ws, group), [ws[1] * group, ws[0] / group, ...ws.slice(2)])], { group, dilations: p.dilations, pads: flipPads, kernel_shape: p.kernel }));
          break;
        }
        add(ins[0], b.op('ConvTranspose', [dY, ins[1]], { group, strides: p.strides, dilations: p.dilations, pads: p.pads, kernel_shape: p.kernel, output_padding: outPad }));
        break;
      }
      case 'MaxPool': {
        // Overlapping windows: route dY to each window's argmax with ScatterElements(add), using
        // the forward node's Indices output (flattened over the whole tensor).
        if (opset < 16) fail(`MaxPool ${node.name}: its gradient needs ScatterElements with reduction (opset >= 16; the model has opset ${opset})`);
        if (attrInt(node, 'storage_order', 0) !== 0) fail(`MaxPool ${node.name}: storage_order=1 is not supported`);
        if (!node.output[1]) node.output[1] = `${y}_resight_indices`;
        const x = ins[0];
        const shapeX = b.op('Shape', [x]);
        const zeros = b.op('ConstantOfShape', [b.op('ReduceProd', [shapeX], { keepdims: 1 })], { value: floatTensor('value', [1], [0]) });
        const flat = b.constI([-1]);
        const scattered = b.op('ScatterElements', [zeros, b.op('Reshape', [node.output[1], flat]), b.op('Reshape', [dY, flat])], { axis: 0, reduction: 'add' });
        add(x, b.op('Reshape', [scattered, shapeX]));
        break;
      }
      case 'GlobalAveragePool': {
        const xs = shapeOf(ins[0]);
        const area = xs.slice(2).reduce((p, d) => p * d, 1);
        // Scale the [N, C, 1, 1] gradient before expanding it to every position.
        add(ins[0], b.op('Expand', [b.op('Mul', [dY, b.constF([1 / area], [])]), b.op('Shape', [ins[0]])]));
        break;
      }
      case 'ReduceMean': {
        const xs = shapeOf(ins[0]);
        // axes as an input (opset 18) must be a constant: reading it as "all axes" would scale the gradient wrongly
        const axesInit = ins[1] ? (constantOf(ins[1]) ?? fail(`ReduceMean ${node.name}: its axes input '${ins[1]}' is not a constant`)) : undefined;
        const axes = (attrInts(node, 'axes') ?? (axesInit ? intsOf(axesInit) : xs.map((_, i) => i))).map((a) => (a < 0 ? a + xs.length : a));
        const count = axes.reduce((p, a) => p * xs[a], 1);
        const kept = attrInt(node, 'keepdims', 1) === 1 ? dY : b.unsqueeze(dY, [...axes].sort((a, c) => a - c));
        add(ins[0], b.op('Expand', [b.op('Mul', [kept, b.constF([1 / count], [])]), b.op('Shape', [ins[0]])]));
        break;
      }
      case 'Flatten':
      case 'Reshape':
        add(ins[0], b.op('Reshape', [dY, b.op('Shape', [ins[0]])]));
        break;
      case 'Gemm': {
        // y = alpha * op(A) op(B) + beta * C; only A (the activations) carries a gradient.
        if (wants(1)) fail(`Gemm ${node.name}: gradient with respect to its second input is not supported`);
        const alpha = attrFloat(node, 'alpha', 1);
        const transA = attrInt(node, 'transA', 0);
        const transB = attrInt(node, 'transB', 0);
        const dA = transA
          ? b.op('Gemm', [ins[1], dY], { alpha, transA: transB, transB: 1 }, ['alpha'])
          : b.op('Gemm', [dY, ins[1]], { alpha, transA: 0, transB: 1 - transB }, ['alpha']);
        add(ins[0], dA);
        break;
      }
      case 'MatMul': {
        if (wants(1)) fail(`MatMul ${node.name}: gradient with respect to its second input is not supported`);
        const bs = shapeOf(ins[1]);
        if (bs.length !== 2) fail(`MatMul ${node.name}: only a 2-D second input is supported`);
        add(ins[0], b.op('MatMul', [dY, b.op('Transpose', [ins[1]], { perm: [1, 0] })]));
        break;
      }
      default:
        fail(`no gradient rule for ${node.opType}`);
    }
  }

  const gradients: Record<string, string> = {};
  const gradcam: Record<string, string> = {};
  const layerShapes: Record<string, Shape> = {};
  const outputs = new Set(g.output.map((o) => o.name));
  for (const layer of opts.layers) {
    const dA = total(layer);
    if (!dA) fail(`the score does not depend on '${layer}'`);
    const out = gradName(layer);
    b.nodes.push(makeNode('Identity', [dA as string], [out], `${out}_node`));
    g.output.push(floatValueInfo(out));
    if (!outputs.has(layer)) g.output.push(floatValueInfo(layer));
    gradients[layer] = out;
    layerShapes[layer] = shapeOf(layer);
    if (layerShapes[layer].length === 4) {
      const alpha = b.reduce('ReduceMean', dA as string, [2, 3]);
      const cam = gradcamName(layer);
      const summed = b.reduce('ReduceSum', b.op('Mul', [layer, alpha]), [1], 0);
      b.nodes.push(makeNode('Identity', [summed], [cam], `${cam}_node`));
      g.output.push(floatValueInfo(cam));
      gradcam[layer] = cam;
    }
  }
  nodes.push(...b.nodes);
  g.initializer.push(...b.inits);
  g.input.push(floatValueInfo(SEED_INPUT, ['N', ...shapeOf(opts.scoreTensor).slice(1)]));
  return { bytes: encodeModel(model), scoreTensor: opts.scoreTensor, gradients, gradcam, layerShapes, opsDifferentiated: [...ops].sort() };
}


/**
 * The forward-only variant: the model with the layers' activations as extra outputs (for
 * Score-CAM when some operator between the layer and the output has no gradient rule).
 */
export function buildActivationGraph(modelBytes: Uint8Array, layers: string[], where?: string): Uint8Array {
  const model: Model = decodeModel(modelBytes, where);
  const g = model.graph as onnx.GraphProto;
  const produced = new Set((g.node as onnx.NodeProto[]).flatMap((n) => n.output));
  const outputs = new Set(g.output.map((o) => o.name));
  for (const layer of layers) {
    if (!produced.has(layer)) throw new ResightError('EXPLAIN_UNSUPPORTED', `no tensor '${layer}' in the model`, where ? { path: where } : {});
    if (!outputs.has(layer)) g.output.push(floatValueInfo(layer));
  }
  return encodeModel(model);
}
