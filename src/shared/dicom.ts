/**
 * Plain-data types describing scanned DICOM content. They cross process boundaries (IPC, the
 * bridge, `resight info --json`), so they hold only JSON-safe values.
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
  pixelSpacing?: [number, number];
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
  pixelSpacing?: [number, number];
  sliceSpacing?: number;
  transferSyntaxes: string[];
  lossy: boolean;
  /**
   * The first instance's PhotometricInterpretation. MONOCHROME1 (CR, DX, mammography) means the
   * lowest value is white: viewers and key images start inverted. Pixel values are never inverted.
   */
  photometric?: string;
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
