/**
 * A minimal image as a real Part 10 file (Secondary Capture, explicit VR little endian): the
 * pixel module as the test gives it, plus any extra elements. For formats and cases the shared
 * corpus does not cover (colour, odd bit depths, LUTs).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SimpleElement } from '../../src/core/dicom/write-simple';
import { writePart10 } from '../../src/core/dicom/write-simple';

export const SECONDARY_CAPTURE = '1.2.840.10008.5.1.4.1.1.7';

export interface ImageAttrs {
  rows: number;
  columns: number;
  bitsAllocated: number;
  bitsStored?: number;
  highBit?: number;
  pixelRepresentation?: number;
  samplesPerPixel?: number;
  photometric?: string;
  planar?: number;
  frames?: number;
  /** Modality (0008,0060); default OT. */
  modality?: string;
}

let n = 0;

/** Writes the image into `dir` (one study, one series; a new SOP Instance UID per call) and returns its path. */
export function writeImageFile(dir: string, attrs: ImageAttrs, pixels: Uint8Array, extra: SimpleElement[] = []): string {
  const sop = `1.2.826.0.1.3680043.10.1453.77.${process.pid}.${++n}`;
  const els: SimpleElement[] = [
    { tag: 0x00080016, vr: 'UI', value: SECONDARY_CAPTURE },
    { tag: 0x00080018, vr: 'UI', value: sop },
    { tag: 0x00080060, vr: 'CS', value: attrs.modality ?? 'OT' },
    { tag: 0x0020000d, vr: 'UI', value: '1.2.826.0.1.3680043.10.1453.77' },
    { tag: 0x0020000e, vr: 'UI', value: '1.2.826.0.1.3680043.10.1453.77.0' },
    { tag: 0x00280002, vr: 'US', value: attrs.samplesPerPixel ?? 1 },
    { tag: 0x00280004, vr: 'CS', value: attrs.photometric ?? 'MONOCHROME2' },
    { tag: 0x00280010, vr: 'US', value: attrs.rows },
    { tag: 0x00280011, vr: 'US', value: attrs.columns },
    { tag: 0x00280100, vr: 'US', value: attrs.bitsAllocated },
    { tag: 0x00280101, vr: 'US', value: attrs.bitsStored ?? attrs.bitsAllocated },
    { tag: 0x00280102, vr: 'US', value: attrs.highBit ?? (attrs.bitsStored ?? attrs.bitsAllocated) - 1 },
    { tag: 0x00280103, vr: 'US', value: attrs.pixelRepresentation ?? 0 },
    { tag: 0x7fe00010, vr: attrs.bitsAllocated > 8 ? 'OW' : 'OB', value: pixels },
    ...extra,
  ];
  if ((attrs.samplesPerPixel ?? 1) > 1) els.push({ tag: 0x00280006, vr: 'US', value: attrs.planar ?? 0 });
  if (attrs.frames) els.push({ tag: 0x00280008, vr: 'IS', value: String(attrs.frames) });
  const file = path.join(dir, `f${n}.dcm`);
  fs.writeFileSync(file, writePart10(els, { sopClassUid: SECONDARY_CAPTURE, sopInstanceUid: sop }));
  return file;
}
