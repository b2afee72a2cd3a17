import { parseArgs } from 'node:util';
import { UsageError } from '../io';

export const BENCH_HELP = `resight bench [--suite ingest|inference|explain|all] [--slices N]
  Benchmarks with the peer a user would otherwise pick, side by side (Markdown table).`;

export async function runBench(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { suite: { type: 'string' }, slices: { type: 'string' } } });
  const suite = values.suite ?? 'all';
  if (!['ingest', 'inference', 'explain', 'all'].includes(suite)) throw new UsageError(`unknown suite '${suite}'`);
  const { runIngestBench } = await import('../bench/ingest.js');
  const slices = values.slices ? Number(values.slices) : 300;
  if (suite === 'ingest' || suite === 'all') process.stdout.write((await runIngestBench({ slices })) + '\n');
  if (suite === 'inference' || suite === 'explain') process.stdout.write(`suite '${suite}': arrives with the inference/explain engines\n`);
  return 0;
}
