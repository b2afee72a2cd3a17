#!/usr/bin/env node
// GPU check for the inference engine (run by scripts/device-check.sh on a machine with a GPU).
// For each GPU provider (webgpu, cuda): load the default model forced onto it, score the demo
// study and a generated 300-slice series, compare every probability with the CPU provider's
// (max |diff| <= 1e-3), compute Grad-CAM at layer3/layer4 through the gradient graph on the same
// provider (relative L2 vs CPU <= 1e-3), and print throughput and timings side by side. Exit 0 when every GPU provider that
// ran agrees with the CPU, 1 when one disagrees, 3 when no GPU provider could run at all.
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const require = createRequire(import.meta.url);
const dist = (p) => require(join(root, 'app', 'dist', p));
const { scanPaths } = dist('core/dicom/scan.js');
const { InferenceEngine } = dist('core/inference/engine.js');
const { defaultModelCard } = dist('core/inference/default-model.js');
const { writeSyntheticSeries } = dist('core/synthetic/ct-series.js');
const { Explainer } = dist('core/explain/explainer.js');
const { loadFrame } = dist('core/dicom/frame.js');

const slices = Number(process.argv[2] ?? 300);
const reps = 3;
const tolerance = 1e-3;
const card = defaultModelCard();
const dir = mkdtempSync(join(tmpdir(), 'resight-device-'));
let exit = 0;
try {
  writeSyntheticSeries(dir, { slices, rows: 512, columns: 512, seed: 11 });
  const sets = [
    { name: 'demo study', series: (await scanPaths([join(root, 'resources', 'demo')])).studies[0].series[0] },
    { name: `generated ${slices} slices`, series: (await scanPaths([dir])).studies[0].series[0] },
  ];
  const engine = new InferenceEngine();
  const explainer = new Explainer();
  const { decoded, values } = await loadFrame(join(root, 'resources', 'demo', 'CT0033.dcm'));
  const slice = { values, rows: decoded.rows, columns: decoded.columns };
  const cams = {};
  const results = {};
  let gpuRan = 0;
  for (const provider of ['cpu', 'webgpu', 'cuda']) {
    const t0 = performance.now();
    const model = await engine.model(card, { force: provider });
    const loadMs = performance.now() - t0;
    if (model.provider.used !== provider) {
      console.log(`${provider}: not available: ${model.provider.fallbacks.map((f) => f.reason).join('; ')}`);
      continue;
    }
    if (provider !== 'cpu') gpuRan++;
    results[provider] = {};
    console.log(`${provider}: session created in ${loadMs.toFixed(0)} ms`);
    for (const { name, series } of sets) {
      await engine.analyze(model, [series], { batchSize: 16 }); // warm-up (shader compilation, allocations)
      const times = [];
      let last;
      for (let r = 0; r < reps; r++) {
        const t = performance.now();
        last = await engine.analyze(model, [series], { batchSize: 16 });
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      const ms = times[reps >> 1];
      const probs = last.series[0].slices.map((s) => Object.values(s.probabilities ?? {}));
      results[provider][name] = probs;
      let verdict = '';
      if (provider !== 'cpu') {
        const cpu = results.cpu[name];
        let worst = 0;
        probs.forEach((row, i) => row.forEach((p, c) => (worst = Math.max(worst, Math.abs(p - cpu[i][c])))));
        const ok = worst <= tolerance;
        if (!ok) exit = 1;
        verdict = `, max |p - p_cpu| = ${worst.toExponential(2)} ${ok ? 'PASS' : `FAIL (> ${tolerance})`}`;
      }
      const t = last.timing;
      console.log(`  ${name}: ${series.slices} slices in ${ms.toFixed(0)} ms (median of ${reps}) = ${((series.slices / ms) * 1000).toFixed(1)} slices/s; session.run ${t.inferenceMs.toFixed(0)} ms${verdict}`);
    }
    // Grad-CAM through the gradient graph on the same provider, against the CPU's maps.
    for (const layer of ['layer3', 'layer4']) {
      await explainer.explainSlice(model, slice, { layer, class: 0 });
      const t0 = performance.now();
      const e = await explainer.explainSlice(model, slice, { layer, class: 0 });
      const ms = performance.now() - t0;
      cams[provider] ??= {};
      cams[provider][layer] = e.cam.map;
      let verdict = '';
      if (provider !== 'cpu') {
        const ref = cams.cpu[layer];
        let num = 0;
        let den = 0;
        e.cam.map.forEach((v, i) => {
          num += (v - ref[i]) ** 2;
          den += ref[i] ** 2;
        });
        const rel = Math.sqrt(num / Math.max(den, 1e-30));
        const ok = rel <= tolerance;
        if (!ok) exit = 1;
        verdict = `, relative L2 vs CPU = ${rel.toExponential(2)} ${ok ? 'PASS' : `FAIL (> ${tolerance})`}`;
      }
      console.log(`  Grad-CAM ${layer}: ${ms.toFixed(1)} ms${verdict}`);
    }
  }
  await explainer.release();
  await engine.release();
  if (!gpuRan) {
    console.log('no GPU provider could run: nothing to compare');
    exit = exit || 3;
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(exit);
