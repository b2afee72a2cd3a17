/**
 * ReSight's fuzzing harness (`npm run fuzz -- --iterations N --seed S`):
 *
 *   1. DICOM mutation fuzzing of scan + parse + decode over the shared corpus (dicom-campaign.ts),
 *      every case in a worker thread under a heap limit and a timeout;
 *   2. contract fuzzing of the browser bridge over its WebSocket (contract.ts, --no-contract);
 *   3. model fuzzing of loadModel with corrupted ONNX files and cards (model-fuzz.ts, --no-models).
 *
 * Everything is a pure function of the seed. Findings are minimised and saved under --out
 * (test/fixtures/fuzz) as <kind>-<sha>.<ext> + <kind>-<sha>.json, which
 * test/integration/fuzz/fuzz.test.ts replays. Exit code: 0 no findings, 1 findings, 2 usage.
 *
 *   --iterations N          DICOM cases (default 1000)
 *   --seed S                (default 1)
 *   --corpus DIR            the DICOM corpus (default ../shared/dicom or RESIGHT_CORPUS)
 *   --out DIR               where findings go (default test/fixtures/fuzz)
 *   --no-save               do not write findings
 *   --timeout-ms MS         per DICOM case (default 5000)
 *   --jobs N                worker threads (default: min(2, cores))
 *   --max-frames N          frames decoded per case (default 4)
 *   --max-old-mb MB         heap limit of each worker thread (default 512)
 *   --max-rss-mb MB         resident-memory cap of the process while cases run (default 6144)
 *   --mutators a,b          only these mutators (bitflip, byterun, truncate, length, vr, reorder,
 *                           seq-bomb, huge-length, splice, field, pixels)
 *   --start I               first iteration (replay one case: --start I --iterations 1)
 *   --no-minimise           save findings as found
 *   --contract / --no-contract, --contract-iterations N   (default on; N = iterations/4, 100..2000)
 *   --models / --no-models, --model-iterations N           (default on; N = iterations/20, 20..500)
 *   --replay [DIR]          only replay the saved findings in DIR (default --out)
 *   --json FILE             also write the summary as JSON
 *   --quiet                 only the summary
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MUTATORS } from './mutators';
import { findCorpusDir, loadCorpus, REPO_ROOT } from './corpus';
import type { ContractFuzzResult } from './contract';
import { runContractFuzz } from './contract';
import type { DicomCampaignResult } from './dicom-campaign';
import { runDicomCampaign } from './dicom-campaign';
import type { ModelFuzzResult } from './model-fuzz';
import { runModelFuzz } from './model-fuzz';
import type { ReplayResult } from './replay';
import { replayFindings } from './replay';

export interface FuzzArgs {
  iterations: number;
  seed: number;
  corpus: string | undefined;
  out: string;
  save: boolean;
  timeoutMs: number;
  jobs: number;
  maxFrames: number;
  maxOldMb: number;
  maxRssMb: number;
  mutators: string[] | undefined;
  start: number;
  minimise: boolean;
  contract: boolean;
  contractIterations: number;
  models: boolean;
  modelIterations: number;
  replay: string | undefined;
  json: string | undefined;
  quiet: boolean;
}

export class UsageError extends Error {}

const clamp = (v: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, v));

export function parseArgs(argv: readonly string[]): FuzzArgs {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  const a: FuzzArgs = {
    iterations: 1000,
    seed: 1,
    corpus: undefined,
    out: path.join(REPO_ROOT, 'test', 'fixtures', 'fuzz'),
    save: true,
    timeoutMs: 5000,
    jobs: Math.max(1, Math.min(2, cores)),
    maxFrames: 4,
    maxOldMb: 512,
    maxRssMb: 6144,
    mutators: undefined,
    start: 0,
    minimise: true,
    contract: true,
    contractIterations: -1,
    models: true,
    modelIterations: -1,
    replay: undefined,
    json: undefined,
    quiet: false,
  };
  const int = (name: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n) || n < min) throw new UsageError(`${name} needs an integer >= ${min}, got ${v ?? 'nothing'}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const [flag, inline] = arg.startsWith('--') && eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '--iterations':
        a.iterations = int(flag, value(), 0);
        break;
      case '--seed':
        a.seed = int(flag, value(), 0);
        break;
      case '--corpus':
        a.corpus = value();
        break;
      case '--out':
        a.out = path.resolve(value() ?? '');
        break;
      case '--no-save':
        a.save = false;
        break;
      case '--timeout-ms':
        a.timeoutMs = int(flag, value(), 1);
        break;
      case '--jobs':
        a.jobs = int(flag, value(), 1);
        break;
      case '--max-frames':
        a.maxFrames = int(flag, value(), 1);
        break;
      case '--max-old-mb':
        a.maxOldMb = int(flag, value(), 16);
        break;
      case '--max-rss-mb':
        a.maxRssMb = int(flag, value(), 64);
        break;
      case '--mutators': {
        const list = (value() ?? '').split(',').map((s) => s.trim()).filter(Boolean);
        const unknown = list.filter((m) => !(m in MUTATORS));
        if (!list.length || unknown.length) throw new UsageError(`--mutators: unknown ${unknown.join(', ') || '(none given)'}; known: ${Object.keys(MUTATORS).join(', ')}`);
        a.mutators = list;
        break;
      }
      case '--start':
        a.start = int(flag, value(), 0);
        break;
      case '--no-minimise':
      case '--no-minimize':
        a.minimise = false;
        break;
      case '--contract':
        a.contract = true;
        break;
      case '--no-contract':
        a.contract = false;
        break;
      case '--contract-iterations':
        a.contractIterations = int(flag, value(), 0);
        break;
      case '--models':
        a.models = true;
        break;
      case '--no-models':
        a.models = false;
        break;
      case '--model-iterations':
        a.modelIterations = int(flag, value(), 0);
        break;
      case '--replay': {
        const next = inline ?? (argv[i + 1] && !argv[i + 1].startsWith('--') ? argv[++i] : undefined);
        a.replay = next ? path.resolve(next) : '';
        break;
      }
      case '--json':
        a.json = value();
        break;
      case '--quiet':
        a.quiet = true;
        break;
      case '--help':
      case '-h':
        throw new UsageError('');
      default:
        throw new UsageError(`unknown argument ${arg}`);
    }
  }
  if (a.contractIterations < 0) a.contractIterations = clamp(Math.round(a.iterations / 4), 100, 2000);
  if (a.modelIterations < 0) a.modelIterations = clamp(Math.round(a.iterations / 20), 20, 500);
  if (a.replay === '') a.replay = a.out;
  return a;
}

function table(counts: Record<string, number>): string[] {
  const keys = Object.keys(counts).sort((x, y) => {
    const rank = (k: string) => (k === 'ok' || k.startsWith('ok ') ? 0 : k.startsWith('finding') ? 2 : 1);
    return rank(x) - rank(y) || counts[y] - counts[x] || x.localeCompare(y);
  });
  const width = Math.max(10, ...keys.map((k) => k.length));
  return keys.map((k) => `    ${k.padEnd(width)}  ${String(counts[k]).padStart(6)}`);
}

export interface FuzzSummary {
  seed: number;
  dicom?: DicomCampaignResult;
  contract?: ContractFuzzResult;
  models?: ModelFuzzResult;
  replay?: ReplayResult[];
  findings: number;
  saved: string[];
  ms: number;
}

export async function main(argv: readonly string[]): Promise<number> {
  let args: FuzzArgs;
  try {
    args = parseArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      if (err.message) process.stderr.write(`fuzz: ${err.message}\n`);
      const doc = fs.readFileSync(__filename, 'utf8').split('*/')[0].replace(/^\/\*\*?/, '').replace(/^ \* ?/gm, '');
      process.stderr.write(`usage: npm run fuzz -- [options]\n${doc}\n`);
      return err.message ? 2 : 0;
    }
    throw err;
  }
  const t0 = performance.now();
  const log = args.quiet ? () => {} : (line: string) => process.stdout.write(`${line}\n`);
  const outDir = args.save ? args.out : null;
  const summary: FuzzSummary = { seed: args.seed, findings: 0, saved: [], ms: 0 };
  const lines: string[] = [];

  if (args.replay !== undefined) {
    log(`replaying saved findings in ${args.replay}`);
    const results = await replayFindings(args.replay, { dicomTimeoutMs: args.timeoutMs, maxFrames: args.maxFrames, corpusDir: args.corpus });
    summary.replay = results;
    const failing = results.filter((r) => !r.passed);
    summary.findings = failing.length;
    lines.push(`replay: ${results.length} saved finding(s), ${results.length - failing.length} now pass, ${failing.length} still fail`);
    for (const r of results) lines.push(`    ${r.passed ? 'pass' : 'FAIL'}  ${path.basename(r.jsonPath)}: ${r.outcome}`);
  } else {
    const corpusDir = findCorpusDir(args.corpus);
    const corpus = loadCorpus(corpusDir);
    log(`ReSight fuzz: seed ${args.seed}; ${args.iterations} DICOM case(s) over ${corpus.length} corpus files (${corpusDir}); jobs ${args.jobs}, timeout ${args.timeoutMs} ms, heap ${args.maxOldMb} MB/thread`);
    if (args.iterations > 0) {
      const dicom = await runDicomCampaign({
        iterations: args.iterations,
        seed: args.seed,
        corpus,
        corpusDir,
        startIteration: args.start,
        jobs: args.jobs,
        timeoutMs: args.timeoutMs,
        maxFrames: args.maxFrames,
        maxOldGenerationSizeMb: args.maxOldMb,
        maxRssMb: args.maxRssMb,
        mutators: args.mutators,
        outDir,
        minimise: args.minimise,
        log,
        progressEvery: args.iterations >= 2000 ? 1000 : args.iterations >= 500 ? 250 : 0,
      });
      summary.dicom = dicom;
      summary.findings += dicom.findings.reduce((n, f) => n + 1 + f.duplicates.length, 0);
      const perCase = dicom.iterations ? dicom.ms / dicom.iterations : 0;
      lines.push(`DICOM: ${dicom.iterations} cases in ${(dicom.ms / 1000).toFixed(1)} s (${perCase.toFixed(1)} ms/case wall, ${args.jobs} thread(s); ${dicom.threadsStarted} thread start(s))`);
      lines.push(...table(dicom.counts));
      for (const f of dicom.findings) {
        lines.push(`  finding: ${f.kind} at ${f.stage ?? '-'} (iteration ${f.iteration}${f.duplicates.length ? ` + ${f.duplicates.length} more` : ''}; ${f.source}; ${f.mutators.join(' | ')})`);
        lines.push(`    ${f.message.split('\n')[0].slice(0, 300)}`);
        const site = f.signature.split('|')[2];
        if (site) lines.push(`    at ${site}`);
        if (f.repeat) lines.push(`    shows only when the same input runs repeatedly in one thread (replayed ${f.repeat} times)`);
        if (f.savedTo) lines.push(`    saved ${path.relative(process.cwd(), f.savedTo)} (${f.originalSize} -> ${f.minimisedSize} bytes, ${f.minimiseTries} tries)`);
        else if (f.reproduced === false) lines.push('    did not reproduce on its own (not saved)');
        if (f.savedTo) summary.saved.push(f.savedTo);
      }
    }
    if (args.contract && args.contractIterations > 0) {
      log(`contract: ${args.contractIterations} payload(s) to the bridge`);
      const c = await runContractFuzz({ seed: args.seed, iterations: args.contractIterations, outDir, log });
      summary.contract = c;
      summary.findings += c.findings.length;
      lines.push(`contract: ${c.sent} payloads in ${(c.ms / 1000).toFixed(1)} s; server still answering: ${c.stillAnswering ? 'yes' : 'NO'}`);
      lines.push(...table(c.counts));
      const shown = new Set<string>();
      for (const f of c.findings) {
        const key = `${f.kind}|${f.message.slice(0, 120)}`;
        if (shown.has(key)) continue;
        shown.add(key);
        const n = c.findings.filter((g) => `${g.kind}|${g.message.slice(0, 120)}` === key).length;
        lines.push(`  finding: ${f.kind} (${n}x; first at payload ${f.iteration}, ${f.method}): ${f.payload.slice(0, 160)}`);
        const err = f.message.split('\n').find((l) => /Error\b.*:/.test(l)) ?? f.message.split('\n')[0];
        lines.push(`    ${err.trim().slice(0, 300)}`);
        if (f.savedTo) {
          lines.push(`    saved ${path.relative(process.cwd(), f.savedTo)}`);
          summary.saved.push(f.savedTo);
        }
      }
    }
    if (args.models && args.modelIterations > 0) {
      log(`models: ${args.modelIterations} corrupted model/card case(s)`);
      const m = await runModelFuzz({ seed: args.seed, iterations: args.modelIterations, outDir, log });
      summary.models = m;
      summary.findings += m.findings.length;
      lines.push(`models: ${m.iterations} cases in ${(m.ms / 1000).toFixed(1)} s (${(m.ms / Math.max(1, m.iterations)).toFixed(0)} ms/case)`);
      lines.push(...table(m.counts));
      const shown = new Set<string>();
      for (const f of m.findings) {
        if (shown.has(f.kind + f.message)) continue;
        shown.add(f.kind + f.message);
        lines.push(`  finding: ${f.kind} (iteration ${f.iteration}; ${f.steps.join(' | ')}): ${f.message.split('\n')[0].slice(0, 300)}`);
        if (f.savedTo) {
          lines.push(`    saved ${path.relative(process.cwd(), f.savedTo)}`);
          summary.saved.push(f.savedTo);
        }
      }
    }
  }
  summary.ms = performance.now() - t0;
  lines.push(`total: ${(summary.ms / 1000).toFixed(1)} s; findings: ${summary.findings}${summary.saved.length ? `; saved ${summary.saved.length} new fixture(s) in ${path.relative(process.cwd(), args.out) || '.'}` : ''}`);
  process.stdout.write(`\n${lines.join('\n')}\n`);
  if (args.json) fs.writeFileSync(args.json, JSON.stringify(summary, null, 2) + '\n');
  return summary.findings ? 1 : 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      // Workers, children and sockets are closed; leave nothing that keeps the process alive.
      setTimeout(() => process.exit(code), 200).unref();
    },
    (err: unknown) => {
      process.stderr.write(`fuzz: harness error: ${String((err as Error)?.stack ?? err)}\n`);
      process.exit(2);
    },
  );
}
