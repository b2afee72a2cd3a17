import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from '../../core/inference/ort';
import { CAM_METHODS, type CamMethod } from '../../core/explain/cam';
import { defaultModelCard } from '../../core/inference/default-model';
import { loadModelCard } from '../../core/inference/card';
import { repoFile } from '../bench/common';
import { UsageError, writeFileAtomic } from '../io';

export const BENCH_HELP = `resight bench [--suite ingest|inference|explain|scaling|report|pacs|localization|soak|all] [--slices N] [--reps N]
              [--batch N] [--threads N] [--model <card.json>] [--set <localization set dir>] [--out <file.md>]
              [--methods gradcam,layercam,...] [--layers layer3,...]
  Benchmarks with the peer a user would otherwise pick, side by side (Markdown tables):
  pydicom and dcmtk for ingest, PyTorch on the same weights for inference and Grad-CAM.
  'report' times an export of the demo study step by step (DICOM encoding against pydicom).
  'pacs' sends the demo study to DCMTK's storescp by ReSight's C-STORE and by DCMTK's storescu.
  'all' runs ingest, inference, explain, scaling and report plus the machine's physical bounds and
  writes the report to bench/results/latest.md in a source checkout (or --out).
  'localization' scores the heatmaps against lesion masks on a held-out phantom set (pointing
  game, energy inside the mask, deletion AUC); --methods and --layers limit it to some of the CAM
  methods (${CAM_METHODS.join(', ')}) and some of the model card's CAM layers. 'soak' (npm run soak) opens, views, analyzes
  and closes a 1,000-slice series five times and fails unless memory comes back and no file
  handle is left open.`;

const SUITES = ['ingest', 'inference', 'explain', 'scaling', 'report', 'pacs', 'localization', 'soak', 'all'];

async function machineSection(threads: number): Promise<string> {
  const { memcpyGBps, gemmGflops, modelFlops } = await import('../bench/bounds.js');
  const cpus = os.cpus();
  const gb = memcpyGBps();
  const gemm = await gemmGflops(threads);
  const lines = [
    '## Machine and physical bounds',
    '',
    `- CPU: ${cpus.length} x ${cpus[0]?.model ?? 'unknown'}; memory ${Math.round(os.totalmem() / 1024 ** 3)} GiB; ${os.type()} ${os.release()} (${process.arch})`,
    `- Node ${process.version}, onnxruntime-node ${ort.env.versions?.common ?? '?'}, ${threads} ORT thread(s)`,
    `- Memory bandwidth (256 MiB memcpy): ${gb.toFixed(1)} GB/s -> a 512x512 16-bit slice (0.5 MiB read + 0.5 MiB written as Int16) cannot decode faster than ${((2 * 512 * 512 * 2) / (gb * 1e9) * 1000).toFixed(3)} ms`,
    `- CPU GEMM rate (ORT MatMul 1024^3 float32, ${threads} thread(s)): ${gemm.toFixed(0)} GFLOP/s`,
  ];
  const card = defaultModelCard();
  if (card) {
    const { card: c, onnxBytes } = loadModelCard(card);
    const [h, w] = c.input.resampling.size;
    const flops = modelFlops(onnxBytes, c.input.tensor, [1, c.input.channels.length, h, w]);
    lines.push(`- Default model: ${(flops / 1e9).toFixed(3)} GFLOP per slice (2 x multiply-adds of Conv and Gemm, counted from the ONNX graph) -> ${((flops / (gemm * 1e9)) * 1000).toFixed(2)} ms per slice at this MatMul rate. ORT's convolution kernels (MLAS, NCHWc) can beat its plain MatMul: compare the achieved GFLOP/s in the inference table, which is the figure to hold against this one.`);
  }
  return lines.join('\n');
}

export async function runBench(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { suite: { type: 'string' }, slices: { type: 'string' }, reps: { type: 'string' }, batch: { type: 'string' }, threads: { type: 'string' }, model: { type: 'string' }, set: { type: 'string' }, out: { type: 'string' }, methods: { type: 'string' }, layers: { type: 'string' } },
  });
  const suite = values.suite ?? 'all';
  if (!SUITES.includes(suite)) throw new UsageError(`unknown suite '${suite}' (one of ${SUITES.join(', ')})`);
  const slices = values.slices ? Number(values.slices) : 300;
  const reps = values.reps ? Number(values.reps) : 5;
  if (!Number.isInteger(slices) || slices < 2 || !Number.isInteger(reps) || reps < 1) throw new UsageError('--slices must be an integer >= 2 and --reps >= 1');
  const int = (name: string, v: string | undefined) => {
    if (v !== undefined && !/^[1-9]\d*$/.test(v)) throw new UsageError(`--${name} must be a positive integer`);
    return v === undefined ? undefined : Number(v);
  };
  const list = (v: string | undefined) => (v === undefined ? undefined : v.split(',').map((s) => s.trim()).filter(Boolean));
  const methods = list(values.methods);
  const bad = methods?.filter((m) => !(CAM_METHODS as readonly string[]).includes(m)) ?? [];
  if (bad.length || methods?.length === 0) throw new UsageError(`--methods takes a comma-separated list of ${CAM_METHODS.join(', ')} (got '${values.methods}')`);
  const layers = list(values.layers);
  if (layers?.length === 0) throw new UsageError('--layers takes a comma-separated list of the model card\'s CAM layers');
  if ((methods || layers) && suite !== 'localization') throw new UsageError('--methods and --layers apply to --suite localization only');
  const batch = int('batch', values.batch);
  const threads = int('threads', values.threads) ?? (typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
  const parts: string[] = [];
  const emit = (md: string) => {
    parts.push(md);
    process.stdout.write(md + '\n\n');
  };
  const all = suite === 'all';
  if (all) emit(await machineSection(threads));
  if (suite === 'ingest' || all) {
    const { runIngestBench } = await import('../bench/ingest.js');
    emit(await runIngestBench({ slices, reps }));
  }
  if (suite === 'inference' || all) {
    const { runInferenceBench } = await import('../bench/inference.js');
    emit(await runInferenceBench({ slices, reps, threads, ...(batch ? { batch } : {}), ...(values.model ? { model: values.model } : {}) }));
  }
  if (suite === 'explain' || all) {
    const { runExplainBench } = await import('../bench/explain.js');
    emit(await runExplainBench({ slices: Math.min(slices, 20), reps, threads }));
  }
  if (suite === 'scaling' || all) {
    const { runScalingBench } = await import('../bench/scaling.js');
    emit(await runScalingBench({ reps: Math.min(reps, 3) }));
  }
  if (suite === 'report' || all) {
    const { runReportBench } = await import('../bench/report.js');
    emit(await runReportBench({ reps: Math.min(reps, 5) }));
  }
  if (suite === 'pacs' || all) {
    const { runPacsBench } = await import('../bench/pacs.js');
    emit(await runPacsBench({ reps: Math.min(reps, 5) }));
  }
  if (suite === 'soak') {
    const { runSoak } = await import('../bench/soak.js');
    const { report, ok } = await runSoak({ ...(values.slices ? { slices } : {}) });
    emit(report);
    if (!ok) return 1;
  }
  if (suite === 'localization') {
    const { runLocalizationBench } = await import('../bench/localization.js');
    emit(
      await runLocalizationBench({
        ...(values.set ? { set: values.set } : {}),
        ...(values.model ? { card: path.resolve(values.model) } : {}),
        ...(methods ? { methods: methods as CamMethod[] } : {}),
        ...(layers ? { layers } : {}),
      }),
    );
  }
  // The full report goes to bench/results/latest.md in a source checkout (or where --out says).
  const out = values.out ?? (all ? (repoFile('bench/results') ? path.join(repoFile('bench/results') as string, 'latest.md') : undefined) : undefined);
  if (out) {
    const head = `# ReSight benchmarks: \`resight bench --suite ${suite}\`\n\nRun ${new Date().toISOString()}. Medians of the repetitions; read the ratios (peers measured in the same run), not the absolute times.\n\n`;
    fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
    writeFileAtomic(out, head + parts.join('\n\n') + '\n');
    process.stdout.write(`(written to ${out})\n`);
  }
  return 0;
}
