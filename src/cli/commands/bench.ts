import { parseArgs } from 'node:util';
import { UsageError } from '../io';

export const BENCH_HELP = `resight bench [--suite ingest|inference|explain|localization|soak|all] [--slices N] [--reps N]
              [--batch N] [--threads N] [--model <card.json>] [--set <localization set dir>]
  Benchmarks with the peer a user would otherwise pick, side by side (Markdown table):
  pydicom for ingest, PyTorch on the same weights for inference and Grad-CAM.
  'localization' (not in 'all': it generates a held-out phantom set first) scores the
  heatmaps against lesion masks: pointing game, energy inside the mask, deletion AUC.
  'soak' (npm run soak) opens, views, analyzes and closes a 1,000-slice series five times
  and fails unless memory comes back and no file handle is left open.`;

export async function runBench(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { suite: { type: 'string' }, slices: { type: 'string' }, reps: { type: 'string' }, batch: { type: 'string' }, threads: { type: 'string' }, model: { type: 'string' }, set: { type: 'string' } } });
  const suite = values.suite ?? 'all';
  if (!['ingest', 'inference', 'explain', 'localization', 'soak', 'all'].includes(suite)) throw new UsageError(`unknown suite '${suite}'`);
  const { runIngestBench } = await import('../bench/ingest.js');
  const slices = values.slices ? Number(values.slices) : 300;
  const reps = values.reps ? Number(values.reps) : 5;
  if (!Number.isInteger(slices) || slices < 2 || !Number.isInteger(reps) || reps < 1) throw new UsageError('--slices must be an integer >= 2 and --reps >= 1');
  const int = (name: string, v: string | undefined) => {
    if (v !== undefined && !/^[1-9]\d*$/.test(v)) throw new UsageError(`--${name} must be a positive integer`);
    return v === undefined ? undefined : Number(v);
  };
  const batch = int('batch', values.batch);
  const threads = int('threads', values.threads);
  if (suite === 'ingest' || suite === 'all') process.stdout.write((await runIngestBench({ slices, reps })) + '\n');
  if (suite === 'inference' || suite === 'all') {
    const { runInferenceBench } = await import('../bench/inference.js');
    process.stdout.write((await runInferenceBench({ slices, reps, ...(batch ? { batch } : {}), ...(threads ? { threads } : {}), ...(values.model ? { model: values.model } : {}) })) + '\n');
  }
  if (suite === 'explain' || suite === 'all') {
    const { runExplainBench } = await import('../bench/explain.js');
    process.stdout.write((await runExplainBench({ slices: Math.min(slices, 20), reps, ...(threads ? { threads } : {}) })) + '\n');
  }
  if (suite === 'soak') {
    const { runSoak } = await import('../bench/soak.js');
    const { report, ok } = await runSoak({ ...(values.slices ? { slices } : {}) });
    process.stdout.write(report + '\n');
    if (!ok) return 1;
  }
  if (suite === 'localization') {
    const { runLocalizationBench } = await import('../bench/localization.js');
    process.stdout.write((await runLocalizationBench({ ...(values.set ? { set: values.set } : {}) })) + '\n');
  }
  return 0;
}
