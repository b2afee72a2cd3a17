/**
 * THE contract between the viewer and the engine (ARCHITECTURE.md "One contract, two
 * transports"): every call with its zod input schema and result type, and every event. The
 * Electron main process (over IPC) and the browser bridge (over a loopback WebSocket) both
 * implement it by handing calls to core's `dispatch`; the preload and the browser client both
 * expose it to the renderer as `ResightApi`. Pixel data never travels here: slices are binary
 * responses of `sliceUrl` (app:// in Electron, HTTP in the bridge).
 */
import { z } from 'zod';
import type { AnalysisProgress, SeriesAnalysis, OperatingPoint, ProviderReport, ModelIdentity } from './analysis';
import { PROVIDER_NAMES } from './analysis';
import type { OverlayPlane, PixelCalibration, StudySummary, SeriesSummary, TagEntry, WindowInfo } from './dicom';
import type { ErrorCode } from './errors';
import { preferencesPatchSchema } from './settings';
import type { Preferences } from './settings';
import { CAM_METHOD_NAMES } from './cam';

const id = z.string().min(1).max(256);
const point = z.tuple([z.number().min(-1e5).max(1e5), z.number().min(-1e5).max(1e5)]);
export { CAM_METHOD_NAMES } from './cam';
export const DECISIONS = ['pending', 'accepted', 'rejected', 'edited'] as const;
export const EXPORT_FORMATS = ['pdf', 'epdf', 'sr', 'sc', 'json', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
/** The export formats that are DICOM objects: what a PACS takes (C-STORE). */
export const DICOM_EXPORT_FORMATS: readonly ExportFormat[] = ['epdf', 'sr', 'sc'];
export const isDicomExport = (f: string): boolean => (DICOM_EXPORT_FORMATS as readonly string[]).includes(f);

export const schemas = {
  'studies.open': z.object({ paths: z.array(z.string().min(1).max(4096)).min(1).max(10_000) }).strict(),
  'studies.list': z.object({}).strict(),
  'studies.close': z.object({ studyInstanceUid: id }).strict(),
  'series.get': z.object({ seriesId: id }).strict(),
  'model.get': z.object({}).strict(),
  'analysis.start': z.object({ seriesId: id, provider: z.enum(PROVIDER_NAMES).optional(), insistModality: z.boolean().optional(), noCache: z.boolean().optional() }).strict(),
  'analysis.cancel': z.object({ jobId: id }).strict(),
  'analysis.get': z.object({ seriesId: id }).strict(),
  'explain.slice': z
    .object({ seriesId: id, slice: z.number().int().min(0).max(1_000_000), method: z.enum(CAM_METHOD_NAMES).optional(), layer: z.string().min(1).max(256).optional(), class: z.string().min(1).max(256).optional() })
    .strict(),
  'review.set': z
    .object({
      seriesId: id,
      findingId: id,
      decision: z.enum(DECISIONS),
      comment: z.string().max(4000).optional(),
      reviewer: z.string().max(256).optional(),
      /** The instances (`<SOPInstanceUID>#<frame>`) the id's slice numbers named on screen; refused if the stack has changed since. */
      instances: z.array(z.string().max(200)).max(2).optional(),
      /** Where on its slice a finding the reviewer added is ([column, row], image coordinates). */
      point: point.optional(),
    })
    .strict(),
  'review.get': z.object({ seriesId: id }).strict(),
  'instance.tags': z.object({ seriesId: id, slice: z.number().int().min(0).max(1_000_000) }).strict(),
  'slice.overlays': z.object({ seriesId: id, slice: z.number().int().min(0).max(1_000_000) }).strict(),
  'settings.get': z.object({}).strict(),
  'pacs.get': z.object({}).strict(),
  'policy.get': z.object({}).strict(),
  'settings.set': preferencesPatchSchema,
  'report.export': z
    .object({
      seriesId: id,
      formats: z.array(z.enum(EXPORT_FORMATS)).min(1).max(EXPORT_FORMATS.length),
      deidentify: z.boolean().optional(),
      dateShiftDays: z.number().int().min(-36500).max(36500).refine((d) => d !== 0, 'a date shift of 0 days would keep the real dates').optional(),
      paper: z.enum(['a4', 'letter']).optional(),
      reviewer: z.string().max(256).optional(),
      /** Then C-STORE the DICOM files written (SR, SC, Encapsulated PDF) to the configured PACS (`pacs.get`). */
      send: z.boolean().optional(),
      method: z.enum(CAM_METHOD_NAMES).optional(),
      layer: z.string().min(1).max(256).optional(),
      /** Lengths and ellipse ROIs the reviewer drew (on slices, or on a coronal or sagittal reformat; image coordinates): measured again by the engine and reported. */
      measurements: z
        .array(
          z
            .object({
              kind: z.enum(['length', 'ellipse', 'bidirectional']),
              slice: z.number().int().min(0),
              // drawn on a reformat (slice is then the reformat's position): measured in patient coordinates
              plane: z.enum(['row', 'column']).optional(),
              // image coordinates: within any image's reach (SR stores them as 32-bit floats)
              a: point,
              b: point,
              // a bidirectional measurement's short axis
              c: point.optional(),
              d: point.optional(),
              // its number in the viewer (M3), kept when others were deleted
              label: z.number().int().min(1).max(100_000).optional(),
            })
            .strict()
            .refine((m) => (m.kind === 'bidirectional') === (m.c !== undefined && m.d !== undefined), 'a bidirectional measurement has c and d (its short axis), and only it'),
        )
        .max(500)
        // the report names them by their labels: two alike would be one id for two measurements
        // (one without a label is numbered by its place, as the report numbers it)
        .refine((ms) => new Set(ms.map((m, i) => m.label ?? i + 1)).size === ms.length, 'two measurements have the same label')
        .optional(),
    })
    .strict(),
} as const;

export type Method = keyof typeof schemas;
export const METHODS = Object.keys(schemas) as Method[];
export type Params<M extends Method> = z.infer<(typeof schemas)[M]>;

/**
 * What the site policy (an administrator's policy.json) fixes: the preferences the page shows
 * locked, the files it came from, what in them could not be used, and whether exports go to the
 * PACS settings.json names ('settings'), to the policy's own ('fixed') or nowhere ('off').
 */
export interface PolicyInfo {
  locked: (keyof Preferences)[];
  files: string[];
  problems: string[];
  pacs: 'settings' | 'fixed' | 'off';
}

/** A file the scan did not use, named relative to the folder the user opened. */
export interface UnusedFile {
  file: string;
  code: ErrorCode;
  message: string;
}

export interface OpenResult {
  studies: StudySummary[];
  unused: UnusedFile[];
  filesScanned: number;
}

export interface SeriesInfo {
  series: SeriesSummary;
  /** Per slice in volume order. */
  /**
   * `location`: signed distance along the slice normal (mm), the "Pos" a viewer shows for any
   * acquisition plane. `pixelSpacing` and its source and regions: the slice's own calibration,
   * only where the series has none because its images disagree (ultrasound at different depths).
   */
  slices: ({ sopInstanceUid: string; frame: number; position?: [number, number, number]; location?: number; instanceNumber?: number; thickness?: number; lossy?: true } & PixelCalibration)[];
  windows: WindowInfo[];
  /** Where slice i's binary values are served (replace `{i}`). */
  sliceUrl: string;
}

export interface ModelInfo {
  available: boolean;
  /** Why no model is available (e.g. sha256 mismatch): the viewer works without AI. */
  reason?: string;
  model?: ModelIdentity;
  classes?: string[];
  /** The thresholds in use: those of `operatingPoint`. */
  thresholds?: Record<string, number>;
  /** The operating point in use (Preferences), and why it is not the one asked for, if so. */
  operatingPoint?: { id: string; label: string; fallback?: string };
  /** Every operating point the card offers, the card's default first. */
  operatingPoints?: OperatingPoint[];
  modalities?: string[];
  camLayers?: string[];
  defaultLayer?: string;
  provider?: ProviderReport;
  intendedUse?: string;
  disclaimer?: string;
  notForClinicalUse?: boolean;
  /** The whole card, for the model card viewer. */
  card?: Record<string, unknown>;
}

export interface ExplainResult {
  method: (typeof CAM_METHOD_NAMES)[number];
  layer: string;
  class: string;
  classIndex: number;
  score: number;
  camShape: [number, number];
  /** Raw map after ReLU at the layer's resolution (row-major), in model units. */
  cam: number[];
  max: number;
  provider: string;
  ms: number;
}

export interface Review {
  findingId: string;
  decision: (typeof DECISIONS)[number];
  comment?: string;
  reviewer?: string;
  /** A reviewer-added finding's place on its slice ([column, row], image coordinates): the report's marker and SCOORD. */
  point?: [number, number];
  /** ISO time of the decision. */
  at: string;
}

export interface Results {
  'studies.open': OpenResult;
  /** `unused`: the files the last open could not use (a viewer starting after it lists them). */
  'studies.list': { studies: StudySummary[]; unused: UnusedFile[] };
  'studies.close': { closed: boolean };
  'series.get': SeriesInfo;
  'model.get': ModelInfo;
  'analysis.start': { jobId: string };
  'analysis.cancel': { cancelled: boolean };
  'analysis.get': { analysis: SeriesAnalysis | null; running: string | null };
  'explain.slice': ExplainResult;
  'review.set': Review;
  'review.get': { reviews: Review[] };
  'instance.tags': { sopInstanceUid: string; tags: TagEntry[] };
  /** The overlay planes of a slice's frame; `skipped`: planes the file has that are not shown, and why. */
  'slice.overlays': { overlays: OverlayPlane[]; skipped: { group: number; reason: string }[] };
  'report.export': ExportResult;
  'settings.get': Preferences;
  'settings.set': Preferences;
  'pacs.get': PacsInfo;
  'policy.get': PolicyInfo;
}

/** The PACS the viewer's exports may be sent to, as its installer configured it (null: none). */
export interface PacsInfo {
  /** `AET@host:port`. */
  destination: string | null;
  callingAeTitle?: string;
  /** Why the configured destination cannot be used (it does not parse). */
  problem?: string;
}

/** What an export wrote: a new folder under the app's export folder (never the study folder). */
export interface ExportResult {
  /** The export's folder name (inside the export folder the app was configured with). */
  folder: string;
  files: { kind: ExportFormat; name: string; bytes: number; url: string }[];
  warnings: string[];
  deidentified: boolean;
  /** With `send`: what the PACS stored (the files are written either way). */
  sent?: {
    destination: string;
    stored: number;
    total: number;
    /** Objects the PACS did not store, and why. */
    failures: { name: string; reason: string }[];
    /** The association failed (PACS_UNREACHABLE, PACS_REJECTED: refused, aborted, timed out, cut): `stored` counts what it stored before. */
    error?: { code: ErrorCode; message: string };
  };
}

/** Events pushed to the renderer. */
export interface Events {
  'scan.progress': { done: number; total: number; errors: number };
  'analysis.progress': AnalysisProgress & { jobId: string };
  'analysis.done': { jobId: string; seriesId: string; analysis: SeriesAnalysis; provider: ProviderReport };
  'analysis.failed': { jobId: string; seriesId: string; error: { code: ErrorCode; message: string } };
  'export.progress': { seriesId: string; step: string; done: number; total: number };
  /** The desktop app's engine process stopped and was restarted (running analyses were lost). */
  'engine.restarted': { reason: string; restarts: number };
}
export type EventName = keyof Events;
export const EVENT_NAMES: EventName[] = ['scan.progress', 'analysis.progress', 'analysis.done', 'analysis.failed', 'export.progress', 'engine.restarted'];

/** What a call returns over any transport: no stack traces, no absolute paths. */
export type Reply<M extends Method> = { ok: true; value: Results[M] } | { ok: false; error: { code: ErrorCode; message: string } };

/** The interface the renderer programs against (window.resight in Electron, the bridge client in a browser). */
export interface ResightApi {
  call<M extends Method>(method: M, params: Params<M>): Promise<Results[M]>;
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void;
  /** URL of slice `index` of a series, for fetch(): binary modality values. */
  sliceUrl(seriesId: string, index: number): string;
  /**
   * Desktop app only: open files/folders dropped on the window. The preload turns the dropped
   * File objects into paths (a page cannot forge one) and main grants and opens exactly those.
   */
  openDropped?(files: File[]): Promise<OpenResult>;
}
