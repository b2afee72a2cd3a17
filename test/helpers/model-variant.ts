/**
 * Odd variants of the tiny fixture model, for tests of what the engine does with models that are
 * not what their card says: the graph edited (a fixed batch, a tensor scaled, ...), the card edited.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Model } from '../../src/core/explain/onnx';
import { decodeModel, encodeModel, floatTensor, makeNode, onnx } from '../../src/core/explain/onnx';
import { REPO_ROOT } from './corpus';

export const FIXTURE_CARD = path.join(REPO_ROOT, 'test', 'fixtures', 'models', 'resnet-basic-tiny.card.json');
export const FIXTURE_ONNX = path.join(REPO_ROOT, 'test', 'fixtures', 'models', 'resnet-basic-tiny.onnx');

export interface CardJson {
  onnx: { file: string; sha256: string };
  input: { tensor: string };
  outputs: { tensor: string; probabilities?: string; classes: string[] };
  cam: { defaultLayer?: string; layers: string[] };
}

/** The fixture with its graph edited by `graph` (or replaced by `bytes`) and its card by `card`, in `dir`. */
export function variant(dir: string, edit: { graph?: (m: Model) => void; bytes?: Uint8Array; card?: (c: CardJson) => void }): string {
  let bytes: Uint8Array = edit.bytes ?? fs.readFileSync(FIXTURE_ONNX);
  if (edit.graph) {
    const m = decodeModel(bytes);
    edit.graph(m);
    bytes = encodeModel(m);
  }
  fs.writeFileSync(path.join(dir, 'm.onnx'), bytes);
  const card = JSON.parse(fs.readFileSync(FIXTURE_CARD, 'utf8')) as CardJson;
  card.onnx = { file: 'm.onnx', sha256: createHash('sha256').update(bytes).digest('hex') };
  edit.card?.(card);
  const out = path.join(dir, 'card.json');
  fs.writeFileSync(out, JSON.stringify(card));
  return out;
}

export const graphOf = (m: Model) => m.graph as onnx.GraphProto;
export const dims = (v: onnx.IValueInfoProto) => v.type?.tensorType?.shape?.dim ?? [];

/** Batch dimension fixed at n on the input and outputs (value_info dropped, as an exporter would leave it consistent). */
export const fixBatch = (n: number) => (m: Model) => {
  const g = graphOf(m);
  g.valueInfo = [];
  for (const v of [...g.input, ...g.output]) dims(v)[0] = onnx.TensorShapeProto.Dimension.create({ dimValue: n });
};

/** `tensor` multiplied by `factor`: its producer now writes `<tensor>_pre`, and every consumer reads the product. */
export const scaleTensor = (tensor: string, factor: number) => (m: Model) => {
  const g = graphOf(m);
  for (const n of g.node as onnx.NodeProto[]) n.output = n.output.map((o) => (o === tensor ? `${tensor}_pre` : o));
  g.initializer.push(floatTensor('resight_test_factor', [1], [factor]));
  const at = (g.node as onnx.NodeProto[]).findIndex((n) => n.output.includes(`${tensor}_pre`));
  g.node.splice(at + 1, 0, makeNode('Mul', [`${tensor}_pre`, 'resight_test_factor'], [tensor], 'resight_test_scale'));
};
