/**
 * Results of an analysis (ARCHITECTURE.md, `resight analyze` JSON and the viewer's AI panels).
 * Slice indices are in volume order (0 = lowest position along the slice normal: an axial CT's
 * slice nearest the feet); the viewer reads an axial stack the other way, head to feet
 * (shared/planes.ts). Each slice also names its SOP instance and frame.
 */
import type { ErrorInfo } from './errors';

/** ONNX Runtime execution providers ReSight knows, in the default order of preference. */
export const PROVIDER_NAMES = ['cuda', 'dml', 'coreml', 'webgpu', 'cpu'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

/**
 * Why a provider is not used, as a kind the UI can say in the user's language (the reason's text
 * is ONNX Runtime's or the probe's, in English): not in this onnxruntime-node build for the
 * platform; its libraries not installed (CUDA, cuDNN); no usable device or driver; it did not
 * start in time; anything else.
 */
export const FALLBACK_KINDS = ['not-built', 'no-libraries', 'no-device', 'timeout', 'failed'] as const;
export type FallbackKind = (typeof FALLBACK_KINDS)[number];

/** A provider that was tried (or skipped) before the one in use, and why it is not used. */
export interface ProviderFallback {
  provider: ProviderName;
  kind: FallbackKind;
  reason: string;
}

export interface ProviderReport {
  /** The provider that runs the model. */
  used: ProviderName;
  /** The order that was asked for (forced provider first, then the fallback). */
  requested: ProviderName[];
  fallbacks: ProviderFallback[];
  threads: number;
}

export interface ModelIdentity {
  name: string;
  version: string;
  sha256: string;
}

export interface SliceResult {
  index: number;
  sopInstanceUid: string;
  /** 0-based frame within the instance (multi-frame files hold many slices). */
  frame: number;
  /** Per class, the model's probability; null when the slice could not be decoded. */
  probabilities: Record<string, number> | null;
  error?: ErrorInfo;
}

/** A run of contiguous slices whose probability for one class reaches its threshold. */
export interface Finding {
  /** Stable within a result: `<class>:<sliceStart>-<sliceEnd>`. */
  id: string;
  class: string;
  /** The highest probability in the run. */
  score: number;
  threshold: number;
  sliceStart: number;
  sliceEnd: number;
  /** Where the score peaks. */
  keySlice: number;
  /**
   * The finding's core: the contiguous slices around the key slice scoring at least half its
   * peak (and the threshold). A run's ends can be long, weak tails just over a low threshold
   * (a liver lesion's run of 14 slices whose 5 strong ones are the lesion); the core says where
   * the model is sure. Absent in results made before it existed.
   */
  coreStart?: number;
  coreEnd?: number;
  keySopInstanceUid: string;
  /**
   * [x, y] = [column, row] in the key slice's pixels (0-based): the centre of the class-
   * activation map's hot spot on the key slice; null when the model cannot be explained.
   */
  centroid: [number, number] | null;
  /** How the centroid was found, e.g. `gradcam@layer4`. */
  centroidSource?: string;
  /**
   * The largest value of that map (model units, after ReLU): where the viewer's heatmap scale in
   * model units starts for this class, so a weak map reads weak from the first slice shown.
   * Absent in results made before it existed.
   */
  camMax?: number;
  /** Why `centroid` is null when the model was asked for a map and could not give one. */
  centroidError?: ErrorInfo;
}

/** A finding's core where it is narrower than its run (what the viewer and the PDF show beside the run), else null. */
export function narrowerCore(f: Pick<Finding, 'sliceStart' | 'sliceEnd' | 'coreStart' | 'coreEnd'>): { start: number; end: number } | null {
  return f.coreStart !== undefined && f.coreEnd !== undefined && (f.coreStart > f.sliceStart || f.coreEnd < f.sliceEnd) ? { start: f.coreStart, end: f.coreEnd } : null;
}

/** A named set of per-class thresholds from a model card (`outputs.operatingPoints`). */
export interface OperatingPoint {
  id: string;
  label: string;
  thresholds: Record<string, number>;
}

/** What an operating point id may be (the card's and the preference's). */
export const OPERATING_POINT_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;

export interface SeriesAnalysis {
  seriesInstanceUid: string;
  /** Viewer key of the stack (the UID, suffixed `#n` when a series was split). */
  seriesId: string;
  modality: string;
  /** False when the model was not run on this series (see `skipped`). */
  scored: boolean;
  skipped?: ErrorInfo;
  /** True when the model's modalities do not include this series' and the user insisted. */
  outsideIntendedModality?: boolean;
  slices: SliceResult[];
  findings: Finding[];
  /** The per-class thresholds the findings were drawn at (the operating point in use). */
  thresholds?: Record<string, number>;
  /** Its id (core/inference/operating-point.ts), when the analysis was run through a session. */
  operatingPoint?: string;
  /** Served from the on-disk result cache. */
  cached: boolean;
}

export interface AnalysisTiming {
  totalMs: number;
  /** Summed over series (work overlaps: decode and preprocessing run in workers during inference). */
  decodeMs: number;
  preprocessMs: number;
  inferenceMs: number;
  /** Loading the model and creating its session (0 when reused). */
  modelLoadMs: number;
  slicesScored: number;
  slicesPerSecond: number;
}

export interface AnalysisResult {
  model: ModelIdentity;
  provider: ProviderName;
  providerReport: ProviderReport;
  classes: string[];
  thresholds: Record<string, number>;
  series: SeriesAnalysis[];
  timing: AnalysisTiming;
  notForClinicalUse: boolean;
}

export interface AnalysisProgress {
  seriesId: string;
  done: number;
  total: number;
  slicesPerSecond: number;
  /** Seconds left at the current rate; null before the first batch. */
  etaSeconds: number | null;
}
