/**
 * The DICOM mutation campaign: for iteration i of seed S, pick a corpus file and mutate it with
 * an Rng seeded by (S, i) alone, run the case in a worker (runner.ts), count the outcome, and
 * for each distinct failure (kind + stage + throwing site) minimise the input and save it.
 */
import * as fs from 'node:fs';
import type { DicomCaseResult } from './dicom-case';
import { listFindings, saveFinding } from './findings';
import { minimise } from './minimise';
import type { CorpusFile } from './mutators';
import { mutate } from './mutators';
import { Rng } from './prng';
import type { CaseOutcome } from './runner';
import { DicomRunner } from './runner';

export interface DicomCampaignOptions {
  iterations: number;
  seed: number;
  corpus: readonly CorpusFile[];
  /** The corpus folder (its canary files check the decoders for poisoning). */
  corpusDir?: string;
  /** First iteration number (to replay one: start at it, run 1). */
  startIteration?: number;
  jobs?: number;
  timeoutMs?: number;
  maxFrames?: number;
  maxOldGenerationSizeMb?: number;
  maxRssMb?: number;
  /** Restrict to these mutators. */
  mutators?: string[];
  /** Where to save minimised findings; null: do not save. */
  outDir?: string | null;
  minimise?: boolean;
  minimiseTries?: number;
  log?: (line: string) => void;
  /** Progress line every this many cases (0: none). */
  progressEvery?: number;
}

export interface DicomFinding {
  iteration: number;
  source: string;
  mutators: string[];
  kind: string;
  stage: string | undefined;
  message: string;
  name?: string;
  stack?: string;
  signature: string;
  /** Other iterations that failed with the same signature. */
  duplicates: number[];
  originalSize: number;
  minimisedSize?: number;
  minimiseTries?: number;
  reproduced?: boolean;
  /** Set when the failure appears only after the input ran this many times in one thread. */
  repeat?: number;
  savedTo?: string;
}

export interface DicomCampaignResult {
  iterations: number;
  /** 'ok', 'typed <stage>:<code>', 'finding <kind>' -> cases. */
  counts: Record<string, number>;
  findings: DicomFinding[];
  ms: number;
  /** Worker threads started (one per finding beyond the first set). */
  threadsStarted: number;
}

/** The first stack frame inside the repository's src/ (or any frame) as "function (file:line)". */
export function throwSite(stack: string | undefined): string {
  if (!stack) return '';
  const frames = stack.split('\n').filter((l) => /^\s+at /.test(l));
  const pick = frames.find((l) => /[/\\]src[/\\]/.test(l) && !/node_modules/.test(l)) ?? frames.find((l) => !/node:internal/.test(l)) ?? '';
  return pick.trim().replace(/^at /, '').replace(/\(.*[/\\](src|node_modules)[/\\]/, '($1/');
}

export function signatureOf(r: DicomCaseResult): string {
  return [r.kind ?? r.status, r.stage ?? '', throwSite(r.exception?.stack)].join('|');
}

export function outcomeKey(r: DicomCaseResult): string {
  if (r.status === 'ok') return 'ok';
  if (r.status === 'typed') return `typed ${r.stage}:${r.code}`;
  return `finding ${r.kind}`;
}

/** Build iteration i's input (a pure function of seed, i and the corpus). */
export function dicomCase(seed: number, iteration: number, corpus: readonly CorpusFile[], only?: readonly string[]): { source: CorpusFile; bytes: Uint8Array; steps: string[] } {
  const rng = new Rng(seed, iteration);
  const source = corpus[rng.int(corpus.length)];
  const { bytes, steps } = mutate(source, { rng, corpus }, only);
  return { source, bytes, steps };
}

const SLOW_KINDS = new Set(['timeout', 'oom', 'memory', 'crash']);
/** Kinds that may need the input to run many times in one thread to show (state left behind). */
const CUMULATIVE_KINDS = new Set(['codec-poisoned', 'oom', 'memory', 'crash', 'timeout']);
/** How many runs of one input a cumulative finding may take to reproduce. */
export const REPEAT_RUNS = 64;

export async function runDicomCampaign(opts: DicomCampaignOptions): Promise<DicomCampaignResult> {
  const log = opts.log ?? (() => {});
  const t0 = performance.now();
  const runner = new DicomRunner({ jobs: opts.jobs, timeoutMs: opts.timeoutMs, maxFrames: opts.maxFrames, maxOldGenerationSizeMb: opts.maxOldGenerationSizeMb, maxRssMb: opts.maxRssMb, corpusDir: opts.corpusDir });
  const counts: Record<string, number> = {};
  const bySignature = new Map<string, { finding: DicomFinding; bytes: Uint8Array; outcome: CaseOutcome }>();
  const start = opts.startIteration ?? 0;
  const end = start + opts.iterations;
  let next = start;
  let done = 0;
  try {
    await runner.warm();
    const loop = async () => {
      while (next < end) {
        const i = next++;
        const { source, bytes, steps } = dicomCase(opts.seed, i, opts.corpus, opts.mutators);
        const outcome = await runner.run(bytes);
        const key = outcomeKey(outcome);
        counts[key] = (counts[key] ?? 0) + 1;
        done++;
        if (outcome.status === 'finding') {
          const signature = signatureOf(outcome);
          const seen = bySignature.get(signature);
          if (seen) seen.finding.duplicates.push(i);
          else {
            const finding: DicomFinding = {
              iteration: i,
              source: source.name,
              mutators: steps,
              kind: outcome.kind ?? 'unknown',
              stage: outcome.stage,
              message: outcome.message ?? '',
              signature,
              duplicates: [],
              originalSize: bytes.length,
            };
            if (outcome.exception) {
              finding.name = outcome.exception.name;
              finding.stack = outcome.exception.stack;
            }
            bySignature.set(signature, { finding, bytes, outcome });
            log(`  finding at iteration ${i}: ${finding.kind} (${finding.stage ?? '-'}) ${finding.message.split('\n')[0].slice(0, 160)}  [${source.name}; ${steps.join(' | ')}]`);
          }
        }
        if (opts.progressEvery && done % opts.progressEvery === 0) {
          const s = (performance.now() - t0) / 1000;
          log(`  ${done}/${opts.iterations} cases, ${s.toFixed(1)} s, ${bySignature.size} distinct finding(s)`);
        }
      }
    };
    await Promise.all(Array.from({ length: runner.jobs }, loop));

    const findings = [...bySignature.values()].sort((a, b) => a.finding.iteration - b.finding.iteration);
    // A bug already saved by an earlier run (same kind, stage and throwing site) is not saved again;
    // hangs, crashes and memory findings carry no site, so each of those is kept.
    const savedSignatures = new Set(opts.outDir ? listFindings(opts.outDir).filter((f) => f.meta.target === 'dicom' && f.meta.signature?.split('|')[2]).map((f) => f.meta.signature) : []);
    for (const { finding, bytes } of findings) {
      if (savedSignatures.has(finding.signature)) {
        log(`  iteration ${finding.iteration} (${finding.kind}) is a bug already saved in ${opts.outDir}: not saved again`);
        continue;
      }
      if (opts.minimise !== false) {
        const slow = SLOW_KINDS.has(finding.kind);
        // A failure that state can build up to is only believed when it shows in a fresh thread
        // (the campaign's thread, or one left by an earlier try, may have run up to it).
        const cumulative = CUMULATIVE_KINDS.has(finding.kind);
        const once = async (candidate: Uint8Array) => signatureOf(cumulative ? await runner.runRepeated(candidate, 1) : await runner.run(candidate)) === finding.signature;
        let m = await minimise(bytes, once, {
          maxTries: slow ? Math.min(8, opts.minimiseTries ?? 150) : cumulative ? Math.min(40, opts.minimiseTries ?? 40) : (opts.minimiseTries ?? 150),
          maxMs: slow ? 6 * (opts.timeoutMs ?? 5000) : 90_000,
        });
        if (!m.reproduced && cumulative) {
          // It may build up over cases: run the input many times in one fresh thread.
          const repeated = async (candidate: Uint8Array) => signatureOf(await runner.runRepeated(candidate, REPEAT_RUNS)) === finding.signature;
          const probe = await runner.runRepeated(bytes, REPEAT_RUNS);
          if (signatureOf(probe) === finding.signature) {
            finding.repeat = REPEAT_RUNS;
            log(`  iteration ${finding.iteration} (${finding.kind}) shows after ${probe.runs} runs of the same input in one thread: minimising with repeats`);
            m = await minimise(bytes, repeated, { maxTries: Math.min(40, opts.minimiseTries ?? 40), maxMs: 240_000 });
          }
        }
        finding.reproduced = m.reproduced;
        finding.minimiseTries = m.tries;
        finding.minimisedSize = m.bytes.length;
        if (!m.reproduced) log(`  iteration ${finding.iteration} (${finding.kind}) did not reproduce on a second run: not saved`);
        if (opts.outDir && m.reproduced) {
          const saved = saveFinding(
            opts.outDir,
            {
              target: 'dicom',
              kind: finding.kind,
              message: finding.message,
              seed: opts.seed,
              iteration: finding.iteration,
              mutators: finding.mutators,
              source: finding.source,
              stage: finding.stage,
              name: finding.name,
              stack: finding.stack,
              signature: finding.signature,
              originalSize: finding.originalSize,
              minimisedSize: m.bytes.length,
              minimiseTries: m.tries,
              timeoutMs: runner.timeoutMs,
              ...(finding.repeat ? { repeat: finding.repeat } : {}),
            },
            [{ ext: '.dcm', bytes: m.bytes }],
          );
          if (saved) finding.savedTo = saved;
        }
      } else if (opts.outDir) {
        const saved = saveFinding(
          opts.outDir,
          { target: 'dicom', kind: finding.kind, message: finding.message, seed: opts.seed, iteration: finding.iteration, mutators: finding.mutators, source: finding.source, stage: finding.stage, name: finding.name, stack: finding.stack, signature: finding.signature, originalSize: finding.originalSize, timeoutMs: runner.timeoutMs },
          [{ ext: '.dcm', bytes }],
        );
        if (saved) finding.savedTo = saved;
      }
    }
    return { iterations: done, counts, findings: findings.map((f) => f.finding), ms: performance.now() - t0, threadsStarted: runner.started };
  } finally {
    await runner.close();
  }
}

/**
 * Replay saved .dcm files (regression): each must end in success or a typed error. Each file
 * runs under its own timeout (the one its campaign used), default `timeoutMs`.
 */
export async function replayDicomFiles(files: readonly (string | { file: string; timeoutMs?: number; repeat?: number })[], opts: { timeoutMs?: number; maxFrames?: number; corpusDir?: string } = {}): Promise<{ file: string; outcome: CaseOutcome }[]> {
  const items = files.map((f) =>
    typeof f === 'string' ? { file: f, timeoutMs: opts.timeoutMs ?? 5000, repeat: 1 } : { file: f.file, timeoutMs: f.timeoutMs ?? opts.timeoutMs ?? 5000, repeat: f.repeat ?? 1 },
  );
  const out: { file: string; outcome: CaseOutcome }[] = new Array(items.length);
  for (const timeoutMs of new Set(items.map((i) => i.timeoutMs))) {
    const runner = new DicomRunner({ jobs: 1, timeoutMs, maxFrames: opts.maxFrames, corpusDir: opts.corpusDir });
    try {
      for (const [k, item] of items.entries()) {
        if (item.timeoutMs !== timeoutMs) continue;
        const outcome = item.repeat > 1 ? await runner.runRepeated(new Uint8Array(fs.readFileSync(item.file)), item.repeat) : await runner.runFile(item.file);
        out[k] = { file: item.file, outcome };
      }
    } finally {
      await runner.close();
    }
  }
  return out;
}
