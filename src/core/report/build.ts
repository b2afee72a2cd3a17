/**
 * Building a ReportContext from what the app already has: the assembled series (headers and
 * slice order), its analysis, the loaded model, the reviews. Key images are the findings' key
 * slices, decoded again from the files and explained with the same method/layer as the viewer.
 */
import type { AssembledSeries } from '../dicom/series';
import type { InstanceHeader } from '../../shared/dicom';
import { measurementSpacing } from '../../shared/dicom';
import { decodeOpenedFrame, loadFrame, openDicomFile, type OpenedFile } from '../dicom/frame';
import { frameCalibration } from '../dicom/header';
import type { CamMethod } from '../explain/cam';
import { Explainer } from '../explain/explainer';
import { initialWindow, paddingRangeOf } from '../imaging/voi';
import type { LoadedModel } from '../inference/model';
import { ResightError, toErrorInfo } from '../errors';
import type { ProviderReport, SeriesAnalysis } from '../../shared/analysis';
import type { Review } from '../../shared/api';
import { impressionOf, isAddedFinding, isStackReview, reviewerFindings, signOffOf } from '../../shared/review';
import type { SignOff } from '../../shared/review';
import type { AddedFinding, KeyImage, ReportContext, ReportMeasurement } from './context';
import type { KeyImageInput } from './render';
import type { OverlayStyle } from '../../shared/colormap';
import { ellipseOf, ellipseStats, lengthOf, measurementPoints, rgbLuminance } from '../../shared/roi';
import type { DrawnMeasurement, RoiStats } from '../../shared/roi';
import { stackReadingStep } from '../../shared/planes';
import { distanceMm, reformatLine, reformatPatientPoint, reformatPositionNumber, reformatValuesInBox, seriesReformat } from './reformat-measure';
import type { ReformatLayout } from '../../shared/reformat';

export interface BuildOptions {
  reviews?: Review[];
  added?: AddedFinding[];
  signOff?: SignOff;
  /** The reviewer's impression (free text). */
  impression?: string;
  reviewer?: string;
  cam?: { method?: CamMethod; layer?: string };
  overlay?: OverlayStyle;
  createdAt?: Date;
  /** Reuse an explainer (its gradient graphs are cached per model and layer). */
  explainer?: Explainer;
  /** The reviewer's lengths and ellipse ROIs: measured here again from the source pixels. */
  measurements?: readonly DrawnMeasurement[];
}

/** The display window a reader would use for the class (lung nodules in the lung window, ...). */
export function windowForClass(cls: string, fallback: { center: number; width: number } | undefined): { center: number; width: number } {
  if (/lung|nodule|pulmo/i.test(cls)) return { center: -600, width: 1500 };
  if (/liver|hepat/i.test(cls)) return { center: 90, width: 150 };
  if (/bone|fracture/i.test(cls)) return { center: 480, width: 2500 };
  return fallback ?? { center: 40, width: 400 };
}

/**
 * Decisions as the viewer saves them, split the way a report takes them: decisions on the model's
 * findings, the findings the reviewer added (`added:<class>:<slice>` reviews; withdrawn ones,
 * decision rejected, left out), the sign-off and the impression.
 */
export function reviewsAndAdded(reviews: readonly Review[]): { reviews: Review[]; added: AddedFinding[]; signOff?: SignOff; impression?: string } {
  const signOff = signOffOf(reviews);
  const impression = impressionOf(reviews);
  return {
    reviews: reviews.filter((r) => !isAddedFinding(r.findingId) && !isStackReview(r.findingId)),
    added: reviewerFindings(reviews).map((f) => ({ id: f.id, class: f.class, sliceStart: f.slice, sliceEnd: f.slice, ...(f.comment ? { comment: f.comment } : {}), ...(f.point ? { centroid: f.point } : {}) })),
    ...(signOff ? { signOff } : {}),
    ...(impression ? { impression } : {}),
  };
}

/** A key image's window: the class window for CT (those are in HU); any other modality opens as
 * the viewer opens it (the file's first window, else automatic), since its values are not HU. */
function keyImageWindow(modality: string, cls: string, header: InstanceHeader, values: ArrayLike<number>): { center: number; width: number } {
  if (modality === 'CT') return windowForClass(cls, header.windows[0]);
  const w = initialWindow(header, values, paddingRangeOf(header));
  return { center: w.center, width: w.width };
}

export async function buildReportContext(
  series: AssembledSeries,
  analysis: SeriesAnalysis,
  model: LoadedModel,
  provider: ProviderReport,
  opts: BuildOptions = {},
): Promise<ReportContext> {
  const h = series.headers[0];
  if (!h) throw new ResightError('SERIES_NOT_FOUND', `series ${series.seriesInstanceUid} has no instances`);
  const card = model.card;
  const method = opts.cam?.method ?? 'gradcam';
  const layer = opts.cam?.layer ?? card.cam?.defaultLayer ?? 'layer4';
  // a measurement request that names no slice, or draws nothing, is refused before any work
  const reformats = new Map<NonNullable<DrawnMeasurement['plane']>, ReformatLayout>();
  for (const [i, m] of (opts.measurements ?? []).entries()) {
    if (m.plane) {
      // on a reformat: one the series has, at a position it has
      const l = reformats.get(m.plane) ?? seriesReformat(series, m.plane, `measurement M${m.label ?? i + 1}`);
      reformats.set(m.plane, l);
      if (m.slice >= l.count) throw new ResightError('VALIDATION', `measurement M${m.label ?? i + 1} is on reformat position ${m.slice}, but the ${l.anatomical} reformat has ${l.count}`);
    } else if (!series.ordered[m.slice]) throw new ResightError('FRAME_OUT_OF_RANGE', `measurement ${i + 1} is on slice ${m.slice}; the series has ${series.ordered.length}`);
    const w = Math.abs(m.b[0] - m.a[0]);
    const hgt = Math.abs(m.b[1] - m.a[1]);
    const shortless = m.kind === 'bidirectional' && (!m.c || !m.d || Math.hypot(m.d[0] - m.c[0], m.d[1] - m.c[1]) < 1e-3);
    if ((m.kind === 'ellipse' ? w < 1e-3 || hgt < 1e-3 : Math.hypot(w, hgt) < 1e-3) || shortless) throw new ResightError('VALIDATION', `measurement ${i + 1} (${m.kind}) has no extent`);
  }
  // each slice is read and decoded once, whether a key image, ROIs or both are on it
  const frames = new Map<string, ReturnType<typeof loadFrame>>();
  const load = (ref: { path: string; frame: number }): ReturnType<typeof loadFrame> => {
    const key = `${ref.path}#${ref.frame}`;
    let frame = frames.get(key);
    if (!frame) frames.set(key, (frame = loadFrame(ref.path, ref.frame)));
    return frame;
  };
  const explainer = opts.explainer ?? new Explainer();
  const keyImages: KeyImage[] = [];
  /** A key image of slice `index` for a finding of class `cls`, with `heat` drawn over it (or none). */
  const keyImageOf = async (findingId: string, index: number, cls: string, marker: [number, number] | null, explain: ((input: Awaited<ReturnType<typeof load>>) => Promise<{ heat: { values: Float32Array; max: number }; camSource: string }>) | null): Promise<void> => {
    const ref = series.ordered[index];
    if (!ref) return;
    const loaded = await load(ref);
    const { header, decoded, values } = loaded;
    if (decoded.samplesPerPixel !== 1) return;
    const cam = explain ? await explain(loaded) : null;
    const image: KeyImageInput = {
      rows: decoded.rows,
      columns: decoded.columns,
      values,
      window: keyImageWindow(series.modality, cls, header, values),
      ...(header.photometric === 'MONOCHROME1' ? { invert: true } : {}),
      heat: cam ? cam.heat.values : null,
      ...(cam ? { heatMax: cam.heat.max } : {}),
      marker,
      ...(opts.overlay ? { overlay: opts.overlay } : {}),
    };
    // the scale bar spans the whole image: PixelSpacing only, not a detector or region calibration
    const cal = frameCalibration(header, ref.frame);
    if (cal?.pixelSpacing && cal.pixelSpacingSource === 'pixel') image.pixelSpacing = cal.pixelSpacing;
    const iop = header.perFrame?.[ref.frame]?.imageOrientationPatient ?? header.imageOrientationPatient;
    if (iop) image.imageOrientationPatient = iop;
    keyImages.push({ findingId, sliceIndex: index, sopInstanceUid: ref.sopInstanceUid, sopClassUid: header.sopClassUid, frame: ref.frame, image, ...(cam ? { camSource: cam.camSource } : {}), ...(header.burnedInAnnotation ? { sourceBurnedIn: header.burnedInAnnotation } : {}) });
  };
  try {
    for (const f of analysis.findings) {
      await keyImageOf(f.id, f.keySlice, f.class, f.centroid, async ({ header, decoded, values }) => {
        const e = await explainer.explainSlice(model, { values, rows: decoded.rows, columns: decoded.columns, paddingRange: paddingRangeOf(header) }, { method, layer, class: f.class });
        return { heat: Explainer.heatmap(e, decoded.rows, decoded.columns), camSource: `${e.method}@${e.layer}` };
      });
    }
    // what the reviewer added is shown too, as the slice alone: a heatmap there would read as the
    // model's evidence for a finding it did not make
    for (const a of opts.added ?? []) await keyImageOf(a.id, a.sliceStart, a.class, a.centroid ?? null, null);
  } finally {
    if (!opts.explainer) await explainer.release();
  }
  // measurements are taken again from the files, never from numbers the viewer sends; a length
  // needs the header only, an ROI its slice
  const measurements: ReportMeasurement[] = [];
  const luma = new WeakMap<object, Float32Array>();
  for (const [i, m] of (opts.measurements ?? []).entries()) {
    if (m.plane) {
      // each slice it crosses is decoded here and let go: a coronal ROI can cross hundreds. A
      // multi-frame file is read once (its frames are the slices), not once per frame
      const opened = new Map<string, OpenedFile>();
      const frameOf = (ref: { path: string; frame: number }) => {
        let file = opened.get(ref.path);
        if (!file) {
          file = openDicomFile(ref.path);
          if ((file.header.frames ?? 1) > 1) opened.set(ref.path, file);
        }
        return decodeOpenedFrame(file, ref.frame);
      };
      measurements.push(await reformatMeasurement(series, reformats.get(m.plane) as ReformatLayout, m, `M${m.label ?? i + 1}`, frameOf));
      continue;
    }
    const ref = series.ordered[m.slice] as (typeof series.ordered)[number];
    const header = series.headers.find((x) => x.path === ref.path);
    // the image's calibration (PixelSpacing, else ImagerPixelSpacing or ultrasound regions), if it
    // holds where the measurement lies; otherwise pixels
    const cal = header ? frameCalibration(header, ref.frame) : undefined;
    const ps = measurementSpacing(cal, measurementPoints(m));
    // the viewer's number for it (kept when others were deleted), else its place in the list
    const out: ReportMeasurement = { id: `M${m.label ?? i + 1}`, kind: m.kind, sliceIndex: m.slice, sopInstanceUid: ref.sopInstanceUid, sopClassUid: header?.sopClassUid ?? h.sopClassUid, frame: ref.frame, a: [...m.a], b: [...m.b], valueUnit: series.modality === 'CT' ? 'HU' : '' };
    if (ps && cal?.pixelSpacingSource) out.pixelSpacingSource = cal.pixelSpacingSource;
    if (m.kind === 'length') out.length = lengthOf(m.a, m.b, ps);
    else if (m.kind === 'bidirectional' && m.c && m.d) {
      out.c = [...m.c];
      out.d = [...m.d];
      out.length = lengthOf(m.a, m.b, ps);
      out.shortAxis = lengthOf(m.c, m.d, ps);
    } else {
      try {
        const { decoded, values } = await load(ref);
        const color = decoded.samplesPerPixel === 3;
        let plane: ArrayLike<number> = values;
        if (color) {
          // one luminance plane per colour slice, however many ROIs are drawn on it
          const y = luma.get(values) ?? rgbLuminance(values, decoded.rows * decoded.columns);
          luma.set(values, y);
          plane = y;
        }
        setRoiStats(out, color, ellipseStats(plane, decoded.rows, decoded.columns, m.a, m.b, ps));
      } catch (err) {
        // one slice that does not decode leaves its ROI unmeasured, not the whole report unwritten
        const info = toErrorInfo(err, ref.path);
        out.unmeasurable = `${info.message} [${info.code}]`;
      }
    }
    measurements.push(out);
  }
  // the multi-frame instances: their frames are named by frame, and referenced with frame numbers
  const multi = new Set(series.instances.filter((i) => i.frames > 1).map((i) => i.sopInstanceUid));
  // over every instance: operators and stations can differ from file to file
  const people = new Set<string>();
  const values = new Set<string>();
  for (const x of series.headers ?? []) {
    for (const v of x.identifying?.people ?? []) people.add(v);
    for (const v of x.identifying?.values ?? []) values.add(v);
  }
  const ctx: ReportContext = {
    patient: { ...h.patient },
    ...(people.size || values.size ? { identifying: { people: [...people], values: [...values] } } : {}),
    study: { studyInstanceUid: h.studyInstanceUid, ...h.study },
    series: { seriesInstanceUid: series.seriesInstanceUid, modality: series.modality, sopClassUid: h.sopClassUid, readingStep: stackReadingStep(series.geometry) },
    model: {
      ...model.identity,
      classes: [...card.outputs.classes],
      // the thresholds its findings were drawn at (the operating point in use), else the card's
      thresholds: { ...(analysis.thresholds ?? card.outputs.thresholds) },
      ...(analysis.operatingPoint ? { operatingPoint: analysis.operatingPoint } : {}),
      intendedUse: card.intendedUse ?? '',
      disclaimer: typeof card.disclaimer === 'string' ? card.disclaimer : card.notForClinicalUse !== false ? 'Not for clinical use.' : '',
      notForClinicalUse: card.notForClinicalUse !== false,
    },
    provider,
    analysis,
    reviews: opts.reviews ?? [],
    added: opts.added ?? [],
    ...(opts.signOff ? { signOff: opts.signOff } : {}),
    ...(opts.impression ? { impression: opts.impression } : {}),
    keyImages,
    // a multi-frame file's frames share its InstanceNumber: the frame says which one
    sliceMeta: series.ordered.map((r) => ({
      ...(r.instanceNumber !== undefined ? { instanceNumber: r.instanceNumber } : {}),
      ...(multi.has(r.sopInstanceUid) ? { frame: r.frame } : {}),
      ...(r.location !== undefined ? { location: r.location } : {}),
      ...(r.position ? { position: [r.position[0], r.position[1], r.position[2]] as [number, number, number] } : {}),
    })),
    measurements,
    createdAt: opts.createdAt ?? new Date(),
    cam: { method, layer },
  };
  if (multi.size) ctx.series.multiFrameSops = [...multi];
  if (series.number !== undefined) ctx.series.number = series.number;
  if (series.description) ctx.series.description = series.description;
  if (h.frameOfReferenceUid) ctx.series.frameOfReferenceUid = h.frameOfReferenceUid;
  if (opts.reviewer) ctx.reviewer = opts.reviewer;
  return ctx;
}

/**
 * An ellipse ROI's statistics on the report, or why there are none. A colour image's values are
 * display values, not HU, even when its Modality says CT (a vendor's rendering): its ROI is a
 * luminance, as the viewer labels it.
 */
function setRoiStats(out: ReportMeasurement, colour: boolean, st: RoiStats | null): void {
  if (colour) {
    out.luminance = true;
    out.valueUnit = '';
  }
  if (st) out.stats = st;
  else out.unmeasurable = 'no pixel centre inside the ellipse';
}

/**
 * A measurement drawn on a reformat, measured from the series' geometry: its points in the patient,
 * lengths as the distances between them (the reformat's pixels are square, so these are the mm the
 * viewer showed), an ellipse's statistics on the reformat's values resampled from the slices it
 * crosses.
 */
async function reformatMeasurement(series: AssembledSeries, l: ReformatLayout, m: DrawnMeasurement, id: string, load: (ref: { path: string; frame: number }) => ReturnType<typeof loadFrame>): Promise<ReportMeasurement> {
  const at = (p: readonly [number, number]) => reformatPatientPoint(series, l, m.slice, p);
  const ps = l.pixelSpacing;
  const out: ReportMeasurement = {
    id,
    kind: m.kind,
    a: [...m.a],
    b: [...m.b],
    valueUnit: series.modality === 'CT' ? 'HU' : '',
    pixelSpacingSource: 'pixel',
    reformat: { plane: l.anatomical, position: reformatPositionNumber(series, l, m.slice), count: l.count, points: [] },
  };
  const place = out.reformat as NonNullable<ReportMeasurement['reformat']>;
  const mm = (p: readonly [number, number], q: readonly [number, number]) => ({ value: distanceMm(at(p), at(q)), unit: 'mm' as const });
  if (m.kind === 'length') {
    out.length = mm(m.a, m.b);
    place.points = [at(m.a), at(m.b)];
  } else if (m.kind === 'bidirectional' && m.c && m.d) {
    out.c = [...m.c];
    out.d = [...m.d];
    out.length = mm(m.a, m.b);
    out.shortAxis = mm(m.c, m.d);
    place.points = [at(m.a), at(m.b), at(m.c), at(m.d)];
  } else {
    // ELLIPSE: the major axis' end points, then the minor axis' (as the SR's 2-D ellipse)
    const { cx, cy, rx, ry } = ellipseOf(m.a, m.b);
    const h: [[number, number], [number, number]] = [[cx - rx, cy], [cx + rx, cy]];
    const v: [[number, number], [number, number]] = [[cx, cy - ry], [cx, cy + ry]];
    place.points = (rx >= ry ? [...h, ...v] : [...v, ...h]).map(at);
    try {
      let colour = false;
      const values = await reformatValuesInBox(l, m.a, m.b, async (k) => {
        const ref = series.ordered[k] as (typeof series.ordered)[number];
        const { decoded, values: px } = await load(ref);
        // a colour slice is measured on its luminance, as the viewer measures it
        colour ||= decoded.samplesPerPixel === 3;
        const plane1 = decoded.samplesPerPixel === 3 ? rgbLuminance(px, decoded.rows * decoded.columns) : px;
        return reformatLine(l, m.slice, plane1, decoded.columns);
      });
      setRoiStats(out, colour, ellipseStats(values, l.outH, l.outW, m.a, m.b, ps));
    } catch (err) {
      const info = toErrorInfo(err);
      out.unmeasurable = `${info.message} [${info.code}]`;
    }
  }
  return out;
}
