/**
 * Overlay planes (PS3.3 C.9.2, groups 6000-601E): one-bit graphics and ROIs stored beside the
 * image — a scanner's annotations, a CAD system's marks, a region drawn on the console. Viewers
 * radiologists know (Weasis, Horos, OHIF) draw them over the image, independent of the window.
 *
 * Supported: Overlay Data (60xx,3000) with Overlay Bits Allocated 1, for single- and multi-frame
 * images (Number of Frames in Overlay, Image Frame Origin), little- and big-endian files. Not
 * supported: overlays embedded in the unused high bits of Pixel Data (retired since 2004; no
 * Overlay Data element); they are listed in `skipped` with the reason, so nothing disappears
 * silently.
 */
import type { DataSet, Element } from 'dicom-parser';
import type { OverlayPlane } from '../../shared/dicom';
import { parseSpecificCharacterSet } from './charset';
import { numbers, textOf } from './header';
import { readDicomHeader } from './read';
import { lookupTransferSyntax } from './transfer-syntax';

/** Overlay planes of one frame, and the planes present but not shown, with why. */
export interface FrameOverlays {
  overlays: OverlayPlane[];
  skipped: { group: number; reason: string }[];
}

/** A plane's bits are at most this many (a 4096 x 4096 overlay): a lying Rows x Columns never allocates more. */
const MAX_OVERLAY_BITS = 4096 * 4096;
/** All planes of one frame together (two full-size mammography overlays; 4 MiB packed): what one reply may carry. */
const MAX_FRAME_BITS = 2 * 4096 * 4096;

const tag = (group: number, element: number) => `x${group.toString(16).padStart(4, '0')}${element.toString(16).padStart(4, '0')}`;

/** The overlay planes of `frame` (0-based) of the file at `path`. */
export function readOverlays(path: string, frame: number): FrameOverlays {
  const parsed = readDicomHeader(path);
  const littleEndian = lookupTransferSyntax(parsed.transferSyntaxUid)?.littleEndian ?? true;
  return overlaysOf(parsed.dataSet, parsed.bytes, frame, littleEndian);
}

/** The overlay planes of `frame` in a parsed data set (`bytes`: what it indexes into). */
export function overlaysOf(ds: DataSet, bytes: Uint8Array, frame: number, littleEndian: boolean): FrameOverlays {
  const charsets = parseSpecificCharacterSet(ds.string('x00080005'));
  const out: FrameOverlays = { overlays: [], skipped: [] };
  let total = 0;
  for (let group = 0x6000; group <= 0x601e; group += 2) {
    const rows = u16(ds, tag(group, 0x0010));
    const columns = u16(ds, tag(group, 0x0011));
    const data: Element | undefined = ds.elements[tag(group, 0x3000)];
    if (rows === undefined && columns === undefined && !data) continue;
    const skip = (reason: string) => out.skipped.push({ group, reason });
    const bitsAllocated = u16(ds, tag(group, 0x0100)) ?? 1;
    if (!data || data.length === 0) {
      skip(bitsAllocated > 1 ? 'embedded in the pixel data (retired encoding): not shown' : 'no Overlay Data');
      continue;
    }
    if (!rows || !columns) {
      skip('no Overlay Rows/Columns');
      continue;
    }
    if (bitsAllocated !== 1) {
      skip(`Overlay Bits Allocated ${bitsAllocated}: only 1 is defined with Overlay Data`);
      continue;
    }
    const perFrame = rows * columns;
    if (perFrame > MAX_OVERLAY_BITS) {
      skip(`${rows} x ${columns} is larger than any image ReSight shows`);
      continue;
    }
    if (total + perFrame > MAX_FRAME_BITS) {
      skip(`the frame's overlay planes before it already hold ${total} pixels: not shown (at most ${MAX_FRAME_BITS} in all)`);
      continue;
    }
    // Multi-frame overlays apply to frames origin .. origin + n - 1 (1-based), their bits one
    // after another with no padding between frames (C.9.2.1.1).
    const framesInOverlay = Math.max(1, Math.trunc(numbers(ds, tag(group, 0x0015))?.[0] ?? 1));
    const frameOrigin = u16(ds, tag(group, 0x0051)) ?? 1;
    const k = frame + 1 - frameOrigin;
    if (k < 0 || k >= framesInOverlay) continue;
    const firstBit = k * perFrame;
    if (Math.ceil((firstBit + perFrame) / 8) > data.length) {
      skip(`Overlay Data holds ${data.length} bytes, ${Math.ceil((firstBit + perFrame) / 8)} needed for this frame`);
      continue;
    }
    // OW in a big-endian file: each 16-bit word's bytes are swapped; the bit order within the
    // word is the one of little-endian data once the word is read as a number.
    const raw = bytes.subarray(data.dataOffset, data.dataOffset + data.length);
    const swap = !littleEndian && data.vr !== 'OB';
    const bits = new Uint8Array(Math.ceil(perFrame / 8));
    for (let i = 0; i < perFrame; i++) {
      const b = firstBit + i;
      const byteIndex = swap ? (b >> 3) ^ 1 : b >> 3;
      if ((raw[byteIndex] ?? 0) & (1 << (b & 7))) bits[i >> 3] |= 1 << (i & 7);
    }
    const origin = ssPair(ds, tag(group, 0x0050)) ?? [1, 1];
    const type = (ds.string(tag(group, 0x0040)) ?? 'G').trim().toUpperCase() === 'R' ? 'R' : 'G';
    const description = textOf(ds, tag(group, 0x0022), charsets);
    const subtype = ds.string(tag(group, 0x0045))?.trim() || undefined;
    const label = textOf(ds, tag(group, 0x1500), charsets);
    total += perFrame;
    out.overlays.push({
      group,
      rows,
      columns,
      origin: [origin[0] - 1, origin[1] - 1],
      type,
      ...(description ? { description } : {}),
      ...(subtype ? { subtype } : {}),
      ...(label ? { label } : {}),
      bits: Buffer.from(bits.buffer, bits.byteOffset, bits.byteLength).toString('base64'),
    });
  }
  return out;
}

function u16(ds: DataSet, t: string): number | undefined {
  const el = ds.elements[t];
  return el && el.length >= 2 ? ds.uint16(t) : undefined;
}

/** Overlay Origin (SS, 2 values: row, column, 1-based); values outside the image are allowed. */
function ssPair(ds: DataSet, t: string): [number, number] | undefined {
  const el = ds.elements[t];
  if (!el || el.length < 4) return undefined;
  return [ds.int16(t, 0) as number, ds.int16(t, 1) as number];
}
