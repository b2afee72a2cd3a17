/**
 * Every operator's vector-Jacobian product in the gradient graph is checked with the exact
 * adjoint (dot-product) identity <J v, u> = <v, J^T u> on random tensors: J^T u comes from the
 * gradient graph (seeded with u), J v from the forward model itself (f(v) - f(0) for the affine
 * operators, the exact directional derivative at x for the piecewise ones). Float32 finite
 * differences would be too noisy through ReLUs and max-pooling; this identity is exact up to
 * rounding. Conv covers strides, pads (asymmetric and SAME), dilations, groups and the
 * output_padding cases.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { buildGradientGraph, gradName, SEED_INPUT } from '../../../../src/core/explain/gradient';
import type { onnx as OnnxNs } from '../../../../src/core/explain/onnx';
import { decodeModel } from '../../../../src/core/explain/onnx';
import { floatTensor, makeNode, randomValues, tinyModel } from '../../../helpers/onnx';

type Dims = number[];
const size = (d: Dims) => d.reduce((a, b) => a * b, 1);
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

interface OpCase {
  name: string;
  node: OnnxNs.NodeProto;
  x: Dims;
  initializers?: OnnxNs.TensorProto[];
  /** The op is affine in x: J v = f(v) - f(0). Otherwise `jv` computes J v at x. */
  affine: boolean;
  jv?: (x: Float32Array, y: Float32Array, v: Float32Array, extra: Record<string, Float32Array | BigInt64Array>) => Float64Array;
  /** int64 outputs the forward model also returns (for `jv`); the gradient graph is built without them. */
  extraOutputs?: string[];
}

async function run(bytes: Uint8Array, feeds: Record<string, { data: Float32Array; dims: Dims }>, outputs: string[]): Promise<Record<string, ort.Tensor>> {
  const s = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], graphOptimizationLevel: 'disabled' });
  try {
    const f: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries(feeds)) f[k] = new ort.Tensor('float32', v.data, v.dims);
    const out = await s.run(f);
    return Object.fromEntries(outputs.map((o) => [o, out[o]]));
  } finally {
    await s.release();
  }
}

async function checkAdjoint(c: OpCase, seed: number, convGradient: 'auto' | 'convtranspose' = 'auto'): Promise<string[]> {
  const forward = tinyModel({ nodes: [c.node], inputs: [{ name: 'x', shape: c.x }], outputs: ['y', ...(c.extraOutputs ?? []).map((name) => ({ name, int64: true as const }))], initializers: c.initializers ?? [] });
  // The model as exported (e.g. MaxPool without its Indices output): the builder adds what it needs.
  const plainNode = makeNode(c.node.opType, c.node.input, [c.node.output[0]], c.node.name, {});
  plainNode.attribute = c.node.attribute;
  const plain = tinyModel({ nodes: [plainNode], inputs: [{ name: 'x', shape: c.x }], outputs: ['y'], initializers: c.initializers ?? [] });
  const x = randomValues(size(c.x), seed);
  const v = randomValues(size(c.x), seed + 1);
  const fx = await run(forward, { x: { data: x, dims: c.x } }, ['y', ...(c.extraOutputs ?? [])]);
  const yDims = fx.y.dims as number[];
  const u = randomValues(size(yDims), seed + 2);
  // J^T u from the gradient graph (layer = the input x, score = y, seed = u).
  const gg = buildGradientGraph(plain, { inputName: 'x', inputShape: c.x, scoreTensor: 'y', layers: ['x'], convGradient });
  const back = await run(gg.bytes, { x: { data: x, dims: c.x }, [SEED_INPUT]: { data: u, dims: yDims } }, [gradName('x')]);
  const jtu = back[gradName('x')].data as Float32Array;
  assert.equal(jtu.length, x.length, 'gradient has the input shape');
  let jv: ArrayLike<number>;
  if (c.affine) {
    const fv = (await run(forward, { x: { data: v, dims: c.x } }, ['y'])).y.data as Float32Array;
    const f0 = (await run(forward, { x: { data: new Float32Array(v.length), dims: c.x } }, ['y'])).y.data as Float32Array;
    jv = Float64Array.from(fv, (a, i) => a - f0[i]);
  } else {
    const extra: Record<string, Float32Array | BigInt64Array> = {};
    for (const o of c.extraOutputs ?? []) extra[o] = fx[o].data as Float32Array | BigInt64Array;
    jv = (c.jv as NonNullable<OpCase['jv']>)(x, fx.y.data as Float32Array, v, extra);
  }
  const lhs = dot(jv, u);
  const rhs = dot(v, jtu);
  const scale = Math.max(1, Math.abs(lhs), Math.abs(rhs));
  assert.ok(Math.abs(lhs - rhs) <= 1e-5 * scale, `<Jv,u> = ${lhs}, <v,J^T u> = ${rhs}`);
  // The operators the backward pass was built from (after the forward node).
  return (decodeModel(gg.bytes).graph?.node ?? []).slice(1).map((n) => n.opType ?? '');
}

const w = (name: string, dims: Dims, seed: number) => floatTensor(name, dims, randomValues(size(dims), seed));

const conv = (name: string, x: Dims, wDims: Dims, attrs: Record<string, number | number[] | string>): OpCase => ({
  name,
  x,
  affine: true,
  node: makeNode('Conv', ['x', 'w', 'b'], ['y'], 'conv', attrs),
  initializers: [w('w', wDims, 11), w('b', [wDims[0]], 12)],
});

const cases: OpCase[] = [
  conv('Conv 3x3, stride 1, pads 1', [2, 3, 6, 5], [4, 3, 3, 3], { pads: [1, 1, 1, 1] }),
  conv('Conv 3x3, stride 2, pads 1, even input (output_padding 1)', [1, 2, 8, 8], [3, 2, 3, 3], { strides: [2, 2], pads: [1, 1, 1, 1] }),
  conv('Conv 3x3, stride 2, pads 1, odd input (output_padding 0)', [1, 2, 7, 9], [3, 2, 3, 3], { strides: [2, 2], pads: [1, 1, 1, 1] }),
  conv('Conv 1x1, stride 2 (downsample)', [1, 4, 8, 6], [6, 4, 1, 1], { strides: [2, 2] }),
  conv('Conv 7x7, stride 2, pads 3 (stem)', [1, 3, 16, 14], [4, 3, 7, 7], { strides: [2, 2], pads: [3, 3, 3, 3] }),
  conv('Conv 3x3, dilation 2, pads 2', [1, 2, 9, 9], [2, 2, 3, 3], { dilations: [2, 2], pads: [2, 2, 2, 2] }),
  conv('Conv grouped (2 groups)', [1, 4, 6, 6], [6, 2, 3, 3], { group: 2, pads: [1, 1, 1, 1] }),
  conv('Conv depthwise (4 groups), stride 2', [1, 4, 7, 7], [4, 1, 3, 3], { group: 4, strides: [2, 2], pads: [1, 1, 1, 1] }),
  conv('Conv asymmetric pads and kernel', [1, 2, 7, 6], [3, 2, 3, 2], { pads: [0, 1, 2, 0], strides: [2, 1] }),
  conv('Conv auto_pad SAME_UPPER, stride 2', [1, 2, 7, 8], [3, 2, 3, 3], { auto_pad: 'SAME_UPPER', strides: [2, 2] }),
  conv('Conv 1x1, stride 1', [1, 5, 4, 6], [3, 5, 1, 1], {}),
  conv('Conv 3x3, stride 1, no pads (valid)', [1, 3, 7, 6], [2, 3, 3, 3], {}),
  conv('Conv 3x3, dilation 2, grouped (2 groups), asymmetric pads', [1, 4, 9, 8], [6, 2, 3, 3], { group: 2, dilations: [2, 2], pads: [1, 2, 3, 0] }),
  conv('Conv 3x3, stride 1, pads 3 (more than the kernel reach)', [1, 2, 5, 5], [3, 2, 3, 3], { pads: [3, 3, 3, 3] }),
  conv('Conv auto_pad SAME_LOWER, even kernel, stride 1', [1, 2, 8, 7], [2, 2, 3, 2], { auto_pad: 'SAME_LOWER' }),
  {
    name: 'BatchNormalization (inference)',
    x: [2, 3, 4, 4],
    affine: true,
    node: makeNode('BatchNormalization', ['x', 's', 'bb', 'm', 'var'], ['y'], 'bn', { epsilon: 1e-5 }, ['epsilon']),
    initializers: [w('s', [3], 1), w('bb', [3], 2), w('m', [3], 3), floatTensor('var', [3], [0.5, 1.5, 2.5])],
  },
  {
    name: 'Add with broadcasting (the layer is the smaller operand)',
    x: [2, 3, 1, 1],
    affine: true,
    node: makeNode('Add', ['x', 'big'], ['y'], 'add'),
    initializers: [w('big', [2, 3, 4, 5], 4)],
  },
  { name: 'Add (same shapes, the layer on both sides)', x: [1, 3, 4, 4], affine: true, node: makeNode('Add', ['x', 'x'], ['y'], 'add2') },
  { name: 'Sub with broadcasting', x: [1, 3, 4, 4], affine: true, node: makeNode('Sub', ['c', 'x'], ['y'], 'sub'), initializers: [w('c', [1, 3, 1, 1], 5)] },
  { name: 'Mul by a constant', x: [1, 3, 4, 4], affine: true, node: makeNode('Mul', ['x', 'c'], ['y'], 'mul'), initializers: [w('c', [1, 3, 1, 4], 6)] },
  { name: 'GlobalAveragePool', x: [2, 4, 5, 3], affine: true, node: makeNode('GlobalAveragePool', ['x'], ['y'], 'gap') },
  { name: 'ReduceMean over H, W without keepdims', x: [2, 4, 5, 3], affine: true, node: makeNode('ReduceMean', ['x'], ['y'], 'rm', { axes: [2, 3], keepdims: 0 }) },
  { name: 'Flatten', x: [2, 4, 3, 3], affine: true, node: makeNode('Flatten', ['x'], ['y'], 'fl', { axis: 1 }) },
  { name: 'Reshape', x: [2, 4, 3, 3], affine: true, node: makeNode('Reshape', ['x', 'shape'], ['y'], 'rs'), initializers: [] },
  { name: 'Identity', x: [2, 3], affine: true, node: makeNode('Identity', ['x'], ['y'], 'id') },
  { name: 'Gemm transB=1, alpha, beta', x: [3, 5], affine: true, node: makeNode('Gemm', ['x', 'B', 'C'], ['y'], 'gemm', { transB: 1, alpha: 0.7, beta: 1.3 }, ['alpha', 'beta']), initializers: [w('B', [4, 5], 7), w('C', [4], 8)] },
  { name: 'Gemm transA=1, transB=0', x: [5, 3], affine: true, node: makeNode('Gemm', ['x', 'B'], ['y'], 'gemm2', { transA: 1, alpha: 1.5 }, ['alpha']), initializers: [w('B', [5, 4], 9)] },
  { name: 'MatMul', x: [3, 5], affine: true, node: makeNode('MatMul', ['x', 'B'], ['y'], 'mm'), initializers: [w('B', [5, 2], 10)] },
  {
    name: 'Relu',
    x: [2, 3, 4, 4],
    affine: false,
    node: makeNode('Relu', ['x'], ['y'], 'relu'),
    jv: (x, _y, v) => Float64Array.from(v, (vi, i) => (x[i] > 0 ? vi : 0)),
  },
  {
    name: 'Sigmoid',
    x: [2, 5],
    affine: false,
    node: makeNode('Sigmoid', ['x'], ['y'], 'sig'),
    jv: (_x, y, v) => Float64Array.from(v, (vi, i) => y[i] * (1 - y[i]) * vi),
  },
  {
    name: 'Softmax over the last axis',
    x: [3, 4],
    affine: false,
    node: makeNode('Softmax', ['x'], ['y'], 'sm', { axis: -1 }),
    jv: (_x, y, v) => {
      const out = new Float64Array(v.length);
      for (let r = 0; r < 3; r++) {
        let yv = 0;
        for (let k = 0; k < 4; k++) yv += y[r * 4 + k] * v[r * 4 + k];
        for (let k = 0; k < 4; k++) out[r * 4 + k] = y[r * 4 + k] * (v[r * 4 + k] - yv);
      }
      return out;
    },
  },
  {
    name: 'MaxPool 3x3, stride 2, pads 1 (overlapping windows)',
    x: [2, 3, 9, 8],
    affine: false,
    node: makeNode('MaxPool', ['x'], ['y', 'idx'], 'mp', { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }),
    extraOutputs: ['idx'],
    // At x, J v picks v at each window's argmax (the flattened indices ORT reports).
    jv: (_x, _y, v, extra) => Float64Array.from(extra.idx as BigInt64Array, (i) => v[Number(i)]),
  },
];
// Reshape needs its target shape as an initializer.
const reshape = cases.find((c) => c.name === 'Reshape') as OpCase;
reshape.initializers = [(() => {
  const t = floatTensor('shape', [3], [0, 0, 0]);
  t.dataType = 7;
  t.rawData = new Uint8Array(BigInt64Array.from([2n, 9n, 4n]).buffer);
  return t;
})()];

describe('vector-Jacobian products satisfy the adjoint identity <Jv, u> = <v, J^T u>', () => {
  cases.forEach((c, k) => {
    it(c.name, async () => {
      await checkAdjoint(c, 100 + 10 * k);
    });
  });
});

describe("Conv's input gradient", () => {
  const convs = cases.filter((c) => c.node.opType === 'Conv');
  const strideOne = (c: OpCase) => (c.node.attribute.find((a) => a.name === 'strides')?.ints ?? []).every((s) => Number(s) === 1);
  const reach = (c: OpCase) => {
    // pads within d*(k-1) on every side (auto_pad SAME never exceeds it)
    const pads = (c.node.attribute.find((a) => a.name === 'pads')?.ints ?? []).map(Number);
    const dil = (c.node.attribute.find((a) => a.name === 'dilations')?.ints ?? [1, 1]).map(Number);
    const k = c.initializers?.[0].dims?.slice(2).map(Number) ?? [];
    return pads.every((p, i) => p <= dil[i % 2] * (k[i % 2] - 1));
  };

  it('is ConvTranspose with output_padding for every case, stride 1 included (convGradient: convtranspose)', async () => {
    for (const [k, c] of convs.entries()) {
      const ops = await checkAdjoint(c, 500 + 10 * k, 'convtranspose');
      assert.ok(ops.includes('ConvTranspose') && !ops.includes('Conv'), `${c.name}: ${ops.join(', ')}`);
    }
  });

  it('is a Conv with the flipped, transposed kernel at stride 1 and ConvTranspose when strided (default)', async () => {
    const seen = { conv: 0, transpose: 0 };
    for (const [k, c] of convs.entries()) {
      const ops = await checkAdjoint(c, 700 + 10 * k);
      const flipped = strideOne(c) && reach(c);
      assert.ok(flipped ? ops.includes('Conv') && !ops.includes('ConvTranspose') : ops.includes('ConvTranspose') && !ops.includes('Conv'), `${c.name}: ${ops.join(', ')}`);
      seen[flipped ? 'conv' : 'transpose']++;
    }
    assert.ok(seen.conv >= 5 && seen.transpose >= 6, JSON.stringify(seen));
  });
});
