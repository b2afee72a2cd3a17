#!/usr/bin/env node
// The main job on a fresh machine: open the bundled demo study, decode it, run the default
// model over every slice (onnxruntime-node, CPU) and show where it flags lesions next to the
// demo's ground truth. Until `resight analyze` lands (inference engine issue) this uses the
// engine's modules directly. Nothing is written anywhere.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const require = createRequire(import.meta.url);
const dist = (p) => require(join(root, 'app', 'dist', p));
const demo = join(root, 'resources', 'demo');
const cardPath = join(root, 'resources', 'models', 'resight-ct-lesion.card.json');

// 1. What the ingest engine sees (the CLI, as a user would run it).
const info = spawnSync(process.execPath, [join(root, 'app', 'bin', 'resight.js'), 'info', demo], { stdio: 'inherit' });
if (info.status !== 0) process.exit(info.status ?? 1);

// 2. Decode the series and run the model.
const { scanPaths } = dist('core/dicom/scan.js');
const { VolumeCache } = dist('core/imaging/volume.js');
const { loadModelCard } = dist('core/inference/card.js');
const { preprocessSlice } = dist('core/inference/preprocess.js');
const ort = require('onnxruntime-node');

const { studies } = await scanPaths([demo]);
const series = studies[0].series[0];
const volume = await new VolumeCache().load(series);
const { card, onnxBytes } = loadModelCard(cardPath);
const session = await ort.InferenceSession.create(onnxBytes, { executionProviders: ['cpu'] });
const [, channels, h, w] = card.input.shape;
const classes = card.outputs.classes;
const t0 = performance.now();
const probs = [];
const batch = 8;
for (let start = 0; start < series.slices; start += batch) {
  const n = Math.min(batch, series.slices - start);
  const input = new Float32Array(n * channels * h * w);
  for (let k = 0; k < n; k++) {
    const slice = { values: volume.slice(start + k), rows: series.rows, columns: series.columns };
    if (volume.paddingRange) slice.paddingRange = volume.paddingRange;
    input.set(preprocessSlice(slice, card), k * channels * h * w);
  }
  const out = await session.run({ [card.input.tensor]: new ort.Tensor('float32', input, [n, channels, h, w]) });
  const p = out[card.outputs.probabilities].data;
  for (let k = 0; k < n; k++) probs.push(classes.map((_, c) => p[k * classes.length + c]));
}
const ms = performance.now() - t0;
await session.release();

// 3. Where the model looks suspicious vs. the ground truth.
const truth = JSON.parse(readFileSync(join(demo, 'ground-truth.json'), 'utf8'));
console.log(`\nModel ${card.name} ${card.version} (not for clinical use): ${series.slices} slices in ${Math.round(ms)} ms on CPU`);
for (const [c, cls] of classes.entries()) {
  const thr = card.outputs.thresholds[cls];
  const flagged = probs.map((p, i) => (p[c] >= thr ? i : -1)).filter((i) => i >= 0);
  const lesions = truth.lesions.filter((l) => l.class === cls);
  const hits = lesions.filter((l) => flagged.some((i) => i >= l.slices[0] && i <= l.slices[1]));
  console.log(`  ${cls} (threshold ${thr.toFixed(3)}): ${flagged.length} slice(s) flagged [${flagged.join(', ')}]`);
  for (const l of lesions) {
    const peak = Math.max(...probs.slice(l.slices[0], l.slices[1] + 1).map((p) => p[c]));
    console.log(`    ground truth: ${l.diameter_mm} mm ${l.kind} on slices ${l.slices[0]}-${l.slices[1]}: peak p=${peak.toFixed(3)} -> ${hits.includes(l) ? 'found' : 'missed'}`);
  }
}
