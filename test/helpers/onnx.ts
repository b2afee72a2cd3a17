/** Small ONNX models built in tests (one operator, or a toy network) with the app's own helpers. */
import type { onnx as OnnxNs } from '../../src/core/explain/onnx';
import { encodeModel, floatTensor, floatValueInfo, makeNode, onnx } from '../../src/core/explain/onnx';

export interface TinyGraph {
  nodes: OnnxNs.NodeProto[];
  inputs: { name: string; shape: (number | string)[] }[];
  /** Float outputs by name, or { name, int64: true } for an int64 one. */
  outputs: (string | { name: string; int64: true })[];
  initializers?: OnnxNs.TensorProto[];
  opset?: number;
}

export function tinyModel(g: TinyGraph): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: g.opset ?? 17 }],
    producerName: 'resight-test',
    graph: {
      name: 'test',
      node: g.nodes,
      input: g.inputs.map((i) => floatValueInfo(i.name, i.shape)),
      output: g.outputs.map((o) =>
        typeof o === 'string' ? floatValueInfo(o) : onnx.ValueInfoProto.create({ name: o.name, type: { tensorType: { elemType: onnx.TensorProto.DataType.INT64 } } }),
      ),
      initializer: g.initializers ?? [],
    },
  });
  return encodeModel(model);
}

/** Seeded uniform values in [-1, 1). */
export function randomValues(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) / 2 ** 32) * 2 - 1;
  });
}

export { floatTensor, makeNode };
