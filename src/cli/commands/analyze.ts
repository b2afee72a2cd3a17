import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { scanPaths } from '../../core/dicom/scan';
import { ResightError } from '../../core/errors';
import { ResultCache } from '../../core/inference/cache';
import { defaultModelCard } from '../../core/inference/default-model';
import { InferenceEngine } from '../../core/inference/engine';
import { isProviderName } from '../../core/inference/providers';
import type { AnalysisResult } from '../../shared/analysis';
import { PROVIDER_NAMES } from '../../shared/analysis';
import type { FileError } from '../../shared/dicom';
import { progressBar, UsageError, writeFileAtomic } from '../io';

export const ANALYZE_HELP = `resight analyze <path...> [--model <card.json>] [--json <out.json>|-] [--provider ${PROVIDER_NAMES.join('|')}]
                [--threads N] [--batch N] [--no-cache] [--insist-modality]
                [--report <out.pdf>] [--sr <out.dcm>] [--sc-dir <dir>] [--deidentify]
  Score every slice of every series with the model (default: the bundled CT lesion model),
  list study-level findings (runs of slices above the class threshold) and the timing.
  --provider forces an execution provider (falls back to cpu, saying why); --no-cache
  bypasses the result cache (RESIGHT_CACHE_DIR, else the OS cache folder).`;

/** The analysis plus the files the scan could not use (the contract's JSON). */
export type AnalyzeJson = AnalysisResult & { errors: FileError[] };

function summary(result: AnalysisResult, errors: FileError[]): string {
  const lines: string[] = [];
  const r = result.providerReport;
  lines.push(`Model ${result.model.name} ${result.model.version} (sha256 ${result.model.sha256.slice(0, 12)}...) on ${r.used}, ${r.threads} thread(s)${result.notForClinicalUse ? ' - not for clinical use' : ''}`);
  for (const f of r.fallbacks) lines.push(`  provider ${f.provider} not used: ${f.reason}`);
  for (const s of result.series) {
    if (!s.scored) {
      lines.push(`Series ${s.seriesInstanceUid} (${s.modality}): not scored: ${s.skipped?.message ?? ''}`);
      continue;
    }
    const failed = s.slices.filter((x) => x.probabilities === null).length;
    lines.push(`Series ${s.seriesInstanceUid} (${s.modality}, ${s.slices.length} slices${failed ? `, ${failed} not decodable` : ''})${s.cached ? ' [cached]' : ''}${s.outsideIntendedModality ? ' [outside the model\'s intended modality]' : ''}`);
    if (!s.findings.length) lines.push('  no findings above the operating thresholds');
    for (const f of s.findings) {
      lines.push(`  ${f.class}: slices ${f.sliceStart}-${f.sliceEnd}, key slice ${f.keySlice}, score ${f.score.toFixed(3)} (threshold ${f.threshold.toFixed(3)})`);
    }
  }
  if (errors.length) lines.push(`${errors.length} file(s) not used (see 'resight info')`);
  const t = result.timing;
  const ms = (x: number) => `${Math.round(x)} ms`;
  lines.push(
    `Timing: ${t.slicesScored} slices in ${ms(t.totalMs)} (${t.slicesPerSecond.toFixed(1)} slices/s); model load ${ms(t.modelLoadMs)}; ` +
      `decode ${ms(t.decodeMs)}, preprocess ${ms(t.preprocessMs)} (worker threads, overlapping), inference ${ms(t.inferenceMs)}`,
  );
  return lines.join('\n');
}

const positiveInt = (name: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  if (!/^[1-9]\d*$/.test(v)) throw new UsageError(`--${name} must be a positive integer, got '${v}'`);
  return Number(v);
};

export async function runAnalyze(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      model: { type: 'string' },
      json: { type: 'string' },
      provider: { type: 'string' },
      threads: { type: 'string' },
      batch: { type: 'string' },
      'no-cache': { type: 'boolean' },
      'insist-modality': { type: 'boolean' },
      report: { type: 'string' },
      sr: { type: 'string' },
      'sc-dir': { type: 'string' },
      deidentify: { type: 'boolean' },
    },
  });
  if (!positionals.length) throw new UsageError('analyze needs at least one path');
  if (values.provider !== undefined && !isProviderName(values.provider)) throw new UsageError(`--provider must be one of ${PROVIDER_NAMES.join(', ')}, got '${values.provider}'`);
  for (const flag of ['report', 'sr', 'sc-dir', 'deidentify'] as const) {
    if (values[flag] !== undefined) throw new ResightError('NOT_IMPLEMENTED', `--${flag} is not yet implemented in this build (reports and exports arrive with the report engine)`);
  }
  const threads = positiveInt('threads', values.threads);
  const batchSize = positiveInt('batch', values.batch);
  const cardPath = values.model ?? defaultModelCard();
  if (!cardPath) throw new ResightError('MODEL_INVALID', 'no --model given and the default model (resources/models) was not found');

  const bar = progressBar('scanning');
  const scan = await scanPaths(positionals, { onProgress: (p) => bar.update(p.done, p.total) });
  bar.end();
  const series = scan.studies.flatMap((st) => st.series);
  if (!series.length) throw new ResightError('SERIES_NOT_FOUND', `no image series found in ${positionals.join(', ')}${scan.errors.length ? ` (${scan.errors.length} file(s) not used, see 'resight info')` : ''}`);

  const engine = new InferenceEngine();
  try {
    const model = await engine.model(path.resolve(cardPath), { force: values.provider as (typeof PROVIDER_NAMES)[number] | undefined, threads });
    const progress = progressBar('analyzing');
    const result = await engine.analyze(model, series, {
      cache: values['no-cache'] ? null : new ResultCache(),
      insistModality: values['insist-modality'] === true,
      ...(batchSize ? { batchSize } : {}),
      onProgress: (p) => progress.update(p.done, p.total, `${p.slicesPerSecond.toFixed(0)} slices/s${p.etaSeconds !== null ? `, ${p.etaSeconds.toFixed(1)} s left` : ''}`),
    });
    progress.end();
    const out: AnalyzeJson = { ...result, errors: scan.errors };
    if (values.json === '-') process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    else {
      if (values.json) writeFileAtomic(values.json, JSON.stringify(out, null, 2) + '\n');
      process.stdout.write(summary(result, scan.errors) + '\n');
    }
    const scored = result.series.filter((s) => s.scored);
    if (!scored.length) {
      const why = result.series[0]?.skipped;
      throw new ResightError(why?.code ?? 'SERIES_NOT_FOUND', `no series was scored: ${why?.message ?? ''}`);
    }
    return 0;
  } finally {
    await engine.release();
  }
}
