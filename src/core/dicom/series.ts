/**
 * Series assembly: headers -> studies -> series -> spatially ordered stacks of slices.
 *
 * The rules a radiologist relies on: slices are ordered by ImagePositionPatient projected on the
 * slice normal (from ImageOrientationPatient), never by file name; when positions are missing we
 * fall back to InstanceNumber and say so; gaps, uneven spacing, duplicate positions and gantry
 * tilt are reported; images that cannot share a volume with the rest (localizers, another
 * orientation, another size) are split into their own stack rather than silently mixed in.
 */
import type {
  PixelCalibration,
  SeriesSplit,
  FileError,
  InstanceHeader,
  SeriesGeometry,
  SeriesSummary,
  SliceRef,
  SortMethod,
  StudySummary,
  Vec3,
} from '../../shared/dicom';
import { frameCalibration } from './header';
import { lookupTransferSyntax } from './transfer-syntax';
import { count } from '../../shared/plural';

export interface AssembledSeries extends SeriesSummary {
  /** Slices in spatial order (first = lowest position along the normal). */
  ordered: SliceRef[];
  /** The headers of the instances in this stack, in `instances` order. */
  headers: InstanceHeader[];
}

export interface AssembledStudy extends StudySummary {
  series: AssembledSeries[];
}

export function cross(a: Vec3, b: Vec3): Vec3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

export function dot(a: readonly number[], b: readonly number[]): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

function normalize(v: Vec3): Vec3 | undefined {
  const n = Math.hypot(v[0], v[1], v[2]);
  return n > 1e-9 ? [v[0] / n, v[1] / n, v[2] / n] : undefined;
}

/** Slice normal from ImageOrientationPatient (row cosines x column cosines). */
export function sliceNormal(iop: readonly number[] | undefined): Vec3 | undefined {
  if (!iop || iop.length < 6) return undefined;
  return normalize(cross([iop[0], iop[1], iop[2]], [iop[3], iop[4], iop[5]]));
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const ORIENTATION_TOLERANCE = 1e-3;

function sameOrientation(a: readonly number[] | undefined, b: readonly number[] | undefined): boolean {
  if (!a || !b) return a === b;
  for (let i = 0; i < 6; i++) if (Math.abs(a[i] - b[i]) > ORIENTATION_TOLERANCE) return false;
  return true;
}

interface Candidate {
  header: InstanceHeader;
  frame: number;
  position?: Vec3;
  orientation?: number[];
}

function candidates(h: InstanceHeader): Candidate[] {
  const out: Candidate[] = [];
  for (let f = 0; f < h.frames; f++) {
    const pf = h.perFrame?.[f];
    const position = pf?.imagePositionPatient ?? (h.frames === 1 ? h.imagePositionPatient : undefined);
    const orientation = pf?.imageOrientationPatient ?? h.imageOrientationPatient;
    const c: Candidate = { header: h, frame: f };
    if (position) c.position = position;
    if (orientation) c.orientation = orientation;
    out.push(c);
  }
  return out;
}

const isLocalizer = (h: InstanceHeader) => h.imageType.some((t) => t.toUpperCase() === 'LOCALIZER');

/** Split one series' frames into stacks that can each form a volume. */
type Stack = { members: Candidate[]; reason?: string; split?: SeriesSplit };

function splitStacks(cands: Candidate[]): Stack[] {
  const stacks: { key: string; members: Candidate[]; orientation?: number[]; reason?: string; split?: SeriesSplit }[] = [];
  for (const c of cands) {
    const h = c.header;
    const loc = isLocalizer(h);
    const size = `${h.rows}x${h.columns}x${h.samplesPerPixel}`;
    let stack = stacks.find(
      (s) =>
        s.key === `${size}|${loc}` && sameOrientation(s.orientation, c.orientation),
    );
    if (!stack) {
      stack = { key: `${size}|${loc}`, members: [], ...(loc ? { reason: 'localizer', split: { kind: 'localizer' as const } } : {}) };
      if (c.orientation) stack.orientation = c.orientation;
      stacks.push(stack);
    }
    stack.members.push(c);
  }
  // The main stack (most slices, not a localizer) keeps the plain series id.
  stacks.sort((a, b) => Number(a.reason === 'localizer') - Number(b.reason === 'localizer') || b.members.length - a.members.length);
  const main = stacks[0];
  for (const s of stacks.slice(1)) {
    if (s.reason) continue;
    const h = s.members[0].header;
    const mh = main.members[0].header;
    const size = h.rows !== mh.rows || h.columns !== mh.columns || h.samplesPerPixel !== mh.samplesPerPixel;
    s.reason = size ? `different image size (${h.columns}x${h.rows})` : 'different orientation';
    s.split = { kind: size ? 'size' : 'orientation' };
  }
  return stacks.map((s) => (s.reason && s.split ? { members: s.members, reason: s.reason, split: s.split } : { members: s.members }));
}

/** Positions closer than this along the normal are one position (mm). */
const SAME_POSITION_MM = 1e-3;

/**
 * A stack whose every position holds the same number k >= 2 of images (multi-echo, diffusion
 * b-values, perfusion or cardiac phases, a series written twice) is k stacks of one image per
 * position: as one stack, scrolling would alternate between echoes or b-values. At each position
 * the images are sorted by what tells acquisitions apart (AcquisitionNumber, EchoNumbers,
 * TemporalPositionIdentifier, DiffusionBValue, TriggerTime), then InstanceNumber, frame and path
 * (numeric), and the j-th goes to part j. Where the images say which echo, phase or b-value they
 * are, each part must hold one of them at every position; if not (or only some positions repeat)
 * the stack is left whole, and `spacingReport` warns about the repeated positions.
 */
function splitRepeats(members: Candidate[]): Candidate[][] {
  const normal = sliceNormal(members[0]?.orientation);
  if (!normal || members.length < 4 || !members.every((m) => m.position)) return [members];
  const locs = new Map(members.map((m) => [m, dot(m.position as Vec3, normal)]));
  const loc = (m: Candidate) => locs.get(m) as number;
  const sorted = [...members].sort((a, b) => loc(a) - loc(b));
  const groups: Candidate[][] = [];
  for (const m of sorted) {
    const g = groups[groups.length - 1];
    if (g && Math.abs(loc(m) - loc(g[0] as Candidate)) <= SAME_POSITION_MM) g.push(m);
    else groups.push([m]);
  }
  const k = groups[0]?.length ?? 1;
  if (k < 2 || groups.length < 2 || groups.some((g) => g.length !== k)) return [members];
  // the sort keys, read once per image rather than once per comparison
  const phases = new Map(
    members.map((m) => {
      const p = m.header.phase;
      return [m, [m.header.acquisitionNumber, p?.echoNumber, p?.temporalPosition, p?.bValue, p?.triggerTime]];
    }),
  );
  const phaseOf = (m: Candidate) => phases.get(m) as (number | undefined)[];
  const cmp = (x: (number | undefined)[], y: (number | undefined)[]) => {
    for (let i = 0; i < x.length; i++) {
      const d = (x[i] ?? 0) - (y[i] ?? 0);
      if (d) return d;
    }
    return 0;
  };
  const order = (a: Candidate, b: Candidate) =>
    cmp(phaseOf(a), phaseOf(b)) ||
    (a.header.instanceNumber ?? 0) - (b.header.instanceNumber ?? 0) ||
    a.frame - b.frame ||
    a.header.path.localeCompare(b.header.path, 'en', { numeric: true });
  const parts: Candidate[][] = Array.from({ length: k }, () => []);
  for (const g of groups) g.sort(order).forEach((m, j) => parts[j]?.push(m));
  // one echo / phase / b-value per part (trigger times drift slice to slice, so they only sort)
  const identity = (m: Candidate) => {
    const p = m.header.phase;
    return `${p?.echoNumber ?? ''}|${p?.temporalPosition ?? ''}|${p?.bValue ?? ''}`;
  };
  if (parts.some((part) => new Set(part.map(identity)).size > 1)) return [members];
  return parts;
}

/**
 * SOP classes that are pictures rather than slices of a volume: Secondary Capture (ReSight's own
 * key images among them), ultrasound, visible-light photographs, projection radiographs. They
 * carry no ImagePositionPatient by design, so InstanceNumber order is their order, not a fallback
 * worth a warning.
 */
const PLANAR_SOP_CLASSES = new Set([
  '1.2.840.10008.5.1.4.1.1.7', // Secondary Capture
  '1.2.840.10008.5.1.4.1.1.7.1', // Multi-frame Single Bit SC
  '1.2.840.10008.5.1.4.1.1.7.2', // Multi-frame Grayscale Byte SC
  '1.2.840.10008.5.1.4.1.1.7.3', // Multi-frame Grayscale Word SC
  '1.2.840.10008.5.1.4.1.1.7.4', // Multi-frame True Color SC
  '1.2.840.10008.5.1.4.1.1.6.1', // Ultrasound Image
  '1.2.840.10008.5.1.4.1.1.3.1', // Ultrasound Multi-frame Image
  '1.2.840.10008.5.1.4.1.1.77.1.1', // VL Endoscopic Image
  '1.2.840.10008.5.1.4.1.1.77.1.2', // VL Microscopic Image
  '1.2.840.10008.5.1.4.1.1.77.1.4', // VL Photographic Image
  '1.2.840.10008.5.1.4.1.1.1', // Computed Radiography
  '1.2.840.10008.5.1.4.1.1.1.1', // Digital X-Ray (presentation)
  '1.2.840.10008.5.1.4.1.1.1.1.1', // Digital X-Ray (processing)
  '1.2.840.10008.5.1.4.1.1.1.2', // Digital Mammography (presentation)
  '1.2.840.10008.5.1.4.1.1.1.2.1', // Digital Mammography (processing)
  '1.2.840.10008.5.1.4.1.1.12.1', // X-Ray Angiographic
  '1.2.840.10008.5.1.4.1.1.12.2', // X-Ray Radiofluoroscopic
]);

/** An image that has been through lossy compression: it says so, or its transfer syntax is lossy. */
const isLossy = (h: InstanceHeader): boolean => h.lossyImageCompression || lookupTransferSyntax(h.transferSyntaxUid)?.lossy === true;

function orderStack(members: Candidate[], warnings: string[]): { ordered: Candidate[]; geometry: SeriesGeometry; locations?: number[] } {
  const orientation = members[0].orientation;
  const normal = sliceNormal(orientation);
  const byInstance = (a: Candidate, b: Candidate) =>
    (a.header.instanceNumber ?? 0) - (b.header.instanceNumber ?? 0) || a.frame - b.frame || a.header.path.localeCompare(b.header.path);
  if (members.length === 1) {
    const geometry: SeriesGeometry = { sortedBy: 'position', uniform: true };
    if (normal) geometry.normal = normal;
    if (orientation) geometry.orientation = orientation;
    // its position along the normal, as a stack's slices have it (not the z of an oblique or sagittal image)
    const only = members[0].position;
    return { ordered: members, geometry, ...(normal && only ? { locations: [dot(only, normal)] } : {}) };
  }
  if (normal && members.every((m) => m.position)) {
    const loc = new Map<Candidate, number>(members.map((m) => [m, dot(m.position as Vec3, normal)]));
    const ordered = [...members].sort((a, b) => (loc.get(a) as number) - (loc.get(b) as number) || byInstance(a, b));
    const locations = ordered.map((m) => loc.get(m) as number);
    const geometry = spacingReport(ordered, locations, normal, warnings);
    if (orientation) geometry.orientation = orientation;
    return { ordered, geometry, locations };
  }
  const haveNumbers = members.every((m) => m.header.instanceNumber !== undefined || m.header.frames > 1);
  const sortedBy: SortMethod = haveNumbers ? 'instanceNumber' : 'file';
  const pictures = members.every((m) => PLANAR_SOP_CLASSES.has(m.header.sopClassUid));
  if (!(pictures && haveNumbers)) {
    warnings.push(
      haveNumbers
        ? 'ImagePositionPatient/ImageOrientationPatient missing: slices ordered by InstanceNumber, spacing unknown'
        : 'no position or InstanceNumber: slices kept in file order, spacing unknown',
    );
  }
  const ordered = [...members].sort(haveNumbers ? byInstance : (a, b) => a.header.path.localeCompare(b.header.path) || a.frame - b.frame);
  const geometry: SeriesGeometry = { sortedBy, uniform: false };
  if (normal) geometry.normal = normal;
  if (orientation) geometry.orientation = orientation;
  return { ordered, geometry };
}

const fmt = (n: number) => (Math.round(n * 1000) / 1000).toString();

function sameCalibration(a: PixelCalibration | undefined, b: PixelCalibration | undefined): boolean {
  if (!a || !b) return a === b;
  const close = (x: number, y: number) => Math.abs(x - y) <= 1e-6 * Math.max(Math.abs(x), Math.abs(y));
  const [pa, pb] = [a.pixelSpacing, b.pixelSpacing];
  if (!pa || !pb || !close(pa[0], pb[0]) || !close(pa[1], pb[1]) || a.pixelSpacingSource !== b.pixelSpacingSource) return false;
  return JSON.stringify(a.pixelSpacingRegions ?? null) === JSON.stringify(b.pixelSpacingRegions ?? null);
}

/**
 * The stack's calibration for measurements. PixelSpacing: the first image's, as always. A
 * calibration from another source (ImagerPixelSpacing, ultrasound regions) only where every image
 * shares it; where they differ (ultrasound images at different depths) the series has none and each
 * slice carries its own (`SliceRef.pixelSpacing`), so no image is measured with another's scale.
 */
function stackCalibration(ordered: Candidate[], slices: SliceRef[]): PixelCalibration | undefined {
  const h0 = ordered[0].header;
  const first = frameCalibration(h0, 0);
  if (first?.pixelSpacingSource === 'pixel') return first;
  const cals = ordered.map((c) => frameCalibration(c.header, c.frame));
  if (cals.every((c) => sameCalibration(c, first))) return first;
  cals.forEach((c, i) => {
    if (c) Object.assign(slices[i], c);
  });
  return undefined;
}

function spacingReport(ordered: Candidate[], locations: number[], normal: Vec3, warnings: string[]): SeriesGeometry {
  const diffs: number[] = [];
  for (let i = 1; i < locations.length; i++) diffs.push(locations[i] - locations[i - 1]);
  const positive = diffs.filter((d) => d > 1e-3);
  const geometry: SeriesGeometry = { sortedBy: 'position', normal, uniform: true };
  if (!positive.length) {
    warnings.push('all slices share one position: no slice spacing');
    geometry.uniform = false;
    return geometry;
  }
  const spacing = median(positive);
  geometry.sliceSpacing = spacing;
  const dupes = diffs.filter((d) => d <= 1e-3).length;
  if (dupes) {
    warnings.push(`${dupes} duplicate slice position(s): slices at the same location were kept, ordered by InstanceNumber`);
    geometry.uniform = false;
  }
  const gaps: string[] = [];
  let uneven = false;
  diffs.forEach((d, i) => {
    if (d <= 1e-3) return;
    if (d > spacing * 1.5) {
      const missing = Math.round(d / spacing) - 1;
      // by position, not by number: which end a viewer numbers from is its own (shared/planes.ts)
      gaps.push(`between the slices at ${fmt(locations[i] as number)} and ${fmt(locations[i + 1] as number)} mm: ${fmt(d)} mm (${missing} missing at ${fmt(spacing)} mm)`);
    } else if (Math.abs(d - spacing) > Math.max(0.01 * spacing, 0.01)) {
      uneven = true;
    }
  });
  if (gaps.length) {
    warnings.push(`gap in slice positions ${gaps.join('; ')}`);
    geometry.uniform = false;
  }
  if (uneven) {
    warnings.push(`non-uniform slice spacing: ${fmt(Math.min(...positive))} to ${fmt(Math.max(...positive))} mm (median ${fmt(spacing)} mm)`);
    geometry.uniform = false;
  }
  // Gantry tilt: slices advance along a direction that is not the slice normal.
  const first = ordered[0].position as Vec3;
  const last = ordered[ordered.length - 1].position as Vec3;
  const dir = normalize([last[0] - first[0], last[1] - first[1], last[2] - first[2]]);
  if (dir) {
    const tilt = (Math.acos(Math.min(1, Math.abs(dot(dir, normal)))) * 180) / Math.PI;
    if (tilt > 0.1) {
      geometry.gantryTiltDeg = Math.round(tilt * 100) / 100;
      warnings.push(`gantry tilt / sheared stack: slices advance ${fmt(tilt)} degrees off the slice normal`);
    }
  }
  return geometry;
}

/**
 * What tells two headers with one SOP Instance UID apart, as far as headers can (pixels are not
 * read): a copy of one image differs in none of these, a writer that reused UIDs in most.
 */
function imageDifferences(a: InstanceHeader, b: InstanceHeader): string[] {
  const out: string[] = [];
  const pos = (h: InstanceHeader) => (h.imagePositionPatient ? `[${h.imagePositionPatient.map(fmt).join(', ')}]` : 'none');
  if (pos(a) !== pos(b)) out.push(`position ${pos(a)} vs ${pos(b)}`);
  if (a.rows !== b.rows || a.columns !== b.columns) out.push(`size ${a.columns}x${a.rows} vs ${b.columns}x${b.rows}`);
  if (a.frames !== b.frames) out.push(`${a.frames} vs ${count(b.frames, 'frame')}`);
  if (a.instanceNumber !== b.instanceNumber) out.push(`InstanceNumber ${a.instanceNumber ?? 'none'} vs ${b.instanceNumber ?? 'none'}`);
  if (a.seriesInstanceUid !== b.seriesInstanceUid) out.push('another series');
  return out;
}

/**
 * Group headers into studies and series (stacks), ordered for display. Files that repeat an
 * already-seen SOP Instance are reported in `unused` (when given) instead of silently dropped.
 */
export function assembleStudies(headers: readonly InstanceHeader[], unused?: FileError[]): AssembledStudy[] {
  const studies = new Map<string, InstanceHeader[]>();
  for (const h of headers) {
    const key = h.studyInstanceUid || `unknown-study:${h.patient.id}`;
    let list = studies.get(key);
    if (!list) studies.set(key, (list = []));
    list.push(h);
  }
  const out: AssembledStudy[] = [];
  for (const [studyUid, list] of studies) {
    const bySeries = new Map<string, InstanceHeader[]>();
    const seenSop = new Map<string, { header: InstanceHeader; list: InstanceHeader[] }>();
    for (const h of list) {
      const key = h.seriesInstanceUid || `unknown-series:${h.series.number ?? ''}:${h.series.modality}`;
      let s = bySeries.get(key);
      if (!s) bySeries.set(key, (s = []));
      // The same SOP Instance seen twice (a copy in another folder) is one instance: the first
      // read, unless that copy is cut short inside its pixels and this one is not
      if (h.sopInstanceUid) {
        const first = seenSop.get(h.sopInstanceUid);
        if (first !== undefined) {
          if (first.header.pixelDataTruncated && !h.pixelDataTruncated) {
            first.list[first.list.indexOf(first.header)] = h;
            unused?.push({ path: first.header.path, code: 'DUPLICATE_INSTANCE', message: `same SOP Instance UID as ${h.path}, a complete copy used instead of this one (its pixel data is cut short)` });
            seenSop.set(h.sopInstanceUid, { header: h, list: first.list });
            continue;
          }
          const differs = imageDifferences(first.header, h);
          unused?.push({
            path: h.path,
            code: 'DUPLICATE_INSTANCE',
            message: differs.length
              ? `same SOP Instance UID as ${first.header.path}, but not the same image (${differs.join('; ')}): the UID was reused, only the first file is used`
              : `same SOP Instance UID as ${first.header.path} (one image, counted once)`,
          });
          continue;
        }
        seenSop.set(h.sopInstanceUid, { header: h, list: s });
      }
      s.push(h);
    }
    const series: AssembledSeries[] = [];
    for (const [seriesUid, members] of bySeries) {
      const stacks = splitStacks(members.flatMap(candidates)).flatMap((stack) => {
        if (stack.reason) return [stack];
        const parts = splitRepeats(stack.members);
        return parts.length === 1
          ? [stack]
          : parts.map((m, j): Stack => ({ members: m, reason: `part ${j + 1} of ${parts.length}: every slice position repeats ${parts.length} times (echoes, b-values or phases)`, split: { kind: 'repeat', part: j + 1, parts: parts.length } }));
      });
      stacks.forEach((stack, idx) => series.push(buildSeries(studyUid, seriesUid, idx, stack)));
    }
    series.sort((a, b) => (a.number ?? 1e9) - (b.number ?? 1e9) || a.id.localeCompare(b.id, 'en', { numeric: true }));
    const first = list[0];
    const study: AssembledStudy = { studyInstanceUid: studyUid, patient: { ...first.patient }, series };
    if (first.study.date) study.date = first.study.date;
    if (first.study.description) study.description = first.study.description;
    if (first.study.accessionNumber) study.accessionNumber = first.study.accessionNumber;
    out.push(study);
  }
  out.sort((a, b) => a.patient.name.localeCompare(b.patient.name) || (a.date ?? '').localeCompare(b.date ?? ''));
  return out;
}

/**
 * The series' main stack (its largest non-localizer stack) has the Series Instance UID as its id;
 * stacks split off it get `<uid>#2`, `#3`... Decisions stored before they kept their instances
 * were made on the main stack, so only it may take them (review-anchor.ts).
 */
export function isMainStack(s: Pick<AssembledSeries, 'id' | 'seriesInstanceUid'>): boolean {
  return s.id === s.seriesInstanceUid;
}

function buildSeries(studyUid: string, seriesUid: string, index: number, { members, reason, split }: Stack): AssembledSeries {
  const warnings: string[] = [];
  const { ordered, geometry, locations } = orderStack(members, warnings);
  const headers: InstanceHeader[] = [];
  for (const c of ordered) if (!headers.includes(c.header)) headers.push(c.header);
  const h0 = ordered[0].header;
  const tsList = [...new Set(headers.map((h) => h.transferSyntaxUid))];
  const slices: SliceRef[] = ordered.map((c, i) => {
    const ref: SliceRef = { path: c.header.path, sopInstanceUid: c.header.sopInstanceUid, frame: c.frame };
    if (c.position) ref.position = c.position;
    if (locations) ref.location = locations[i];
    if (c.header.instanceNumber !== undefined) ref.instanceNumber = c.header.instanceNumber;
    const thickness = c.header.perFrame?.[c.frame]?.sliceThickness ?? c.header.sliceThickness;
    if (thickness !== undefined && thickness > 0) ref.thickness = thickness;
    if (isLossy(c.header)) ref.lossy = true;
    return ref;
  });
  for (const h of headers) for (const w of h.warnings) if (!warnings.includes(w)) warnings.push(w);
  const s: AssembledSeries = {
    id: index === 0 ? seriesUid : `${seriesUid}#${index + 1}`,
    seriesInstanceUid: seriesUid,
    studyInstanceUid: studyUid,
    modality: h0.series.modality,
    description: h0.series.description ?? '',
    rows: h0.rows,
    columns: h0.columns,
    slices: ordered.length,
    transferSyntaxes: tsList,
    lossy: headers.some(isLossy),
    photometric: h0.photometric,
    instances: headers.map((h) => ({ path: h.path, sopInstanceUid: h.sopInstanceUid, frames: h.frames })),
    geometry,
    warnings,
    ordered: slices,
    headers,
  };
  if (h0.series.number !== undefined) s.number = h0.series.number;
  const cal = stackCalibration(ordered, slices);
  if (cal) Object.assign(s, cal);
  if (geometry.sliceSpacing !== undefined) s.sliceSpacing = geometry.sliceSpacing;
  if (reason) s.splitReason = reason;
  if (split) s.split = split;
  if (headers.some((h) => h.overlays)) s.overlays = true;
  // the letters of a radiograph's edges, when every image of the stack has the same (a PA and a
  // lateral of one size stay one stack: then none, rather than the PA's letters on the lateral)
  const po = h0.patientOrientation;
  if (!geometry.orientation && po && headers.every((h) => h.patientOrientation?.[0] === po[0] && h.patientOrientation?.[1] === po[1])) s.patientOrientation = po;
  if (h0.displayFps !== undefined) s.displayFps = h0.displayFps;
  return s;
}
