/**
 * What an export is made of: the patient/study/series as read from the source, the model and
 * provider, the series' analysis, the reviewer's decisions and added findings, and one key image
 * per finding. Every writer (PDF, SR, SC, JSON/CSV) reads only this, so de-identification is one
 * transformation of it (deidentifyContext) before any writer runs.
 */
import { toPersonName } from './person-name';
import { findingLabelOrder, findingLabelsOf } from '../../shared/finding-labels';
import type { SignOff } from '../../shared/review';
import { isUnreviewed } from '../../shared/review';
import type { Finding, ModelIdentity, ProviderReport, SeriesAnalysis } from '../../shared/analysis';
import type { Review } from '../../shared/api';
import type { Deidentifier } from './deidentify';
import type { KeyImageInput } from './render';
import type { RoiStats } from '../../shared/roi';
import type { PixelSpacingSource } from '../../shared/dicom';
import { sliceNumber, sliceNumbers, sliceRangeText, type Anatomical, type ReadingStep, type Vec3 } from '../../shared/planes';

export interface ReportPatient {
  name: string;
  id: string;
  birthDate?: string;
  sex?: string;
}

export interface ReportStudy {
  studyInstanceUid: string;
  date?: string;
  time?: string;
  description?: string;
  accessionNumber?: string;
  id?: string;
  institution?: string;
  referringPhysician?: string;
}

export interface ReportSeries {
  seriesInstanceUid: string;
  /** SOP Class of the series' images (for references to slices that are not key images). */
  sopClassUid?: string;
  /** Instances holding several frames: references to them always name the frame. */
  multiFrameSops?: string[];
  number?: number;
  description?: string;
  modality: string;
  frameOfReferenceUid?: string;
  /** The order readers go through the stack (shared/planes.ts: an axial one head to feet); findings are listed and labelled in it. Absent: index order. */
  readingStep?: ReadingStep;
}

export interface ReportModel extends ModelIdentity {
  classes: string[];
  thresholds: Record<string, number>;
  /** The operating point those thresholds belong to (its id in the model card), when known. */
  operatingPoint?: string;
  intendedUse: string;
  disclaimer: string;
  notForClinicalUse: boolean;
}

/** A finding the reviewer added (the model missed it). */
export interface AddedFinding {
  id: string;
  class: string;
  sliceStart: number;
  sliceEnd: number;
  comment?: string;
  reviewer?: string;
  centroid?: [number, number] | null;
}

/** A length or ellipse ROI the reviewer drew, measured by the engine on the slice's modality values. */
export interface ReportMeasurement {
  /** `M1`, `M2`, ... in the order drawn. */
  id: string;
  kind: 'length' | 'ellipse' | 'bidirectional';
  /** The slice it is drawn on, its instance and frame; absent for one drawn on a reformat (`reformat` says where). */
  sliceIndex?: number;
  sopInstanceUid?: string;
  sopClassUid?: string;
  frame?: number;
  /** Drawn on a coronal or sagittal reformat, where no slice of the series holds it. */
  reformat?: ReformatPlace;
  /** Image coordinates (pixel edges: (0,0) is the top-left corner of the top-left pixel). */
  a: [number, number];
  b: [number, number];
  /** A bidirectional measurement's short axis (its long axis is a-b). */
  c?: [number, number];
  d?: [number, number];
  /**
   * Length (a bidirectional measurement's long axis): mm where the image is calibrated there
   * (`pixelSpacingSource` says how), else pixels.
   */
  length?: { value: number; unit: 'mm' | 'px' };
  /** A bidirectional measurement's short axis, in the same unit. */
  shortAxis?: { value: number; unit: 'mm' | 'px' };
  /**
   * Where the mm (lengths, an ellipse's area) come from, when they are mm: 'pixel' (PixelSpacing),
   * 'imager' (at the detector: magnified), 'imager-ermf' (corrected by the estimated magnification)
   * or 'ultrasound-region'.
   */
  pixelSpacingSource?: PixelSpacingSource;
  /** Ellipse ROI: statistics of the pixels whose centres are inside (shared/roi.ts). */
  stats?: RoiStats;
  /** The values' unit: 'HU' for a grey CT, '' otherwise (a colour CT image included). */
  valueUnit: 'HU' | '';
  /** A colour image: the statistics are of its luminance (Rec. 601), as the viewer shows and labels it. */
  luminance?: boolean;
  /** Why the ROI could not be measured (the slice does not decode), with the error code. */
  unmeasurable?: string;
}

/**
 * Where a measurement drawn on a reformat lies: the plane, its position there (numbered from 1 in
 * the plane's reading order, as the viewer shows it) and the measurement's points in the patient.
 */
export interface ReformatPlace {
  plane: Anatomical;
  /** The position's number, from 1, of `count`. */
  position: number;
  count: number;
  /**
   * In mm, LPS (the series' frame of reference): a length's two ends, a bidirectional
   * measurement's long axis then short axis, an ellipse's major axis then minor axis.
   */
  points: Vec3[];
}

/** One key image: the finding's key slice with its heatmap. */
/**
 * How a reader finds a slice in another viewer: its InstanceNumber (what PACS viewers show as
 * "Im"; ReSight counts slices in position order, which on a scan numbered head to feet runs the
 * other way) and its position along the slice normal in mm.
 */
export interface SliceMeta {
  instanceNumber?: number;
  /** The frame (from 0), when the slice is one of a multi-frame file's, whose frames share its InstanceNumber. */
  frame?: number;
  location?: number;
  /** ImagePositionPatient of the slice (its first pixel's centre, mm). */
  position?: [number, number, number];
}

/**
 * Where pixel [x, y] (column, row) of slice `index` is in the patient, as a reader finds it in any
 * viewer: `R 45.2, P 12.0, I 128.6 mm` (DICOM's patient coordinates, x to the patient's left, y
 * to the back, z to the head, written with the side each sign means). '' without the geometry.
 */
export function patientPointText(ctx: Pick<ReportContext, 'sliceMeta'>, index: number, [x, y]: readonly [number, number], iop: readonly number[] | undefined, ps: readonly [number, number] | undefined): string {
  const p0 = ctx.sliceMeta?.[index]?.position;
  if (!p0 || !iop || iop.length !== 6 || !ps) return '';
  // the pixel's centre: x columns along the row direction, y rows along the column direction
  const at = [0, 1, 2].map((k) => (p0[k] as number) + x * ps[1] * (iop[k] as number) + y * ps[0] * (iop[3 + k] as number)) as [number, number, number];
  const side = (v: number, neg: string, pos: string) => `${v < 0 ? neg : pos} ${Math.abs(v).toFixed(1)}`;
  return `${side(at[0], 'R', 'L')}, ${side(at[1], 'A', 'P')}, ${side(at[2], 'I', 'S')} mm`;
}

export interface KeyImage {
  findingId: string;
  sliceIndex: number;
  sopInstanceUid: string;
  sopClassUid: string;
  frame: number;
  /** The pixels and annotations (render.ts). */
  image: KeyImageInput;
  /** e.g. gradcam@layer4; absent for a reviewer-added finding's slice (no heatmap: the model did not flag it). */
  camSource?: string;
  /** The source instance's BurnedInAnnotation, when it says. */
  sourceBurnedIn?: string;
}

/** Modalities whose images practically never carry burned-in patient text. */
const CLEAN_MODALITIES = new Set(['CT', 'MR', 'PT', 'NM']);

/** True when a key image's pixels may show patient identity burned into the source image. */
export function mayHaveBurnedInText(k: KeyImage, modality: string): boolean {
  const v = k.sourceBurnedIn?.toUpperCase();
  return v === 'YES' || (v !== 'NO' && !CLEAN_MODALITIES.has(modality));
}

export interface ReportContext {
  patient: ReportPatient;
  /** Identifying values of the source no output shows (InstanceHeader.identifying): redacted from free text when de-identified. */
  identifying?: { people: string[]; values: string[] };
  study: ReportStudy;
  series: ReportSeries;
  model: ReportModel;
  provider: ProviderReport;
  analysis: SeriesAnalysis;
  reviews: Review[];
  added: AddedFinding[];
  /** The reviewer's sign-off in the viewer (shared/review.ts), if the series was signed off. */
  signOff?: SignOff;
  /** The reviewer's impression, their conclusion in free text (shared/review.ts), if they wrote one. */
  impression?: string;
  keyImages: KeyImage[];
  /** Per slice of the analysis (its index), how another viewer names it (absent: not known). */
  sliceMeta?: SliceMeta[];
  /** The reviewer's measurements (none: an empty list). */
  measurements: ReportMeasurement[];
  /** Who signs the report (free text; withheld when de-identified). */
  reviewer?: string;
  createdAt: Date;
  cam: { method: string; layer: string };
  /** Set when the context was de-identified: what to declare in the outputs. */
  deidentified?: { methodText: string; methodCodes: { value: string; scheme: string; meaning: string }[]; datesShifted?: boolean };
}

/**
 * "Im 8-21" for slices start..end when both ends have an InstanceNumber (lower first; "Im 28" for
 * one), so a finding can be found in a PACS viewer that numbers images by it; '' otherwise, and in
 * a multi-frame file, whose frames share one number.
 */
export function imageRangeText(ctx: Pick<ReportContext, 'sliceMeta'>, start: number, end: number): string {
  const [a, b] = [ctx.sliceMeta?.[start], ctx.sliceMeta?.[end]];
  if (a?.instanceNumber === undefined || b?.instanceNumber === undefined || a.frame !== undefined || b.frame !== undefined) return '';
  const [lo, hi] = [a.instanceNumber, b.instanceNumber].sort((x, y) => x - y);
  return lo === hi ? `Im ${lo}` : `Im ${lo}-${hi}`;
}

/** How the report numbers slices: from 1 in reading order (shared/planes.ts sliceNumber). */
export function sliceNumberOf(ctx: Pick<ReportContext, 'series' | 'analysis'>, index: number): number {
  return sliceNumber(index, ctx.analysis.slices.length, ctx.series.readingStep ?? 1);
}

/** Slices start..end by the report's numbers, lower first. */
export function sliceNumbersOf(ctx: Pick<ReportContext, 'series' | 'analysis'>, start: number, end: number): [number, number] {
  return sliceNumbers(start, end, ctx.analysis.slices.length, ctx.series.readingStep ?? 1);
}

/** Slices start..end as the report numbers them: "25-38", or "18" for one. */
export function sliceRangeOf(ctx: Pick<ReportContext, 'series' | 'analysis'>, start: number, end: number): string {
  return sliceRangeText(start, end, ctx.analysis.slices.length, ctx.series.readingStep ?? 1);
}

/** "Im 12" for slice `index` when its InstanceNumber is known ("Im 3, frame 17" in a multi-frame file), else ''. */
export function imageNumberText(ctx: Pick<ReportContext, 'sliceMeta'>, index: number): string {
  const m = ctx.sliceMeta?.[index];
  if (m?.instanceNumber === undefined) return '';
  return m.frame !== undefined ? `Im ${m.instanceNumber}, frame ${m.frame + 1}` : `Im ${m.instanceNumber}`;
}

/** The review of a finding, if any. */
export function reviewOf(ctx: ReportContext, findingId: string): Review | undefined {
  return ctx.reviews.find((r) => r.findingId === findingId);
}

/** The findings with their reviews, in reading order (the report's order: an axial stack's from the head down). */
export function reviewedFindings(ctx: ReportContext): { finding: Finding; review: Review | undefined }[] {
  return findingLabelOrder(ctx.analysis.findings, ctx.series.readingStep).map((finding) => ({ finding, review: reviewOf(ctx, finding.id) }));
}

export { isUnreviewed };

/**
 * The labels people read a finding by: F1, F2, ... in the report's order (the model's findings in
 * reading order, then those the reviewer added), as measurements are M1, M2, ... The internal id
 * (`liver_lesion:7-20`, 0-based slices) stays in the machine-readable outputs (SR, JSON, CSV).
 */
export function findingLabels(ctx: ReportContext): Map<string, string> {
  return findingLabelsOf(ctx.analysis.findings, ctx.added, ctx.series.readingStep);
}

/**
 * The key images in the order of their findings' labels (F1 first), whatever order the context
 * lists them in: the PDF shows them so and the Secondary Captures are numbered so (SC-001 = F1).
 */
export function keyImagesInLabelOrder(ctx: ReportContext, labels: Map<string, string> = findingLabels(ctx)): KeyImage[] {
  const order = [...labels.keys()];
  const rank = (id: string) => (order.includes(id) ? order.indexOf(id) : order.length);
  return [...ctx.keyImages].sort((a, b) => rank(a.findingId) - rank(b.findingId));
}

/** Where the review of a report stands: what the PDF's banner and sign-off and the SR's review status say. */
export interface ReviewStatus {
  /** The model's findings the report lists. */
  findings: number;
  /** Those not reviewed (no decision, or pending), by label. */
  pending: string[];
  /** The viewer's sign-off: none, current, or stale (the review changed after it). */
  signOff: 'none' | 'current' | 'stale';
  /** Who signs: named, not named, or withheld (de-identified). */
  reviewer: 'named' | 'none' | 'withheld';
}

export function reviewStatus(ctx: ReportContext): ReviewStatus {
  const labels = findingLabels(ctx);
  const listed = reviewedFindings(ctx);
  return {
    findings: listed.length,
    pending: listed.filter((x) => isUnreviewed(x.review)).map((x) => labels.get(x.finding.id) as string),
    signOff: !ctx.signOff ? 'none' : ctx.signOff.current ? 'current' : 'stale',
    // a name that makes no DICOM name (only commas or backslashes) names nobody
    reviewer: ctx.reviewer && toPersonName(ctx.reviewer) ? 'named' : ctx.deidentified ? 'withheld' : 'none',
  };
}

/**
 * What keeps the report from being final, in words ([] when nothing does): not signed off (or
 * the review changed since), findings not reviewed, no reviewer named. The PDF prints them under
 * its title as a DRAFT line, the SR as its review status; the viewer's export dialog says the same
 * before exporting.
 */
export function draftReasons(st: ReviewStatus): string[] {
  const out: string[] = [];
  if (st.signOff === 'none') out.push('not signed off in the viewer');
  else if (st.signOff === 'stale') out.push('the review changed after the sign-off in the viewer (a decision, the impression or a measurement)');
  if (st.pending.length) out.push(`${st.pending.length} of ${st.findings} AI finding${st.findings === 1 ? '' : 's'} not reviewed (${st.pending.join(', ')})`);
  if (st.reviewer === 'none') out.push('no reviewer named');
  return out;
}

const setOpt = <T extends object, K extends keyof T>(o: T, k: K, v: T[K] | undefined | '') => {
  if (v === undefined || v === '') delete o[k];
  else o[k] = v;
};

/** The same context with identifying data removed or replaced (deidentify.ts has the table). */
export function deidentifyContext(ctx: ReportContext, d: Deidentifier): ReportContext {
  d.notePersonName(ctx.patient.name, ctx.study.referringPhysician, ctx.reviewer, ctx.signOff?.reviewer, ...ctx.reviews.map((r) => r.reviewer), ...ctx.added.map((a) => a.reviewer));
  d.noteIdentifying(ctx.patient.id, ctx.study.accessionNumber, ctx.study.id, ctx.study.institution);
  d.noteDate(ctx.patient.birthDate, ctx.study.date);
  if (ctx.identifying) {
    d.noteOtherPeople(...ctx.identifying.people);
    d.noteCodes(...ctx.identifying.values);
  }
  const patient: ReportPatient = { name: d.patientName(ctx.patient.name), id: d.patientId(ctx.patient.id) };
  const study: ReportStudy = { studyInstanceUid: d.uid(ctx.study.studyInstanceUid) };
  setOpt(study, 'date', d.date(ctx.study.date));
  if (study.date && ctx.study.time) study.time = ctx.study.time;
  const series: ReportSeries = {
    seriesInstanceUid: d.uid(ctx.series.seriesInstanceUid),
    modality: ctx.series.modality,
    ...(ctx.series.sopClassUid ? { sopClassUid: ctx.series.sopClassUid } : {}),
    ...(ctx.series.multiFrameSops ? { multiFrameSops: ctx.series.multiFrameSops.map((u) => d.uid(u)) } : {}),
    // not identifying, and the labels and slice numbers follow it: a de-identified export names
    // its findings as the plain one does (F1 is the same finding in both)
    ...(ctx.series.readingStep ? { readingStep: ctx.series.readingStep } : {}),
  };
  if (ctx.series.number !== undefined) series.number = ctx.series.number;
  if (ctx.series.frameOfReferenceUid) series.frameOfReferenceUid = d.uid(ctx.series.frameOfReferenceUid);
  const mapFinding = (f: Finding): Finding => ({ ...f, keySopInstanceUid: d.uid(f.keySopInstanceUid) });
  const analysis: SeriesAnalysis = {
    ...ctx.analysis,
    seriesInstanceUid: series.seriesInstanceUid,
    seriesId: d.uid(ctx.analysis.seriesId),
    // slice errors keep their code and message (no path: folder names can identify a patient)
    slices: ctx.analysis.slices.map((s) => ({ ...s, sopInstanceUid: d.uid(s.sopInstanceUid), ...(s.error ? { error: { code: s.error.code, message: d.redact(s.error.message) } } : {}) })),
    findings: ctx.analysis.findings.map(mapFinding),
  };
  const out: ReportContext = {
    ...ctx,
    patient,
    study,
    series,
    analysis,
    reviews: ctx.reviews.map((r) => {
      const copy: Review = { findingId: r.findingId, decision: r.decision, at: d.moment(new Date(r.at)).toISOString() };
      if (r.comment) copy.comment = d.redact(r.comment);
      return copy;
    }),
    added: ctx.added.map((a) => {
      const copy: AddedFinding = { id: a.id, class: a.class, sliceStart: a.sliceStart, sliceEnd: a.sliceEnd, centroid: a.centroid ?? null };
      if (a.comment) copy.comment = d.redact(a.comment);
      return copy;
    }),
    ...(ctx.signOff ? { signOff: { at: d.moment(new Date(ctx.signOff.at)).toISOString(), current: ctx.signOff.current } } : {}),
    ...(ctx.impression ? { impression: d.redact(ctx.impression) } : {}),
    keyImages: ctx.keyImages.map((k) => ({ ...k, sopInstanceUid: d.uid(k.sopInstanceUid) })),
    measurements: ctx.measurements.map((m) => ({ ...m, ...(m.sopInstanceUid ? { sopInstanceUid: d.uid(m.sopInstanceUid) } : {}), ...(m.unmeasurable ? { unmeasurable: d.redact(m.unmeasurable) } : {}) })),
    // every date the outputs carry (content, series, instance creation, contribution, the PDF's
    // "Created") derives from createdAt: shifted or a dummy, like the study's dates
    createdAt: d.moment(ctx.createdAt),
    // whether dates were shifted, never by how much (that would undo the shift)
    deidentified: { methodText: d.methodText(), methodCodes: d.methodCodes(), ...(d.dateShiftDays !== undefined ? { datesShifted: true } : {}) },
  };
  delete out.reviewer;
  delete out.identifying;
  return out;
}

/** How the report says a measurement's mm came from a calibration that is not PixelSpacing (the PDF's value cells, the SR's comment). */
export const CALIBRATION_NOTE: Record<Exclude<PixelSpacingSource, 'pixel'>, string> = {
  imager: 'calibrated at the detector (ImagerPixelSpacing), not corrected for magnification',
  'imager-ermf': 'ImagerPixelSpacing corrected by the estimated magnification (ERMF)',
  'ultrasound-region': 'calibrated by the ultrasound region',
};
