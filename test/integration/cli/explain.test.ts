/**
 * `resight explain` (ARCHITECTURE.md "CLI contract"): input.f32 is the exact model input,
 * cam.f32 the raw map at the layer's resolution, heatmap.f32 the 0..1 map at the slice's size,
 * and meta.json says how they were made. Usage errors exit 2; bad input exits 1 without a stack.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { loadFrame } from '../../../src/core/dicom/frame';
import { loadModelCard } from '../../../src/core/inference/card';
import { preprocessSlice } from '../../../src/core/inference/preprocess';
import { ensureCliBuilt, runCli, stackTraceLines } from '../../helpers/cli';
import { corpusPath, REPO_ROOT } from '../../helpers/corpus';
import { defaultLayerGrid } from '../../helpers/model';
import { listTree, tempDir } from '../../helpers/tmp';

const SLICE = path.join(REPO_ROOT, 'resources', 'demo', 'CT0033.dcm');
const readF32 = (f: string) => {
  const b = fs.readFileSync(f);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

before(ensureCliBuilt, { timeout: 180_000 });

describe('resight explain', () => {
  it('a provider asked for and not used says why on stderr; stdout stays the JSON result', async (t) => {
    const out = path.join(tempDir(t, 'explain-cuda'), 'out');
    const r = runCli(['explain', SLICE, '--provider', 'cuda', '--out-dir', out, '--json'], { timeoutMs: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const meta = JSON.parse(r.stdout) as { provider: string };
    if (meta.provider === 'cuda') return t.skip('this machine runs CUDA');
    assert.equal(meta.provider, 'cpu');
    assert.match(r.stderr, /^resight: provider cuda not used: \S/m);
  });

  it('writes input.f32, cam.f32, heatmap.f32 and meta.json as the contract says', async (t) => {
    const out = path.join(tempDir(t, 'explain'), 'out');
    const r = runCli(['explain', SLICE, '--class', 'lung_nodule', '--layer', 'layer3', '--method', 'gradcampp', '--provider', 'cpu', '--out-dir', out, '--json'], { timeoutMs: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(listTree(out), ['cam.f32', 'heatmap.f32', 'input.f32', 'meta.json']);
    const meta = JSON.parse(fs.readFileSync(path.join(out, 'meta.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(JSON.parse(r.stdout), meta);
    assert.equal(meta.method, 'gradcampp');
    assert.equal(meta.layer, 'layer3');
    assert.equal(meta.class, 'lung_nodule');
    assert.equal(meta.classIndex, 0);
    assert.equal(typeof meta.score, 'number');
    const grid = defaultLayerGrid('layer3');
    assert.deepEqual(meta.camShape, grid);
    const { card } = loadModelCard(path.join(REPO_ROOT, 'resources', 'models', 'resight-ct-lesion.card.json'));
    assert.deepEqual(meta.inputShape, [1, ...card.input.shape.slice(1)]);
    assert.equal(meta.provider, 'cpu');
    assert.ok((meta.ms as number) > 0);
    // input.f32 is exactly what preprocessing gives for this slice.
    const { decoded, values } = await loadFrame(SLICE);
    assert.deepEqual(readF32(path.join(out, 'input.f32')), preprocessSlice({ values, rows: decoded.rows, columns: decoded.columns }, card));
    const cam = readF32(path.join(out, 'cam.f32'));
    assert.equal(cam.length, grid[0] * grid[1]);
    assert.ok(cam.every((v) => v >= 0));
    const heat = readF32(path.join(out, 'heatmap.f32'));
    assert.equal(heat.length, 512 * 512);
    assert.ok(heat.every((v) => v >= 0 && v <= 1));
    assert.equal(heat.reduce((m, v) => Math.max(m, v), 0), 1);
  });

  it('defaults: Grad-CAM at the card\'s default layer for the top class', (t) => {
    const out = tempDir(t, 'explain');
    const r = runCli(['explain', SLICE, '--out-dir', out, '--json'], { timeoutMs: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const meta = JSON.parse(r.stdout) as { method: string; layer: string; class: string; logits: number[]; classIndex: number };
    assert.equal(meta.method, 'gradcam');
    assert.equal(meta.layer, loadModelCard(path.join(REPO_ROOT, 'resources', 'models', 'resight-ct-lesion.card.json')).card.cam.defaultLayer);
    assert.equal(meta.classIndex, meta.logits.indexOf(Math.max(...meta.logits)));
  });

  it('usage errors exit 2; bad input exits 1 with a typed JSON error', (t) => {
    const out = tempDir(t, 'explain');
    for (const args of [['explain', SLICE], ['explain', SLICE, '--out-dir', out, '--method', 'magic'], ['explain', '--out-dir', out]]) {
      assert.equal(runCli(args).status, 2, args.join(' '));
    }
    // a layer or class the model does not have is an argument error like an unknown method
    for (const [flag, value] of [['--layer', 'fc'], ['--class', 'nosuch'], ['--method', 'nosuch']]) {
      const bad = runCli(['explain', SLICE, '--out-dir', out, flag, value, '--json'], { timeoutMs: 120_000 });
      assert.equal(bad.status, 2, `${flag} ${value}: ${bad.stderr}`);
      assert.equal((JSON.parse(bad.stderr) as { error: { code: string } }).error.code, 'USAGE');
      assert.deepEqual(stackTraceLines(bad.stderr), []);
    }
    const notDicom = runCli(['explain', path.join(REPO_ROOT, 'README.md'), '--out-dir', out, '--json']);
    assert.equal(notDicom.status, 1);
    assert.equal(JSON.parse(notDicom.stderr).error.code, 'NOT_DICOM');
    assert.deepEqual(stackTraceLines(notDicom.stderr), []);
    assert.deepEqual(listTree(out), [], 'nothing written on failure');
  });

  it('explains a slice of another modality with a warning (the user asked for it)', (t) => {
    const out = tempDir(t, 'explain');
    const r = runCli(['explain', corpusPath('pydicom_MR_small.dcm'), '--out-dir', out, '--json'], { timeoutMs: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /meant for CT; this image is MR/);
    assert.equal(readF32(path.join(out, 'heatmap.f32')).length, 64 * 64);
  });
});
