/**
 * `resight bench --suite inference`: the default model over a generated CT series, ReSight's
 * whole pipeline (decode + preprocess + session.run, as `resight analyze` runs it) against
 * PyTorch eager on the same network and weights at the same thread count (the peer a
 * research engineer would otherwise write: pydicom + the training preprocessing + the
 * checkpoint), and against bare `session.run` on preprocessed input (the floor).
 *
 * ReSight runs in a child process so its peak RSS is its own. Medians of the repetitions.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from '../../core/inference/ort';
import { scanPaths } from '../../core/dicom/scan';
import { VolumeCache } from '../../core/imaging/volume';
import { defaultModelCard } from '../../core/inference/default-model';
import { InferenceEngine } from '../../core/inference/engine';
import { inputLength, preprocessInto } from '../../core/inference/preprocess';
import { writeSyntheticSeries } from '../../core/synthetic/ct-series';
import { sharedWorkerPool } from '../../core/workers/pool';
import { childMain, f0, f2, machineLine, median, repoFile, runChild, runPythonPeer } from './common';

export interface InferenceBenchOptions {
  slices: number;
  /** Another model's card: ReSight side only (the PyTorch peer has the default model's weights). */
  model?: string;
  reps?: number;
  batch?: number;
  threads?: number;
  python?: string;
}

interface ChildResult {
  /** Whole pipeline per rep, fresh volume each time (a newly opened series), seconds. */
  pipelineS: number[];
  decodeMs: number[];
  preprocessMs: number[];
  inferenceMs: number[];
  /** Bare session.run over the same slices, preprocessed beforehand, seconds per rep. */
  bareS: number[];
  /** One slice, batch 1: preprocess + session.run, ms (median of 20). */
  latencyMs: number;
  provider: string;
  threads: number;
  workers: number;
  slices: number;
  peakRssBytes: number;
  probabilities: number[][];
}

async function inferenceChild(dir: string, reps: number, batch: number, threads: number, cardArg: string): Promise<ChildResult> {
  const card = cardArg || defaultModelCard();
  if (!card) throw new Error('default model not found');
  const series = (await scanPaths([dir])).studies[0].series[0];
  const engine = new InferenceEngine({ volumes: new VolumeCache() });
  const model = await engine.model(card, { force: 'cpu', threads });
  const r: ChildResult = { pipelineS: [], decodeMs: [], preprocessMs: [], inferenceMs: [], bareS: [], latencyMs: NaN, provider: model.provider.used, threads, workers: sharedWorkerPool()?.size ?? 0, slices: series.slices, peakRssBytes: 0, probabilities: [] };
  // Warm-up: one full run (worker start-up, ORT's first-run allocations, JIT).
  await engine.analyze(model, [series], { batchSize: batch });
  for (let k = 0; k < reps; k++) {
    engine.volumes.clear();
    (globalThis as { gc?: () => void }).gc?.();
    const t0 = performance.now();
    const res = await engine.analyze(model, [series], { batchSize: batch });
    r.pipelineS.push((performance.now() - t0) / 1000);
    r.decodeMs.push(res.timing.decodeMs);
    r.preprocessMs.push(res.timing.preprocessMs);
    r.inferenceMs.push(res.timing.inferenceMs);
    r.probabilities = res.series[0].slices.map((s) => model.card.outputs.classes.map((c) => s.probabilities?.[c] ?? NaN));
  }
  // Peak RSS of the analyses (the floor below holds the whole series preprocessed in memory).
  r.peakRssBytes = process.resourceUsage().maxRSS * 1024;
  // The floor: the same batches, preprocessed once, through session.run alone.
  const volume = await engine.volumes.load(series);
  const per = inputLength(model.spec);
  const [h, w] = model.spec.size;
  const c = model.spec.channels.length;
  const inputs: ort.Tensor[] = [];
  for (let s = 0; s < series.slices; s += batch) {
    const n = Math.min(batch, series.slices - s);
    const data = new Float32Array(n * per);
    for (let j = 0; j < n; j++) preprocessInto({ values: volume.slice(s + j), rows: series.rows, columns: series.columns, paddingRange: volume.paddingRange }, model.spec, data, j * per);
    inputs.push(new ort.Tensor('float32', data, [n, c, h, w]));
  }
  const feed = (t: ort.Tensor) => ({ [model.card.input.tensor]: t });
  await model.session.run(feed(inputs[0]));
  for (let k = 0; k < reps; k++) {
    const t0 = performance.now();
    for (const t of inputs) await model.session.run(feed(t));
    r.bareS.push((performance.now() - t0) / 1000);
  }
  // Latency of one slice on its own (what scrolling to an unscored slice would cost).
  const one = new Float32Array(per);
  const lat: number[] = [];
  for (let k = 0; k < 21; k++) {
    const t0 = performance.now();
    preprocessInto({ values: volume.slice(k % series.slices), rows: series.rows, columns: series.columns, paddingRange: volume.paddingRange }, model.spec, one, 0);
    await model.session.run(feed(new ort.Tensor('float32', one, [1, c, h, w])));
    if (k > 0) lat.push(performance.now() - t0);
  }
  r.latencyMs = median(lat);
  await engine.release();
  return r;
}

interface PeerResult {
  torch: string;
  pipelineSeconds: number[];
  phases: { readSeconds: number[]; preprocessSeconds: number[]; modelSeconds: number[] };
  modelOnlySeconds: number[];
  flopsPerSlice: number;
  probabilities: number[][];
}

export async function runInferenceBench(opts: InferenceBenchOptions): Promise<string> {
  const reps = opts.reps ?? 5;
  const batch = opts.batch ?? 16;
  const threads = opts.threads ?? (typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resight-bench-'));
  try {
    writeSyntheticSeries(dir, { slices: opts.slices, rows: 512, columns: 512, seed: 7 });
    const ours = runChild<ChildResult>(__filename, 'inference-child', [dir, String(reps), String(batch), String(threads), opts.model ?? '']);
    let peer: PeerResult | undefined;
    let peerNote = '';
    const script = repoFile('bench/peers/torch_inference.py');
    const checkpoint = repoFile('training/checkpoints/resight-ct-lesion.pt');
    const python = opts.python ?? '/usr/bin/python3';
    // A card may say how PyTorch builds the same network (bench/peers/make_resnet18.py does).
    const torchPeer = opts.model ? (JSON.parse(fs.readFileSync(opts.model, 'utf8')) as { torchPeer?: { torchvision: string; stateDict: string } }).torchPeer : undefined;
    const weights = torchPeer ? ['--torchvision', torchPeer.torchvision, '--state-dict', path.join(path.dirname(opts.model as string), torchPeer.stateDict)] : ['--checkpoint', checkpoint ?? ''];
    if (opts.model && !torchPeer) peerNote = `PyTorch peer not run: its weights are the default model's, and ${opts.model} has no "torchPeer" entry`;
    else if (!script || (!checkpoint && !torchPeer)) peerNote = 'PyTorch peer missing: bench/peers/torch_inference.py and the training checkpoint come with a source checkout';
    else {
      ({ result: peer, note: peerNote } = runPythonPeer<PeerResult>(python, [script, ...weights, '--dicom-dir', dir, '--threads', String(threads), '--batch', String(batch), '--reps', String(reps)], 'python3-torch python3-torchvision python3-pydicom'));
    }
    const n = ours.slices;
    const pipe = median(ours.pipelineS);
    const bare = median(ours.bareS);
    const tPipe = peer ? median(peer.pipelineSeconds) : NaN;
    // PyTorch's network time measured twice (inside its pipeline, and alone): the faster one.
    const tModel = peer ? Math.min(median(peer.modelOnlySeconds), median(peer.phases.modelSeconds)) : NaN;
    const flops = peer?.flopsPerSlice ?? NaN;
    const ms = (s: number) => f2((s * 1000) / n);
    const x = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) ? `${(a / b).toFixed(2)}x` : 'n/a');
    let agree = 'n/a';
    if (peer) {
      let worst = 0;
      ours.probabilities.forEach((row, i) => row.forEach((p, c) => (worst = Math.max(worst, Math.abs(p - (peer.probabilities[i]?.[c] ?? NaN))))));
      agree = worst.toExponential(1);
    }
    const lines = [
      `### Inference: ${opts.model ? path.basename(opts.model) : 'default model'} over ${n} generated 512x512 CT slices, CPU, ${threads} thread(s), batch ${batch}, median of ${reps}`,
      '',
      `| work | ReSight (onnxruntime-node ${ort.env.versions?.common ?? ''}) | PyTorch ${peer?.torch ?? ''} eager | PyTorch / ReSight | target |`,
      '|---|---:|---:|---:|---:|',
      `| whole series: decode + preprocess + inference (s) | ${f2(pipe)} | ${f2(tPipe)} | ${x(tPipe, pipe)} | >= 3x; < 8 s for 300 slices |`,
      `| per slice in the series (ms) | ${ms(pipe)} | ${ms(tPipe)} | | |`,
      `| network only: bare session.run / model forward, the faster of PyTorch's two measurements (ms per slice) | ${ms(bare)} | ${ms(tModel)} | ${x(tModel, bare)} | |`,
      `| ReSight pipeline / bare session.run | ${x(pipe, bare)} | | | <= 1.25x |`,
      `| one slice alone, batch 1: preprocess + run (ms) | ${f2(ours.latencyMs)} | | | |`,
      `| achieved GFLOP/s (network only; ${Number.isFinite(flops) ? `${(flops / 1e9).toFixed(3)} GFLOP/slice` : 'FLOPs from the peer'}) | ${f2((flops * n) / bare / 1e9)} | ${f2((flops * n) / tModel / 1e9)} | | |`,
      `| ReSight peak RSS during the analyses | ${f0(ours.peakRssBytes / 1024 ** 2)} MB | | | |`,
      '',
      `Where ReSight's time goes (per series, medians; decode and preprocessing run in ${ours.workers} worker thread(s) while ORT runs the previous batch, so they overlap): ` +
        `decode ${f0(median(ours.decodeMs))} ms, preprocess ${f0(median(ours.preprocessMs))} ms, session.run ${f0(median(ours.inferenceMs))} ms, wall ${f0(pipe * 1000)} ms.` +
        (peer ? ` PyTorch: read ${f2(median(peer.phases.readSeconds))} s, preprocess ${f2(median(peer.phases.preprocessSeconds))} s, model ${f2(median(peer.phases.modelSeconds))} s. Largest probability difference ReSight vs PyTorch: ${agree}.` : ''),
      `Per rep, ReSight pipeline s: ${ours.pipelineS.map(f2).join(', ')}; bare run s: ${ours.bareS.map(f2).join(', ')}.` + (peer ? ` PyTorch pipeline s: ${peer.pipelineSeconds.map(f2).join(', ')}; model only s: ${peer.modelOnlySeconds.map(f2).join(', ')}.` : ''),
      `Machine: ${machineLine()}. Provider: ${ours.provider}.`,
    ];
    if (peerNote) lines.push('', `Note: ${peerNote}`);
    return lines.join('\n');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module && process.argv[2] === '--inference-child') {
  const [dir, reps, batch, threads, card] = process.argv.slice(3);
  childMain(() => inferenceChild(dir, Number(reps), Number(batch), Number(threads), card ?? ''));
}
