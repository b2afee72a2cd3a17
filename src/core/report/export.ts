/**
 * Export: the PDF report (also as DICOM Encapsulated PDF), DICOM SR, Secondary Captures, JSON and CSV of one or more analysed
 * series, optionally de-identified. Every target is checked before anything is written (an
 * existing file without `overwrite`, a target inside a source study folder), then each file is
 * written atomically (temp file + fsync + rename/link in the target folder), so an interrupted
 * export never leaves a partial file under a target name.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ResightError } from '../errors';
import type { ExportFormat } from '../../shared/api';
import { isAddedFinding } from '../../shared/review';
import { writeFileAtomic } from '../io/atomic';
import type { ReportContext } from './context';
import { deidentifyContext, draftReasons, findingLabels, mayHaveBurnedInText, reviewStatus } from './context';
import { Deidentifier } from './deidentify';
import type { DeidentifyOptions } from './deidentify';
import type { PaperSize } from './pdf';
import { renderPdf } from './pdf';
import { encapsulatedPdf } from './epdf';
import { scKeyImages, secondaryCaptures } from './sc';
import { structuredReport } from './sr';
import { findingsCsv, slicesCsv } from './tabular';

export interface ExportTargets {
  pdf?: string;
  /** The PDF report as a DICOM Encapsulated PDF object (for the PACS). */
  pdfDicom?: string;
  sr?: string;
  /** Folder for the Secondary Capture files (created when missing). */
  scDir?: string;
  json?: string;
  /** Per-slice CSV; the findings go to `<name>-findings.csv` beside it. */
  csv?: string;
}

export interface ExportOptions {
  overwrite?: boolean;
  /** Folders the studies were read from: nothing is written inside them unless allowed. */
  sourceDirs?: readonly string[];
  allowSourceFolder?: boolean;
  paper?: PaperSize;
  /** De-identify every output (PS3.15 Basic Profile; deidentify.ts). */
  deidentify?: boolean | DeidentifyOptions;
  /** Extra JSON fields (e.g. the analysis timing) merged into the JSON output. */
  json?: Record<string, unknown>;
  /** The JSON document to write instead of `exportJson(contexts, json)` (the CLI's full analyze
   * output with the reviews merged in); not used when de-identifying. */
  jsonDocument?: (contexts: readonly ReportContext[]) => unknown;
  onProgress?: (p: { step: string; done: number; total: number }) => void;
  /**
   * Files 0600 and new folders 0700 (default), for ReSight's own export folder. false: the
   * umask's modes, for targets the user named (a folder a PACS import service or colleagues read;
   * a default ACL then applies as the user set it).
   */
  privateFiles?: boolean;
  /** Called with each file once it is written: a caller that records where patient data went (the audit trail) learns of them even when a later file fails. */
  onWritten?: (file: string) => void;
}

export interface ExportSummary {
  files: { kind: ExportFormat; path: string; bytes: number }[];
  warnings: string[];
  deidentified: boolean;
  /**
   * De-identified: the identities the exports carry instead, per series (for the audit trail, which
   * keeps the link a privacy office needs between what left and whose it was; never written into
   * the exports themselves).
   */
  pseudonyms?: { patientId: string; patientName: string; studyInstanceUid: string; seriesInstanceUid: string }[];
}

interface Planned {
  kind: ExportSummary['files'][number]['kind'];
  path: string;
  produce: () => Promise<Uint8Array | string>;
  /** The series (its index among the contexts) the file belongs to; none: all of them (JSON, CSV). */
  series?: number;
}

/**
 * Each series' own files, relative to the JSON's folder, under its entry in the JSON
 * (`exports: {pdf, epdf, sr, sc: [...]}`): with several series the files are numbered by position
 * (`out-2.pdf`), and a batch run needs to know which series each one holds.
 */
function withExportFiles(doc: unknown, plan: readonly Planned[], seriesIds: readonly string[], jsonPath: string): unknown {
  const series = (doc as { series?: unknown } | null)?.series;
  if (!Array.isArray(series)) return doc;
  const rel = (p: string) => path.relative(path.dirname(path.resolve(jsonPath)), path.resolve(p)).split(path.sep).join('/');
  const filesOf = (i: number) => {
    const out: Record<string, string | string[]> = {};
    for (const p of plan.filter((x) => x.series === i)) {
      if (p.kind === 'sc') out['sc'] = [...((out['sc'] as string[] | undefined) ?? []), rel(p.path)];
      else out[p.kind] = rel(p.path);
    }
    return out;
  };
  return {
    ...(doc as object),
    series: series.map((entry: unknown) => {
      const i = seriesIds.indexOf(String((entry as { seriesId?: unknown }).seriesId));
      const files = i >= 0 ? filesOf(i) : {};
      return Object.keys(files).length ? { ...(entry as object), exports: files } : entry;
    }),
  };
}

/** `out.pdf` for the first series, `out-2.pdf`, `out-3.pdf`, ... for the next. */
export function nthPath(p: string, i: number): string {
  if (i === 0) return p;
  const ext = path.extname(p);
  return `${p.slice(0, p.length - ext.length)}-${i + 1}${ext}`;
}

/** The per-finding CSV beside a per-slice one: `out.csv` -> `out-findings.csv`. */
export function findingsCsvPath(csv: string): string {
  return csv.replace(/(\.csv)?$/i, '-findings.csv');
}

function realDir(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

/**
 * The deepest folder on the way to `target` that exists (`dir`: a file there means the target
 * cannot be written) and the names below it still to be made (`rest`).
 */
function existingAncestor(target: string): { dir: string; rest: string[] } {
  let dir = path.dirname(path.resolve(target));
  const rest: string[] = [];
  while (!fs.existsSync(dir) && path.dirname(dir) !== dir) {
    rest.unshift(path.basename(dir));
    dir = path.dirname(dir);
  }
  return { dir, rest };
}

const inside = (child: string, parent: string) => {
  const rel = path.relative(parent, child);
  return rel === '' || (rel !== '..' && !rel.startsWith('..' + path.sep) && !path.isAbsolute(rel));
};

export async function writeExports(contexts: readonly ReportContext[], targets: ExportTargets, options: ExportOptions = {}): Promise<ExportSummary> {
  if (!contexts.length) throw new ResightError('SERIES_NOT_FOUND', 'nothing to export: no analysed series');
  const deid = options.deidentify ? new Deidentifier(options.deidentify === true ? {} : options.deidentify) : null;
  const warnings: string[] = [];
  // De-identified exports leave out key images whose source may show the patient's identity in
  // its pixels (BurnedInAnnotation YES, or not stated for a modality that often has it).
  const safe = deid
    ? contexts.map((c) => {
        const risky = c.keyImages.filter((k) => mayHaveBurnedInText(k, c.series.modality));
        for (const k of risky) warnings.push(`key image of ${k.findingId} left out of the de-identified export: its source image may carry burned-in patient text (BurnedInAnnotation ${k.sourceBurnedIn ?? 'not stated'}, modality ${c.series.modality})`);
        return risky.length ? { ...c, keyImages: c.keyImages.filter((k) => !risky.includes(k)) } : c;
      })
    : contexts;
  const ctxs = deid ? safe.map((c) => deidentifyContext(c, deid)) : [...contexts];
  // One export id: the SR/SC UIDs derive from it, so objects of one export reference each other.
  const exportId = randomBytes(16).toString('hex');
  const plan: Planned[] = [];

  ctxs.forEach((ctx, i) => {
    // one rendering serves the PDF file and its DICOM wrapping
    let rendered: Promise<Uint8Array> | null = null;
    const pdfBytes = () =>
      (rendered ??= renderPdf(ctx, { ...(options.paper ? { paper: options.paper } : {}) }).then((r) => {
        warnings.push(...r.warnings);
        return r.bytes;
      }));
    if (targets.pdf) plan.push({ kind: 'pdf', path: nthPath(targets.pdf, i), produce: pdfBytes, series: i });
    if (targets.pdfDicom) plan.push({ kind: 'epdf', path: nthPath(targets.pdfDicom, i), produce: async () => encapsulatedPdf(ctx, await pdfBytes(), exportId).bytes, series: i });
    if (targets.sr) plan.push({ kind: 'sr', path: nthPath(targets.sr, i), produce: async () => structuredReport(ctx, exportId).bytes, series: i });
    if (targets.scDir) {
      const scs = secondaryCaptures.bind(null, ctx, exportId);
      let cache: ReturnType<typeof secondaryCaptures> | null = null;
      const labels = findingLabels(ctx);
      const kept = scKeyImages(ctx, labels);
      for (const k of ctx.keyImages) if (!kept.includes(k)) warnings.push(`key image of ${labels.get(k.findingId) ?? k.findingId} not written as a Secondary Capture: the reviewer rejected the finding (the PDF and the SR keep it)`);
      kept.forEach((_k, j) => {
        plan.push({
          kind: 'sc',
          path: path.join(targets.scDir as string, `ReSight-SC-${ctxs.length > 1 ? `${i + 1}-` : ''}${String(j + 1).padStart(3, '0')}.dcm`),
          produce: async () => (cache ??= scs())[j].bytes,
          series: i,
        });
      });
    }
  });
  if (targets.json) {
    plan.push({
      kind: 'json',
      path: targets.json,
      produce: async () => {
        const doc = options.jsonDocument && !deid ? options.jsonDocument(ctxs) : exportJson(ctxs, options.json ?? {});
        return JSON.stringify(withExportFiles(doc, plan, ctxs.map((c) => c.analysis.seriesId), targets.json as string), null, 2) + '\n';
      },
    });
  }
  if (targets.csv) {
    plan.push({ kind: 'csv', path: targets.csv, produce: async () => slicesCsv(ctxs) });
    plan.push({ kind: 'csv', path: findingsCsvPath(targets.csv), produce: async () => findingsCsv(ctxs) });
  }

  // Check every target before writing any.
  assertTargets(
    plan.map((p) => p.path),
    options,
  );

  const files: ExportSummary['files'] = [];
  for (const [n, p] of plan.entries()) {
    options.onProgress?.({ step: `${p.kind} ${path.basename(p.path)}`, done: n, total: plan.length });
    const data = await p.produce();
    writeTarget(p.path, data, options.overwrite === true, options.privateFiles !== false);
    options.onWritten?.(p.path);
    files.push({ kind: p.kind, path: p.path, bytes: typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength });
  }
  options.onProgress?.({ step: 'done', done: plan.length, total: plan.length });
  return {
    files,
    warnings: [...new Set(warnings)],
    deidentified: deid !== null,
    ...(deid ? { pseudonyms: ctxs.map((c) => ({ patientId: c.patient.id, patientName: c.patient.name, studyInstanceUid: c.study.studyInstanceUid, seriesInstanceUid: c.series.seriesInstanceUid })) } : {}),
  };
}

/**
 * Write one export file atomically, creating its folder; every failure is a typed error naming
 * the file (a file where a folder should be, no permission, a full disk, ...).
 */
export function writeTarget(target: string, data: Uint8Array | string, overwrite: boolean, privateFiles = true): void {
  try {
    // in ReSight's own export folder, the user's alone; where the user named the target, as the
    // umask (and the folder's default ACL) say, so whoever the user writes it for can read it
    fs.mkdirSync(path.dirname(path.resolve(target)), { recursive: true, ...(privateFiles ? { mode: 0o700 } : {}) });
    writeFileAtomic(target, data, { overwrite, mode: privateFiles ? 0o600 : 0o666 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' && fs.existsSync(target)) throw new ResightError('EXPORT_EXISTS', 'the file appeared while exporting (and existing files are kept)', { path: target });
    throw new ResightError('EXPORT_FAILED', `cannot write: ${(err as Error).message}`, { path: target, cause: err });
  }
}

/**
 * Refuse targets that must not be written: two outputs to one file, a file inside a source
 * study folder (unless allowed), an existing file (unless `overwrite`), a folder.
 */
export function assertTargets(paths: readonly string[], options: Pick<ExportOptions, 'overwrite' | 'sourceDirs' | 'allowSourceFolder'>): void {
  const sources = (options.sourceDirs ?? []).map(realDir);
  const seen = new Set<string>();
  for (const p of paths) {
    // the target's folder as it will be after creation, resolved through symlinks where it exists
    const { dir, rest } = existingAncestor(p);
    const abs = path.join(realDir(dir), ...rest, path.basename(p));
    if (seen.has(abs)) throw new ResightError('USAGE', 'two outputs would be written to the same file', { path: p });
    seen.add(abs);
    if (!options.allowSourceFolder) {
      const src = sources.find((s) => inside(abs, s));
      if (src) throw new ResightError('EXPORT_TARGET_FORBIDDEN', `refusing to write into the source study folder ${src} (choose another folder, or allow it explicitly)`, { path: p });
    }
    if (!fs.statSync(dir).isDirectory()) throw new ResightError('EXPORT_FAILED', `${dir} is a file, not a folder`, { path: p });
    if (fs.existsSync(p)) {
      if (fs.statSync(p).isDirectory()) throw new ResightError('EXPORT_FAILED', 'the target is a folder', { path: p });
      if (!options.overwrite) throw new ResightError('EXPORT_EXISTS', 'the file exists (and existing files are kept: leave out --no-clobber to replace it)', { path: p });
    }
  }
}

/**
 * The series' decisions split by whether this analysis lists their finding. Findings and their ids
 * depend on the operating point (docs/viewer.md), so a reviewer may have decided on findings
 * drawn at another point; those decisions are kept, but apart, so a reader of `reviews` never
 * meets an id that `findings` lacks. Reviewer-added findings (`added:...`) always count as listed.
 */
export function splitReviews(ctx: ReportContext): { listed: ReportContext['reviews']; unlisted: ReportContext['reviews'] } {
  const ids = new Set(ctx.analysis.findings.map((f) => f.id));
  const listed = ctx.reviews.filter((r) => ids.has(r.findingId) || isAddedFinding(r.findingId));
  return { listed, unlisted: ctx.reviews.filter((r) => !listed.includes(r)) };
}

/** What a series' JSON entry carries beyond its analysis: the decisions, the reviewer's findings and measurements. */
export function reviewFields(ctx: ReportContext): Record<string, unknown> {
  const { listed, unlisted } = splitReviews(ctx);
  // each finding with its label (F1, F2, ...) as the PDF, SR, CSV and key images name it
  const labels = findingLabels(ctx);
  const draft = draftReasons(reviewStatus(ctx));
  return {
    findings: ctx.analysis.findings.map((f) => ({ ...f, label: labels.get(f.id) })),
    reviews: listed,
    ...(unlisted.length ? { reviewsOfUnlistedFindings: unlisted } : {}),
    addedFindings: ctx.added.map((a) => ({ ...a, label: labels.get(a.id) })),
    // final or a draft, and why, as the PDF's DRAFT line and the SR's review status say it
    reviewStatus: { final: draft.length === 0, draftReasons: draft },
    ...(ctx.signOff ? { signOff: ctx.signOff } : {}),
    ...(ctx.impression ? { impression: ctx.impression } : {}),
    ...(ctx.measurements.length ? { measurements: ctx.measurements } : {}),
  };
}

/** The analyze JSON schema for the exported series (with reviews; no file paths). */
export function exportJson(ctxs: readonly ReportContext[], extra: Record<string, unknown>): Record<string, unknown> {
  const c0 = ctxs[0];
  return {
    model: { name: c0.model.name, version: c0.model.version, sha256: c0.model.sha256 },
    provider: c0.provider.used,
    providerReport: c0.provider,
    classes: c0.model.classes,
    thresholds: c0.model.thresholds,
    notForClinicalUse: c0.model.notForClinicalUse,
    ...extra,
    series: ctxs.map((c) => ({ ...c.analysis, ...reviewFields(c) })),
    ...(c0.deidentified ? { deidentified: c0.deidentified } : {}),
    exportedAt: c0.createdAt.toISOString(),
  };
}
