/**
 * The explain engine against PyTorch autograd: Grad-CAM maps from the ONNX gradient graph match
 * the golden vectors training/golden.py wrote (default model and both fixture models,
 * BasicBlock and Bottleneck, layer3 and layer4, every class) with Pearson r >= 0.9999 and
 * relative L2 error <= 1e-4. The plain CAM at the last block satisfies mean(map) + bias = logit.
 * A synthetic lesion at a known position in a non-square, padded, resampled slice puts the
 * heatmap where it is. Unknown operators are named; Score-CAM still works without gradients.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import type { ResightError } from '../../../../src/core/errors';
import * as ort from 'onnxruntime-node';
import type { CamMethod } from '../../../../src/core/explain/cam';
import { gradientCam } from '../../../../src/core/explain/cam';
import { buildGradientGraph, SEED_INPUT } from '../../../../src/core/explain/gradient';
import { Explainer } from '../../../../src/core/explain/explainer';
import { argmax, hotSpot, layerToSlice } from '../../../../src/core/explain/geometry';
import { decodeModel, floatsOf, type Model, type onnx } from '../../../../src/core/explain/onnx';
import { graphOf, variant } from '../../../helpers/model-variant';
import { InferenceEngine } from '../../../../src/core/inference/engine';
import { REPO_ROOT } from '../../../helpers/corpus';
import { defaultLayerGrid } from '../../../helpers/model';
import { floatTensor, makeNode, tinyModel } from '../../../helpers/onnx';
import { tempDir } from '../../../helpers/tmp';
import { pearson, relL2 } from '../../../helpers/compare';

const GOLDEN = path.join(REPO_ROOT, 'test', 'fixtures', 'golden');
const engine = new InferenceEngine();
const explainer = new Explainer();
after(async () => {
  await explainer.release();
  await engine.release();
});

const readF32 = (f: string) => {
  const b = fs.readFileSync(f);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

interface GoldenMeta {
  card: string;
  classes: string[];
  camLayers: string[];
  inputs: { id: string; input: { file: string; shape: number[] }; logits: { values: number[] }; cams: { layer: string; class: string; classIndex: number; file: string; shape: [number, number] }[] }[];
}

const models = fs.readdirSync(GOLDEN).filter((d) => fs.existsSync(path.join(GOLDEN, d, 'meta.json')) && (JSON.parse(fs.readFileSync(path.join(GOLDEN, d, 'meta.json'), 'utf8')) as { inputs?: unknown }).inputs);

describe('Grad-CAM from the ONNX gradient graph vs PyTorch autograd', () => {
  assert.ok(models.length >= 3, `golden models found: ${models.join(', ')}`);
  for (const name of models) {
    it(`${name}: every input, layer and class (r >= 0.9999, relative L2 <= 1e-4)`, async () => {
      const dir = path.join(GOLDEN, name);
      const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8')) as GoldenMeta;
      const model = await engine.model(path.join(REPO_ROOT, meta.card), { force: 'cpu' });
      let checked = 0;
      for (const inp of meta.inputs) {
        const x = readF32(path.join(dir, inp.input.file));
        for (const cam of inp.cams) {
          const e = await explainer.explainInput(model, x, { layer: cam.layer, class: cam.class, method: 'gradcam' });
          const want = readF32(path.join(dir, cam.file));
          assert.deepEqual(e.camShape, cam.shape);
          assert.equal(e.classIndex, cam.classIndex);
          const r = pearson(e.cam.map, want);
          const err = relL2(e.cam.map, want);
          assert.ok(r >= 0.9999 && err <= 1e-4, `${inp.id} ${cam.layer} ${cam.class}: r ${r}, rel L2 ${err}`);
          e.logits.forEach((l, i) => assert.ok(Math.abs(l - inp.logits.values[i]) <= 1e-4));
          checked++;
        }
      }
      assert.ok(checked >= meta.classes.length * meta.camLayers.length, `${checked} maps checked`);
    });
  }
});

describe('CAM methods on the default model', () => {
  const dir = path.join(GOLDEN, 'resight-ct-lesion');
  const x = readF32(path.join(dir, 'input_0.f32'));
  const card = path.join(REPO_ROOT, 'resources', 'models', 'resight-ct-lesion.card.json');

  it('plain CAM at the last block: spatial mean of the map plus the class bias equals the logit', async () => {
    const model = await engine.model(card, { force: 'cpu' });
    const onnx = decodeModel(model.onnxBytes);
    const gemm = onnx.graph?.node?.find((n) => n.opType === 'Gemm');
    const bias = floatsOf(onnx.graph?.initializer?.find((t) => t.name === gemm?.input?.[2]) as Parameters<typeof floatsOf>[0]);
    for (const cls of [0, 1]) {
      const e = await explainer.explainInput(model, x, { layer: 'layer4', class: cls, method: 'cam' });
      const mean = e.cam.signed.reduce((a, b) => a + b, 0) / e.cam.signed.length;
      assert.ok(Math.abs(mean + bias[cls] - e.logits[cls]) <= 1e-4 * Math.max(1, Math.abs(e.logits[cls])), `class ${cls}: ${mean} + ${bias[cls]} vs ${e.logits[cls]}`);
    }
  });

  it('every method gives a finite, non-negative map of the layer\'s size; HiResCAM equals Grad-CAM up to scale behind global pooling', async () => {
    const model = await engine.model(card, { force: 'cpu' });
    const maps: Partial<Record<CamMethod, Float32Array>> = {};
    for (const method of ['gradcam', 'gradcampp', 'hirescam', 'layercam', 'cam', 'scorecam'] as CamMethod[]) {
      const e = await explainer.explainInput(model, x, { layer: 'layer3', class: 'lung_nodule', method });
      assert.deepEqual(e.camShape, defaultLayerGrid('layer3'));
      assert.ok(e.cam.map.every((v) => Number.isFinite(v) && v >= 0), method);
      maps[method] = e.cam.map;
    }
    // At layer3 the gradient is not spatially constant, so HiResCAM differs from Grad-CAM there.
    assert.ok(relL2(maps.hirescam as Float32Array, maps.gradcam as Float32Array) > 1e-3);
    const e4 = await explainer.explainInput(model, x, { layer: 'layer4', class: 'lung_nodule', method: 'hirescam' });
    const g4 = await explainer.explainInput(model, x, { layer: 'layer4', class: 'lung_nodule', method: 'gradcam' });
    assert.ok(pearson(e4.cam.map, g4.cam.map) > 0.9999);
  });

  it('Score-CAM is cancellable', async () => {
    const model = await engine.model(card, { force: 'cpu' });
    const ctl = new AbortController();
    ctl.abort();
    await assert.rejects(explainer.explainInput(model, x, { method: 'scorecam', signal: ctl.signal }), (e: ResightError) => e.code === 'CANCELLED');
  });

  it("the graph's own Grad-CAM output equals sum_k mean(dA_k) A_k computed from its A and dA outputs", async () => {
    const model = await engine.model(card, { force: 'cpu' });
    const [h, w] = model.spec.size;
    const dims = [1, model.spec.channels.length, h, w];
    for (const layer of ['layer3', 'layer4']) {
      const graph = buildGradientGraph(model.onnxBytes, { inputName: model.card.input.tensor, inputShape: dims, scoreTensor: model.card.outputs.tensor, layers: [layer] });
      const session = await ort.InferenceSession.create(graph.bytes, { executionProviders: ['cpu'] });
      try {
        for (const cls of [0, 1]) {
          const seed = new Float32Array(2);
          seed[cls] = 1;
          const out = await session.run({ [model.card.input.tensor]: new ort.Tensor('float32', x, dims), [SEED_INPUT]: new ort.Tensor('float32', seed, [1, 2]) });
          const [, channels, lh, lw] = out[layer].dims as number[];
          const fromTensors = gradientCam('gradcam', { a: out[layer].data as Float32Array, g: out[graph.gradients[layer]].data as Float32Array, channels, height: lh, width: lw });
          const inGraph = out[graph.gradcam[layer]].data as Float32Array;
          assert.equal(inGraph.length, lh * lw);
          assert.ok(fromTensors.signed.some((v) => v !== 0));
          assert.ok(relL2(inGraph, fromTensors.signed) <= 1e-5, `${layer} class ${cls}: rel L2 ${relL2(inGraph, fromTensors.signed)}`);
          // and the explainer's Grad-CAM is that map after the ReLU
          const e = await explainer.explainInput(model, x, { layer, class: cls });
          assert.ok(relL2(e.cam.map, fromTensors.map) <= 1e-5);
        }
      } finally {
        await session.release();
      }
    }
  });

  it('refuses a layer that is not in the card', async () => {
    const model = await engine.model(card, { force: 'cpu' });
    await assert.rejects(explainer.explainInput(model, x, { layer: 'fc' }), (e: ResightError) => e.code === 'USAGE' && e.message.includes('layer4'));
  });
});

/**
 * A toy model whose evidence is known: channel 0 of the input (the lung window, x = 2c - 1),
 * averaged over 2x2 blocks with stride 2 plus 1 (so feat = 2 * mean(c) >= 0, linear in the
 * window value), rectified, globally pooled into the one logit. Its Grad-CAM is that channel at
 * half resolution: bright where the slice is dense.
 */
function toyModel(dir: string, extraOp?: string): string {
  const [h, w] = [64, 48];
  const k = new Float32Array(1 * 3 * 2 * 2);
  k.fill(0.25, 0, 4);
  const nodes = [
    makeNode('Conv', ['input', 'k', 'one'], ['feat_pre'], 'conv', { strides: [2, 2], kernel_shape: [2, 2] }),
    makeNode('Relu', ['feat_pre'], ['feat'], 'relu'),
    makeNode(extraOp ?? 'Identity', ['feat'], ['feat2'], 'extra'),
    makeNode('GlobalAveragePool', ['feat2'], ['gap'], 'gap'),
    makeNode('Flatten', ['gap'], ['flat'], 'flat', { axis: 1 }),
    makeNode('Gemm', ['flat', 'W', 'bias'], ['logits'], 'fc', { transB: 1 }),
  ];
  const bytes = tinyModel({ nodes, inputs: [{ name: 'input', shape: ['N', 3, h, w] }], outputs: ['logits'], initializers: [floatTensor('k', [1, 3, 2, 2], k), floatTensor('one', [1], [1]), floatTensor('W', [1, 1], [1]), floatTensor('bias', [1], [0])] });
  fs.writeFileSync(path.join(dir, 'toy.onnx'), bytes);
  const base = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'resources', 'models', 'resight-ct-lesion.card.json'), 'utf8')) as Record<string, unknown> & { input: Record<string, unknown> };
  const card = {
    ...base,
    name: 'toy',
    onnx: { file: 'toy.onnx', sha256: createHash('sha256').update(bytes).digest('hex') },
    input: { ...base.input, shape: ['N', 3, h, w], resampling: { ...(base.input.resampling as object), size: [h, w] } },
    outputs: { tensor: 'logits', activation: 'sigmoid', classes: ['dense'], thresholds: { dense: 0.5 } },
    cam: { defaultLayer: 'feat', layers: ['feat'] },
  };
  const cardPath = path.join(dir, 'toy.card.json');
  fs.writeFileSync(cardPath, JSON.stringify(card));
  return cardPath;
}

describe('heatmap geometry', () => {
  it('a lesion at a known place in a non-square, padded, resampled slice: the heatmap is on it (within 2 px)', async (t) => {
    const model = await engine.model(toyModel(tempDir(t, 'toy')), { force: 'cpu' });
    const [rows, columns] = [300, 200];
    const [x0, y0] = [141.3, 87.6];
    const values = new Float32Array(rows * columns);
    for (let y = 0; y < rows; y++) {
      for (let x = 0; x < columns; x++) {
        const r2 = (x - x0) ** 2 + (y - y0) ** 2;
        // Air at the lung window's floor (-1350 HU), a dense Gaussian lesion inside the window
        // (up to +150 HU), and a padded border (PixelPaddingValue -2000).
        values[y * columns + x] = x < 12 || y > rows - 20 ? -2000 : -1350 + 1500 * Math.exp(-r2 / (2 * 20 ** 2));
      }
    }
    const e = await explainer.explainSlice(model, { values, rows, columns, paddingRange: [-2000, -2000] }, { class: 'dense' });
    assert.deepEqual(e.camShape, [32, 24]);
    const spot = hotSpot(e.cam);
    assert.ok(spot);
    const [sx, sy] = layerToSlice(spot[0], spot[1], e.cam, rows, columns);
    assert.ok(Math.hypot(sx - x0, sy - y0) <= 2, `hot spot at (${sx.toFixed(2)}, ${sy.toFixed(2)}), lesion at (${x0}, ${y0})`);
    const heat = Explainer.heatmap(e, rows, columns);
    assert.equal(heat.values.length, rows * columns);
    const peak = argmax(heat.values);
    const [px, py] = [peak % columns, Math.floor(peak / columns)];
    // The upsampled map peaks on a layer-pixel centre: within one layer pixel of the lesion.
    assert.ok(Math.abs(px - x0) <= columns / 24 && Math.abs(py - y0) <= rows / 32, `peak at (${px}, ${py})`);
    assert.equal(Math.max(...heat.values), 1);
  });

  it('a BatchNormalization whose scale and variance come through Identity aliases and a Constant node (PyTorch\'s export with BatchNorm kept) differentiates as one with initializers', async (t) => {
    // after the first Conv past layer3: BN with scale s, bias, mean, variance v per channel
    const withBn = (alias: boolean) => (m: Model) => {
      const g = graphOf(m);
      const nodes = g.node as onnx.NodeProto[];
      const conv = nodes.find((n) => n.opType === 'Conv' && n.input[0] === 'layer3') as onnx.NodeProto;
      const c = (g.initializer.find((x) => x.name === conv.input[1])?.dims ?? [])[0] as number;
      const out = conv.output[0] as string;
      conv.output = [`${out}_conv`];
      const s = Array.from({ length: c }, (_, i) => 0.5 + 0.05 * i);
      const v = Array.from({ length: c }, (_, i) => 0.2 + 0.1 * (i % 7));
      g.initializer.push(floatTensor('bn_bias', [c], Array.from({ length: c }, (_, i) => 0.01 * i)), floatTensor('bn_mean', [c], Array.from({ length: c }, (_, i) => -0.02 * i)));
      if (alias) {
        g.initializer.push(floatTensor('bn_shared', [c], s));
        nodes.unshift(makeNode('Identity', ['bn_shared'], ['bn_scale_alias'], 'alias1'), makeNode('Identity', ['bn_scale_alias'], ['bn_scale'], 'alias2'), makeNode('Constant', [], ['bn_var'], 'const_var', { value: floatTensor('', [c], v) }));
      } else g.initializer.push(floatTensor('bn_scale', [c], s), floatTensor('bn_var', [c], v));
      nodes.splice(nodes.indexOf(conv) + 1, 0, makeNode('BatchNormalization', [`${out}_conv`, 'bn_scale', 'bn_bias', 'bn_mean', 'bn_var'], [out], 'bn_added', { epsilon: 1e-5 }, ['epsilon']));
    };
    const input = readF32(path.join(GOLDEN, 'resnet-basic-tiny', 'input_0.f32'));
    const maps = [];
    for (const alias of [false, true]) {
      const model = await engine.model(variant(tempDir(t, `bn-${alias}`), { graph: withBn(alias) }), { force: 'cpu' });
      maps.push((await explainer.explainInput(model, input, { layer: 'layer3', method: 'gradcam' })).cam.map);
    }
    const [plain, aliased] = maps as [Float32Array, Float32Array];
    assert.ok(plain.some((x) => x > 0), 'a map to compare');
    assert.ok(relL2(aliased, plain) <= 1e-6, `the same map: relative L2 ${relL2(aliased, plain)}`);
  });

  it('an operator without a gradient rule is named; Score-CAM still works (forward only)', async (t) => {
    const model = await engine.model(toyModel(tempDir(t, 'toy'), 'Tanh'), { force: 'cpu' });
    const input = new Float32Array(3 * 64 * 48).fill(0.5);
    await assert.rejects(explainer.explainInput(model, input, { method: 'gradcam' }), (e: ResightError) => e.code === 'EXPLAIN_UNSUPPORTED' && e.message.includes('Tanh (extra)'));
    const e = await explainer.explainInput(model, input, { method: 'scorecam' });
    assert.deepEqual(e.camShape, [32, 24]);
  });
});
