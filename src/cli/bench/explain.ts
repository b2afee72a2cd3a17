/**
 * `resight bench --suite explain`: what a heatmap costs. Per slice (batch 1, as the viewer
 * explains the slice on screen), on the default model: a plain forward pass, Grad-CAM at layer3
 * and layer4 through the ONNX gradient graph (one run each), and Score-CAM at layer4 (one
 * forward per channel, batched); side by side with PyTorch autograd Grad-CAM on the same
 * weights and the same input at the same thread count. Medians; ratios are what to read.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from '../../core/inference/ort';
import { scanPaths } from '../../core/dicom/scan';
import { Explainer } from '../../core/explain/explainer';
import { VolumeCache } from '../../core/imaging/volume';
import { defaultModelCard } from '../../core/inference/default-model';
import { InferenceEngine } from '../../core/inference/engine';
import { inputLength, preprocessInto } from '../../core/inference/preprocess';
import { writeSyntheticSeries } from '../../core/synthetic/ct-series';
import { childMain, f2, machineLine, median, repoFile, runChild, runPythonPeer } from './common';

export interface ExplainBenchOptions {
  slices: number;
  reps?: number;
  threads?: number;
  python?: string;
}

const LAYERS = ['layer3', 'layer4'];

interface ChildResult {
  /** ms per slice, per rep. */
  forwardMs: number[];
  gradcamMs: Record<string, number[]>;
  scorecamMs: number[];
  /** Per layer: every slice's Grad-CAM (last rep), concatenated, to compare with the peer's. */
  maps: Record<string, number[]>;
  provider: string;
  threads: number;
}

async function explainChild(inputFile: string, n: number, reps: number, threads: number): Promise<ChildResult> {
  const card = defaultModelCard();
  if (!card) throw new Error('default model not found');
  const engine = new InferenceEngine({ volumes: new VolumeCache() });
  const model = await engine.model(card, { force: 'cpu', threads });
  const explainer = new Explainer();
  const per = inputLength(model.spec);
  const all = new Float32Array(fs.readFileSync(inputFile).buffer.slice(0));
  const inputs = Array.from({ length: n }, (_, i) => all.slice(i * per, (i + 1) * per));
  const [h, w] = model.spec.size;
  const dims = [1, model.spec.channels.length, h, w];
  const feed = (x: Float32Array) => ({ [model.card.input.tensor]: new ort.Tensor('float32', x, dims) });
  const r: ChildResult = { forwardMs: [], gradcamMs: {}, scorecamMs: [], maps: {}, provider: model.provider.used, threads };
  // Warm-up: sessions, gradient graphs, first-run allocations.
  await model.session.run(feed(inputs[0]));
  for (const layer of LAYERS) await explainer.explainInput(model, inputs[0], { layer, class: 0 });
  for (let rep = 0; rep < reps; rep++) {
    let t = performance.now();
    for (const x of inputs) await model.session.run(feed(x));
    r.forwardMs.push((performance.now() - t) / n);
    for (const layer of LAYERS) {
      const maps: Float32Array[] = [];
      t = performance.now();
      for (const x of inputs) maps.push((await explainer.explainInput(model, x, { layer, class: 0 })).cam.map);
      (r.gradcamMs[layer] ??= []).push((performance.now() - t) / n);
      r.maps[layer] = maps.flatMap((m) => Array.from(m));
    }
    t = performance.now();
    await explainer.explainInput(model, inputs[0], { layer: 'layer4', class: 0, method: 'scorecam' });
    r.scorecamMs.push(performance.now() - t);
  }
  await explainer.release();
  await engine.release();
  return r;
}

interface PeerResult {
  torch: string;
  forwardSeconds: number[];
  gradcamSeconds: Record<string, number[]>;
  maps: Record<string, { shape: number[]; values: number[] }>;
}

export async function runExplainBench(opts: ExplainBenchOptions): Promise<string> {
  const reps = opts.reps ?? 5;
  const n = Math.max(1, Math.min(opts.slices, 40));
  const threads = opts.threads ?? (typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resight-bench-'));
  try {
    // Realistic input: slices of a generated CT series, preprocessed as analysis does.
    writeSyntheticSeries(path.join(dir, 'series'), { slices: n, rows: 512, columns: 512, seed: 5 });
    const series = (await scanPaths([path.join(dir, 'series')])).studies[0].series[0];
    const engine = new InferenceEngine({ volumes: new VolumeCache({ pool: null }) });
    const card = defaultModelCard();
    if (!card) throw new Error('default model not found');
    const model = await engine.model(card, { force: 'cpu' });
    const volume = await engine.volumes.load(series);
    const per = inputLength(model.spec);
    const input = new Float32Array(n * per);
    for (let i = 0; i < n; i++) preprocessInto({ values: volume.slice(i), rows: series.rows, columns: series.columns, paddingRange: volume.paddingRange }, model.spec, input, i * per);
    await engine.release();
    const inputFile = path.join(dir, 'input.f32');
    fs.writeFileSync(inputFile, new Uint8Array(input.buffer));
    const ours = runChild<ChildResult>(__filename, 'explain-child', [inputFile, String(n), String(reps), String(threads)]);

    let peer: PeerResult | undefined;
    let peerNote = '';
    const script = repoFile('bench/peers/torch_gradcam.py');
    const checkpoint = repoFile('training/checkpoints/resight-ct-lesion.pt');
    const python = opts.python ?? '/usr/bin/python3';
    if (!script || !checkpoint) peerNote = 'PyTorch peer missing: bench/peers/torch_gradcam.py and the training checkpoint come with a source checkout';
    else {
      const [h, w] = model.spec.size;
      const args = [script, '--checkpoint', checkpoint, '--input', inputFile, '--shape', `${n},${model.spec.channels.length},${h},${w}`, '--threads', String(threads), '--reps', String(reps), '--layers', LAYERS.join(','), '--class-index', '0'];
      ({ result: peer, note: peerNote } = runPythonPeer<PeerResult>(python, args, 'python3-torch python3-torchvision'));
    }
    const fwd = median(ours.forwardMs);
    const pf = peer ? (median(peer.forwardSeconds) * 1000) / n : NaN;
    const x = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) ? `${(a / b).toFixed(2)}x` : 'n/a');
    const rows = [
      `| plain forward pass | ${f2(fwd)} | | ${f2(pf)} | | ${x(pf, fwd)} | |`,
      ...LAYERS.map((layer) => {
        const g = median(ours.gradcamMs[layer]);
        const pg = peer ? (median(peer.gradcamSeconds[layer]) * 1000) / n : NaN;
        let agree = 'maps: n/a';
        if (peer?.maps[layer]) {
          // Every slice's map (class 0): a map that is all zero after the ReLU agrees vacuously,
          // so how many are not zero is said too.
          const want = peer.maps[layer].values;
          const got = ours.maps[layer];
          const per = want.length / n;
          let num = 0;
          let den = 0;
          let nonZero = 0;
          for (let s = 0; s < n; s++) {
            let any = false;
            for (let i = s * per; i < (s + 1) * per; i++) {
              num += (got[i] - want[i]) ** 2;
              den += want[i] ** 2;
              any ||= want[i] !== 0;
            }
            if (any) nonZero++;
          }
          agree = got.length !== want.length ? `maps differ in size (${got.length} vs ${want.length})` : den > 0 ? `maps agree to ${Math.sqrt(num / den).toExponential(1)} (rel. L2 over the ${nonZero} of ${n} slices whose map is not zero)` : 'maps: every map is zero, nothing to compare';
        }
        return `| Grad-CAM at ${layer} (gradient graph, one run) | ${f2(g)} | ${x(g, fwd)} | ${f2(pg)} | ${x(pg, pf)} | ${x(pg, g)} | ${layer === 'layer3' ? '<= 2x' : '<= 1.2x'} forward; ${agree} |`;
      }),
      `| Score-CAM at layer4 (128 masked forwards, batch 16) | ${f2(median(ours.scorecamMs))} | ${x(median(ours.scorecamMs), fwd)} | | | | off by default |`,
    ];
    const lines = [
      `### Explain: default model, one slice at a time, CPU, ${threads} thread(s), ${n} slices, median of ${reps}`,
      '',
      `| work (ms per slice) | ReSight | / forward | PyTorch ${peer?.torch ?? ''} autograd | / its forward | PyTorch / ReSight | target |`,
      '|---|---:|---:|---:|---:|---:|---|',
      ...rows,
      '',
      `Machine: ${machineLine()}. Provider: ${ours.provider}. Per rep, ReSight forward ms: ${ours.forwardMs.map(f2).join(', ')}; Grad-CAM layer3 ${ours.gradcamMs.layer3.map(f2).join(', ')}; layer4 ${ours.gradcamMs.layer4.map(f2).join(', ')}.`,
    ];
    if (peerNote) lines.push('', `Note: ${peerNote}`);
    return lines.join('\n');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module && process.argv[2] === '--explain-child') {
  const [file, n, reps, threads] = process.argv.slice(3);
  childMain(() => explainChild(file, Number(n), Number(reps), Number(threads)));
}
