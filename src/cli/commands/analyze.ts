import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { parseArgs } from 'node:util';
import { scanPaths } from '../../core/dicom/scan';
import { ResightError } from '../../core/errors';
import { ResultCache } from '../../core/inference/cache';
import { defaultModelCard } from '../../core/inference/default-model';
import { defaultDataDir } from '../../core/inference/cache';
import { openAuditLog } from '../../core/audit/log';
import type { AuditLog, Pseudonym } from '../../core/audit/log';
import { analysisEntry, auditSubject, exportEntry, sendEntry } from '../../core/audit/entries';
import type { AuditSubject } from '../../core/audit/entries';
import { InferenceEngine } from '../../core/inference/engine';
import { resolveOperatingPoint } from '../../core/inference/operating-point';
import { isProviderName } from '../../core/inference/providers';
import { CAM_METHODS } from '../../core/explain/cam';
import type { CamMethod } from '../../core/explain/cam';
import { buildReportContext, reviewsAndAdded } from '../../core/report/build';
import { assertTargets, findingsCsvPath, reviewFields, writeExports, writeTarget } from '../../core/report/export';
import type { PaperSize } from '../../core/report/pdf';
import { DECISIONS, isDicomExport } from '../../shared/api';
import { reviewsOnStack } from '../../core/session/review-anchor';
import type { StoredReview } from '../../core/session/review-anchor';
import type { AnalysisResult } from '../../shared/analysis';
import { PROVIDER_NAMES } from '../../shared/analysis';
import type { FileError } from '../../shared/dicom';
import { describeDestination, storeFiles } from '../../core/pacs/store';
import type { PacsDestination } from '../../core/pacs/store';
import { assertPathsExist, count, destinationOption, progressBar, UsageError } from '../io';
import { findingLabelOrder, findingLabelsOf } from '../../shared/finding-labels';
import { sliceNumber, sliceRangeText, stackReadingStep, type ReadingStep } from '../../shared/planes';

export const ANALYZE_HELP = `resight analyze <path...> [--model <card.json>] [--json <out.json>|-] [--provider ${PROVIDER_NAMES.join('|')}]
                [--threads N] [--batch N] [--no-cache] [--insist-modality]
                [--report <out.pdf>] [--pdf-dicom <out.dcm>] [--sr <out.dcm>] [--sc-dir <dir>] [--csv <out.csv>]
                [--deidentify [--date-shift DAYS]] [--reviews <reviews.json>] [--reviewer NAME]
                [--paper a4|letter] [--cam-method M] [--cam-layer L] [--operating-point ID] [--no-clobber]
                [--allow-source-folder] [--send AET@host:port [--calling-ae AET]]
  Score every slice of every series with the model (default: the bundled CT lesion model),
  list study-level findings (runs of slices above the class threshold) and the timing.
  --operating-point picks one of the model card's named operating points (outputs.operatingPoints,
  e.g. specificity-90) instead of its default thresholds.
  --provider forces an execution provider (falls back to cpu, saying why); --no-cache
  bypasses the result cache (RESIGHT_CACHE_DIR, else the OS cache folder).
  Exports (each scored series; the 2nd series gets out-2.pdf, ...): --report PDF with key images,
  --pdf-dicom the same PDF as a DICOM Encapsulated PDF (for the PACS), --sr DICOM Comprehensive SR, --sc-dir DICOM Secondary Captures (heatmap burned in), --csv per-slice
  and per-finding CSV. --deidentify applies the DICOM PS3.15 Basic Profile to every output (the JSON
  too); --date-shift keeps dates, shifted. --reviews: decisions as saved by the viewer ([{findingId,
  decision, comment?, reviewer?, at, anchor?}]; a decision with an anchor applies where its instances are).
  An output file that exists is replaced (atomically: a failed run leaves the old one whole) unless
  --no-clobber; nothing is written inside the source folders unless --allow-source-folder.
  --send stores the DICOM exports (--sr, --sc-dir, --pdf-dicom) in a PACS by C-STORE once written
  (calling AE --calling-ae, default RESIGHT); the only network connection ReSight makes.`;

/** The analysis plus the files the scan could not use (the contract's JSON). */
export type AnalyzeJson = AnalysisResult & { errors: FileError[] };

/**
 * The run in words, on stdout. With --deidentify the outputs carry new UIDs, so the summary names a
 * series by its place in the run instead of the source's Series Instance UID: what a terminal shows
 * ends up in shell history, CI logs and tickets beside the de-identified files.
 */
function summary(result: AnalysisResult, errors: FileError[], deidentified = false, stepOf: (seriesId: string) => ReadingStep = () => 1): string {
  const lines: string[] = [];
  const name = (i: number, uid: string) => (deidentified ? `${i + 1} of ${result.series.length} (source UID withheld: --deidentify)` : uid);
  const r = result.providerReport;
  lines.push(`Model ${result.model.name} ${result.model.version} (sha256 ${result.model.sha256.slice(0, 12)}...) on ${r.used}, ${count(r.threads, 'thread')}${result.notForClinicalUse ? ' - not for clinical use' : ''}`);
  for (const f of r.fallbacks) lines.push(`  provider ${f.provider} not used: ${f.reason}`);
  const point = result.series.find((s) => s.operatingPoint)?.operatingPoint;
  if (point) lines.push(`Operating point ${point}: ${Object.entries(result.thresholds).map(([c, v]) => `${c} >= ${v.toFixed(3)}`).join(', ')}`);
  for (const [i, s] of result.series.entries()) {
    if (!s.scored) {
      lines.push(`Series ${name(i, s.seriesInstanceUid)} (${s.modality}): not scored: ${s.skipped?.message ?? ''}`);
      continue;
    }
    const failed = s.slices.filter((x) => x.probabilities === null);
    lines.push(`Series ${name(i, s.seriesInstanceUid)} (${s.modality}, ${count(s.slices.length, 'slice')}${failed.length ? `, ${failed.length} not scored` : ''})${s.cached ? ' [cached]' : ''}${s.outsideIntendedModality ? ' [outside the model\'s intended modality]' : ''}`);
    // not scored is not negative: a series none of whose slices could be scored has no result
    const why = failed.find((x) => x.error)?.error;
    if (failed.length && failed.length === s.slices.length) lines.push(`  no slice was scored${why ? `: ${why.code}: ${why.message}` : ''}`);
    else if (!s.findings.length) lines.push(`  no findings above the operating thresholds${failed.length ? ` on the ${s.slices.length - failed.length} scored slices` : ''}`);
    // slice numbers as the viewer and the report give them (from 1 in reading order: an axial
    // stack's top slice is 1); the JSON keeps 0-based indices in position order
    const step = stepOf(s.seriesId);
    // in the report's order under its labels (F1 nearest the head), as the PDF lists them
    const labels = findingLabelsOf(s.findings, [], step);
    for (const f of findingLabelOrder(s.findings, step)) {
      lines.push(`  ${labels.get(f.id) ?? ''} ${f.class}: ${f.sliceStart === f.sliceEnd ? 'slice' : 'slices'} ${sliceRangeText(f.sliceStart, f.sliceEnd, s.slices.length, step)} of ${s.slices.length}, key slice ${sliceNumber(f.keySlice, s.slices.length, step)}, score ${f.score.toFixed(3)} (threshold ${f.threshold.toFixed(3)})`);
    }
  }
  if (errors.length) lines.push(`${count(errors.length, 'file')} not used (see 'resight info')`);
  const t = result.timing;
  const ms = (x: number) => `${Math.round(x)} ms`;
  const cached = result.series.filter((s) => s.scored && s.cached);
  // results read from the cache were not timed now: say so instead of "0 slices in 1 ms (0.0 slices/s)"
  if (cached.length && t.slicesScored === 0) {
    lines.push(`Timing: results from the cache (${cached.length} series, ${count(cached.reduce((n, s) => n + s.slices.length, 0), 'slice')} scored earlier; --no-cache to score again) in ${ms(t.totalMs)}`);
  } else {
    lines.push(
      `Timing: ${t.slicesScored} slices in ${ms(t.totalMs)} (${t.slicesPerSecond.toFixed(1)} slices/s)${cached.length ? `, ${cached.length} series from the cache` : ''}; model load ${ms(t.modelLoadMs)}; ` +
        `decode ${ms(t.decodeMs)}, preprocess ${ms(t.preprocessMs)} (worker threads, overlapping), inference ${ms(t.inferenceMs)}`,
    );
  }
  return lines.join('\n');
}

/**
 * C-STORE the DICOM files an export wrote; every object's outcome on `out` (stderr when stdout
 * carries the JSON), a typed error when any was not stored (the association's own when it failed).
 */
async function sendExports(files: readonly { kind: string; path: string }[], pacs: PacsDestination, out: NodeJS.WritableStream, audit: (e: { destination: string; files: string[]; stored: number; total: number; errorCode?: string | undefined }) => void): Promise<void> {
  const dicom = files.filter((f) => isDicomExport(f.kind));
  const bar = progressBar('sending');
  const { outcomes, error } = await storeFiles(
    dicom.map((f) => f.path),
    pacs,
    { onProgress: (done, total) => bar.update(done, total) },
  );
  bar.end();
  const where = describeDestination(pacs);
  // the line says "NOT stored" once: the reason's own "not stored: " (store.ts) is not repeated
  const why = (o: (typeof outcomes)[number]) => (o.reason ?? '').replace(/^not stored: /, '') || 'no reason given';
  for (const o of outcomes) out.write(o.ok ? `sent ${o.file} to ${where}${o.status ? ` (warning 0x${o.status.toString(16)})` : ''}\n` : `NOT stored: ${o.file}: ${why(o)}\n`);
  const failed = outcomes.filter((o) => !o.ok);
  const stored = outcomes.length - failed.length;
  audit({ destination: where, files: dicom.map((f) => path.resolve(f.path)), stored, total: dicom.length, errorCode: error?.code });
  if (error) throw new ResightError(error.code, `${error.message} (${outcomes.length - failed.length} of ${count(outcomes.length, 'object')} stored before; the files are written)`);
  if (failed.length) throw new ResightError('PACS_REJECTED', `${failed.length} of ${count(outcomes.length, 'object')} not stored by ${where} (the files are written): ${failed[0] ? why(failed[0]) : ''}`);
}

const positiveInt = (name: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  if (!/^[1-9]\d*$/.test(v)) throw new UsageError(`--${name} must be a positive integer, got '${v}'`);
  return Number(v);
};

const reviewsSchema = z.array(
  z.object({ findingId: z.string().min(1), decision: z.enum(DECISIONS), comment: z.string().optional(), reviewer: z.string().optional(), at: z.string(), anchor: z.array(z.string()).optional(), point: z.tuple([z.number(), z.number()]).optional() }).strict(),
);

function readReviews(file: string): StoredReview[] {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ResightError('USAGE', `cannot read the reviews: ${(err as Error).message}`, { path: file });
  }
  const r = reviewsSchema.safeParse(raw);
  if (!r.success) throw new ResightError('VALIDATION', `not a list of reviews: ${r.error.issues[0]?.message ?? ''} at ${r.error.issues[0]?.path.join('.') ?? ''}`, { path: file });
  return r.data.map((x) => ({ findingId: x.findingId, decision: x.decision, at: x.at, ...(x.comment !== undefined ? { comment: x.comment } : {}), ...(x.reviewer !== undefined ? { reviewer: x.reviewer } : {}), ...(x.anchor ? { anchor: x.anchor } : {}), ...(x.point ? { point: x.point } : {}) }));
}

/** The folders a study was read from (a file's folder, or the folder itself). */
function sourceDirs(paths: readonly string[]): string[] {
  return paths.map((p) => {
    try {
      return fs.statSync(p).isDirectory() ? p : path.dirname(p);
    } catch {
      return path.dirname(p);
    }
  });
}

/** `--date-shift -30` as `--date-shift=-30`: parseArgs takes a value that starts with '-' for an option only in the second form. */
function joinNegativeValues(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const next = argv[i + 1];
    if (a === '--date-shift' && next !== undefined && /^-\d+$/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

export async function runAnalyze(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: joinNegativeValues(argv),
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
      'pdf-dicom': { type: 'string' },
      sr: { type: 'string' },
      'sc-dir': { type: 'string' },
      deidentify: { type: 'boolean' },
      'date-shift': { type: 'string' },
      csv: { type: 'string' },
      reviews: { type: 'string' },
      reviewer: { type: 'string' },
      paper: { type: 'string' },
      'cam-method': { type: 'string' },
      'cam-layer': { type: 'string' },
      'operating-point': { type: 'string' },
      // replacing is the default (as for any command's output file); kept so older scripts run
      overwrite: { type: 'boolean' },
      'no-clobber': { type: 'boolean' },
      'allow-source-folder': { type: 'boolean' },
      send: { type: 'string' },
      'calling-ae': { type: 'string' },
    },
  });
  if (!positionals.length) throw new UsageError('analyze needs at least one path');
  if (values.overwrite && values['no-clobber']) throw new UsageError('--overwrite and --no-clobber contradict each other');
  const overwrite = values['no-clobber'] !== true;
  assertPathsExist(positionals);
  if (values.provider !== undefined && !isProviderName(values.provider)) throw new UsageError(`--provider must be one of ${PROVIDER_NAMES.join(', ')}, got '${values.provider}'`);
  if (values.paper !== undefined && values.paper !== 'a4' && values.paper !== 'letter') throw new UsageError(`--paper must be a4 or letter, got '${values.paper}'`);
  if (values['date-shift'] !== undefined && !/^-?\d+$/.test(values['date-shift'])) throw new UsageError(`--date-shift must be a whole number of days, got '${values['date-shift']}'`);
  if (values['date-shift'] !== undefined && !values.deidentify) throw new UsageError('--date-shift needs --deidentify');
  if (values['date-shift'] !== undefined && Number(values['date-shift']) === 0) throw new UsageError('--date-shift 0 would keep the real dates: give a non-zero number of days, or leave it out to remove dates');
  if (values['cam-method'] !== undefined && !CAM_METHODS.includes(values['cam-method'] as CamMethod)) throw new UsageError(`--cam-method must be one of ${CAM_METHODS.join(', ')}`);
  // a JSON with decisions (--reviews) or de-identified is an export too: it needs the report context
  const exporting = Boolean(values.report || values['pdf-dicom'] || values.sr || values['sc-dir'] || values.csv || ((values.deidentify || values.reviews) && values.json && values.json !== '-'));
  if (values.deidentify && !exporting) throw new UsageError('--deidentify applies to exports: add --report, --pdf-dicom, --sr, --sc-dir, --csv or --json');
  if (values.deidentify && values.json === '-') throw new UsageError('--deidentify writes files: give --json a file name');
  const pacs = destinationOption('send', values.send, values['calling-ae']);
  if (pacs && !(values.sr || values['sc-dir'] || values['pdf-dicom'])) throw new UsageError('--send stores DICOM exports: add --sr, --sc-dir or --pdf-dicom');
  const reviews = values.reviews ? readReviews(values.reviews) : [];
  // fail before the work, not after it: --no-clobber keeps existing outputs, source folders stay untouched
  assertTargets(
    [
      values.json === '-' ? undefined : values.json,
      values.report,
      values['pdf-dicom'],
      values.sr,
      values.csv,
      values.csv ? findingsCsvPath(values.csv) : undefined,
      values['sc-dir'] ? path.join(values['sc-dir'], 'ReSight-SC-001.dcm') : undefined,
    ].filter((t): t is string => t !== undefined),
    { overwrite, sourceDirs: sourceDirs(positionals), allowSourceFolder: values['allow-source-folder'] === true },
  );
  const threads = positiveInt('threads', values.threads);
  const batchSize = positiveInt('batch', values.batch);
  const cardPath = values.model ?? defaultModelCard();
  if (!cardPath) throw new ResightError('MODEL_INVALID', 'no --model given and the default model (resources/models) was not found');

  const bar = progressBar('scanning');
  const scan = await scanPaths(positionals, { onProgress: (p) => bar.update(p.done, p.total) });
  bar.end();
  const series = scan.studies.flatMap((st) => st.series);
  if (!series.length) throw new ResightError('SERIES_NOT_FOUND', `no image series found in ${positionals.join(', ')}${scan.errors.length ? ` (${count(scan.errors.length, 'file')} not used, see 'resight info')` : ''}`);

  // the audit trail (core/audit): which patients' images this run read and where its exports went
  const audit: AuditLog | null = openAuditLog(defaultDataDir(), 'cli', (m) => process.stderr.write(`resight: warning: ${m}\n`));
  const byId = new Map(series.map((s) => [s.id, s]));
  const subject = (seriesIds: readonly string[]): AuditSubject => auditSubject(seriesIds.map((id) => byId.get(id)).filter((s) => s !== undefined), scan.studies);
  const engine = new InferenceEngine();
  try {
    const model = await engine.model(path.resolve(cardPath), { force: values.provider as (typeof PROVIDER_NAMES)[number] | undefined, threads });
    const op = resolveOperatingPoint(model.card, values['operating-point']);
    if (op.notFound) throw new UsageError(`--operating-point: ${op.notFound}`);
    const progress = progressBar('analyzing');
    const result = await engine.analyze(model, series, {
      // a cache that cannot be written costs the next run its speed, not this one its result
      cache: values['no-cache'] ? null : new ResultCache(undefined, (m) => process.stderr.write(`warning: ${m}\n`)),
      thresholds: op.thresholds,
      operatingPoint: op.id,
      insistModality: values['insist-modality'] === true,
      ...(batchSize ? { batchSize } : {}),
      onProgress: (p) => progress.update(p.done, p.total, `${p.slicesPerSecond.toFixed(0)} slices/s${p.etaSeconds !== null ? `, ${p.etaSeconds.toFixed(1)} s left` : ''}`),
    });
    progress.end();
    for (const a of result.series) audit?.record(analysisEntry(a, result.model, result.providerReport.used, subject([a.seriesId])));
    const out: AnalyzeJson = { ...result, errors: scan.errors };
    const writePlainJson = (file: string) => {
      writeTarget(file, JSON.stringify(out, null, 2) + '\n', overwrite, false);
      process.stdout.write(`wrote JSON ${file}\n`);
      // the scores and UIDs of these studies left in a file: an export like any other
      const all = result.series.map((a) => a.seriesId);
      audit?.record(exportEntry({ outcome: 0, subject: subject(all), files: [path.resolve(file)], formats: ['json'], deidentified: false, dateShifted: false }));
    };
    const scored = result.series.filter((s) => s.scored);
    if (values.json === '-') process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    else {
      // with exports, the JSON is one of them: written with the others, after every target is checked
      if (values.json && !exporting) writePlainJson(values.json);
      process.stdout.write(summary(result, scan.errors, values.deidentify === true, (id) => stackReadingStep(byId.get(id)?.geometry)) + '\n');
    }
    if (!scored.length) {
      // nothing to export, but the JSON says why each series was not scored (as without exports);
      // a de-identified one would need an analysed series to build from, so none is written
      if (exporting && values.json && values.json !== '-' && !values.deidentify) writePlainJson(values.json);
      const why = result.series[0]?.skipped;
      throw new ResightError(why?.code ?? 'SERIES_NOT_FOUND', `no series was scored: ${why?.message ?? ''}`);
    }
    if (exporting) {
      const bySeries = new Map(series.map((s) => [s.id, s]));
      const ebar = progressBar('exporting');
      const contexts = [];
      for (const [i, a] of scored.entries()) {
        ebar.update(i, scored.length + 1, 'key images');
        const s = bySeries.get(a.seriesId);
        if (!s) continue;
        // a decision saved with its instances applies to this series only where they are (review-anchor.ts)
        const decided = reviewsAndAdded(reviewsOnStack(reviews, s));
        contexts.push(
          await buildReportContext(s, a, model, result.providerReport, {
            reviews: decided.reviews.filter((r) => a.findings.some((f) => f.id === r.findingId)),
            added: decided.added,
            ...(decided.signOff ? { signOff: decided.signOff } : {}),
            ...(decided.impression ? { impression: decided.impression } : {}),
            ...(values.reviewer ? { reviewer: values.reviewer } : {}),
            cam: { ...(values['cam-method'] ? { method: values['cam-method'] as CamMethod } : {}), ...(values['cam-layer'] ? { layer: values['cam-layer'] } : {}) },
          }),
        );
      }
      const exported = scored.map((a) => a.seriesId);
      // named as the viewer's export names them (report.export's formats)
      const formats = ([['report', 'pdf'], ['pdf-dicom', 'epdf'], ['sr', 'sr'], ['sc-dir', 'sc'], ['csv', 'csv'], ['json', 'json']] as const).filter(([k]) => values[k] !== undefined && values[k] !== '-').map(([, f]) => f);
      const auditExport = (outcome: 0 | 8, files: readonly string[], outcomeText?: string, pseudonyms?: readonly Pseudonym[]) =>
        audit?.record(
          exportEntry({ outcome, outcomeText, reviewer: values.reviewer, subject: subject(exported), files: files.map((f) => path.resolve(f)), formats, deidentified: values.deidentify === true, dateShifted: values['date-shift'] !== undefined, pseudonyms }),
        );
      const written: string[] = [];
      // Ctrl-C or a kill while the files are written: the ones written so far are recorded, as a
      // failed export's are. Each file is written synchronously (temp file, then rename), so the
      // signal is taken between two files and no temp file is left behind (a SIGKILL can leave one)
      const interrupted = (signal: NodeJS.Signals) => {
        auditExport(8, written, `interrupted by ${signal}`);
        process.stderr.write(`resight: export interrupted by ${signal}${written.length ? `; written: ${written.join(', ')}` : ''}\n`);
        process.exit(signal === 'SIGINT' ? 130 : 143);
      };
      process.once('SIGINT', interrupted);
      process.once('SIGTERM', interrupted);
      const summaryOut = await writeExports(
        contexts,
        {
          ...(values.report ? { pdf: values.report } : {}),
          ...(values['pdf-dicom'] ? { pdfDicom: values['pdf-dicom'] } : {}),
          ...(values.sr ? { sr: values.sr } : {}),
          ...(values['sc-dir'] ? { scDir: values['sc-dir'] } : {}),
          ...(values.csv ? { csv: values.csv } : {}),
          ...(values.json && values.json !== '-' ? { json: values.json } : {}),
        },
        {
          overwrite,
          // the user named every target: the umask's modes, for whoever the files are for
          privateFiles: false,
          sourceDirs: sourceDirs(positionals),
          allowSourceFolder: values['allow-source-folder'] === true,
          ...(values.paper ? { paper: values.paper as PaperSize } : {}),
          ...(values.deidentify ? { deidentify: values['date-shift'] !== undefined ? { dateShiftDays: Number(values['date-shift']) } : true } : {}),
          json: { timing: result.timing, scanErrors: scan.errors.length },
          // not de-identified: the full analyze output (every series, the files not used), each
          // exported series with its decisions
          jsonDocument: (ctxs) => ({
            ...out,
            series: out.series.map((x) => {
              const c = ctxs.find((k) => k.analysis.seriesId === x.seriesId);
              return c ? { ...x, ...reviewFields(c) } : x;
            }),
          }),
          onProgress: (p) => ebar.update(p.done, p.total, p.step),
          onWritten: (f) => written.push(f),
        },
      )
        .catch((err: unknown) => {
          // what was written before the failure left the machine's control as much as a whole export
          auditExport(8, written, err instanceof ResightError ? err.code : 'INTERNAL');
          throw err;
        })
        .finally(() => {
          process.off('SIGINT', interrupted);
          process.off('SIGTERM', interrupted);
        });
      ebar.end();
      auditExport(0, summaryOut.files.map((f) => f.path), undefined, summaryOut.pseudonyms);
      // with --json -, stdout is the JSON document alone: what was written and sent goes to stderr
      const say = values.json === '-' ? process.stderr : process.stdout;
      for (const f of summaryOut.files) say.write(`wrote ${f.kind.toUpperCase()} ${f.path} (${(f.bytes / 1024).toFixed(0)} KiB)${summaryOut.deidentified ? ' [de-identified]' : ''}\n`);
      for (const w of summaryOut.warnings) process.stderr.write(`resight: warning: ${w}\n`);
      if (pacs) await sendExports(summaryOut.files, pacs, say, (e) => audit?.record(sendEntry({ ...e, subject: subject(exported), deidentified: summaryOut.deidentified, pseudonyms: summaryOut.pseudonyms })));
    }
    return 0;
  } finally {
    await engine.release();
  }
}
