/**
 * Reading and writing ONNX models with onnx-proto (the ONNX protobuf schema compiled for
 * protobufjs): decode, inspect attributes and initializers, and append nodes, initializers,
 * inputs and outputs. Only what the gradient-graph builder needs.
 */
import { onnx } from 'onnx-proto';
import { ResightError } from '../errors';

export { onnx };
export type Model = onnx.ModelProto;
export type Node = onnx.INodeProto;

type Int = number | { toNumber(): number };

export const toNum = (v: Int | null | undefined): number => (v === null || v === undefined ? 0 : typeof v === 'number' ? v : v.toNumber());

export function decodeModel(bytes: Uint8Array, where?: string): Model {
  try {
    return onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new ResightError('MODEL_INVALID', `not a readable ONNX model: ${(err as Error).message}`, where ? { path: where } : {});
  }
}

export function encodeModel(model: Model): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

export function opsetOf(model: Model): number {
  const def = model.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx');
  return toNum(def?.version);
}

export function attr(node: Node, name: string): onnx.IAttributeProto | undefined {
  return node.attribute?.find((a) => a.name === name);
}

export const attrInt = (node: Node, name: string, dflt: number): number => {
  const a = attr(node, name);
  return a ? toNum(a.i) : dflt;
};
export const attrFloat = (node: Node, name: string, dflt: number): number => {
  const a = attr(node, name);
  return a && typeof a.f === 'number' ? a.f : dflt;
};
export const attrInts = (node: Node, name: string): number[] | undefined => {
  const a = attr(node, name);
  return a?.ints ? a.ints.map(toNum) : undefined;
};
export const attrString = (node: Node, name: string, dflt: string): string => {
  const a = attr(node, name);
  return a?.s ? new TextDecoder().decode(a.s) : dflt;
};

/** Float values of an initializer (float32, raw or typed storage). */
export function floatsOf(t: onnx.ITensorProto): Float32Array {
  if (t.dataType !== onnx.TensorProto.DataType.FLOAT) throw new ResightError('MODEL_INVALID', `initializer ${t.name} is not float32`);
  if (t.rawData && t.rawData.length) {
    const copy = new Uint8Array(t.rawData); // aligned copy
    return new Float32Array(copy.buffer, 0, copy.byteLength / 4);
  }
  return Float32Array.from(t.floatData ?? []);
}

/** int64 values of an initializer (e.g. a Reshape shape or ReduceMean axes). */
export function intsOf(t: onnx.ITensorProto): number[] {
  if (t.rawData && t.rawData.length) {
    const copy = new Uint8Array(t.rawData);
    return Array.from(new BigInt64Array(copy.buffer, 0, copy.byteLength / 8), Number);
  }
  return (t.int64Data ?? []).map(toNum);
}

export function floatTensor(name: string, dims: number[], values: Float32Array | number[]): onnx.TensorProto {
  const data = values instanceof Float32Array ? values : Float32Array.from(values);
  return onnx.TensorProto.create({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) });
}

export function int64Tensor(name: string, dims: number[], values: number[]): onnx.TensorProto {
  const data = BigInt64Array.from(values.map((v) => BigInt(v)));
  return onnx.TensorProto.create({ name, dims, dataType: onnx.TensorProto.DataType.INT64, rawData: new Uint8Array(data.buffer) });
}

type AttrValue = number | number[] | string | onnx.TensorProto;

function makeAttr(name: string, v: AttrValue, floats: boolean): onnx.AttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string') return onnx.AttributeProto.create({ name, type: T.STRING, s: new TextEncoder().encode(v) });
  if (v instanceof onnx.TensorProto) return onnx.AttributeProto.create({ name, type: T.TENSOR, t: v });
  if (Array.isArray(v)) return onnx.AttributeProto.create({ name, type: T.INTS, ints: v });
  return floats ? onnx.AttributeProto.create({ name, type: T.FLOAT, f: v }) : onnx.AttributeProto.create({ name, type: T.INT, i: v });
}

/** A node; attribute names listed in `floatAttrs` are written as FLOAT, other numbers as INT. */
export function makeNode(opType: string, inputs: string[], outputs: string[], name: string, attrs: Record<string, AttrValue> = {}, floatAttrs: string[] = []): onnx.NodeProto {
  return onnx.NodeProto.create({
    opType,
    input: inputs,
    output: outputs,
    name,
    attribute: Object.entries(attrs).map(([k, v]) => makeAttr(k, v, floatAttrs.includes(k))),
  });
}

/** A graph input/output of float32 tensors (shape left symbolic unless given). */
export function floatValueInfo(name: string, dims?: (number | string)[]): onnx.ValueInfoProto {
  const shape = dims ? { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } : undefined;
  return onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, ...(shape ? { shape } : {}) } } });
}
