/**
 * Models that are unusual or wrong, each made from the BasicBlock fixture with onnx-proto:
 * a fixed batch size N > 1 is scored and explained exactly like the dynamic-batch model;
 * non-finite outputs are typed errors, never "no finding"; an output that is already a
 * probability, a CAM layer that is not NCHW or not in the graph, a second graph input, a
 * non-float32 input and a file that is not ONNX are refused at load naming the file; a FIFO or
 * an oversized file is refused before it is read; ORT's warnings stay off stderr.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { scanPaths } from '../../../../src/core/dicom/scan';
import type { AssembledSeries } from '../../../../src/core/dicom/series';
import { ResightError } from '../../../../src/core/errors';
import type { CamMethod } from '../../../../src/core/explain/cam';
import { Explainer } from '../../../../src/core/explain/explainer';
import { decodeModel, encodeModel, makeNode, onnx } from '../../../../src/core/explain/onnx';
import { VolumeCache } from '../../../../src/core/imaging/volume';
import { loadModelCard, MAX_CARD_BYTES, MAX_ONNX_BYTES } from '../../../../src/core/inference/card';
import { ResultCache } from '../../../../src/core/inference/cache';
import { InferenceEngine } from '../../../../src/core/inference/engine';
import { loadModel } from '../../../../src/core/inference/model';
import { REPO_ROOT } from '../../../helpers/corpus';
import { relL2 } from '../../../helpers/compare';
import { FIXTURE_CARD, FIXTURE_ONNX, fixBatch, graphOf, scaleTensor, variant } from '../../../helpers/model-variant';
import { randomValues } from '../../../helpers/onnx';
import { tempDir } from '../../../helpers/tmp';

const DEMO = path.join(REPO_ROOT, 'resources', 'demo');

const rejectsWith = (code: string, pattern: RegExp) => (e: ResightError) => {
  assert.equal(e.code, code, e.message);
  assert.match(e.message, pattern);
  return true;
};

let demo: AssembledSeries;
const engine = new InferenceEngine({ volumes: new VolumeCache({ pool: null }) });
const explainer = new Explainer();
before(async () => {
  demo = (await scanPaths([DEMO])).studies[0].series[0];
});
after(async () => {
  await explainer.release();
  await engine.release();
});

describe('a model with a fixed batch size', () => {
  it('N = 4: analysis completes with the same scores, findings and centroids as the dynamic-batch model', async (t) => {
    const fixed = await engine.model(variant(tempDir(t, 'fb'), { graph: fixBatch(4) }), { force: 'cpu' });
    assert.equal(fixed.fixedBatch, 4);
    const dynamic = await engine.model(FIXTURE_CARD, { force: 'cpu' });
    const a = (await engine.analyze(fixed, [demo])).series[0];
    const b = (await engine.analyze(dynamic, [demo])).series[0];
    assert.ok(b.findings.length > 0, 'the fixture model has findings on the demo study');
    a.slices.forEach((s, i) => Object.entries(s.probabilities ?? {}).forEach(([c, p]) => assert.ok(Math.abs(p - (b.slices[i].probabilities?.[c] ?? NaN)) <= 1e-5)));
    assert.deepEqual(a.findings.map((f) => [f.id, f.centroid, f.centroidSource]), b.findings.map((f) => [f.id, f.centroid, f.centroidSource]));
    assert.ok(a.findings.every((f) => f.centroid !== null));
  });

  it('N = 4: every CAM method gives the dynamic-batch model\'s map (row 0 is the slice, its gradient exact)', async (t) => {
    const fixed = await engine.model(variant(tempDir(t, 'fb'), { graph: fixBatch(4) }), { force: 'cpu' });
    const dynamic = await engine.model(FIXTURE_CARD, { force: 'cpu' });
    const x = randomValues(3 * 96 * 96, 7);
    for (const method of ['gradcam', 'cam', 'gradcampp', 'hirescam', 'layercam', 'scorecam'] as CamMethod[]) {
      for (const layer of ['layer3', 'layer4']) {
        for (const cls of [0, 1]) {
          const got = await explainer.explainInput(fixed, x, { method, layer, class: cls });
          const want = await explainer.explainInput(dynamic, x, { method, layer, class: cls });
          assert.deepEqual(got.camShape, want.camShape);
          assert.deepEqual(got.inputShape, [1, 3, 96, 96]);
          assert.equal(got.cam.signed.length, want.cam.signed.length);
          assert.ok(want.cam.signed.some((v) => v !== 0));
          assert.ok(relL2(got.cam.signed, want.cam.signed) <= 1e-5, `${method} ${layer} class ${cls}: rel L2 ${relL2(got.cam.signed, want.cam.signed)}`);
          got.logits.forEach((l, i) => assert.ok(Math.abs(l - want.logits[i]) <= 1e-5));
          assert.equal(got.logits.length, 2);
        }
      }
    }
    const top = await explainer.explainInput(fixed, x);
    assert.equal(top.classIndex, (await explainer.explainInput(dynamic, x)).classIndex);
  });
});

describe('non-finite model output', () => {
  it('analysis: every slice is not scored, with INFERENCE_FAILED, and there is no finding drawn from NaN', async (t) => {
    const m = await engine.model(variant(tempDir(t, 'nan'), { graph: scaleTensor('layer4', NaN) }), { force: 'cpu' });
    const r = await engine.analyze(m, [demo]);
    const s = r.series[0];
    assert.equal(s.slices.length, 45);
    for (const sl of s.slices) {
      assert.equal(sl.probabilities, null);
      assert.equal(sl.error?.code, 'INFERENCE_FAILED');
      assert.match(sl.error?.message ?? '', /not finite/);
    }
    assert.deepEqual(s.findings, []);
    assert.equal(r.timing.slicesScored, 0);
  });

  it('an infinite logit is not a probability of 1', async (t) => {
    const m = await engine.model(variant(tempDir(t, 'inf'), { graph: scaleTensor('logits', Infinity) }), { force: 'cpu' });
    const s = (await engine.analyze(m, [demo], { localize: false })).series[0];
    assert.ok(s.slices.every((sl) => sl.probabilities === null && sl.error?.code === 'INFERENCE_FAILED'));
  });

  it('a map that is not finite on a finding\'s key slice leaves that finding unlocated, with the reason, and the analysis stands', async (t) => {
    // every slice over threshold, so each class has a finding to locate
    const m = await engine.model(variant(tempDir(t, 'loc'), { card: (c) => ((c as unknown as { outputs: { thresholds: Record<string, number> } }).outputs.thresholds = { lung_nodule: 0, liver_lesion: 0 }) }), { force: 'cpu' });
    // A finite score whose gradient overflows (float16 weights on a GPU provider do this) is
    // what explain refuses with INFERENCE_FAILED: stand that refusal in for the key slice's map.
    const real = engine.explainer.explainInput.bind(engine.explainer);
    t.after(() => (engine.explainer.explainInput = real));
    engine.explainer.explainInput = async () => {
      throw new ResightError('INFERENCE_FAILED', "the model's class-activation map at 'layer4' is not finite (NaN): nothing to explain");
    };
    const cache = new ResultCache(tempDir(t, 'cache'));
    const s = (await engine.analyze(m, [demo], { cache })).series[0];
    assert.ok(s.findings.length >= 2, 'findings for both classes');
    assert.equal((await engine.analyze(m, [demo], { cache })).series[0].cached, false, 'an analysis with unlocated findings is not cached: the next run tries again');
    assert.ok(s.slices.every((sl) => sl.probabilities !== null), 'every slice scored');
    for (const f of s.findings) {
      assert.equal(f.centroid, null);
      assert.equal(f.centroidError?.code, 'INFERENCE_FAILED');
      assert.match(f.centroidError?.message ?? '', /not finite/);
    }
    // anything else is still a failure of the analysis, not a finding without a place
    engine.explainer.explainInput = async () => {
      throw new ResightError('INTERNAL', 'a bug');
    };
    await assert.rejects(engine.analyze(m, [demo]), rejectsWith('INTERNAL', /a bug/));
  });

  it('explain: INFERENCE_FAILED, not class -1 with an empty map', async (t) => {
    const m = await engine.model(variant(tempDir(t, 'nan'), { graph: scaleTensor('logits', NaN) }), { force: 'cpu' });
    const x = randomValues(3 * 96 * 96, 3);
    for (const opts of [{}, { class: 'lung_nodule' }, { method: 'scorecam' as const }]) {
      await assert.rejects(explainer.explainInput(m, x, opts), rejectsWith('INFERENCE_FAILED', /'logits' is not finite/));
    }
  });
});

describe('refused at load', () => {
  it('an output tensor that is already a probability (Sigmoid or Softmax): export the logits', async (t) => {
    const probsOnly = variant(tempDir(t, 'probs'), {
      graph: (m) => (graphOf(m).output = graphOf(m).output.filter((o) => o.name !== 'logits')),
      card: (c) => {
        c.outputs.tensor = 'probabilities';
        delete c.outputs.probabilities;
      },
    });
    await assert.rejects(loadModel(probsOnly, { force: 'cpu' }), rejectsWith('MODEL_INVALID', /'probabilities' is produced by a Sigmoid node.*export the logits.*'logits'/));
    const softmax = variant(tempDir(t, 'softmax'), {
      graph: (m) => {
        const n = graphOf(m).node.find((x) => x.opType === 'Sigmoid') as onnx.NodeProto;
        n.opType = 'Softmax';
        // behind an Identity, as some exporters leave it
        n.output = ['probabilities_pre'];
        graphOf(m).node.push(makeNode('Identity', ['probabilities_pre'], ['probabilities'], 'id'));
      },
      card: (c) => (c.outputs.tensor = 'probabilities'),
    });
    await assert.rejects(loadModel(softmax, { force: 'cpu' }), rejectsWith('MODEL_INVALID', /produced by a Softmax node/));
  });

  it('a probabilities output whose node is not the card\'s activation (a softmax card on a sigmoid graph)', async (t) => {
    const softmaxCard = variant(tempDir(t, 'softmax-card'), { card: (c) => ((c.outputs as { activation?: string }).activation = 'softmax') });
    await assert.rejects(loadModel(softmaxCard, { force: 'cpu' }), rejectsWith('MODEL_INVALID', /outputs\.probabilities 'probabilities' is produced by a Sigmoid node, but the card's activation is softmax/));
    // the card as exported loads (its probabilities are a Sigmoid, its activation sigmoid)
    await loadModel(variant(tempDir(t, 'as-is'), {}), { force: 'cpu' });
  });

  it('a graph whose output loops through Identity nodes is refused, not looped through for ever', { timeout: 20_000 }, async (t) => {
    const looped = variant(tempDir(t, 'loop'), {
      graph: (m) => {
        const g = graphOf(m);
        // logits <- Identity(loop) and loop <- Identity(logits): the producer walk would never end
        const gemm = g.node.find((x) => (x.output ?? []).includes('logits')) as onnx.NodeProto;
        gemm.output = ['gemm_out'];
        g.node.push(makeNode('Identity', ['loop'], ['logits'], 'loop_a'), makeNode('Identity', ['logits'], ['loop'], 'loop_b'));
      },
    });
    await assert.rejects(loadModel(looped, { force: 'cpu' }), rejectsWith('MODEL_INVALID', /./));
  });

  it('a CAM layer that is not NCHW or not in the graph; a card without cam.defaultLayer', async (t) => {
    const rank2 = variant(tempDir(t, 'rank'), { card: (c) => (c.cam.layers = ['logits', 'layer4']) });
    await assert.rejects(loadModel(rank2, { force: 'cpu' }), rejectsWith('MODEL_INVALID', /cam layer 'logits' has rank 2/));
    const missing = variant(tempDir(t, 'rank'), { card: (c) => (c.cam.layers = ['layer4', 'nosuch']) });
    await assert.rejects(loadModel(missing, { force: 'cpu' }), rejectsWith('MODEL_INVALID', /'nosuch', which is not a tensor of the graph/));
    const noDefault = variant(tempDir(t, 'rank'), { card: (c) => delete c.cam.defaultLayer });
    await assert.rejects(loadModel(noDefault, { force: 'cpu' }), rejectsWith('MODEL_INVALID', /cam\.defaultLayer/));
  });

  it('explain refuses a layer that is not NCHW (when the load check could not see it) instead of an empty map', async () => {
    const m = await loadModel(FIXTURE_CARD, { force: 'cpu' });
    const local = new Explainer();
    try {
      m.card.cam.layers.push('logits', '/net/Flatten_output_0');
      const x = randomValues(3 * 96 * 96, 5);
      for (const layer of ['logits', '/net/Flatten_output_0']) {
        for (const method of ['gradcam', 'layercam', 'scorecam'] as CamMethod[]) {
          await assert.rejects(local.explainInput(m, x, { layer, method }), rejectsWith('EXPLAIN_UNSUPPORTED', new RegExp(`layer '${layer}' has shape \\[1, (2|64)\\].*rank-4`)));
        }
      }
    } finally {
      await local.release();
      await m.session.release();
    }
  });

  it('a second graph input, a non-float32 input, a file that is not ONNX: MODEL_INVALID naming the file', async (t) => {
    const two = variant(tempDir(t, 'in'), { graph: (m) => graphOf(m).input.push(onnx.ValueInfoProto.create({ name: 'extra', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 1 }] } } } })) });
    await assert.rejects(loadModel(two, { force: 'cpu' }), (e: ResightError) => rejectsWith('MODEL_INVALID', /2 inputs \(input, extra\)/)(e) && /m\.onnx$/.test(e.path ?? ''));
    const double = variant(tempDir(t, 'in'), {
      graph: (m) => {
        const g = graphOf(m);
        (g.input[0].type as onnx.TypeProto).tensorType = onnx.TypeProto.Tensor.create({ ...g.input[0].type?.tensorType, elemType: onnx.TensorProto.DataType.DOUBLE });
        for (const n of g.node as onnx.NodeProto[]) n.input = n.input.map((i) => (i === 'input' ? 'input_f' : i));
        g.node.unshift(makeNode('Cast', ['input'], ['input_f'], 'cast', { to: onnx.TensorProto.DataType.FLOAT }));
      },
    });
    await assert.rejects(loadModel(double, { force: 'cpu' }), rejectsWith('MODEL_INVALID', /input 'input' is double; ReSight feeds float32/));
    for (const bytes of [Buffer.from('hello, I am not a model\n'), Buffer.from([0x08, 0x07])]) {
      const text = variant(tempDir(t, 'in'), { bytes });
      await assert.rejects(loadModel(text, { force: 'cpu' }), (e: ResightError) => rejectsWith('MODEL_INVALID', /: m\.onnx is not an ONNX model/)(e) && /m\.onnx$/.test(e.path ?? ''));
    }
  });

  it('a model or card file over the size cap is refused from its size, before it is read', (t) => {
    const dir = tempDir(t, 'big');
    const card = variant(dir, {});
    // sparse files: nothing is written, and nothing may be read
    fs.truncateSync(path.join(dir, 'm.onnx'), MAX_ONNX_BYTES + 1);
    const t0 = performance.now();
    assert.throws(() => loadModelCard(card), rejectsWith('MODEL_INVALID', /model file m\.onnx is 1073741825 bytes, over the limit of 1 GiB/));
    assert.ok(performance.now() - t0 < 500, 'refused without reading the file');
    fs.appendFileSync(card, ' '.repeat(MAX_CARD_BYTES));
    assert.throws(() => loadModelCard(card), rejectsWith('MODEL_INVALID', /model card is 10\d{5} bytes, over the limit of 1 MiB/));
  });
});

/** Run a TypeScript snippet in a child Node (through tsx); returns its exit status and output. */
function runChild(dir: string, code: string, env: Record<string, string> = {}, timeout = 30_000) {
  const script = path.join(dir, 'child.ts');
  fs.writeFileSync(script, code);
  return spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: REPO_ROOT, encoding: 'utf8', timeout, env: { ...process.env, ...env } });
}

const src = (rel: string) => JSON.stringify(path.join(REPO_ROOT, 'src', rel));

describe('files and logs', () => {
  // A read of a FIFO blocks the thread until a writer comes, so the check runs in a child
  // process: without it this would hang the test run instead of failing.
  it('a FIFO as the card or the ONNX file is refused at once (MODEL_INVALID), never read', { skip: process.platform === 'win32' }, (t) => {
    const dir = tempDir(t, 'fifo');
    const card = variant(dir, {});
    fs.rmSync(path.join(dir, 'm.onnx'));
    spawnSync('mkfifo', [path.join(dir, 'm.onnx'), path.join(dir, 'fifo.card.json')]);
    const r = runChild(
      dir,
      `import { loadModelCard } from ${src('core/inference/card.ts')};
for (const c of [${JSON.stringify(card)}, ${JSON.stringify(path.join(dir, 'fifo.card.json'))}]) {
  try { loadModelCard(c); console.log('loaded'); } catch (e) { console.log(JSON.stringify({ code: (e as { code: string }).code, message: (e as Error).message })); }
}`,
      {},
      15_000,
    );
    assert.equal(r.signal, null, 'the child did not block on the FIFO');
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { code: string; message: string });
    assert.deepEqual(lines.map((l) => l.code), ['MODEL_INVALID', 'MODEL_INVALID']);
    assert.match(lines[0].message, /model file m\.onnx is not a regular file \(a named pipe\)/);
    assert.match(lines[1].message, /model card is not a regular file \(a named pipe\)/);
  });

  it("ORT's warnings stay off stderr unless RESIGHT_ORT_LOG asks for them", (t) => {
    const dir = tempDir(t, 'ortlog');
    // An output declared as a scalar while the graph makes it [N, 2]: ORT warns (MergeShapeInfo).
    const m = decodeModel(fs.readFileSync(FIXTURE_ONNX));
    const logits = graphOf(m).output.find((o) => o.name === 'logits') as onnx.ValueInfoProto;
    logits.type = onnx.TypeProto.create({ tensorType: { elemType: 1, shape: { dim: [] } } });
    fs.writeFileSync(path.join(dir, 'm.onnx'), encodeModel(m));
    const code = `import * as fs from 'node:fs';
import { createSession } from ${src('core/inference/providers.ts')};
createSession(fs.readFileSync(${JSON.stringify(path.join(dir, 'm.onnx'))}), { force: 'cpu', threads: 1 }).then((s) => s.session.release().then(() => console.log('ok')));`;
    const loud = runChild(dir, code, { RESIGHT_ORT_LOG: 'warning' });
    assert.match(loud.stderr, /MergeShapeInfo/, 'the model does make ORT warn (the test can see it)');
    const quiet = runChild(dir, code, { RESIGHT_ORT_LOG: '' });
    assert.equal(quiet.stdout.trim(), 'ok', quiet.stderr);
    assert.equal(quiet.stderr, '');
  });
});
