/**
 * One file, one frame, all the way: read -> parse -> decode -> modality values. The path used by
 * `resight decode`, thumbnails and single-image viewing; volumes use the same steps per slice.
 */
import type { InstanceHeader } from '../../shared/dicom';
import { ResightError } from '../errors';
import type { DecodedFrame } from './decode';
import { decodeFrame } from './decode';
import { instanceHeader } from './header';
import type { ParsedDicom } from './parse';
import type { ScratchBuffer } from './read';
import { readDicomFile } from './read';
import type { ModalityLut } from '../imaging/modality';
import { modalityValues, readModalityLut, rescaleFor } from '../imaging/modality';

export interface LoadedFrame {
  header: InstanceHeader;
  decoded: DecodedFrame;
  /** Modality values (e.g. HU), float32, RGB interleaved for color. */
  values: Float32Array;
}

export interface OpenedFile {
  parsed: ParsedDicom;
  header: InstanceHeader;
  modalityLut: ModalityLut | undefined;
}

/** Open a file for decoding (into `scratch` when given: valid until its next use). */
export function openDicomFile(path: string, scratch?: ScratchBuffer): OpenedFile {
  const parsed = readDicomFile(path, scratch);
  const header = instanceHeader(parsed, path);
  if (!header.hasPixelData) throw new ResightError('NO_PIXEL_DATA', 'the object has no Pixel Data (not an image)', { path });
  return { parsed, header, modalityLut: readModalityLut(parsed.dataSet) };
}

/** Decode a frame of an opened file, attributing any error to the file. */
export async function decodeOpenedFrame(file: OpenedFile, frame: number): Promise<LoadedFrame> {
  try {
    const decoded = await decodeFrame(file.parsed, file.header, frame);
    const values = modalityValues(decoded, rescaleFor(file.header, frame), file.modalityLut);
    return { header: file.header, decoded, values };
  } catch (err) {
    if (err instanceof ResightError) throw err.withPath(file.header.path);
    throw err;
  }
}

export async function loadFrame(path: string, frame = 0): Promise<LoadedFrame> {
  return decodeOpenedFrame(openDicomFile(path), frame);
}
