/**
 * The state the viewer drives (ARCHITECTURE.md "core/session"): the folders the user granted,
 * the studies opened from them, decoded volumes, the model, analysis jobs and the reviewer's
 * decisions. Transport-agnostic: the Electron main process and the browser bridge each hold one
 * Session and hand it the contract's calls through `dispatch`.
 *
 * Access: only paths inside the roots the transport granted (the open dialog, drag and drop, the
 * `serve` command line) can be opened. Nothing is written into a study folder; decisions are
 * kept in the app's data folder when one is given.
 */
import { listTags } from '../dicom/tags';
import { readOverlays } from '../dicom/overlays';
import { buildReportContext, reviewsAndAdded } from '../report/build';
import { EXPORT_NAMES, exportFolderName } from './resources';
import { writeExports } from '../report/export';
import type { ExportSummary } from '../report/export';
import { createHash, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ProviderName, SeriesAnalysis } from '../../shared/analysis';
import type { Events, EventName, ExplainResult, ExportResult, ModelInfo, OpenResult, PacsInfo, Params, Results, Review, SeriesInfo } from '../../shared/api';
import { isDicomExport } from '../../shared/api';
import { describeDestination, parseDestination, storeFiles } from '../pacs/store';
import type { PacsDestination } from '../pacs/store';
import type { FileError, StudySummary, TagEntry } from '../../shared/dicom';
import { pickCalibration } from '../../shared/dicom';
import { applySettingsPatch, loadSettings, refuseLocked, updateSettings, withoutLocked, withPolicy } from '../settings/file';
import { loadPolicy, lockedPreferences, policyRefusesDestination } from '../settings/policy';
import { pacsSettingSchema, settingsSchema } from '../../shared/settings';
import type { Preferences, Settings } from '../../shared/settings';
import { scanPaths } from '../dicom/scan';
import { assembleStudies, isMainStack } from '../dicom/series';
import type { AssembledSeries, AssembledStudy } from '../dicom/series';
import { ResightError, toErrorInfo } from '../errors';
import { Explainer } from '../explain/explainer';
import type { VoxelArray } from '../imaging/volume';
import { VolumeCache } from '../imaging/volume';
import { ResultCache } from '../inference/cache';
import { defaultModelCard } from '../inference/default-model';
import { InferenceEngine } from '../inference/engine';
import type { LoadedModel } from '../inference/model';
import { operatingPoints, resolveOperatingPoint } from '../inference/operating-point';
import type { ResolvedOperatingPoint } from '../inference/operating-point';
import { writeFileAtomic } from '../io/atomic';
import { anchorReview, reviewKey, reviewsOnStack, storedReviews } from './review-anchor';
import { openAuditLog } from '../audit/log';
import { analysisEntry, auditSubject, exportEntry, sendEntry } from '../audit/entries';
import type { AuditSubject } from '../audit/entries';
import type { AuditLog, AuditOutcome, AuditProcess } from '../audit/log';
import type { StoredReview } from './review-anchor';
import { mapMax } from '../explain/geometry';

export interface SessionOptions {
  /** The model card to use (default: the bundled model). */
  modelCard?: string | undefined;
  /** Provider preference (a setting). */
  provider?: ProviderName | undefined;
  threads?: number | undefined;
  /** App data folder: reviews are saved here. None: reviews live in memory only. */
  dataDir?: string | undefined;
  /** Analysis result cache folder (default: the OS cache folder; null disables). */
  cacheDir?: string | null | undefined;
  /** How the transport serves slice i of a series (a template with `{i}`). */
  sliceUrl: (seriesId: string) => string;
  /** Where exports go (default: `<dataDir>/exports`, else a folder under the OS temp folder). */
  exportDir?: string | undefined;
  /** How the transport serves an exported file (folder and file name relative to exportDir). */
  exportUrl?: ((folder: string, name: string) => string) | undefined;
  /** Where exports may be sent (`resight serve --pacs`); default: settings.json's `pacs`. */
  pacs?: { destination: string; callingAeTitle?: string | undefined } | undefined;
  /**
   * The audit trail (core/audit): default, the data folder's as the environment configures it
   * (RESIGHT_AUDIT_DIR, RESIGHT_AUDIT=off); null: none.
   */
  audit?: AuditLog | null | undefined;
  /** Which program holds the session, for the audit trail (default `serve`). */
  auditProcess?: AuditProcess | undefined;
}

type ExportPseudonyms = ExportSummary['pseudonyms'];

type Emit = <E extends EventName>(event: E, payload: Events[E]) => void;

/** Strip a study tree to its wire form (no headers, no absolute paths). */
function summary(st: AssembledStudy): StudySummary {
  return { ...st, series: st.series.map(({ ordered: _o, headers: _h, instances: _i, ...s }) => ({ ...s, instances: [] })) };
}

/** Where a session with these options writes exports. */
export function exportRootOf(opts: Pick<SessionOptions, 'exportDir' | 'dataDir'>): string {
  // '' is no folder (it would resolve to the current one)
  return path.resolve(opts.exportDir || (opts.dataDir ? path.join(opts.dataDir, 'exports') : path.join(os.tmpdir(), 'resight-exports')));
}

export class Session {
  private readonly roots = new Set<string>();
  private readonly studies = new Map<string, AssembledStudy>();
  private readonly series = new Map<string, AssembledSeries>();
  readonly engine: InferenceEngine;
  private readonly explainer = new Explainer();
  private readonly analyses = new Map<string, SeriesAnalysis>();
  private readonly jobs = new Map<string, { seriesId: string; abort: AbortController }>();
  /**
   * Per SeriesInstanceUID (one review file): every stored decision on the series. The stacks of a
   * split series share it; each shows the decisions whose instances it holds (review-anchor.ts).
   */
  private readonly reviews = new Map<string, StoredReview[]>();
  private readonly listeners = new Set<Emit>();
  private modelPromise: Promise<LoadedModel> | undefined;

  /** Who opened, analysed, decided on, exported and sent what (core/audit); null when off. */
  readonly audit: AuditLog | null;

  constructor(private readonly opts: SessionOptions) {
    this.engine = new InferenceEngine({ volumes: new VolumeCache() });
    this.audit =
      opts.audit !== undefined ? opts.audit : openAuditLog(opts.dataDir, opts.auditProcess ?? 'serve', (m) => process.stderr.write(`ReSight: ${m}\n`));
    this.audit?.record({ event: 'applicationActivity', type: 'applicationStart', action: 'E', what: 'session.start' });
  }

  /** The patient, study and series of a series, as the audit trail names them. */
  private auditSubject(s: AssembledSeries): AuditSubject {
    const st = this.studies.get(s.studyInstanceUid);
    return auditSubject([s], st ? [st] : []);
  }

  /** Let the renderer open these files/folders (and anything inside them). */
  grant(paths: readonly string[]): void {
    for (const p of paths) this.roots.add(path.resolve(p));
  }

  isGranted(p: string): boolean {
    const abs = path.resolve(p);
    for (const root of this.roots) if (abs === root || abs.startsWith(root.endsWith(path.sep) ? root : root + path.sep)) return true;
    return false;
  }

  onEvent(listener: Emit): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit: Emit = (event, payload) => {
    for (const l of this.listeners) l(event, payload);
  };

  /** A file's name relative to the granted root holding it (what the UI may show). */
  private display(p: string): string {
    const abs = path.resolve(p);
    for (const root of this.roots) if (abs.startsWith(root)) return path.relative(path.dirname(root), abs) || path.basename(abs);
    return path.basename(abs);
  }

  /**
   * A message as the UI may show it: the engine names files by absolute path in some messages
   * ("same SOP Instance UID as /data/...", a cut file), and replies never carry one (the renderer
   * is the less trusted side). Paths under a granted root read as `display` writes them.
   */
  displayText(text: string): string {
    let out = text.split(this.exportRoot).join('the export folder');
    // longest roots first, so a root inside another is shown relative to itself
    for (const root of [...this.roots].sort((a, b) => b.length - a.length)) {
      if (path.dirname(root) === root) continue; // a file system root: nothing shorter to show
      // the root as a whole path component (not the start of a longer name)
      const re = new RegExp(`${root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?=$|[\\/\\s:,;)'"])`, 'g');
      out = out.replace(re, path.basename(root));
    }
    return out;
  }

  async open({ paths }: Params<'studies.open'>): Promise<OpenResult> {
    const denied = paths.filter((p) => !this.isGranted(p));
    // browser mode has no open dialog: the folders are the ones given to 'resight serve'
    if (denied.length) {
      // the renderer asked for files it was not given: worth an administrator's look
      this.audit?.record({ event: 'securityAlert', action: 'E', outcome: 4, outcomeText: 'ACCESS_DENIED', what: 'access.denied', objects: denied.slice(0, 20).map((p) => ({ role: 'path', id: String(p).slice(0, 1000) })) });
      throw new ResightError('ACCESS_DENIED', `not opened: ${denied.length} path(s) outside the folders this session may read (the desktop app: open them with File > Open or drag and drop; browser mode: give them to 'resight serve')`);
    }
    const missing = paths.filter((p) => !fs.existsSync(p));
    if (missing.length === paths.length) throw new ResightError('FILE_UNREADABLE', `not found: ${missing.map((p) => this.display(p)).join(', ')}`);
    const result = await scanPaths(paths, { onProgress: (p) => this.emit('scan.progress', { done: p.done, total: p.total, errors: p.errors }) });
    const errors = [...result.errors];
    for (const st of result.studies) {
      this.addStudy(st, errors);
      const instances = st.series.reduce((n, x) => n + x.instances.length, 0);
      this.audit?.record({
        event: 'instancesAccessed',
        action: 'R',
        what: 'study.open',
        patients: [{ id: st.patient.id, name: st.patient.name }],
        objects: [{ role: 'study', id: st.studyInstanceUid }],
        detail: { series: st.series.length, instances },
      });
    }
    this.lastUnused = errors.map((e) => ({ file: this.display(e.path), code: e.code, message: this.displayText(e.message) }));
    return {
      // as the session now holds them (a study opened before includes what it had)
      studies: result.studies.map((st) => summary(this.studies.get(st.studyInstanceUid) ?? st)),
      unused: this.lastUnused,
      filesScanned: result.filesScanned,
    };
  }

  /**
   * Add a scanned study. A study that is already open (a second folder of the same exam: other
   * series, or the rest of a series) is re-assembled from all its files, so nothing opened earlier
   * disappears; opening the same files again changes nothing. Series whose slices changed lose
   * their decoded volumes and analysis (their slice numbers may have moved); decisions stay.
   */
  private addStudy(st: AssembledStudy, errors: FileError[]): void {
    const old = this.studies.get(st.studyInstanceUid);
    if (!old) {
      this.studies.set(st.studyInstanceUid, st);
      for (const s of st.series) this.series.set(s.id, s);
      return;
    }
    const had = old.series.flatMap((s) => s.headers);
    const known = new Set(had.map((h) => h.path));
    const fresh = st.series.flatMap((s) => s.headers).filter((h) => !known.has(h.path));
    if (!fresh.length) return;
    const merged = assembleStudies([...had, ...fresh], errors).find((x) => x.studyInstanceUid === st.studyInstanceUid);
    if (!merged) return;
    const slicesOf = (s: AssembledSeries) => s.ordered.map((r) => `${r.path}#${r.frame}`).join('|');
    for (const s of old.series) {
      this.series.delete(s.id);
      const now = merged.series.find((x) => x.id === s.id);
      if (!now || slicesOf(now) !== slicesOf(s)) {
        this.engine.volumes.drop(s.id);
        this.analyses.delete(s.id);
        // an analysis running on the old slice order would store findings at the wrong slices
        for (const job of this.jobs.values()) if (job.seriesId === s.id) job.abort.abort();
      }
    }
    this.studies.set(merged.studyInstanceUid, merged);
    for (const s of merged.series) this.series.set(s.id, s);
  }

  /** The files the last open could not use: a viewer that starts after its study was opened (the
   * command line, the desktop shell's first open) lists them as if it had opened it itself. */
  private lastUnused: OpenResult['unused'] = [];

  list(): { studies: StudySummary[]; unused: OpenResult['unused'] } {
    return { studies: [...this.studies.values()].map(summary), unused: this.lastUnused };
  }

  async close({ studyInstanceUid }: Params<'studies.close'>): Promise<{ closed: boolean }> {
    const st = this.studies.get(studyInstanceUid);
    if (!st) return { closed: false };
    for (const s of st.series) {
      // Closing frees what the study held: its volumes, results and cached decisions.
      this.series.delete(s.id);
      this.engine.volumes.drop(s.id);
      this.analyses.delete(s.id);
      this.reviews.delete(s.seriesInstanceUid);
      for (const job of this.jobs.values()) if (job.seriesId === s.id) job.abort.abort();
    }
    this.studies.delete(studyInstanceUid);
    // the unused files of the last open may be this study's: a viewer loading now must not list them
    this.lastUnused = [];
    await this.engine.volumes.workerPool?.trim();
    return { closed: true };
  }

  private seriesOf(seriesId: string): AssembledSeries {
    const s = this.series.get(seriesId);
    if (!s) throw new ResightError('SERIES_NOT_FOUND', `no open series '${seriesId}'`);
    return s;
  }

  getSeries({ seriesId }: Params<'series.get'>): SeriesInfo {
    const s = this.seriesOf(seriesId);
    const { ordered: _o, headers, instances: _i, ...rest } = s;
    return {
      series: { ...rest, instances: [] },
      slices: s.ordered.map((r) => ({ sopInstanceUid: r.sopInstanceUid, frame: r.frame, ...(r.position ? { position: r.position } : {}), ...(r.location !== undefined ? { location: r.location } : {}), ...(r.instanceNumber !== undefined ? { instanceNumber: r.instanceNumber } : {}), ...(r.thickness !== undefined ? { thickness: r.thickness } : {}), ...(r.lossy ? { lossy: true as const } : {}), ...pickCalibration(r) })),
      windows: headers[0]?.windows ?? [],
      sliceUrl: this.opts.sliceUrl(seriesId),
    };
  }

  /** Slice i's modality values (for the transport's binary endpoint). */
  async slice(seriesId: string, index: number): Promise<{ data: VoxelArray; rows: number; columns: number; samplesPerPixel: number }> {
    const s = this.seriesOf(seriesId);
    const data = await this.engine.volumes.slice(s, index);
    return { data, rows: s.rows, columns: s.columns, samplesPerPixel: data.length / (s.rows * s.columns) };
  }

  private model(): Promise<LoadedModel> {
    if (!this.modelPromise) {
      const card = this.opts.modelCard ?? defaultModelCard();
      if (!card) return Promise.reject(new ResightError('MODEL_INVALID', 'the default model (resources/models) was not found'));
      this.modelPromise = this.engine.model(card, { preference: this.opts.provider ? [this.opts.provider] : undefined, threads: this.opts.threads });
      this.modelPromise.catch(() => (this.modelPromise = undefined));
    }
    return this.modelPromise;
  }

  async modelInfo(): Promise<ModelInfo> {
    try {
      const m = await this.model();
      const c = m.card;
      const op = this.operatingPoint(m);
      return {
        available: true,
        model: m.identity,
        classes: [...c.outputs.classes],
        thresholds: { ...op.thresholds },
        operatingPoint: { id: op.id, label: op.label, ...(op.fallback ? { fallback: op.fallback } : {}) },
        operatingPoints: operatingPoints(c),
        modalities: [...c.modalities],
        camLayers: [...c.cam.layers],
        defaultLayer: c.cam.defaultLayer,
        provider: m.provider,
        ...(c.intendedUse ? { intendedUse: c.intendedUse } : {}),
        ...(typeof c.disclaimer === 'string' ? { disclaimer: c.disclaimer } : {}),
        notForClinicalUse: c.notForClinicalUse !== false,
        card: c as Record<string, unknown>,
      };
    } catch (err) {
      return { available: false, reason: toErrorInfo(err).message };
    }
  }

  /** The operating point Preferences ask for, resolved against the loaded model's card. */
  private operatingPoint(m: LoadedModel): ResolvedOperatingPoint {
    return resolveOperatingPoint(m.card, this.readSettings().operatingPoint);
  }

  startAnalysis(p: Params<'analysis.start'>): { jobId: string } {
    const s = this.seriesOf(p.seriesId);
    const jobId = randomUUID();
    const abort = new AbortController();
    this.jobs.set(jobId, { seriesId: s.id, abort });
    void (async () => {
      try {
        const model = await this.model();
        const cache = p.noCache || this.opts.cacheDir === null ? null : new ResultCache(this.opts.cacheDir ?? undefined);
        const op = this.operatingPoint(model);
        const r = await this.engine.analyze(model, [s], {
          cache,
          thresholds: op.thresholds,
          operatingPoint: op.id,
          insistModality: p.insistModality === true,
          signal: abort.signal,
          onProgress: (pr) => this.emit('analysis.progress', { ...pr, jobId }),
        });
        const analysis = r.series[0];
        // the series was replaced meanwhile (re-assembled with another folder's slices): not its result
        if (this.series.get(s.id) !== s) throw new ResightError('CANCELLED', 'the series changed while it was analysed (more of its files were opened)');
        this.analyses.set(s.id, analysis);
        this.audit?.record(analysisEntry(analysis, model.identity, r.providerReport.used, this.auditSubject(s), op.id));
        this.emit('analysis.done', { jobId, seriesId: s.id, analysis, provider: r.providerReport });
      } catch (err) {
        const e = toErrorInfo(err);
        this.audit?.record({ event: 'instancesAccessed', action: 'R', outcome: e.code === 'CANCELLED' ? 4 : 8, outcomeText: e.code, what: 'analysis', ...this.auditSubject(s) });
        this.emit('analysis.failed', { jobId, seriesId: s.id, error: { code: e.code, message: e.message } });
      } finally {
        this.jobs.delete(jobId);
      }
    })();
    return { jobId };
  }

  cancel({ jobId }: Params<'analysis.cancel'>): { cancelled: boolean } {
    const job = this.jobs.get(jobId);
    if (!job) return { cancelled: false };
    job.abort.abort();
    return { cancelled: true };
  }

  getAnalysis({ seriesId }: Params<'analysis.get'>): { analysis: SeriesAnalysis | null; running: string | null } {
    this.seriesOf(seriesId);
    const running = [...this.jobs].find(([, j]) => j.seriesId === seriesId)?.[0] ?? null;
    return { analysis: this.analyses.get(seriesId) ?? null, running };
  }

  async explain(p: Params<'explain.slice'>): Promise<ExplainResult> {
    const s = this.seriesOf(p.seriesId);
    if (p.slice >= s.slices) throw new ResightError('FRAME_OUT_OF_RANGE', `slice ${p.slice} requested, the series has ${s.slices}`);
    // a heatmap is the evidence for the model's scores: none on a series it has not scored
    // (`resight explain` is the tool for one file, whatever it is)
    if (this.analyses.get(s.id)?.scored !== true) throw new ResightError('VALIDATION', 'analyse this series before asking for its heatmap: a map on a series the model has not scored would read as evidence for a finding nobody computed');
    const model = await this.model();
    const values = await this.engine.volumes.slice(s, p.slice);
    const volume = this.engine.volumes.peek(s);
    const e = await this.explainer.explainSlice(
      model,
      { values, rows: s.rows, columns: s.columns, paddingRange: volume?.paddingRange },
      { ...(p.method ? { method: p.method } : {}), ...(p.layer ? { layer: p.layer } : {}), ...(p.class ? { class: p.class } : {}) },
    );
    return { method: e.method, layer: e.layer, class: e.class, classIndex: e.classIndex, score: e.scoreValue, camShape: e.camShape, cam: Array.from(e.cam.map), max: mapMax(e.cam.map), provider: e.provider, ms: e.ms };
  }

  private reviewFile(seriesId: string): string | undefined {
    if (!this.opts.dataDir) return undefined;
    const uid = this.seriesOf(seriesId).seriesInstanceUid;
    return path.join(this.opts.dataDir, 'reviews', `${createHash('sha256').update(uid).digest('hex').slice(0, 32)}.json`);
  }

  /**
   * The review file's text as last read or written here: another process's write changes it. The
   * text itself, not its size and time: a share with coarse timestamps (SMB, NFS: whole seconds)
   * gives two writes in one tick the same time, and turning "accepted" into "rejected" keeps the size.
   * The file is a few kilobytes and read only when a decision is asked for or made.
   */
  private readonly reviewTexts = new Map<string, string | null>();

  private static textOf(file: string): string | null {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch {
      return null;
    }
  }

  /**
   * Every stored decision on the series `seriesId` belongs to (all its stacks). Read again when
   * the file changed since this process last read or wrote it: the desktop app, `resight serve`
   * and the CLI share the data folder, and one must not write its old list over another's decisions.
   */
  private storedReviewsOf(seriesId: string): StoredReview[] {
    const uid = this.seriesOf(seriesId).seriesInstanceUid;
    const file = this.reviewFile(seriesId);
    let list = this.reviews.get(uid);
    const text = file ? Session.textOf(file) : null;
    if (!list || (file && this.reviewTexts.get(uid) !== text)) {
      list = [];
      if (text !== null) {
        try {
          list = storedReviews(JSON.parse(text));
        } catch {
          // A damaged file starts the review afresh rather than blocking the viewer.
        }
      }
      this.reviews.set(uid, list);
      this.reviewTexts.set(uid, text);
    }
    return list;
  }

  /**
   * The decisions on the stack as it is open now, by their id there: they follow their instances
   * when slices come and go. A decision stored without instances (before they were kept) applies
   * at its numbers, on the series' main stack only.
   */
  private activeReviews(seriesId: string): Review[] {
    const s = this.seriesOf(seriesId);
    return reviewsOnStack(this.storedReviewsOf(seriesId), s);
  }

  setReview(p: Params<'review.set'>): Review {
    const s = this.seriesOf(p.seriesId);
    const r: Review = { findingId: p.findingId, decision: p.decision, at: new Date().toISOString(), ...(p.comment !== undefined ? { comment: p.comment } : {}), ...(p.reviewer !== undefined ? { reviewer: p.reviewer } : {}), ...(p.point ? { point: p.point } : {}) };
    const stored = anchorReview(r, s.ordered);
    // the viewer says which instances it decided on: if the stack changed meanwhile (more files
    // opened), the id's numbers may name other slices now, and the decision must not land there
    if (p.instances && (stored.anchor ?? []).join('|') !== p.instances.join('|')) {
      throw new ResightError('INCONSISTENT_SERIES', 'the slices of this series changed while you decided (more files were opened): decide again on the series as it is now');
    }
    const list = this.storedReviewsOf(p.seriesId);
    // deciding again replaces the decision on the same finding (same instances, or, stored
    // before instances were kept, the same id on this main stack)
    const key = reviewKey(stored);
    const main = isMainStack(s);
    const kept = list.filter((x) => reviewKey(x) !== key && !(main && !x.anchor && x.findingId === p.findingId));
    kept.push(stored);
    this.reviews.set(s.seriesInstanceUid, kept);
    const file = this.reviewFile(p.seriesId);
    if (file) {
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      // every decision on the series, including those on slices not open now: they return with their files
      const text = JSON.stringify(kept, null, 2);
      writeFileAtomic(file, text);
      this.reviewTexts.set(s.seriesInstanceUid, text);
    }
    // the decision, not its words: a comment or impression is the reviewer's free text
    this.audit?.record({
      event: 'patientRecord',
      action: 'U',
      what: 'review',
      ...(p.reviewer ? { reviewer: p.reviewer } : {}),
      ...this.auditSubject(s),
      detail: { finding: p.findingId, decision: p.decision, ...(p.comment !== undefined ? { text: p.comment.length > 0 } : {}) },
    });
    return r;
  }

  /**
   * Reports carry patient data: the app's own export folder (under its data folder, or the
   * temporary folder without one) is the user's alone, as the review files are; made 0700, made
   * so again if an earlier version left it open, and refused if it is not this user's folder (a
   * link or another account's folder planted in the shared temporary folder). A folder the user
   * chose (exportDir) keeps the modes the user gave it.
   */
  private ensureExportRoot(): void {
    const root = this.exportRoot;
    if (this.opts.exportDir) {
      fs.mkdirSync(root, { recursive: true });
      return;
    }
    fs.mkdirSync(root, { recursive: true, mode: 0o700 });
    if (process.platform === 'win32') return;
    const st = fs.lstatSync(root);
    if (!st.isDirectory() || (typeof process.getuid === 'function' && st.uid !== process.getuid())) {
      throw new ResightError('EXPORT_TARGET_FORBIDDEN', 'the export folder is not a folder of this user (a link, or another account\'s): choose an export folder in Preferences');
    }
    if ((st.mode & 0o077) !== 0) fs.chmodSync(root, 0o700);
  }

  /** The export folder (created on first use). */
  get exportRoot(): string {
    return exportRootOf(this.opts);
  }

  /**
   * Export the series' analysis and reviews (PDF, Encapsulated PDF, SR, SC, JSON, CSV) into a new folder under the
   * export folder: never into a study folder, never over an existing file. Needs an analysis.
   */
  async exportReport(p: Params<'report.export'>): Promise<ExportResult> {
    const s = this.seriesOf(p.seriesId);
    const files: string[] = [];
    const audit = (outcome: AuditOutcome, outcomeText?: string, pseudonyms?: ExportPseudonyms) =>
      this.audit?.record(
        exportEntry({ outcome, outcomeText, reviewer: p.reviewer, subject: this.auditSubject(s), files, formats: p.formats, deidentified: p.deidentify === true, dateShifted: p.deidentify === true && p.dateShiftDays !== undefined, pseudonyms }),
      );
    let written: Awaited<ReturnType<Session['writeReport']>>;
    try {
      written = await this.writeReport(p, s, files);
    } catch (err) {
      audit(8, toErrorInfo(err).code);
      throw err;
    }
    audit(0, undefined, written.pseudonyms);
    if (written.send) written.result.sent = await written.send();
    return written.result;
  }

  /** The export written, and the send to the PACS still to do (after the export is in the audit trail, so the trail reads in order). */
  private async writeReport(p: Params<'report.export'>, s: AssembledSeries, written: string[]): Promise<{ result: ExportResult; send: (() => Promise<NonNullable<ExportResult['sent']>>) | null; pseudonyms: ExportPseudonyms }> {
    const analysis = this.analyses.get(s.id);
    if (!analysis) throw new ResightError('VALIDATION', 'run the analysis of this series before exporting it');
    const pacs = p.send ? this.pacsConfig() : null;
    if (pacs && !pacs.dest) throw new ResightError('VALIDATION', pacs.problem ?? 'no PACS is configured to send to (settings.json "pacs", or resight serve --pacs)');
    if (p.send && !p.formats.some(isDicomExport)) throw new ResightError('VALIDATION', 'sending to the PACS needs a DICOM format: SR, Secondary Captures or Encapsulated PDF');
    const model = await this.model();
    const { reviews, added, signOff, impression } = reviewsAndAdded(this.activeReviews(s.id));
    const ctx = await buildReportContext(s, analysis, model, model.provider, {
      reviews,
      added,
      ...(signOff ? { signOff } : {}),
      ...(impression ? { impression } : {}),
      ...(p.reviewer ? { reviewer: p.reviewer } : {}),
      cam: { ...(p.method ? { method: p.method } : {}), ...(p.layer ? { layer: p.layer } : {}) },
      explainer: this.explainer,
      ...(p.measurements ? { measurements: p.measurements } : {}),
    });
    const folder = exportFolderName(new Date(), randomUUID());
    const dir = path.join(this.exportRoot, folder);
    try {
      this.ensureExportRoot();
      fs.mkdirSync(dir, !this.opts.exportDir ? { mode: 0o700 } : {});
    } catch (err) {
      if (err instanceof ResightError) throw err;
      // the reply must not name the folder (an absolute path): the log and the settings do
      throw new ResightError('EXPORT_FAILED', `cannot create the export folder (${(err as NodeJS.ErrnoException).code ?? 'error'}): choose another export folder in Preferences`, { cause: err });
    }
    const want = new Set(p.formats);
    const summary = await writeExports(
      [ctx],
      {
        ...(want.has('pdf') ? { pdf: path.join(dir, EXPORT_NAMES.pdf) } : {}),
        ...(want.has('epdf') ? { pdfDicom: path.join(dir, EXPORT_NAMES.epdf) } : {}),
        ...(want.has('sr') ? { sr: path.join(dir, EXPORT_NAMES.sr) } : {}),
        ...(want.has('sc') ? { scDir: path.join(dir, EXPORT_NAMES.scDir) } : {}),
        ...(want.has('json') ? { json: path.join(dir, EXPORT_NAMES.json) } : {}),
        ...(want.has('csv') ? { csv: path.join(dir, EXPORT_NAMES.csv) } : {}),
      },
      {
        sourceDirs: [...new Set(s.ordered.map((r) => path.dirname(r.path)))],
        // private in ReSight's own export folder; an export folder the user chose keeps its modes
        privateFiles: !this.opts.exportDir,
        ...(p.paper ? { paper: p.paper } : {}),
        ...(p.deidentify ? { deidentify: p.dateShiftDays !== undefined ? { dateShiftDays: p.dateShiftDays } : true } : {}),
        onProgress: (pr) => this.emit('export.progress', { seriesId: s.id, step: pr.step, done: pr.done, total: pr.total }),
        // each file as it lands: a failed export still records what it wrote before failing
        onWritten: (f) => written.push(f),
      },
    );
    const result: ExportResult = {
      folder,
      files: summary.files.map((f) => {
        const name = path.relative(dir, f.path).split(path.sep).join('/');
        return { kind: f.kind, name, bytes: f.bytes, url: this.opts.exportUrl ? this.opts.exportUrl(folder, name) : '' };
      }),
      warnings: summary.warnings,
      deidentified: summary.deidentified,
    };
    const dest = pacs?.dest;
    return { result, send: dest ? () => this.send(s.id, dir, summary.files, dest, summary.pseudonyms) : null, pseudonyms: summary.pseudonyms };
  }

  /** C-STORE an export's DICOM files to the configured PACS; what it stored, never a thrown error (the export itself succeeded). */
  private async send(seriesId: string, dir: string, files: readonly { kind: string; path: string }[], dest: PacsDestination, pseudonyms?: ExportPseudonyms): Promise<NonNullable<ExportResult['sent']>> {
    const dicom = files.filter((f) => isDicomExport(f.kind)).map((f) => f.path);
    const name = (f: string) => path.relative(dir, f).split(path.sep).join('/');
    const sent: NonNullable<ExportResult['sent']> = { destination: describeDestination(dest), stored: 0, total: dicom.length, failures: [] };
    const { outcomes, error } = await storeFiles(dicom, dest, { onProgress: (done, total) => this.emit('export.progress', { seriesId, step: `send ${sent.destination}`, done, total }) });
    sent.stored = outcomes.filter((o) => o.ok).length;
    sent.failures = outcomes.filter((o) => !o.ok).map((o) => ({ name: name(o.file), reason: this.displayText(o.reason ?? '') }));
    if (error) sent.error = { code: error.code, message: this.displayText(error.message) };
    const s = this.series.get(seriesId);
    this.audit?.record(sendEntry({ subject: s ? this.auditSubject(s) : {}, destination: sent.destination, files: dicom, stored: sent.stored, total: sent.total, errorCode: error?.code, deidentified: pseudonyms !== undefined, pseudonyms }));
    return sent;
  }

  /** The user's preferences (settings.json in the app data folder; in memory without one). */
  getPreferences(): Preferences {
    // the PACS is the installer's, not a preference: settings.get does not show it (pacs.get does)
    const { recent: _r, window: _w, pacs: _p, ...prefs } = this.readSettings();
    return prefs;
  }

  /** Change preferences (only the given ones; null: back to the default); returns them all. Provider, threads, model and export folder apply at the next start. */
  setPreferences(p: Params<'settings.set'>): Preferences {
    const before = this.getPreferences() as Record<string, unknown>;
    const policy = loadPolicy();
    if (this.opts.dataDir) updateSettings(this.opts.dataDir, p, policy);
    else {
      refuseLocked(p, policy);
      this.memorySettings = applySettingsPatch(this.memorySettings ?? settingsSchema.parse({}), withoutLocked(p, policy));
    }
    const after = this.getPreferences();
    // a configuration change (a model folder, an export folder, the provider) is an administrator's business
    const changed = Object.keys(p).filter((k) => JSON.stringify(before[k] ?? null) !== JSON.stringify((after as Record<string, unknown>)[k] ?? null));
    if (changed.length) {
      this.audit?.record({
        event: 'securityAlert',
        type: 'softwareConfiguration',
        action: 'E',
        what: 'settings.change',
        detail: Object.fromEntries(changed.map((k) => [k, String((after as Record<string, unknown>)[k] ?? '(default)')])),
      });
    }
    return after;
  }

  private memorySettings: Settings | null = null;

  private readSettings(): Settings {
    return this.opts.dataDir ? loadSettings(this.opts.dataDir).settings : withPolicy(this.memorySettings ?? settingsSchema.parse({}), loadPolicy());
  }

  /** What the site policy fixes (settings/policy.ts), as the page may see it (policy.get). */
  policyInfo(): Results['policy.get'] {
    const policy = loadPolicy();
    return { locked: lockedPreferences(policy), files: policy.files, problems: policy.problems, pacs: policy.pacs === undefined ? 'settings' : policy.pacs === false ? 'off' : 'fixed' };
  }

  /** The tag browser: every element of slice `slice`'s instance. */
  tags({ seriesId, slice }: Params<'instance.tags'>): { sopInstanceUid: string; tags: TagEntry[] } {
    const s = this.seriesOf(seriesId);
    const ref = s.ordered[slice];
    if (!ref) throw new ResightError('FRAME_OUT_OF_RANGE', `slice ${slice} is outside 0..${s.ordered.length - 1}`);
    return { sopInstanceUid: ref.sopInstanceUid, tags: listTags(ref.path) };
  }

  /** The configured PACS, as the page may see it (pacs.get). */
  pacsInfo(): PacsInfo {
    const { dest, problem } = this.pacsConfig();
    if (!dest) return problem ? { destination: null, problem } : { destination: null };
    return { destination: describeDestination(dest), callingAeTitle: dest.callingAeTitle };
  }

  /** The configured PACS: the command line's, else settings.json's (never the page's); or why there is none. */
  private pacsConfig(): { dest?: PacsDestination; problem?: string } {
    // the site policy first: its destination, or none at all, whatever the settings or --pacs say
    const policy = loadPolicy();
    if (policy.pacs === false) return { problem: policyRefusesDestination(policy, '') ?? 'sending is turned off by the site policy' };
    if (policy.pacs) {
      const refused = this.opts.pacs ? policyRefusesDestination(policy, this.opts.pacs.destination) : null;
      if (refused) return { problem: refused };
      try {
        return { dest: parseDestination(policy.pacs.destination, policy.pacs.callingAeTitle) };
      } catch (e) {
        return { problem: `the site policy's PACS '${policy.pacs.destination}' cannot be used: ${(e as Error).message}` };
      }
    }
    const loaded = this.opts.dataDir ? loadSettings(this.opts.dataDir) : null;
    const raw = this.opts.pacs ?? (loaded?.settings ?? this.readSettings()).pacs;
    if (raw === undefined) {
      if (loaded?.problem) return { problem: loaded.problem };
      // a file that was not JSON was replaced at a save; its PACS is in the copy kept beside it
      const invalid = this.opts.dataDir ? path.join(this.opts.dataDir, 'settings.json.invalid') : '';
      if (invalid && fs.existsSync(invalid) && fs.readFileSync(invalid, 'utf8').includes('"pacs"')) return { problem: 'settings.json was replaced after it failed to parse; its "pacs" is in settings.json.invalid: copy it back, as valid JSON' };
      return {};
    }
    const parsed = pacsSettingSchema.safeParse(raw);
    if (!parsed.success) return { problem: `settings.json "pacs" is not {"destination": "AET@host:port", "callingAeTitle"?: "AET"}: ${parsed.error.issues[0]?.message ?? 'invalid'}` };
    try {
      return { dest: parseDestination(parsed.data.destination, parsed.data.callingAeTitle) };
    } catch (e) {
      return { problem: `the configured PACS '${parsed.data.destination}' cannot be used: ${(e as Error).message}` };
    }
  }

  /** The overlay planes (60xx) of slice `slice`'s frame. */
  overlays({ seriesId, slice }: Params<'slice.overlays'>): Results['slice.overlays'] {
    const s = this.seriesOf(seriesId);
    const ref = s.ordered[slice];
    if (!ref) throw new ResightError('FRAME_OUT_OF_RANGE', `slice ${slice} is outside 0..${s.ordered.length - 1}`);
    return readOverlays(ref.path, ref.frame);
  }

  getReviews({ seriesId }: Params<'review.get'>): { reviews: Review[] } {
    return { reviews: this.activeReviews(seriesId) };
  }

  private stopped = false;

  /**
   * Record the session's end in the audit trail (once). `dispose` does; a process killed without
   * time to dispose (the desktop engine on SIGTERM) calls it alone: the write is synchronous.
   */
  recordStop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.audit?.record({ event: 'applicationActivity', type: 'applicationStop', action: 'E', what: 'session.stop' });
  }

  async dispose(): Promise<void> {
    this.recordStop();
    for (const job of this.jobs.values()) job.abort.abort();
    await this.explainer.release();
    await this.engine.release();
  }
}
