/**
 * Static shape inference (batch size 1) for the operators of ResNet-family exports. The
 * gradient graph needs concrete spatial sizes where ONNX wants attributes (ConvTranspose's
 * output_padding, explicit pads for auto_pad) and to know where Add broadcasts. The batch
 * dimension stays dynamic in the graph itself (Shape/Expand at run time).
 */
import { ResightError } from '../errors';
import type { Model, Node } from './onnx';
import { attrInt, attrInts, attrString, intsOf, toNum } from './onnx';

export type Shape = number[];

/** Explicit [begin..., end...] pads of a Conv/MaxPool node for the given input/output sizes. */
export function explicitPads(node: Node, inSpatial: number[], kernel: number[], strides: number[], dilations: number[]): number[] {
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  const n = inSpatial.length;
  if (autoPad === 'NOTSET') return attrInts(node, 'pads') ?? new Array<number>(2 * n).fill(0);
  if (autoPad === 'VALID') return new Array<number>(2 * n).fill(0);
  const pads = new Array<number>(2 * n).fill(0);
  for (let i = 0; i < n; i++) {
    const out = Math.ceil(inSpatial[i] / strides[i]);
    const total = Math.max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - inSpatial[i]);
    const small = Math.floor(total / 2);
    pads[i] = autoPad === 'SAME_UPPER' ? small : total - small;
    pads[i + n] = total - pads[i];
  }
  return pads;
}

export interface WindowParams {
  kernel: number[];
  strides: number[];
  dilations: number[];
  pads: number[];
}

/** Kernel, strides, dilations and explicit pads of a Conv or pooling node. */
export function windowParams(node: Node, inShape: Shape, weightShape?: Shape): WindowParams {
  const spatial = inShape.slice(2);
  const n = spatial.length;
  const kernel = attrInts(node, 'kernel_shape') ?? (weightShape ? weightShape.slice(2) : []);
  const strides = attrInts(node, 'strides') ?? new Array<number>(n).fill(1);
  const dilations = attrInts(node, 'dilations') ?? new Array<number>(n).fill(1);
  return { kernel, strides, dilations, pads: explicitPads(node, spatial, kernel, strides, dilations) };
}

function windowOut(inSize: number, k: number, s: number, d: number, pb: number, pe: number, ceil: boolean): number {
  const span = inSize + pb + pe - ((k - 1) * d + 1);
  return (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
}

function broadcast(a: Shape, b: Shape): Shape {
  const n = Math.max(a.length, b.length);
  const out: Shape = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** Shapes of every tensor reachable from the input, for an input of `inputShape` (batch 1). */
export function inferShapes(model: Model, inputName: string, inputShape: Shape): Map<string, Shape> {
  const g = model.graph;
  if (!g) throw new ResightError('MODEL_INVALID', 'the ONNX model has no graph');
  const shapes = new Map<string, Shape>([[inputName, inputShape]]);
  const consts = new Map<string, number[]>();
  for (const t of g.initializer ?? []) {
    shapes.set(t.name ?? '', (t.dims ?? []).map(toNum));
    if (t.dataType === 7) consts.set(t.name ?? '', intsOf(t));
  }
  for (const node of g.node ?? []) {
    const ins = (node.input ?? []).map((i) => shapes.get(i));
    const x = ins[0];
    const out = node.output?.[0] ?? '';
    if (node.opType === 'Constant') {
      const t = node.attribute?.find((a) => a.name === 'value')?.t;
      if (t) {
        shapes.set(out, (t.dims ?? []).map(toNum));
        if (t.dataType === 7) consts.set(out, intsOf(t));
      }
      continue;
    }
    if (!x) continue; // not on the input's path (or an unsupported producer upstream)
    let y: Shape | undefined;
    switch (node.opType) {
      case 'Relu': case 'Sigmoid': case 'Softmax': case 'Identity': case 'BatchNormalization': case 'Dropout': case 'LeakyRelu': case 'Clip':
        y = x;
        break;
      case 'Add': case 'Sub': case 'Mul': case 'Div':
        y = broadcast(x, ins[1] ?? []);
        break;
      case 'Conv': {
        const w = ins[1] ?? [];
        const p = windowParams(node, x, w);
        y = [x[0], w[0], ...x.slice(2).map((s, i) => windowOut(s, p.kernel[i], p.strides[i], p.dilations[i], p.pads[i], p.pads[i + x.length - 2], false))];
        break;
      }
      case 'MaxPool': case 'AveragePool': {
        const p = windowParams(node, x);
        const ceil = attrInt(node, 'ceil_mode', 0) === 1;
        y = [x[0], x[1], ...x.slice(2).map((s, i) => windowOut(s, p.kernel[i], p.strides[i], p.dilations[i], p.pads[i], p.pads[i + x.length - 2], ceil))];
        if (node.output?.[1]) shapes.set(node.output[1], y);
        break;
      }
      case 'GlobalAveragePool': case 'GlobalMaxPool':
        y = [x[0], x[1], ...x.slice(2).map(() => 1)];
        break;
      case 'ReduceMean': case 'ReduceSum': {
        const axes = (attrInts(node, 'axes') ?? consts.get(node.input?.[1] ?? '') ?? x.map((_, i) => i)).map((a) => (a < 0 ? a + x.length : a));
        const keep = attrInt(node, 'keepdims', 1) === 1;
        y = keep ? x.map((d, i) => (axes.includes(i) ? 1 : d)) : x.filter((_, i) => !axes.includes(i));
        break;
      }
      case 'Flatten': {
        const axis = attrInt(node, 'axis', 1);
        const a = axis < 0 ? axis + x.length : axis;
        y = [x.slice(0, a).reduce((p, d) => p * d, 1), x.slice(a).reduce((p, d) => p * d, 1)];
        break;
      }
      case 'Reshape': {
        const target = consts.get(node.input?.[1] ?? '');
        if (!target) break;
        const total = x.reduce((p, d) => p * d, 1);
        const dims = target.map((d, i) => (d === 0 ? x[i] : d));
        const known = dims.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
        y = dims.map((d) => (d === -1 ? total / known : d));
        break;
      }
      case 'Gemm': {
        const b = ins[1] ?? [];
        const m = attrInt(node, 'transA', 0) ? x[1] : x[0];
        const nn = attrInt(node, 'transB', 0) ? b[0] : b[1];
        y = [m, nn];
        break;
      }
      case 'MatMul': {
        const b = ins[1] ?? [];
        y = [...x.slice(0, -1), b[b.length - 1]];
        break;
      }
      default:
        y = undefined;
    }
    if (y) shapes.set(out, y);
  }
  return shapes;
}
