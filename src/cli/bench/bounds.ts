/**
 * Physical bounds for the benchmark report: what this machine could do at best. Memory
 * bandwidth (a large memcpy) bounds decoding uncompressed slices; the CPU's GEMM rate (ORT's own
 * MatMul on 1024x1024 float32) bounds a network's forward pass, given its FLOPs per slice
 * (counted from the ONNX graph and its shapes: 2 x multiply-adds of Conv and Gemm/MatMul).
 */
import * as ort from '../../core/inference/ort';
import { decodeModel, floatValueInfo, makeNode, onnx, encodeModel, attrInt } from '../../core/explain/onnx';
import { inferShapes, windowParams } from '../../core/explain/shapes';
import { median } from './common';

/** GB/s of a 256 MiB Buffer.copy (median of 5, after one warm-up). */
export function memcpyGBps(): number {
  const n = 256 * 2 ** 20;
  const a = Buffer.alloc(n, 1);
  const b = Buffer.alloc(n);
  a.copy(b);
  const t: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    a.copy(b);
    t.push(performance.now() - t0);
  }
  return n / (median(t) / 1000) / 1e9;
}

/** GFLOP/s of ORT's CPU MatMul, 1024^3, at `threads` threads. */
export async function gemmGflops(threads: number): Promise<number> {
  const n = 1024;
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: { name: 'gemm', node: [makeNode('MatMul', ['a', 'b'], ['c'], 'mm')], input: [floatValueInfo('a', [n, n]), floatValueInfo('b', [n, n])], output: [floatValueInfo('c')] },
  });
  const s = await ort.InferenceSession.create(encodeModel(model), { executionProviders: ['cpu'], intraOpNumThreads: threads });
  const a = new ort.Tensor('float32', new Float32Array(n * n).fill(0.5), [n, n]);
  const b = new ort.Tensor('float32', new Float32Array(n * n).fill(0.25), [n, n]);
  await s.run({ a, b });
  const t: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    await s.run({ a, b });
    t.push(performance.now() - t0);
  }
  await s.release();
  return (2 * n ** 3) / (median(t) / 1000) / 1e9;
}

/** FLOPs (2 x multiply-adds of Conv, Gemm and MatMul) of one forward pass at batch 1. */
export function modelFlops(bytes: Uint8Array, inputName: string, inputShape: number[]): number {
  const model = decodeModel(bytes);
  const shapes = inferShapes(model, inputName, inputShape);
  let macs = 0;
  for (const node of model.graph?.node ?? []) {
    const out = shapes.get(node.output?.[0] ?? '');
    const x = shapes.get(node.input?.[0] ?? '');
    const w = shapes.get(node.input?.[1] ?? '');
    if (!out || !x || !w) continue;
    if (node.opType === 'Conv') {
      const p = windowParams(node, x, w);
      const group = attrInt(node, 'group', 1);
      macs += out.reduce((a, d) => a * d, 1) * (x[1] / group) * p.kernel.reduce((a, k) => a * k, 1);
    } else if (node.opType === 'Gemm' || node.opType === 'MatMul') {
      const k = node.opType === 'Gemm' && attrInt(node, 'transA', 0) ? x[0] : x[x.length - 1];
      macs += out.reduce((a, d) => a * d, 1) * k;
    }
  }
  return 2 * macs;
}
