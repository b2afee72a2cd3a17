/** Messages between the decode pool (main thread) and its workers. */

export interface DecodeJob {
  id: number;
  path: string;
  /** Frames of `path` to decode, and the volume slot each goes to (one parse per job). */
  items: { frame: number; slice: number }[];
  /** Destination: a volume stored in `buffer` as `kind`. */
  buffer: SharedArrayBuffer;
  kind: 'int16' | 'float32';
  rows: number;
  columns: number;
  samplesPerPixel: number;
}

export interface DecodeItemResult {
  slice: number;
  ok: boolean;
  /** The values do not fit the Int16 volume: promote to Float32 and decode again. */
  overflow?: boolean;
  error?: string;
}

export interface DecodeReply {
  id: number;
  results: DecodeItemResult[];
}
