/**
 * Locating one frame's bytes inside Pixel Data, native or encapsulated.
 *
 * Encapsulated frames are found from the Basic Offset Table when it is usable, else one
 * fragment per frame when the counts match, else by codestream start markers (JPEG SOI,
 * JPEG 2000 SOC) at fragment starts, which handles the common "fragmented, empty BOT" case
 * without relying on the BOT (or on Extended Offset Tables) at all.
 */
import type { Element, Fragment } from 'dicom-parser';
import type { InstanceHeader } from '../../shared/dicom';
import { ResightError } from '../errors';
import { concatBytes, readU32LE } from '../io/bytes';
import type { ParsedDicom } from './parse';
import { pixelDataElement } from './parse';
import { count } from '../../shared/plural';

export interface PixelLayout {
  rows: number;
  columns: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  frames: number;
}

/** Bytes (or bits, for 1-bit data) one native frame occupies. */
export function nativeFrameBits(l: PixelLayout): number {
  return l.rows * l.columns * l.samplesPerPixel * l.bitsAllocated;
}

/**
 * How native frames are laid out for a header. Native YBR_FULL_422 stores two luminance samples
 * and one Cb/Cr pair per two pixels (Y1 Y2 Cb Cr, PS3.3 C.7.6.3.1.2): 2 samples per pixel in
 * the file, not 3.
 */
export function nativeLayout(h: Pick<InstanceHeader, 'rows' | 'columns' | 'samplesPerPixel' | 'photometric' | 'bitsAllocated' | 'frames'>): PixelLayout {
  const stored422 = h.samplesPerPixel === 3 && h.photometric === 'YBR_FULL_422';
  return { rows: h.rows, columns: h.columns, samplesPerPixel: stored422 ? 2 : h.samplesPerPixel, bitsAllocated: h.bitsAllocated, frames: h.frames };
}

/** Reads up to `length` bytes at `offset` (fewer at the end of the data). */
export type ByteReader = (offset: number, length: number) => Uint8Array;

export interface EncapsulatedExtent {
  /** Fragments after the Basic Offset Table item (counted up to the walk's limit). */
  fragments: number;
  /**
   * `complete`: the Sequence Delimitation Item was reached. `cut`: the data ends first (inside an
   * item header or a fragment). `damaged`: an item tag that is neither. `limit`: too many to count.
   */
  end: 'complete' | 'cut' | 'damaged' | 'limit';
}

/**
 * Walk encapsulated Pixel Data's items (Basic Offset Table, fragments, delimiter) from `start`,
 * reading only the 8-byte item headers. Used by header-only reads, which stop before the
 * fragments: a frame never shares a fragment with another (PS3.5 A.4), so the fragment count
 * bounds NumberOfFrames, and a missing delimiter means the file was cut short.
 */
export function walkEncapsulated(read: ByteReader, start: number, maxFragments: number): EncapsulatedExtent {
  let pos = start;
  let fragments = -1; // the first item is the Basic Offset Table
  for (;;) {
    const h = read(pos, 8);
    if (h.length < 8) return { fragments: Math.max(0, fragments), end: 'cut' };
    const isItemGroup = h[0] === 0xfe && h[1] === 0xff;
    if (isItemGroup && h[2] === 0xdd && h[3] === 0xe0) return { fragments: Math.max(0, fragments), end: 'complete' };
    if (!isItemGroup || h[2] !== 0x00 || h[3] !== 0xe0) return { fragments: Math.max(0, fragments), end: 'damaged' };
    const length = readU32LE(h, 4);
    pos += 8 + length;
    fragments++;
    if (fragments >= maxFragments) return { fragments, end: 'limit' };
    // the fragment runs past the end: counted (its frame exists, cut), and the walk ends there
    if (length > 0 && read(pos - 1, 1).length < 1) return { fragments: Math.max(0, fragments), end: 'cut' };
  }
}

/**
 * How many frames the Pixel Data can hold, judged at scan time without reading it: native data
 * by its element length, encapsulated data by its fragment count (one frame needs at least one
 * fragment). Undefined when it cannot be told (undefined-length native data, no frame size).
 */
export function framesThatFit(h: InstanceHeader, el: Element, encapsulated: EncapsulatedExtent | undefined): number | undefined {
  if (el.hadUndefinedLength || el.length === 0xffffffff) {
    if (!encapsulated || encapsulated.end === 'limit') return undefined;
    // after a stray tag the decoder (dicom-parser) takes what follows as one last fragment
    return encapsulated.end === 'damaged' ? encapsulated.fragments + 1 : encapsulated.fragments;
  }
  const bits = nativeFrameBits(nativeLayout(h));
  if (!(bits > 0)) return undefined;
  return Math.floor((el.length * 8) / bits);
}

export function requirePixelData(parsed: ParsedDicom): Element {
  const el = pixelDataElement(parsed.dataSet);
  if (!el) throw new ResightError('NO_PIXEL_DATA', 'the object has no Pixel Data');
  return el;
}

/** Native frame: a view into the file bytes (1-bit data: the byte range covering the frame). */
export function nativeFrame(parsed: ParsedDicom, layout: PixelLayout, frame: number): { bytes: Uint8Array; bitOffset: number } {
  const el = requirePixelData(parsed);
  const bits = nativeFrameBits(layout);
  const startBit = bits * frame;
  const endBit = startBit + bits;
  const available = Math.min(el.length, parsed.bytes.length - el.dataOffset);
  if (el.length === 0xffffffff || endBit > available * 8) {
    const need = Math.ceil((bits * layout.frames) / 8);
    throw new ResightError(
      'PIXEL_DATA_TRUNCATED',
      `native pixel data too short: ${count(layout.frames, 'frame')} of ${layout.columns}x${layout.rows}x${layout.samplesPerPixel} at ${layout.bitsAllocated} bits need ${need} bytes, ${Math.max(0, available)} present`,
    );
  }
  const startByte = el.dataOffset + Math.floor(startBit / 8);
  const endByte = el.dataOffset + Math.ceil(endBit / 8);
  return { bytes: parsed.bytes.subarray(startByte, endByte), bitOffset: startBit % 8 };
}

function fragmentBytes(parsed: ParsedDicom, f: Fragment): Uint8Array {
  return parsed.bytes.subarray(f.position, f.position + f.length);
}


function startsCodestream(b: Uint8Array): boolean {
  // JPEG / JPEG-LS / lossless: SOI FFD8. JPEG 2000 / HTJ2K: SOC FF4F, or a JP2 box signature.
  if (b.length >= 2 && b[0] === 0xff && (b[1] === 0xd8 || b[1] === 0x4f)) return true;
  return b.length >= 12 && b[4] === 0x6a && b[5] === 0x50 && b[6] === 0x20 && b[7] === 0x20;
}

/** Whether a frame's last fragment ends its codestream: EOI / EOC (FF D9), maybe one pad byte after. */
function endsCodestream(b: Uint8Array): boolean {
  let n = b.length;
  if (n && b[n - 1] === 0) n--;
  return n >= 2 && b[n - 2] === 0xff && b[n - 1] === 0xd9;
}

/**
 * Group fragment indices into frames. `partial`: the data lost its end (no sequence delimiter),
 * so fewer frames than declared are returned as they are, not refused as a whole.
 */
export function frameFragments(parsed: ParsedDicom, el: Element, frames: number, rle: boolean, partial = false): number[][] {
  const fragments = el.fragments ?? [];
  if (!fragments.length) throw new ResightError('PIXEL_DATA_TRUNCATED', 'encapsulated pixel data has no fragments');
  const bot = el.basicOffsetTable ?? [];
  if (bot.length === frames && bot.every((v, i) => i === 0 || v > bot[i - 1])) {
    const groups: number[][] = bot.map(() => []);
    fragments.forEach((f, idx) => {
      let frame = 0;
      while (frame + 1 < bot.length && f.offset >= bot[frame + 1]) frame++;
      groups[frame].push(idx);
    });
    if (groups.every((g) => g.length)) return groups;
  }
  if (frames === 1) return [fragments.map((_, i) => i)];
  if (fragments.length === frames || rle) {
    if (fragments.length < frames && !partial) {
      throw new ResightError('PIXEL_DATA_TRUNCATED', `encapsulated pixel data has ${fragments.length} fragments for ${frames} frames`);
    }
    return fragments.slice(0, frames).map((_, i) => [i]);
  }
  const groups: number[][] = [];
  fragments.forEach((f, idx) => {
    if (!groups.length || startsCodestream(fragmentBytes(parsed, f))) groups.push([idx]);
    else groups[groups.length - 1].push(idx);
  });
  if (groups.length < frames && !partial) {
    throw new ResightError('PIXEL_DATA_TRUNCATED', `found ${groups.length} codestreams in ${fragments.length} fragments, expected ${frames} frames`);
  }
  return groups.slice(0, frames);
}

/** The compressed bytes of one encapsulated frame. */
export function encapsulatedFrame(parsed: ParsedDicom, frames: number, frame: number, rle: boolean): Uint8Array {
  const el = requirePixelData(parsed);
  if (!el.encapsulatedPixelData && !el.fragments) {
    throw new ResightError('PARSE_FAILED', 'transfer syntax is encapsulated but Pixel Data is not (defined length, no fragments)');
  }
  // dicom-parser only warns when the fragments run into the end of the file: a file cut short,
  // or one that lost no more than its Sequence Delimitation Item. A frame is decoded when all its
  // fragments are there, whole; one the end of the file cuts into is refused on its own.
  const unterminated = (parsed.dataSet.warnings ?? []).some((w) => /x7fe00010 missing sequence delimiter/.test(String(w)));
  const groups = frameFragments(parsed, el, frames, rle, unterminated);
  const fragments = el.fragments ?? [];
  const group = groups[frame];
  if (unterminated) {
    const cut = (why: string) => new ResightError('PIXEL_DATA_TRUNCATED', `encapsulated Pixel Data ends without its Sequence Delimitation Item: the file was cut short, and frame ${frame + 1} ${why}`);
    if (!group) throw cut('is not in it');
    if (group.some((i) => !fragments[i] || fragments[i].position + fragments[i].length > parsed.bytes.length)) throw cut('is cut');
    // the frame with the last fragment may have lost fragments after it (a cut between two): it
    // is whole only if its codestream ends there (RLE has no end marker to tell)
    if (group.includes(fragments.length - 1) && (rle || !endsCodestream(fragmentBytes(parsed, fragments[fragments.length - 1])))) throw cut('may have lost its end');
  }
  if (!group) throw new ResightError('PIXEL_DATA_TRUNCATED', `frame ${frame + 1} is not in the encapsulated Pixel Data`);
  const parts = group.map((i) => fragmentBytes(parsed, fragments[i]));
  // One fragment: its bytes as they are, no copy.
  return parts.length === 1 ? parts[0] : concatBytes(parts);
}
