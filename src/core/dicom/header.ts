/**
 * DataSet -> InstanceHeader: the typed, JSON-safe summary of one file that scanning, series
 * assembly and the UI work from. Text is decoded with the file's SpecificCharacterSet
 * (dicom-parser itself assumes ASCII).
 */
import type { DataSet, Element } from 'dicom-parser';
import type { FrameInfo, InstanceHeader, PixelCalibration, PixelRegion, RescaleInfo, Vec3, WindowInfo } from '../../shared/dicom';
import { decodeDicomText, isDefaultCharset, parseSpecificCharacterSet } from './charset';
import type { ParsedDicom } from './parse';
import { pixelDataElement } from './parse';
import { lookupTransferSyntax } from './transfer-syntax';
import { ResightError } from '../errors';

/** More frames than any real acquisition (large cine/tomosynthesis objects have a few thousand). */
export const MAX_FRAMES = 100_000;

export const TAG = {
  MediaStorageSOPClassUID: 'x00020002',
  SpecificCharacterSet: 'x00080005',
  ImageType: 'x00080008',
  SOPClassUID: 'x00080016',
  SOPInstanceUID: 'x00080018',
  StudyDate: 'x00080020',
  StudyTime: 'x00080030',
  AccessionNumber: 'x00080050',
  InstitutionName: 'x00080080',
  BurnedInAnnotation: 'x00280301',
  ReferringPhysicianName: 'x00080090',
  Modality: 'x00080060',
  StudyDescription: 'x00081030',
  SeriesDescription: 'x0008103e',
  PatientName: 'x00100010',
  PatientID: 'x00100020',
  PatientBirthDate: 'x00100030',
  PatientSex: 'x00100040',
  BodyPartExamined: 'x00180015',
  SliceThickness: 'x00180050',
  SpacingBetweenSlices: 'x00180088',
  StudyInstanceUID: 'x0020000d',
  SeriesInstanceUID: 'x0020000e',
  StudyID: 'x00200010',
  SeriesNumber: 'x00200011',
  AcquisitionNumber: 'x00200012',
  EchoNumbers: 'x00180086',
  TemporalPositionIdentifier: 'x00200100',
  TriggerTime: 'x00181060',
  DiffusionBValue: 'x00189087',
  InstanceNumber: 'x00200013',
  ImagePositionPatient: 'x00200032',
  ImageOrientationPatient: 'x00200037',
  FrameOfReferenceUID: 'x00200052',
  SamplesPerPixel: 'x00280002',
  PhotometricInterpretation: 'x00280004',
  PlanarConfiguration: 'x00280006',
  NumberOfFrames: 'x00280008',
  Rows: 'x00280010',
  Columns: 'x00280011',
  PixelSpacing: 'x00280030',
  PatientOrientation: 'x00200020',
  RecommendedDisplayFrameRate: 'x00082144',
  // identifying values ReSight shows nowhere, read so de-identification can redact them from free text
  OtherPatientNames: 'x00101001',
  PatientBirthName: 'x00101005',
  PatientMotherBirthName: 'x00101060',
  OperatorsName: 'x00081070',
  PerformingPhysicianName: 'x00081050',
  NameOfPhysiciansReadingStudy: 'x00081060',
  PhysiciansOfRecord: 'x00081048',
  OtherPatientIDs: 'x00101000',
  DeviceSerialNumber: 'x00181000',
  StationName: 'x00081010',
  InstitutionAddress: 'x00080081',
  PatientAddress: 'x00101040',
  PatientTelephoneNumbers: 'x00102154',
  CineRate: 'x00180040',
  FrameTime: 'x00181063',
  ImagerPixelSpacing: 'x00181164',
  EstimatedRadiographicMagnificationFactor: 'x00181114',
  SequenceOfUltrasoundRegions: 'x00186011',
  RegionLocationMinX0: 'x00186018',
  RegionLocationMinY0: 'x0018601a',
  RegionLocationMaxX1: 'x0018601c',
  RegionLocationMaxY1: 'x0018601e',
  PhysicalUnitsXDirection: 'x00186024',
  PhysicalUnitsYDirection: 'x00186026',
  PhysicalDeltaX: 'x0018602c',
  PhysicalDeltaY: 'x0018602e',
  BitsAllocated: 'x00280100',
  BitsStored: 'x00280101',
  HighBit: 'x00280102',
  PixelRepresentation: 'x00280103',
  PixelPaddingValue: 'x00280120',
  PixelPaddingRangeLimit: 'x00280121',
  WindowCenter: 'x00281050',
  WindowWidth: 'x00281051',
  RescaleIntercept: 'x00281052',
  RescaleSlope: 'x00281053',
  RescaleType: 'x00281054',
  WindowCenterWidthExplanation: 'x00281055',
  LossyImageCompression: 'x00282110',
  ModalityLUTSequence: 'x00283000',
  SharedFunctionalGroups: 'x52009229',
  PerFrameFunctionalGroups: 'x52009230',
  PixelMeasuresSequence: 'x00289110',
  PlanePositionSequence: 'x00209113',
  PlaneOrientationSequence: 'x00209116',
  PixelValueTransformationSequence: 'x00289145',
  FrameVOILUTSequence: 'x00289132',
} as const;

/** Numbers from a multi-valued DS/IS element ("1.5\\2.0"), skipping empty or malformed values. */
export function numbers(ds: DataSet, tag: string): number[] | undefined {
  const el = ds.elements[tag];
  if (!el || el.length === 0) return undefined;
  const raw = ds.string(tag);
  if (raw === undefined) return undefined;
  const out = raw
    .split('\\')
    .map((s) => Number.parseFloat(s.trim()))
    .filter((n) => Number.isFinite(n));
  return out.length ? out : undefined;
}

function num(ds: DataSet, tag: string): number | undefined {
  return numbers(ds, tag)?.[0];
}

function us(ds: DataSet, tag: string): number | undefined {
  const el = ds.elements[tag];
  if (!el || el.length < 2) return undefined;
  return ds.uint16(tag);
}

/** US or SS depending on PixelRepresentation (PixelPaddingValue has VR US or SS). */
function usOrSs(ds: DataSet, tag: string, signed: boolean): number | undefined {
  const el = ds.elements[tag];
  if (!el || el.length < 2) return undefined;
  return signed ? ds.int16(tag) : ds.uint16(tag);
}

/**
 * The rate the images are meant to play at, frames per second: RecommendedDisplayFrameRate, else
 * CineRate, else 1000 / FrameTime (ms) (cine ultrasound, angiography, cardiac MR). Only a rate a
 * display can show (0 < fps <= 240).
 */
function displayFps(ds: DataSet): number | undefined {
  const frameTime = num(ds, TAG.FrameTime);
  // the first that a display can show: a RecommendedDisplayFrameRate of 0 does not hide a good FrameTime
  const candidates = [num(ds, TAG.RecommendedDisplayFrameRate), num(ds, TAG.CineRate), frameTime !== undefined && frameTime > 0 ? 1000 / frameTime : undefined];
  return candidates.find((fps): fps is number => fps !== undefined && Number.isFinite(fps) && fps > 0 && fps <= 240);
}

function str(ds: DataSet, tag: string): string | undefined {
  const v = ds.string(tag);
  return v === undefined || v === '' ? undefined : v.replace(/\0/g, '').trim() || undefined;
}

/**
 * PatientOrientation (0020,0020): the patient directions of the image's rows (left to right) and
 * columns (top to bottom), as letters (`A\F`, `L\FP`): what a projection radiograph has instead
 * of ImageOrientationPatient. Only well-formed pairs of L R A P H F are kept.
 */
function patientOrientation(v: string | undefined): [string, string] | undefined {
  const parts = v?.split('\\').map((x) => x.trim().toUpperCase());
  return parts?.length === 2 && parts.every((x) => /^[LRAPHF]{1,3}$/.test(x)) ? [parts[0] as string, parts[1] as string] : undefined;
}

function seqItem(ds: DataSet | undefined, tag: string, index = 0): DataSet | undefined {
  const el: Element | undefined = ds?.elements[tag];
  return el?.items?.[index]?.dataSet;
}

/** Decode text with the data set's character set (fast path for ASCII-compatible defaults). */
export function textOf(ds: DataSet, tag: string, charsets: readonly string[]): string | undefined {
  const el = ds.elements[tag];
  if (!el || el.length === 0) return undefined;
  if (isDefaultCharset(charsets)) return str(ds, tag);
  const bytes = (ds.byteArray as Uint8Array).subarray(el.dataOffset, el.dataOffset + el.length);
  const text = decodeDicomText(bytes, charsets, el.vr ?? 'LO').replace(/\0/g, '').trim();
  return text || undefined;
}

function vec3(v: number[] | undefined): Vec3 | undefined {
  return v && v.length >= 3 ? [v[0], v[1], v[2]] : undefined;
}

function orientation(v: number[] | undefined): number[] | undefined {
  return v && v.length >= 6 ? v.slice(0, 6) : undefined;
}

function spacing(v: number[] | undefined): [number, number] | undefined {
  return v && v.length >= 2 && v[0] > 0 && v[1] > 0 ? [v[0], v[1]] : undefined;
}

function ul(ds: DataSet, tag: string): number | undefined {
  const el = ds.elements[tag];
  if (!el || el.length < 4) return undefined;
  return ds.uint32(tag);
}

function fd(ds: DataSet, tag: string): number | undefined {
  const el = ds.elements[tag];
  if (!el || el.length < 8) return undefined;
  return ds.double(tag);
}

/** PhysicalUnitsX/YDirection (0018,6024/6026) value for centimetres. */
const US_UNITS_CM = 3;

/** Ultrasound regions whose deltas differ by less than this (relative) share one calibration. */
const SAME_DELTA = 1e-4;

/**
 * The calibration of an ultrasound image from its SequenceOfUltrasoundRegions (PS3.3 C.8.5.5):
 * the regions that are spatial (PhysicalUnits X and Y both cm) must all have the same
 * PhysicalDeltaX/Y, which (cm -> mm) is then the spacing inside them. Anything else (no spatial
 * region, regions with other deltas, a spatial region without deltas or bounds) gives none:
 * measurements stay in pixels. Other regions (M-mode, Doppler: seconds, cm/s) are not listed, so a
 * measurement in them is in pixels too (`measurementSpacing`).
 */
export function ultrasoundCalibration(ds: DataSet): PixelCalibration | undefined {
  const items = ds.elements[TAG.SequenceOfUltrasoundRegions]?.items;
  if (!items?.length) return undefined;
  let dx: number | undefined;
  let dy: number | undefined;
  const regions: PixelRegion[] = [];
  const same = (a: number, b: number) => Math.abs(a - b) <= SAME_DELTA * Math.max(a, b);
  for (const item of items) {
    const r = item.dataSet;
    if (!r || us(r, TAG.PhysicalUnitsXDirection) !== US_UNITS_CM || us(r, TAG.PhysicalUnitsYDirection) !== US_UNITS_CM) continue;
    // some writers sign the deltas by direction; the spacing is their size
    const x = Math.abs(fd(r, TAG.PhysicalDeltaX) ?? NaN);
    const y = Math.abs(fd(r, TAG.PhysicalDeltaY) ?? NaN);
    const box = [TAG.RegionLocationMinX0, TAG.RegionLocationMinY0, TAG.RegionLocationMaxX1, TAG.RegionLocationMaxY1].map((t) => ul(r, t));
    const [x0, y0, x1, y1] = box;
    if (!(x > 0 && y > 0 && Number.isFinite(x) && Number.isFinite(y))) return undefined;
    if (x0 === undefined || y0 === undefined || x1 === undefined || y1 === undefined || x1 < x0 || y1 < y0) return undefined;
    if (dx === undefined || dy === undefined) [dx, dy] = [x, y];
    else if (!same(dx, x) || !same(dy, y)) return undefined;
    regions.push([x0, y0, x1, y1]);
  }
  if (dx === undefined || dy === undefined) return undefined;
  return { pixelSpacing: [dy * 10, dx * 10], pixelSpacingSource: 'ultrasound-region', pixelSpacingRegions: regions };
}

/**
 * The measurement calibration of an image without PixelSpacing, as cornerstone3D and Weasis take
 * it: a projection radiograph's ImagerPixelSpacing (0018,1164), divided by its
 * EstimatedRadiographicMagnificationFactor (0018,1114) where it has one, else an ultrasound
 * image's regions. None for an image that places its pixels in 3D (ImagePositionPatient and
 * ImageOrientationPatient) but lacks PixelSpacing: a detector or region spacing must never become
 * a volume's geometry.
 */
export function derivedCalibration(ds: DataSet, placedIn3d: boolean): PixelCalibration | undefined {
  if (placedIn3d) return undefined;
  const imager = spacing(numbers(ds, TAG.ImagerPixelSpacing));
  if (imager) {
    const ermf = num(ds, TAG.EstimatedRadiographicMagnificationFactor);
    if (ermf !== undefined && ermf > 0) return { pixelSpacing: [imager[0] / ermf, imager[1] / ermf], pixelSpacingSource: 'imager-ermf' };
    return { pixelSpacing: imager, pixelSpacingSource: 'imager' };
  }
  return ultrasoundCalibration(ds);
}

/**
 * The calibration of one frame of an instance: its per-frame PixelSpacing (enhanced objects), else
 * the header's (PixelSpacing or a derived one). What series assembly and the report measure with.
 */
export function frameCalibration(h: InstanceHeader, frame: number): PixelCalibration | undefined {
  const own = h.perFrame?.[frame]?.pixelSpacing;
  if (own) return { pixelSpacing: own, pixelSpacingSource: 'pixel' };
  if (!h.pixelSpacing) return undefined;
  const cal: PixelCalibration = { pixelSpacing: h.pixelSpacing, pixelSpacingSource: h.pixelSpacingSource ?? 'pixel' };
  if (h.pixelSpacingRegions) cal.pixelSpacingRegions = h.pixelSpacingRegions;
  return cal;
}

function rescaleFrom(ds: DataSet | undefined): RescaleInfo | undefined {
  if (!ds) return undefined;
  const intercept = num(ds, TAG.RescaleIntercept);
  const slope = num(ds, TAG.RescaleSlope);
  if (intercept === undefined && slope === undefined) return undefined;
  const r: RescaleInfo = { slope: slope ?? 1, intercept: intercept ?? 0 };
  const type = str(ds, TAG.RescaleType);
  if (type) r.type = type;
  return r;
}

function windowsFrom(ds: DataSet | undefined): WindowInfo[] {
  if (!ds) return [];
  const centers = numbers(ds, TAG.WindowCenter) ?? [];
  const widths = numbers(ds, TAG.WindowWidth) ?? [];
  const explanations = (ds.string(TAG.WindowCenterWidthExplanation) ?? '').split('\\');
  const out: WindowInfo[] = [];
  for (let i = 0; i < Math.min(centers.length, widths.length); i++) {
    if (!(widths[i] >= 1)) continue;
    const w: WindowInfo = { center: centers[i], width: widths[i] };
    const ex = explanations[i]?.trim();
    if (ex) w.explanation = ex;
    out.push(w);
  }
  return out;
}

/** Merge shared and per-frame functional groups into one FrameInfo per frame. */
function functionalGroups(ds: DataSet, frames: number): FrameInfo[] | undefined {
  const shared = seqItem(ds, TAG.SharedFunctionalGroups);
  const perFrameEl = ds.elements[TAG.PerFrameFunctionalGroups];
  if (!shared && !perFrameEl?.items) return undefined;
  const out: FrameInfo[] = [];
  for (let f = 0; f < frames; f++) {
    const own = perFrameEl?.items?.[f]?.dataSet;
    const pick = (seq: string) => seqItem(own, seq) ?? seqItem(shared, seq);
    const info: FrameInfo = {};
    const posDs = pick(TAG.PlanePositionSequence);
    const pos = posDs ? vec3(numbers(posDs, TAG.ImagePositionPatient)) : undefined;
    if (pos) info.imagePositionPatient = pos;
    const ori = pick(TAG.PlaneOrientationSequence);
    const iop = ori ? orientation(numbers(ori, TAG.ImageOrientationPatient)) : undefined;
    if (iop) info.imageOrientationPatient = iop;
    const meas = pick(TAG.PixelMeasuresSequence);
    if (meas) {
      const ps = spacing(numbers(meas, TAG.PixelSpacing));
      if (ps) info.pixelSpacing = ps;
      const th = num(meas, TAG.SliceThickness);
      if (th !== undefined) info.sliceThickness = th;
    }
    const rescale = rescaleFrom(pick(TAG.PixelValueTransformationSequence));
    if (rescale) info.rescale = rescale;
    const win = windowsFrom(pick(TAG.FrameVOILUTSequence))[0];
    if (win) info.window = win;
    out.push(info);
  }
  return out;
}

/** NumberOfFrames as the header declares it (at least 1), before any check against the data. */
export function declaredFramesOf(ds: DataSet): number {
  return Math.max(1, Math.trunc(num(ds, TAG.NumberOfFrames) ?? 1));
}

/** Build the InstanceHeader for a parsed file (header-only or full parse). */
export function instanceHeader(parsed: ParsedDicom, path: string): InstanceHeader {
  const ds = parsed.dataSet;
  const charset = parseSpecificCharacterSet(ds.string(TAG.SpecificCharacterSet));
  const text = (tag: string) => textOf(ds, tag, charset);
  const warnings = [...parsed.warnings];
  const pixelRepresentation = us(ds, TAG.PixelRepresentation) ?? 0;
  const bitsAllocated = us(ds, TAG.BitsAllocated) ?? 0;
  const bitsStored = us(ds, TAG.BitsStored) ?? bitsAllocated;
  const declaredFrames = declaredFramesOf(ds);
  if (declaredFrames > MAX_FRAMES) {
    // Per-frame bookkeeping is O(frames): refuse absurd counts before allocating for them.
    throw new ResightError('UNSUPPORTED_PIXEL_FORMAT', `NumberOfFrames ${declaredFrames} is implausible (more than ${MAX_FRAMES})`, { path });
  }
  const frames = declaredFrames;
  const modality = str(ds, TAG.Modality) ?? 'OT';
  const perFrame = frames > 1 || ds.elements[TAG.SharedFunctionalGroups] ? functionalGroups(ds, frames) : undefined;
  const first = perFrame?.[0];

  let rescale = rescaleFrom(ds) ?? first?.rescale ?? { slope: 1, intercept: 0 };
  if (modality === 'CT' && !rescale.type) rescale = { ...rescale, type: 'HU' };
  let windows = windowsFrom(ds);
  if (!windows.length && first?.window) windows = [first.window];

  const ts = parsed.transferSyntaxUid;
  const lossyTag = str(ds, TAG.LossyImageCompression) === '01';
  const header: InstanceHeader = {
    path,
    // A DICOMDIR has no SOP Class UID in its data set, only the Media Storage one in its meta.
    sopClassUid: str(ds, TAG.SOPClassUID) ?? str(ds, TAG.MediaStorageSOPClassUID) ?? '',
    sopInstanceUid: str(ds, TAG.SOPInstanceUID) ?? '',
    studyInstanceUid: str(ds, TAG.StudyInstanceUID) ?? '',
    seriesInstanceUid: str(ds, TAG.SeriesInstanceUID) ?? '',
    transferSyntaxUid: ts,
    patient: { name: text(TAG.PatientName) ?? '', id: text(TAG.PatientID) ?? '' },
    study: {},
    series: { modality },
    imageType: (str(ds, TAG.ImageType) ?? '').split('\\').filter(Boolean),
    hasPixelData: pixelDataElement(ds) !== undefined,
    rows: us(ds, TAG.Rows) ?? 0,
    columns: us(ds, TAG.Columns) ?? 0,
    frames,
    samplesPerPixel: us(ds, TAG.SamplesPerPixel) ?? 1,
    photometric: str(ds, TAG.PhotometricInterpretation) ?? 'MONOCHROME2',
    bitsAllocated,
    bitsStored,
    highBit: us(ds, TAG.HighBit) ?? bitsStored - 1,
    pixelRepresentation,
    planarConfiguration: us(ds, TAG.PlanarConfiguration) ?? 0,
    rescale,
    hasModalityLut: ds.elements[TAG.ModalityLUTSequence]?.items?.length ? true : false,
    windows,
    lossyImageCompression: lossyTag || (lookupTransferSyntax(ts)?.lossy ?? false),
    charset,
    warnings,
  };
  const opt = <K extends keyof InstanceHeader>(key: K, value: InstanceHeader[K] | undefined) => {
    if (value !== undefined) header[key] = value;
  };
  const birth = str(ds, TAG.PatientBirthDate);
  if (birth) header.patient.birthDate = birth;
  const sex = str(ds, TAG.PatientSex);
  if (sex) header.patient.sex = sex;
  const study = header.study;
  const setIf = (obj: Record<string, unknown>, key: string, v: unknown) => {
    if (v !== undefined) obj[key] = v;
  };
  setIf(study, 'date', str(ds, TAG.StudyDate));
  setIf(study, 'time', str(ds, TAG.StudyTime));
  setIf(study, 'description', text(TAG.StudyDescription));
  setIf(study, 'accessionNumber', text(TAG.AccessionNumber));
  setIf(study, 'id', text(TAG.StudyID));
  setIf(study, 'institution', text(TAG.InstitutionName));
  setIf(study, 'referringPhysician', text(TAG.ReferringPhysicianName));
  // people and identifiers the outputs never carry, but a reviewer might type into a comment
  const values = (tags: readonly string[]) => [...new Set(tags.flatMap((t) => (text(t) ?? '').split('\\').map((v) => v.trim()).filter(Boolean)))];
  const people = values([TAG.OtherPatientNames, TAG.PatientBirthName, TAG.PatientMotherBirthName, TAG.OperatorsName, TAG.PerformingPhysicianName, TAG.NameOfPhysiciansReadingStudy, TAG.PhysiciansOfRecord]);
  const ids = values([TAG.OtherPatientIDs, TAG.DeviceSerialNumber, TAG.StationName, TAG.InstitutionAddress, TAG.PatientAddress, TAG.PatientTelephoneNumbers]);
  if (people.length || ids.length) header.identifying = { people, values: ids };
  setIf(header.series, 'number', num(ds, TAG.SeriesNumber));
  setIf(header.series, 'description', text(TAG.SeriesDescription));
  setIf(header.series, 'bodyPart', str(ds, TAG.BodyPartExamined));
  // overlay planes (60xx, before Pixel Data, so a header read sees them): read only when shown
  for (let g = 0x6000; g <= 0x601e && !header.overlays; g += 2) {
    const hex = g.toString(16);
    if (ds.elements[`x${hex}3000`] || ds.elements[`x${hex}0010`]) header.overlays = true;
  }
  opt('frameOfReferenceUid', str(ds, TAG.FrameOfReferenceUID));
  opt('patientOrientation', patientOrientation(str(ds, TAG.PatientOrientation)));
  opt('displayFps', displayFps(ds));
  opt('burnedInAnnotation', str(ds, TAG.BurnedInAnnotation));
  opt('instanceNumber', num(ds, TAG.InstanceNumber));
  opt('acquisitionNumber', num(ds, TAG.AcquisitionNumber));
  // what tells repeated acquisitions at one position apart (series.ts splitRepeats)
  const bValueEl = ds.elements[TAG.DiffusionBValue];
  const phase: NonNullable<InstanceHeader['phase']> = {};
  setIf(phase, 'echoNumber', num(ds, TAG.EchoNumbers));
  setIf(phase, 'temporalPosition', num(ds, TAG.TemporalPositionIdentifier));
  setIf(phase, 'triggerTime', num(ds, TAG.TriggerTime));
  setIf(phase, 'bValue', bValueEl && bValueEl.length >= 8 ? ds.double(TAG.DiffusionBValue) : undefined);
  if (Object.keys(phase).length) header.phase = phase;
  opt('sliceThickness', num(ds, TAG.SliceThickness) ?? first?.sliceThickness);
  opt('spacingBetweenSlices', num(ds, TAG.SpacingBetweenSlices));
  opt('imagePositionPatient', vec3(numbers(ds, TAG.ImagePositionPatient)) ?? first?.imagePositionPatient);
  opt('imageOrientationPatient', orientation(numbers(ds, TAG.ImageOrientationPatient)) ?? first?.imageOrientationPatient);
  const pixelSpacing = spacing(numbers(ds, TAG.PixelSpacing)) ?? first?.pixelSpacing;
  const cal = pixelSpacing ? { pixelSpacing, pixelSpacingSource: 'pixel' as const } : derivedCalibration(ds, !!(header.imagePositionPatient && header.imageOrientationPatient));
  opt('pixelSpacing', cal?.pixelSpacing);
  opt('pixelSpacingSource', cal?.pixelSpacingSource);
  opt('pixelSpacingRegions', cal?.pixelSpacingRegions);
  const signed = pixelRepresentation === 1;
  opt('pixelPaddingValue', usOrSs(ds, TAG.PixelPaddingValue, signed));
  opt('pixelPaddingRangeLimit', usOrSs(ds, TAG.PixelPaddingRangeLimit, signed));
  if (perFrame) header.perFrame = perFrame;
  if (header.lossyImageCompression && !lossyTag && lookupTransferSyntax(ts)?.lossy) {
    warnings.push('lossy transfer syntax');
  }
  return header;
}
