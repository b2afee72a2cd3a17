/**
 * The shipped ONNX models run in onnxruntime-node and agree with PyTorch: for every model with
 * golden vectors (test/fixtures/golden/<model>, written by training/golden.py from autograd
 * PyTorch), logits and probabilities match within 1e-4. Model cards are checked against their
 * files: a card whose sha256 does not match refuses the model.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { loadModelCard } from '../../../../src/core/inference/card';
import { ResightError } from '../../../../src/core/errors';
import { REPO_ROOT } from '../../../helpers/corpus';

const GOLDEN = path.join(REPO_ROOT, 'test', 'fixtures', 'golden');
const DEFAULT_CARD = path.join(REPO_ROOT, 'resources', 'models', 'resight-ct-lesion.card.json');

interface GoldenTensor {
  file: string;
  shape: number[];
}
interface GoldenMeta {
  model: string;
  card: string;
  tolerance: { logits: number; probabilities: number };
  inputs: { id: string; input: GoldenTensor; logits: GoldenTensor; probabilities: GoldenTensor }[];
}

function readF32(file: string): Float32Array {
  const b = fs.readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

const goldenModels = fs
  .readdirSync(GOLDEN)
  .filter((d) => fs.existsSync(path.join(GOLDEN, d, 'meta.json')))
  .map((d) => ({ dir: path.join(GOLDEN, d), meta: JSON.parse(fs.readFileSync(path.join(GOLDEN, d, 'meta.json'), 'utf8')) as GoldenMeta }))
  .filter((g) => Array.isArray(g.meta.inputs) && g.meta.card);

describe('model cards', () => {
  const cards = [
    ...fs.readdirSync(path.join(REPO_ROOT, 'test', 'fixtures', 'models')).map((f) => path.join(REPO_ROOT, 'test', 'fixtures', 'models', f)),
    ...fs.readdirSync(path.join(REPO_ROOT, 'resources', 'models')).map((f) => path.join(REPO_ROOT, 'resources', 'models', f)),
  ].filter((f) => f.endsWith('.card.json'));

  it('the default model ships with its card', () => {
    assert.ok(fs.existsSync(DEFAULT_CARD), `${path.relative(REPO_ROOT, DEFAULT_CARD)} is missing`);
    assert.ok(cards.includes(DEFAULT_CARD));
  });

  for (const cardPath of cards) {
    it(`${path.relative(REPO_ROOT, cardPath)}: valid, and its sha256 matches the ONNX file`, () => {
      const { card, onnxBytes } = loadModelCard(cardPath);
      assert.ok(onnxBytes.length > 1000);
      assert.equal(card.cam.layers.includes(card.cam.defaultLayer), true);
      assert.equal(card.input.channels.length, card.input.shape[1]);
    });
  }

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'resight-card-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('refuses a model whose bytes do not match the card (MODEL_HASH_MISMATCH, naming the file)', () => {
    const src = path.join(REPO_ROOT, 'test', 'fixtures', 'models', 'resnet-basic-tiny.card.json');
    const card = JSON.parse(fs.readFileSync(src, 'utf8'));
    const onnx = fs.readFileSync(path.join(path.dirname(src), card.onnx.file));
    onnx[onnx.length - 10] ^= 0xff;
    fs.writeFileSync(path.join(tmp, card.onnx.file), onnx);
    fs.writeFileSync(path.join(tmp, 'tampered.card.json'), JSON.stringify(card));
    assert.throws(
      () => loadModelCard(path.join(tmp, 'tampered.card.json')),
      (e: unknown) => e instanceof ResightError && e.code === 'MODEL_HASH_MISMATCH' && e.message.includes(card.onnx.file),
    );
  });

  it('refuses an invalid card with the reasons (MODEL_INVALID)', () => {
    const src = path.join(REPO_ROOT, 'test', 'fixtures', 'models', 'resnet-basic-tiny.card.json');
    const card = JSON.parse(fs.readFileSync(src, 'utf8'));
    delete card.outputs.thresholds.liver_lesion;
    card.cam.defaultLayer = 'layer9';
    fs.writeFileSync(path.join(tmp, 'bad.card.json'), JSON.stringify(card));
    assert.throws(
      () => loadModelCard(path.join(tmp, 'bad.card.json')),
      (e: unknown) => e instanceof ResightError && e.code === 'MODEL_INVALID' && /liver_lesion/.test(e.message) && /layer9/.test(e.message),
    );
  });
});

describe('ONNX (onnxruntime-node, CPU) vs PyTorch golden vectors', () => {
  it('golden vectors exist for the default model and both fixtures', () => {
    const names = goldenModels.map((g) => g.meta.model).sort();
    for (const n of ['resight-ct-lesion', 'resnet-basic-tiny', 'resnet-bottleneck-tiny']) assert.ok(names.includes(n), `golden vectors for ${n}`);
  });

  for (const { dir, meta } of goldenModels) {
    it(`${meta.model}: logits and probabilities within ${meta.tolerance.logits} of PyTorch on ${meta.inputs.length} inputs`, async () => {
      const { card, onnxBytes } = loadModelCard(path.join(REPO_ROOT, meta.card));
      const session = await ort.InferenceSession.create(onnxBytes, { executionProviders: ['cpu'], intraOpNumThreads: 1 });
      try {
        assert.ok(session.inputNames.includes(card.input.tensor));
        assert.ok(session.outputNames.includes(card.outputs.tensor));
        for (const g of meta.inputs) {
          const input = new ort.Tensor('float32', readF32(path.join(dir, g.input.file)), g.input.shape);
          const out = await session.run({ [card.input.tensor]: input });
          const logits = out[card.outputs.tensor].data as Float32Array;
          const want = readF32(path.join(dir, g.logits.file));
          assert.equal(logits.length, want.length);
          const dl = Math.max(...Array.from(logits, (v, i) => Math.abs(v - want[i])));
          assert.ok(dl <= meta.tolerance.logits, `${g.id}: max |logit diff| ${dl}`);
          if (card.outputs.probabilities) {
            const probs = out[card.outputs.probabilities].data as Float32Array;
            const wantP = readF32(path.join(dir, g.probabilities.file));
            const dp = Math.max(...Array.from(probs, (v, i) => Math.abs(v - wantP[i])));
            assert.ok(dp <= meta.tolerance.probabilities, `${g.id}: max |probability diff| ${dp}`);
          }
        }
      } finally {
        await session.release();
      }
    });
  }
});
