import { parseArgs } from 'node:util';
import { UsageError } from '../io';

export const BENCH_HELP = `resight bench [--suite ingest|inference|explain|all] [--slices N] [--reps N]
  Benchmarks with the peer a user would otherwise pick, side by side (Markdown table).`;

export async function runBench(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { suite: { type: 'string' }, slices: { type: 'string' }, reps: { type: 'string' } } });
  const suite = values.suite ?? 'all';
  if (!['ingest', 'inference', 'explain', 'all'].includes(suite)) throw new UsageError(`unknown suite '${suite}'`);
  const { runIngestBench } = await import('../bench/ingest.js');
  const slices = values.slices ? Number(values.slices) : 300;
  const reps = values.reps ? Number(values.reps) : 5;
  if (!Number.isInteger(slices) || slices < 2 || !Number.isInteger(reps) || reps < 1) throw new UsageError('--slices must be an integer >= 2 and --reps >= 1');
  if (suite === 'ingest' || suite === 'all') process.stdout.write((await runIngestBench({ slices, reps })) + '\n');
  if (suite === 'inference' || suite === 'explain') process.stdout.write(`suite '${suite}': arrives with the inference/explain engines\n`);
  return 0;
}
