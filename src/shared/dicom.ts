/**
 * Plain-data types describing scanned DICOM content. They cross process boundaries (IPC, the
 * bridge, `resight info --json`), so they hold only JSON-safe values.
 * `measurementSpacing` is the one rule for measuring with their pixel spacing.
 */
import type { ErrorInfo } from './errors';

export type Vec3 = [number, number, number];

export interface RescaleInfo {
  slope: number;
  intercept: number;
  /** RescaleType, e.g. HU; CT is assumed HU when absent. */
  type?: string;
}

export interface WindowInfo {
  center: number;
  width: number;
  explanation?: string;
}

/**
 * Where a `pixelSpacing` (mm per pixel, [row, column]) comes from. Only 'pixel' is patient
 * geometry; the others calibrate in-plane measurements and are never used to place pixels in 3D
 * (docs/dicom.md, "Pixel spacing and calibration").
 * - 'pixel': PixelSpacing (0028,0030), or the Pixel Measures functional group.
 * - 'imager': ImagerPixelSpacing (0018,1164), at the detector of a projection radiograph: the
 *   anatomy is magnified there (typically 5-20 %), so lengths read longer than in the patient.
 * - 'imager-ermf': ImagerPixelSpacing / EstimatedRadiographicMagnificationFactor (0018,1114):
 *   estimated in the patient plane.
 * - 'ultrasound-region': PhysicalDeltaY/X (cm, x10) of the spatial ultrasound regions
 *   (SequenceOfUltrasoundRegions, 0018,6011); it holds only inside `pixelSpacingRegions`.
 */
export type PixelSpacingSource = 'pixel' | 'imager' | 'imager-ermf' | 'ultrasound-region';

/**
 * A rectangle of the image, in 0-based pixel indices, bounds included: [first column, first row,
 * last column, last row] (RegionLocationMinX0, MinY0, MaxX1, MaxY1 of an ultrasound region).
 */
export type PixelRegion = [number, number, number, number];

/** A pixel spacing with its source: what InstanceHeader, SeriesSummary and SliceRef carry. */
export interface PixelCalibration {
  /** mm per pixel, [row spacing, column spacing] (PixelSpacing order). */
  pixelSpacing?: [number, number];
  pixelSpacingSource?: PixelSpacingSource;
  /** The spacing holds only inside these regions (ultrasound); absent: the whole image. */
  pixelSpacingRegions?: PixelRegion[];
}

/** The calibration fields of something that carries them (a slice, a series), only those it has; none without a spacing. */
export function pickCalibration(x: PixelCalibration | undefined): PixelCalibration | undefined {
  if (!x?.pixelSpacing) return undefined;
  return { pixelSpacing: x.pixelSpacing, ...(x.pixelSpacingSource ? { pixelSpacingSource: x.pixelSpacingSource } : {}), ...(x.pixelSpacingRegions ? { pixelSpacingRegions: x.pixelSpacingRegions } : {}) };
}

/**
 * The spacing that calibrates a measurement whose points (image coordinates, pixel edges: (0,0)
 * is the top-left corner of the top-left pixel) are `points`: `cal.pixelSpacing`, unless it holds
 * only inside regions and no single region holds every point (a line from the B-mode image into
 * the Doppler strip, or across two side-by-side views), in which case undefined: measure in
 * pixels. For an ellipse pass the corners of its box, for a bidirectional measurement all four ends.
 */
export function measurementSpacing(cal: PixelCalibration | undefined, points: readonly (readonly [number, number])[]): [number, number] | undefined {
  const ps = cal?.pixelSpacing;
  if (!ps) return undefined;
  const regions = cal.pixelSpacingRegions;
  if (!regions) return ps;
  const inside = (r: PixelRegion) => points.every(([x, y]) => x >= r[0] && x <= r[2] + 1 && y >= r[1] && y <= r[3] + 1);
  return regions.some(inside) ? ps : undefined;
}

/** Per-frame geometry/rescale of an enhanced multi-frame object (functional groups). */
export interface FrameInfo {
  imagePositionPatient?: Vec3;
  imageOrientationPatient?: number[];
  pixelSpacing?: [number, number];
  sliceThickness?: number;
  rescale?: RescaleInfo;
  window?: WindowInfo;
}

/** Everything ReSight needs from one file's header (read without touching pixel data). */
export interface InstanceHeader {
  path: string;
  sopClassUid: string;
  sopInstanceUid: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  frameOfReferenceUid?: string;
  /** BurnedInAnnotation (0028,0301): YES when the pixels carry text (possibly patient identity). */
  burnedInAnnotation?: string;
  transferSyntaxUid: string;
  patient: { name: string; id: string; birthDate?: string; sex?: string };
  study: { date?: string; time?: string; description?: string; accessionNumber?: string; id?: string; institution?: string; referringPhysician?: string };
  series: { number?: number; description?: string; modality: string; bodyPart?: string };
  /**
   * Identifying values no output carries (other names and IDs, operators, physicians, device
   * serial, station, addresses): kept so a de-identified export can redact them from comments.
   */
  identifying?: { people: string[]; values: string[] };
  instanceNumber?: number;
  acquisitionNumber?: number;
  /** EchoNumbers, TemporalPositionIdentifier, TriggerTime (ms), DiffusionBValue: which acquisition at a position. */
  phase?: { echoNumber?: number; temporalPosition?: number; triggerTime?: number; bValue?: number };
  imageType: string[];
  hasPixelData: boolean;
  rows: number;
  columns: number;
  frames: number;
  samplesPerPixel: number;
  photometric: string;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  pixelRepresentation: number;
  planarConfiguration: number;
  /**
   * mm per pixel for measurement, [row, column]: PixelSpacing, or where the file has none, the
   * calibration of a projection radiograph or an ultrasound image (`pixelSpacingSource` says which;
   * only 'pixel' is patient geometry). Enhanced objects' own per-frame spacing is in `perFrame`.
   */
  pixelSpacing?: [number, number];
  /** Where `pixelSpacing` comes from; set whenever it is. */
  pixelSpacingSource?: PixelSpacingSource;
  /** Ultrasound: the regions `pixelSpacing` holds in (measurements elsewhere are in pixels). */
  pixelSpacingRegions?: PixelRegion[];
  /** PatientOrientation (0020,0020): the directions of the rows and columns as letters (['A', 'F']), for images without ImageOrientationPatient. */
  patientOrientation?: [string, string];
  /** The rate the frames are meant to play at (RecommendedDisplayFrameRate, CineRate or 1000 / FrameTime), frames per second. */
  displayFps?: number;
  sliceThickness?: number;
  spacingBetweenSlices?: number;
  imagePositionPatient?: Vec3;
  imageOrientationPatient?: number[];
  rescale: RescaleInfo;
  /** A Modality LUT Sequence replaces the rescale. */
  hasModalityLut: boolean;
  windows: WindowInfo[];
  pixelPaddingValue?: number;
  pixelPaddingRangeLimit?: number;
  lossyImageCompression: boolean;
  /** Enhanced multi-frame: one entry per frame, from shared + per-frame functional groups. */
  perFrame?: FrameInfo[];
  /** SpecificCharacterSet terms, as read. */
  charset: string[];
  /** The file ends inside its (defined-length) pixel data: the image cannot be decoded whole. */
  pixelDataTruncated?: boolean;
  /** The file has overlay planes (60xx): `slice.overlays` reads them. */
  overlays?: true;
  warnings: string[];
}

export interface ScanProgress {
  done: number;
  total: number;
  path: string;
  errors: number;
}

/** One file that was not used, and why (not DICOM, unreadable, no image, ...). */
export type FileError = ErrorInfo & { path: string };

export interface SeriesInstanceRef {
  path: string;
  sopInstanceUid: string;
  frames: number;
}

/** A slice of a series: a (file, frame) pair in spatial order. */
export interface SliceRef {
  path: string;
  sopInstanceUid: string;
  frame: number;
  position?: Vec3;
  /** Signed distance along the slice normal, mm. */
  location?: number;
  instanceNumber?: number;
  /** SliceThickness (mm) of this slice (per frame for enhanced multi-frame objects). */
  thickness?: number;
  /** This slice's file is lossy-compressed (LossyImageCompression 01 or a lossy transfer syntax): a series can mix them. */
  lossy?: true;
  /**
   * This slice's own calibration, only where the stack's images disagree on a calibration that is
   * not PixelSpacing (ultrasound images taken at different depths): then the series has none.
   */
  pixelSpacing?: [number, number];
  pixelSpacingSource?: PixelSpacingSource;
  pixelSpacingRegions?: PixelRegion[];
}

export type SortMethod = 'position' | 'instanceNumber' | 'file';

export interface SeriesGeometry {
  sortedBy: SortMethod;
  /** Slice normal (row x column direction cosines). */
  normal?: Vec3;
  orientation?: number[];
  /** Median distance between adjacent slices along the normal, mm. */
  sliceSpacing?: number;
  /** Angle between the slice normal and the direction the slices advance in, degrees. */
  gantryTiltDeg?: number;
  uniform: boolean;
}

/** Why a series shows as several stacks: this stack is a localizer, has another image size or orientation, or is part `part` of `parts` repeated acquisitions (echoes, b-values, phases). */
export type SeriesSplit = { kind: 'localizer' | 'size' | 'orientation' } | { kind: 'repeat'; part: number; parts: number };

export interface SeriesSummary {
  /** Unique key: the SeriesInstanceUID, suffixed with `#n` when a series was split into stacks. */
  id: string;
  seriesInstanceUid: string;
  studyInstanceUid: string;
  modality: string;
  description: string;
  number?: number;
  rows: number;
  columns: number;
  slices: number;
  /**
   * mm per pixel for measurement, [row, column], as on InstanceHeader: the first image's
   * PixelSpacing, else a projection or ultrasound calibration that every image of the stack shares
   * (where they differ, each SliceRef has its own). Only 'pixel' is patient geometry: reformats
   * must not use another source (a stack of several slices ordered by position never has one).
   */
  pixelSpacing?: [number, number];
  /** Where `pixelSpacing` comes from; set whenever it is. */
  pixelSpacingSource?: PixelSpacingSource;
  /** Ultrasound: the regions `pixelSpacing` holds in (`measurementSpacing` checks a measurement against them). */
  pixelSpacingRegions?: PixelRegion[];
  sliceSpacing?: number;
  transferSyntaxes: string[];
  lossy: boolean;
  /**
   * The first instance's PhotometricInterpretation. MONOCHROME1 (CR, DX, mammography) means the
   * lowest value is white: viewers and key images start inverted. Pixel values are never inverted.
   */
  photometric?: string;
  /** The first instance's PatientOrientation, when the series has no ImageOrientationPatient (radiographs): the viewer's orientation letters. */
  patientOrientation?: [string, string];
  /** The first instance's display rate (frames per second), when its files give one: the viewer's cine rate. */
  displayFps?: number;
  instances: SeriesInstanceRef[];
  geometry: SeriesGeometry;
  /** Why this stack was split from its siblings (localizer, other orientation, size, repeated positions), in words. */
  splitReason?: string;
  /** The same, as data (the viewer words it in the user's language). */
  split?: SeriesSplit;
  /** Some of its files have overlay planes (60xx): the viewer asks for them slice by slice. */
  overlays?: true;
  warnings: string[];
}

export interface StudySummary {
  studyInstanceUid: string;
  patient: { name: string; id: string; birthDate?: string; sex?: string };
  date?: string;
  description?: string;
  accessionNumber?: string;
  series: SeriesSummary[];
}

export interface ScanResult {
  studies: StudySummary[];
  errors: FileError[];
  filesScanned: number;
}

/** One element in the tag browser (sequence items nested by depth). */
export interface TagEntry {
  /** (gggg,eeee) */
  tag: string;
  vr: string;
  /** Dictionary keyword ('private' for private tags, '' when unknown). */
  keyword: string;
  /** Printable value: text decoded with the file's character set, numbers, or a length for binary data. */
  value: string;
  depth: number;
}

/**
 * One overlay plane (PS3.3 C.9.2) of one frame: a one-bit bitmap drawn over the image,
 * independent of the window.
 */
export interface OverlayPlane {
  /** Its group, 0x6000..0x601E. */
  group: number;
  rows: number;
  columns: number;
  /** Where the overlay's first pixel lies in the image, 0-based [row, column] (DICOM's Overlay Origin is 1-based); may be negative. */
  origin: [number, number];
  /** G: graphics; R: a region of interest. */
  type: 'G' | 'R';
  description?: string;
  subtype?: string;
  label?: string;
  /** rows x columns bits, row-major, the first pixel in the lowest bit of the first byte; base64. */
  bits: string;
}
