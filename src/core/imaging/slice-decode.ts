/**
 * One slice of a volume from an opened file: the checks that the frame fits the series, the
 * decode, and the rescale that turns it into modality values. Shared by the in-thread loader
 * (volume.ts) and the worker threads (workers/worker.ts).
 */
import type { RescaleInfo } from '../../shared/dicom';
import type { StoredArray } from '../dicom/decode';
import { decodeFrame } from '../dicom/decode';
import type { OpenedFile } from '../dicom/frame';
import { ResightError } from '../errors';
import { rescaleFor } from './modality';

export interface SliceShape {
  rows: number;
  columns: number;
  samplesPerPixel: number;
}

/** Stored values of one frame and the rescale to apply (identity for color). */
export async function decodeSlice(file: OpenedFile, frame: number, shape: SliceShape): Promise<{ data: StoredArray; rescale: RescaleInfo }> {
  const h = file.header;
  if (h.rows !== shape.rows || h.columns !== shape.columns) {
    throw new ResightError('INCONSISTENT_SERIES', `image is ${h.columns}x${h.rows}, the series is ${shape.columns}x${shape.rows}`);
  }
  const decoded = await decodeFrame(file.parsed, h, frame);
  if (decoded.samplesPerPixel !== shape.samplesPerPixel) {
    throw new ResightError('INCONSISTENT_SERIES', `image has ${decoded.samplesPerPixel} samples per pixel, the series ${shape.samplesPerPixel}`);
  }
  const rescale = decoded.samplesPerPixel === 3 ? { slope: 1, intercept: 0 } : rescaleFor(h, frame);
  return { data: decoded.data, rescale };
}
