/** Messages between the worker pool (main thread) and its workers. */
import type { FileError, InstanceHeader } from '../../shared/dicom';
import type { ErrorInfo } from '../../shared/errors';
import type { PreprocessSpec } from '../inference/preprocess';
import type { SliceInputJob, SliceInputReply } from '../inference/slice-input';

/** Decode frames of one file into slots of a SharedArrayBuffer-backed volume. */
export interface DecodeJob {
  kind: 'decode';
  id: number;
  path: string;
  /** Frames of `path` to decode, and the volume slot each goes to (one parse per job). */
  items: { frame: number; slice: number }[];
  /** Destination: a volume stored in `buffer` as `kind`. */
  buffer: SharedArrayBuffer;
  storage: 'int16' | 'float32';
  rows: number;
  columns: number;
  samplesPerPixel: number;
}

/** Read the headers of a batch of files (scanning). */
export interface ScanJob {
  kind: 'scan';
  id: number;
  paths: string[];
}

/** Turn decoded volume slices into model input, written into slots of a shared batch buffer. */
export interface PreprocessJob {
  kind: 'preprocess';
  id: number;
  /** Source: a volume stored in `buffer` as `storage`, single-sample slices of rows x columns. */
  buffer: SharedArrayBuffer;
  storage: 'int16' | 'float32';
  rows: number;
  columns: number;
  paddingRange?: [number, number] | undefined;
  spec: PreprocessSpec;
  /** Volume slice -> slot of `out` (slot k starts at float k * C * H * W). */
  items: { slice: number; slot: number }[];
  out: SharedArrayBuffer;
}

export interface PreprocessReply {
  id: number;
  done: number;
}

/** Decode frames of one file and preprocess them into model input (no volume). */
export interface InputJob extends SliceInputJob {
  kind: 'input';
  id: number;
}

export interface InputReply extends SliceInputReply {
  id: number;
}

export type WorkerJob = DecodeJob | ScanJob | PreprocessJob | InputJob;

export interface DecodeItemResult {
  slice: number;
  ok: boolean;
  /** The values do not fit the Int16 volume: promote to Float32 and decode again. */
  overflow?: boolean;
  error?: ErrorInfo;
}

export interface DecodeReply {
  id: number;
  results: DecodeItemResult[];
}

export interface ScanReply {
  id: number;
  /** One per path, in order: the header, or why the file is not used. */
  results: (InstanceHeader | FileError)[];
}

export type WorkerReply = DecodeReply | ScanReply | PreprocessReply | InputReply;
